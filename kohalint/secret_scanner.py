"""detect-secrets' plugins and filters, run in-process on text kohalint already read.

detect-secrets spends most of its time sending every line through every
plugin. Here a cheap trigger expression decides first which lines any of its
plugins could match at all (`LINE_TRIGGER`, a superset of every default
plugin's pattern; tests/test_secrets.py checks that against the plugins'
own expressions), so most files are dismissed without importing
detect-secrets, and only the remaining lines go through its machinery:

* pass 1 on the file's lines, or on what its non-eager transformers make of
  them (YAML and INI values re-written as quoted strings);
* pass 2, only when pass 1 found nothing, with the eager transformer (any
  other file read as `key = value` lines), as `detect_secrets.core.scan` does;
* dotenv files are always read as `KEY="value"` lines, because
  detect-secrets skips its eager pass as soon as one quoted value matched
  and so misses the unquoted values next to it.

Deliberate differences: no verification filter (it calls the providers'
APIs over the network; kohalint only reads), and no `IPPublicDetector`
(an address is not a credential).
"""

from __future__ import annotations

import bisect
import inspect
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import import_module
from typing import Any, Callable, Optional

_B64 = r"A-Za-z0-9+/=_\\-"
_KEYWORDS = (r"(?i:(?:api|auth|service|account|db|database|priv|private|client)_?key"
             r"|(?:db|database|key)_?pass|passw(?:or)?d|pwd|secret|contrase(?:ñ|n)a)")
# Every default detect-secrets plugin needs one of these in the line it
# analyses (KEYWORD for KeywordDetector, STRONG for all others). High-entropy
# values must be quoted there: transformers quote YAML/INI/dotenv values
# before the plugins see them. Each pattern is searched on its own and most
# start with a literal, which lets the regular expression engine skip ahead
# instead of trying every branch at every position; what must precede the
# literal is a (pattern, what precedes it) pair, checked only where the
# literal is found. The case-insensitive ones run on the lower-cased text.
_STRONG_PATTERNS = (
    rf"['\"][{_B64}]{{23,}}['\"]",       # Base64HighEntropyString: entropy > 4.5 needs >= 23 chars
    r"['\"][0-9a-fA-F]{9,}['\"]",          # HexHighEntropyString: entropy > 3.0 needs >= 9 chars
    r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",    # AWS access key id
    r"AKC[a-zA-Z0-9]{10}", r"AP[\dA-F][a-zA-Z0-9]{8}",     # Artifactory
    r"AccountKey=",                                        # Azure storage
    r"://[^\s:/@]+:[^\s:/@]+@",                            # basic auth in URLs
    (r"\.[\w-]{6}\.", r"[\w-]{23}"),                          # Discord
    r"gh[pousr]_", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", r"GR1348941",  # GitHub, GitLab
    r"eyJ[\w=-]+\.",                                       # JWT
    (r"-us\d", r"[0-9a-z]{32}"), r"_authToken=", r"T3BlbkFJ", r"pypi-AgE", r"SG\.[\w-]{22}\.",
    r"PRIVATE KEY", r"PuTTY-User-Key-File-\d",              # private keys
    r"sq0csp-", (r"k_live_", r"[rs]"), (r":[\w-]{35}", r"\d{8}"), r"AC[a-z0-9]{32}", r"SK[a-z0-9]{32}",
)
_LOWER_PATTERNS = (                                        # matched on text.lower()
    r"(?:key|pwd?|pass(?:word)?|token)[\]'\"]{0,3}[ \t:=>]*['\"]?[\w-]{24}",  # Cloudant IBM SoftLayer
    r"softlayer.com/soap/",
    r"xox[aposbr]-", r"hooks\.slack\.com/services/",        # Slack
)


def _lookbehind(p) -> str:
    return p if isinstance(p, str) else f"(?<={p[1]}){p[0]}"


_STRONG = "|".join(tuple(_lookbehind(p) for p in _STRONG_PATTERNS) + tuple(f"(?i:{p})" for p in _LOWER_PATTERNS))
STRONG_TRIGGER = re.compile(_STRONG)
_PLAIN_EACH = tuple(re.compile(p) for p in _STRONG_PATTERNS if isinstance(p, str))
_PRECEDED_EACH = tuple((re.compile(p[0]), re.compile(p[1]), int(re.search(r"\{(\d+)\}$", p[1]).group(1))
                        if p[1].endswith("}") else 1) for p in _STRONG_PATTERNS if not isinstance(p, str))
_LOWER_EACH = tuple(re.compile(p) for p in _LOWER_PATTERNS)
KEYWORD_TRIGGER = re.compile(_KEYWORDS)
LINE_TRIGGER = re.compile(_STRONG + "|" + _KEYWORDS)


# Every keyword contains one of these: a cheap first look before the full expression.
_KEYWORD_ANCHOR = re.compile(r"key|pass|pwd|secret|contrase")


def strong_match(text: str, lower: Optional[str] = None) -> bool:
    """STRONG_TRIGGER.search(text), faster."""
    if any(r.search(text) for r in _PLAIN_EACH):
        return True
    for main, before, width in _PRECEDED_EACH:
        for m in main.finditer(text):
            if m.start() >= width and before.fullmatch(text, m.start() - width, m.start()):
                return True
    lower = text.lower() if lower is None else lower
    return any(r.search(lower) for r in _LOWER_EACH)


# A keyword assigned a value that starts like a word: what KeywordDetector
# captures unquoted (its secret must start with a word character).
_KEYWORD_VALUE = re.compile(_KEYWORDS + r"\w*[\]'\"]{0,2}\s*(?::=|!==?|={1,3}|:|=>)\s*(\w)?")
_REFERENCE = re.compile(r"""["']?(?:\$\{[^}]*\}|\$\$?[A-Za-z_]\w*|\{\{[^}]*\}\})["']?""")
# What a transformer may turn into a quoted value: a whole unquoted value
# made of one run (YAML values follow whitespace; INI ones also `=` or `:`).
_RUN = rf"(?:[{_B64}]{{23,}}|[0-9a-fA-F]{{9,}})(?=$|[\s\"',\]}}#])"
_YAML_RUN = re.compile(rf"(?:^|(?<=[\s\"'\[,{{]))" + _RUN, re.M)
_INI_RUN = re.compile(rf"(?:^|(?<=[\s\"'=:]))" + _RUN, re.M)
# A line configparser rejects (no section header, no `=`/`:`, not a comment
# or continuation): the INI transformers fail on such a file.
_NOT_INI = re.compile(r"^[^\s#;\[][^=:\n]*$", re.M)
_YAML_EXT = (".yaml", ".yml", ".eyaml")
_DISABLED_PLUGINS = {"IPPublicDetector"}
_NETWORK_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_DROPPED_FILTERS = {"detect_secrets.filters.common.is_invalid_file", _NETWORK_FILTER}


@dataclass
class Hit:
    line: int                          # 1-based
    value: str
    types: set[str] = field(default_factory=set)


def harmless_keyword_line(line: str) -> bool:
    """Only references follow its keywords (`MARIADB_PASSWORD: ${MARIADB_PASSWORD}`):
    KeywordDetector's templated/dollar filters drop whatever it would match."""
    text = _REFERENCE.sub(" ", line)
    if any(q in text for q in "'\"`"):
        return False
    return not any(m.group(1) for m in _KEYWORD_VALUE.finditer(text))


def line_may_hold(line: str) -> bool:
    lower = line.lower()
    if strong_match(line, lower):
        return True
    return (_KEYWORD_ANCHOR.search(lower) is not None and KEYWORD_TRIGGER.search(line) is not None
            and not harmless_keyword_line(line))


def candidate_lines(lines: list[str]) -> list[int]:
    """1-based numbers of the lines `line_may_hold` accepts, found with one
    pass per pattern over the whole text (no pattern spans a line break)."""
    text = "\n".join(lines)
    lower = text.lower()
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    found: set[int] = set()

    def mark(pos: int) -> None:
        found.add(bisect.bisect_right(starts, pos))

    for r in _PLAIN_EACH:
        for m in r.finditer(text):
            mark(m.start())
    for main, before, width in _PRECEDED_EACH:
        for m in main.finditer(text):
            if m.start() >= width and before.fullmatch(text, m.start() - width, m.start()):
                mark(m.start())
    for r in _LOWER_EACH:
        for m in r.finditer(lower):
            mark(m.start())
    for m in _KEYWORD_ANCHOR.finditer(lower):
        no = bisect.bisect_right(starts, m.start())
        if no not in found:
            line = lines[no - 1]
            if KEYWORD_TRIGGER.search(line) and not harmless_keyword_line(line):
                found.add(no)
    return sorted(found)


def may_hold_secret(path: str, text: str) -> bool:
    """Cheap and conservative: False only when no plugin can report anything."""
    lower = text.lower()
    if strong_match(text, lower):
        return True
    checked_to = -1
    for m in _KEYWORD_ANCHOR.finditer(lower):
        if m.start() < checked_to:
            continue  # that line was judged already
        start = lower.rfind("\n", 0, m.start()) + 1
        end = lower.find("\n", m.end())
        checked_to = end = len(lower) if end < 0 else end
        line = lower[start:end]
        if KEYWORD_TRIGGER.search(line) and not harmless_keyword_line(line):
            return True
    if path.lower().endswith(_YAML_EXT):
        return _YAML_RUN.search(text) is not None
    if not _NOT_INI.search(text):
        return _INI_RUN.search(text) is not None
    return False


def may_be_transformed(path: str, text: str) -> bool:
    return path.lower().endswith(_YAML_EXT) or not _NOT_INI.search(text)


class _Filter:
    __slots__ = ("func", "params", "required")

    def __init__(self, func: Callable) -> None:
        sig = inspect.signature(func)
        self.func = func
        self.params = tuple(sig.parameters)
        self.required = {n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty}

    def __call__(self, **kw: Any) -> bool:
        return bool(self.func(**{k: kw[k] for k in self.params if k in kw}))


class Machinery:
    """The plugins and filters of a default `detect-secrets scan`, built once."""

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import Settings, get_settings

        # Plugins consult the global settings to decide whether to verify a
        # match over the network; never let them.
        if _NETWORK_FILTER in get_settings().filters:
            get_settings().disable_filters(_NETWORK_FILTER)
        self.plugins = [cls() for _, cls in sorted(get_mapping_from_secret_type_to_class().items())
                        if cls.__name__ not in _DISABLED_PLUGINS and "path" not in
                        get_settings().plugins.get(cls.__name__, {})]
        filters = []
        for path in sorted(set(Settings().filters) - _DROPPED_FILTERS):
            module, _, name = path.rpartition(".")
            filters.append(_Filter(getattr(import_module(module), name)))
        # The stages of detect_secrets.core.scan: a filter runs where its
        # stage's parameter is among its own and all it needs is available.
        self.file_filters = self._stage(filters, "filename", {"filename"})
        self.line_filters = self._stage(filters, "line", {"filename", "line", "context"})
        self.secret_filters = self._stage(filters, "secret", {"filename", "secret", "plugin", "line"})
        seen = set(map(id, self.line_filters))
        self.context_filters = [f for f in self._stage(filters, "context", {"filename", "secret", "plugin",
                                                                             "line", "context"})
                                if id(f) not in seen]

    @staticmethod
    def _stage(filters: list[_Filter], param: str, available: set[str]) -> list[_Filter]:
        return [f for f in filters if param in f.params and f.required <= available]

    def skips_file(self, path: str) -> bool:
        return any(f(filename=path) for f in self.file_filters)

    def scan_lines(self, path: str, lines: list[str], out: dict[tuple[int, str], Hit]) -> int:
        """Run every plugin on the trigger-matching lines; returns the number of matches."""
        from detect_secrets.util.code_snippet import get_code_snippet

        found = 0
        stripped = [line.rstrip() for line in lines]
        for no in candidate_lines(stripped):
            line = stripped[no - 1]
            context = get_code_snippet(lines=lines, line_number=no)
            if any(f(filename=path, line=line, context=context) for f in self.line_filters):
                continue
            for plugin in self.plugins:
                for secret in plugin.analyze_line(filename=path, line=line, line_number=no, context=context):
                    value = secret.secret_value
                    if value is None:
                        continue
                    kw = {"filename": path, "secret": value, "plugin": plugin, "line": line}
                    if any(f(**kw) for f in self.secret_filters):
                        continue
                    if any(f(**kw, context=context) for f in self.context_filters):
                        continue
                    found += 1
                    out.setdefault((no, value), Hit(no, value)).types.add(secret.type)
        return found

    def transformed(self, path: str, text: str, eager: bool) -> Optional[list[str]]:
        from detect_secrets.transformers import get_transformed_file

        stream = io.StringIO(text)
        stream.name = path  # type: ignore[attr-defined]
        try:
            return get_transformed_file(stream, use_eager_transformers=eager)  # type: ignore[arg-type]
        except (ValueError, TypeError, UnicodeError, RecursionError, LookupError):
            return None  # a transformer that chokes means raw lines, as for detect-secrets


@lru_cache(maxsize=1)
def machinery() -> Machinery:
    return Machinery()


def scan_text(path: str, text: str, *, dotenv_lines: Optional[list[str]] = None) -> list[Hit]:
    """The secrets detect-secrets' plugins find in `text` (after its filters).

    `dotenv_lines`: the file as `KEY="value"` lines (dotenv files), used
    instead of detect-secrets' two passes.
    """
    m = machinery()
    if m.skips_file(path):
        return []
    hits: dict[tuple[int, str], Hit] = {}
    raw = text.splitlines()
    if dotenv_lines is not None:
        m.scan_lines(path, dotenv_lines, hits)
        return sorted(hits.values(), key=lambda h: (h.line, h.value))
    transform = may_be_transformed(path, text)
    lines = (m.transformed(path, text, eager=False) if transform else None) or raw
    found = m.scan_lines(path, lines, hits)
    if not found and transform:
        eager = m.transformed(path, text, eager=True)
        if eager:
            m.scan_lines(path, eager, hits)
    return sorted(hits.values(), key=lambda h: (h.line, h.value))
