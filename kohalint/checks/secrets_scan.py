"""KL101: secrets in files git tracks (or that `git add .` would commit).

detect-secrets' plugins and filters find the candidates (`kohalint.secret_scanner`);
this module adds what a deployment repository needs on top:

* dotenv files are read value by value, and a variable whose name looks
  secret (`secrets.name-pattern`, e.g. `SMTP_PASS`) with a literal value is
  a finding even when the value does not look random;
* placeholders, encrypted content (SOPS values and metadata, age/PGP armor,
  ansible-vault, git-crypt paths) and hex digests or UUIDs that the line
  names as such are not secrets;
* `pragma: allowlist secret` and a detect-secrets baseline are honoured.

The value never leaves this module: findings carry its type, a redacted
form and its SHA-256 as identity.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import weakref
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.globs import glob_match
from kohalint.models import Finding
from kohalint.rules import check
from kohalint.secret_values import (
    identity,
    is_checksum,
    is_encrypted_value,
    is_escaped_text,
    is_interpolation,
    is_placeholder,
    is_secret_name,
    is_uuid,
    parse_assignment,
    redact,
)

_BASELINE_NAMES = {".secrets.baseline"}
_PRAGMA = re.compile(r"pragma:\s?(?:allow|white)list[ -]secret")
_PRAGMA_NEXT = re.compile(r"^\s*(?:#|//|--|/\*|<!--)\s*pragma:\s?allowlist[ -]nextline[ -]secret")
_KEY = re.compile(r"""^\s*(?:export\s+|-\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*(?::=?|=)""")
_ARMOR = re.compile(r"-----BEGIN (PGP MESSAGE|PGP PUBLIC KEY BLOCK|PGP SIGNATURE|AGE ENCRYPTED FILE|"
                    r"CERTIFICATE|PUBLIC KEY|ENCRYPTED PRIVATE KEY)-----")
_SOPS_START = re.compile(r"""^(\s*)["']?sops["']?\s*[:=]\s*\{?\s*$""")
_VAULT_HEX = re.compile(r"^\s*[0-9a-fA-F]+\s*$")

# Per run: the baseline and .gitattributes are read once, not once per file.
_RUN_STATE: "weakref.WeakKeyDictionary[Context, _RunState]" = weakref.WeakKeyDictionary()


class _RunState:
    def __init__(self, ctx: Context) -> None:
        opts = ctx.settings.secrets
        self.name_pattern = opts.name_pattern
        self.baseline_path = opts.detect_secrets_baseline
        self.baseline = _load_baseline(ctx, self.baseline_path)
        self.git_crypt = _git_crypt_patterns(ctx)


def _state(ctx: Context) -> _RunState:
    st = _RUN_STATE.get(ctx)
    if st is None:
        st = _RUN_STATE[ctx] = _RunState(ctx)
    return st


@check("KL101", "secret-in-tracked-file", target="text")
def secret_in_tracked_file(path: str, ctx: Context) -> Iterator[Finding]:
    st = _state(ctx)
    name = posixpath.basename(path)
    if name in _BASELINE_NAMES or path == st.baseline_path:
        return
    text = ctx.repo.read_text(path)
    if not text or text.startswith("$ANSIBLE_VAULT;"):
        return
    if any(glob_match(pat, path) for pat in st.git_crypt):
        return  # git stores it encrypted; the work tree may hold the clear text
    dotenv = "dotenv" in ctx.repo.kinds(path)
    from kohalint.secret_scanner import may_hold_secret

    if not dotenv and not may_hold_secret(path, text):
        return
    raw = text.splitlines()
    hits = _hits(path, text, raw, dotenv, st.name_pattern)
    if not hits:
        return
    encrypted = _encrypted_lines(raw, text)
    tracked = ctx.repo.is_tracked(path) or not ctx.repo.is_git
    placed: dict[tuple[int, str], set[str]] = {}
    for line_no, value, types in hits:
        placed.setdefault(_relocate(raw, line_no, value), set()).update(types)
    for (line_no, value), types in sorted(placed.items()):
        line = raw[line_no - 1] if 0 < line_no <= len(raw) else ""
        if line_no in encrypted or _allowlisted(raw, line_no) or _not_secret(value, line, st.name_pattern):
            continue
        ident = identity(value)
        # detect-secrets records the SHA-1 of each value it has seen
        known = st.baseline.get((path, hashlib.sha1(value.encode("utf-8")).hexdigest()))
        confirmed = known is True
        if known is False:
            continue
        col = line.find(value) + 1 if value and value in line else 1
        where = "a tracked file" if tracked else "a file the next `git add .` would commit"
        note = " (confirmed as a real secret in the detect-secrets baseline)" if confirmed else ""
        yield ctx.finding(path, line_no, f"{_describe(types, value)} in {where}{note}: "
                          "remove it, rotate it, and load it at deploy time from a secret store",
                          column=max(1, col), identity=ident)


_GENERIC = ("Secret-looking variable", "Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String")


def _describe(types: set[str], value: str) -> str:
    """`AWS Access Key AK…(20 chars)`; a password shows only its length."""
    specific = sorted(t for t in types if t not in _GENERIC)
    if specific:
        return f"{', '.join(specific)} {redact(value)}"
    generic = [t for t in _GENERIC if t in types]
    return f"{', '.join(generic)} …({len(value)} chars)"


def _hits(path: str, text: str, raw: list[str], dotenv: bool,
          name_pattern: str) -> list[tuple[int, str, set[str]]]:
    from kohalint.secret_scanner import scan_text

    if not dotenv:
        return [(h.line, h.value, h.types) for h in scan_text(path, text)]
    # dotenv: every KEY=value read as KEY="value", plus the name pattern.
    lines: list[str] = []
    named: dict[tuple[int, str], set[str]] = {}
    for no, line in enumerate(raw, start=1):
        parsed = parse_assignment(line)
        if parsed is None:
            lines.append(line)
            continue
        key, value, _ = parsed
        lines.append(f'{key}="' + value.replace('"', '\\"') + '"')
        if value and is_secret_name(key, name_pattern):
            named.setdefault((no, value), set()).add("Secret-looking variable")
    for h in scan_text(path, text, dotenv_lines=lines):
        named.setdefault((h.line, h.value.replace('\\"', '"')), set()).update(h.types)
    return [(no, value, types) for (no, value), types in sorted(named.items())]


def _relocate(raw: list[str], line_no: int, value: str) -> tuple[int, str]:
    """Where the value really is. A YAML block scalar reaches the plugins as
    one value at its key's line: the secret is the first word they matched,
    on its own line; a keyword that ends its line introduces nested content."""
    if "\n" in value:
        head = value.split("\n", 1)[0]
        if not head.strip():
            return line_no, ""
        value = head.split()[0]
    if value.endswith("\\") and value not in "\n".join(raw[max(0, line_no - 1):line_no + 1]):
        value = value.rstrip("\\")  # the YAML transformer escaped a closing quote
    if value and not (0 < line_no <= len(raw) and value in raw[line_no - 1]):
        for no in range(max(1, line_no), min(len(raw), line_no + 2000) + 1):
            if value in raw[no - 1]:
                return no, value
    return line_no, value


_KEY_BEFORE = re.compile(r"""([A-Za-z_][\w.-]*)["'\]]*\s*(?::=|==|=>|[:=])\s*["'`]?$""")
# How far before the value its name is looked for: the expression above,
# anchored at the end, would otherwise try every start in a long line.
_KEY_REACH = 256


def _key_before(line: str, value: str) -> str:
    """The name the value is assigned to on its line (`api_key = "…"` -> api_key)."""
    pos = line.find(value) if value else -1
    m = _KEY_BEFORE.search(line, max(0, pos - _KEY_REACH), pos) if pos > 0 else None
    if m:
        return m.group(1)
    m = _KEY.match(line)
    return m.group(1) if m else ""


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _not_secret(value: str, line: str, name_pattern: str) -> bool:
    if (is_placeholder(value) or is_interpolation(value) or is_encrypted_value(value) or is_escaped_text(value)):
        return True
    if not re.search(r"[A-Za-z]", value):
        return True  # as detect-secrets' own filter: a secret has a letter
    key = _key_before(line, value)
    if key and _norm(key) == _norm(value):
        return True  # self-named: api_key = "api-key"
    key_secret = bool(key and is_secret_name(key, name_pattern))
    return is_checksum(value, line, key_secret) or is_uuid(value, line, key_secret)


def _allowlisted(raw: list[str], line_no: int) -> bool:
    line = raw[line_no - 1] if 0 < line_no <= len(raw) else ""
    if _PRAGMA.search(line):
        return True
    return line_no >= 2 and bool(_PRAGMA_NEXT.search(raw[line_no - 2]))


def _encrypted_lines(raw: list[str], text: str) -> set[int]:
    """Lines of SOPS metadata, armored encrypted blocks and ansible-vault bodies."""
    out: set[int] = set()
    if "sops" not in text and "-----BEGIN " not in text and "$ANSIBLE_VAULT;" not in text:
        return out  # each kind starts with one of these: most files need no line-by-line look
    i = 0
    n = len(raw)
    while i < n:
        line = raw[i]
        m = _SOPS_START.match(line)
        if m:
            indent = len(m.group(1))
            j = i + 1
            while j < n and (not raw[j].strip() or len(raw[j]) - len(raw[j].lstrip()) > indent):
                j += 1
            if j < n and raw[j].strip() in ("}", "},") and indent:
                j += 1
            out.update(range(i + 1, j + 1))
            i = j
            continue
        if line.lstrip().startswith("sops_"):
            out.add(i + 1)  # sops metadata in dotenv/ini files
        a = _ARMOR.search(line)
        if a:
            end = f"-----END {a.group(1)}-----"
            j = i
            while j < n and end not in raw[j]:
                j += 1
            out.update(range(i + 1, min(j, n - 1) + 2))
            i = j + 1
            continue
        if "$ANSIBLE_VAULT;" in line:
            j = i + 1
            while j < n and _VAULT_HEX.match(raw[j]):
                j += 1
            out.update(range(i + 1, j + 1))
            i = j
            continue
        i += 1
    return out


def _load_baseline(ctx: Context, path: Optional[str]) -> dict[tuple[str, str], bool]:
    """(file, SHA-1 of the value) -> whether an audit confirmed it as a real secret.

    A known result is not reported again, unless its audit says it is real:
    a confirmed secret in the repository still fails the gate.
    """
    out: dict[tuple[str, str], bool] = {}
    text = ctx.repo.read_text(path) if path else None
    try:
        data = json.loads(text) if text else {}
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        return out
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        return out
    for filename, entries in results.items():
        for e in entries if isinstance(entries, list) else []:
            if isinstance(e, dict) and isinstance(e.get("hashed_secret"), str):
                key = (posixpath.normpath(str(filename)), e["hashed_secret"].lower())
                out[key] = out.get(key, False) or e.get("is_secret") is True
    return out


def _git_crypt_patterns(ctx: Context) -> list[str]:
    out: list[str] = []
    for path in ctx.repo.files:
        if posixpath.basename(path) != ".gitattributes":
            continue
        base = posixpath.dirname(path)
        for line in (ctx.repo.read_text(path) or "").splitlines():
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#") and "filter=git-crypt" in parts[1:]:
                pat = parts[0]
                if base:
                    pat = f"{base}/{pat.lstrip('/')}" if "/" in pat.rstrip("/") else f"{base}/**/{pat}"
                out.append(pat)
    return out
