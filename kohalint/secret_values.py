"""What a secret-looking value is, shared by the KL1xx rules.

Placeholders, interpolations and encrypted values are not secrets; a real
value is never shown: findings carry its type, a redacted form and, as
identity, the SHA-256 of the value (never the value itself).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Optional

# Values people write where the real one goes. Matched on the whole value,
# case-insensitively; "example" anywhere in a value marks it as one.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        change[-_ .]?me\w*           # changeme, change_me, change-me-please
      | replace[-_ .]?me\w*
      | <[^<>]*>                     # <password>, <your token here>
      | \{\{[^{}]*\}\}               # {{ jinja }}, rendered elsewhere
      | x{3,} | \*{3,} | \.{3,} | -{3,}
      | (?:your|my)[-_ ][\w-]*       # your-password-here
      | dummy\w* | fake\w* | placeholder\w* | redacted | todo | tbd | fixme
      | none | null | nil | undefined | empty | secret | password | passwd | token
      | yes | no | true | false | on | off     # switches: MARIADB_RANDOM_ROOT_PASSWORD: "yes"
      | (?:test|sample)(?:[-_]?(?:password|secret|token|key))?
    )$""")
_EXAMPLE = re.compile(r"(?i)example")

# ${VAR}, ${VAR:-...}, $VAR, %(var)s, {{ var }}, ${{ secrets.X }}: resolved elsewhere.
_INTERPOLATION = re.compile(r"^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%\([^)]*\)s|\$\{\{.*\}\}|\{\{.*\}\})$")

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HASH_LENGTHS = {32, 40, 56, 64, 96, 128}
_HASH_WORDS = re.compile(r"(?i)sha-?(?:1|224|256|384|512)|(?:\b|_)sha(?:\b|_)|md5|checksum|digest|integrity|"
                         r"hash|\brev\b|commit|etag|fingerprint")
_UUID_WORDS = re.compile(r"(?i)uuid|guid|(?:\b|_|-)id\b")
_UUID = re.compile(r"^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$")


# Placeholders that say what to put in their place (`REPLACE_WITH_TOKEN`,
# `INSERT_YOUR_KEY`, `TOKEN_GOES_HERE`), next to those the patterns above
# know; the whole value, case-insensitively. Each needs a connecting word
# so that a real value that merely starts with "replace" is not one.
_SAYS_PLACEHOLDER = re.compile(r"""(?ix)^(?:
        replace[-_ .]?(?:with|by|this|it)(?:[-_ .][\w.-]*)?
      | (?:insert|enter|put|paste|add|set)[-_ .](?:your|the|a|an|real|actual|valid)[-_ .][\w.-]*
      | [\w.-]*[-_ .](?:goes[-_ .])?here
      | to[-_ .]?be[-_ .]?(?:replaced|changed|set|filled(?:[-_ .]?in)?|defined|configured|provided)
      | change[-_ .]?(?:this|it)
    )$""")


def is_placeholder(value: str) -> bool:
    v = value.strip().strip("\"'").strip()
    if not v:
        return True
    return bool(_PLACEHOLDER.match(v) or _EXAMPLE.search(v) or _SAYS_PLACEHOLDER.match(v))


def is_interpolation(value: str) -> bool:
    """The whole value is a reference resolved at deploy time."""
    return bool(_INTERPOLATION.match(value.strip().strip("\"'").strip()))


def is_encrypted_value(value: str) -> bool:
    v = value.strip().strip("\"'")
    return ("ENC[" in v or v.startswith("$ANSIBLE_VAULT;")
            or "BEGIN AGE ENCRYPTED FILE" in v or "BEGIN PGP MESSAGE" in v)


def is_checksum(value: str, line: str, key_is_secret: bool = False) -> bool:
    """A hex digest written next to a word that says it is one (sha256:, checksum=, rev:)."""
    return (not key_is_secret and len(value) in _HASH_LENGTHS and bool(_HEX.match(value))
            and bool(_HASH_WORDS.search(line)))


_ESCAPES = re.compile(r"\\[ntr\\\"']")


def is_escaped_text(value: str) -> bool:
    """`"A=1\\nB=2\\n"`: a string literal holding escaped lines of text, which
    detect-secrets' base64 alphabet (it includes the backslash) takes for a token."""
    return bool(_ESCAPES.search(value))


def is_uuid(value: str, line: str, key_is_secret: bool = False) -> bool:
    """A UUID, dashed or not; an undashed one only where the line says it is an id."""
    if key_is_secret or not _UUID.match(value):
        return False
    return "-" in value or bool(_UUID_WORDS.search(line))


def identity(value: str) -> str:
    """What identifies a secret in fingerprints and baselines: its SHA-256, never itself."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def redact(value: str) -> str:
    """`AK…(20 chars)`: a long token keeps its first two characters (which say
    what kind of token it is, not what it is); a short value shows only its length."""
    n = len(value)
    if n >= 16:
        return f"{value[:2]}…({n} chars)"
    return f"…({n} chars)"


@lru_cache(maxsize=16)
def name_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def is_secret_name(name: str, pattern: str) -> bool:
    return bool(name_regex(pattern).search(name))


# --- dotenv-style KEY=VALUE lines ---------------------------------------------------

_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$")


def parse_assignment(line: str) -> Optional[tuple[str, str, int]]:
    """(key, value, value column 1-based) of a `KEY=value` line, quotes and
    trailing comments removed; None for other lines."""
    m = _ASSIGN.match(line)
    if not m:
        return None
    key, rest = m.group(1), m.group(2)
    col = m.start(2) + 1
    if rest[:1] in ("'", '"'):
        q = rest[0]
        end = rest.find(q, 1)
        value = rest[1:end] if end > 0 else rest[1:]
        return key, value, col + 1
    value = re.split(r"\s+#", rest, maxsplit=1)[0].strip()
    return key, value, col


def is_literal_secret_value(value: str) -> bool:
    """A value that is neither empty, a placeholder, an interpolation nor encrypted."""
    return not (is_placeholder(value) or is_interpolation(value) or is_encrypted_value(value))
