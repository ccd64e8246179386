"""Compose-style `${VAR}` interpolation, resolved the way kohalint promises:
the default written in place first, then the repository's env template; what
is still unresolved is marked unknown, never guessed.
"""

from __future__ import annotations

import re
from typing import Mapping, Optional

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")
MAX_DEPTH = 10


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """Return (value, unknown). `$$` is a literal `$`."""
    out, unknown = _expand(text, env, 0)
    return out, unknown


def _expand(text: str, env: Mapping[str, str], depth: int) -> tuple[str, bool]:
    if "$" not in text:
        return text, False
    out: list[str] = []
    unknown = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "$" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _closing_brace(text, i + 2)
            if end < 0:  # compose rejects this; keep it literal and unknown
                out.append(text[i:])
                return "".join(out), True
            value, unk = _braced(text[i + 2:end], env, depth)
            out.append(value if value is not None else text[i:end + 1])
            unknown |= unk
            i = end + 1
        else:
            m = _NAME.match(text, i + 1)
            if not m:
                out.append(c)
                i += 1
                continue
            name = m.group(0)
            if name in env:
                out.append(env[name])
            else:
                out.append(text[i:m.end()])
                unknown = True
            i = m.end()
    return "".join(out), unknown


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _braced(inner: str, env: Mapping[str, str], depth: int) -> tuple[Optional[str], bool]:
    m = _NAME.match(inner)
    if not m:
        return None, True
    name, rest = m.group(0), inner[m.end():]
    if not rest:
        return (env[name], False) if name in env else (None, True)
    op = next((o for o in _OPS if rest.startswith(o)), None)
    if op is None or depth >= MAX_DEPTH:
        return None, True
    word, word_unknown = _expand(rest[len(op):], env, depth + 1)
    if op in (":-", "-"):
        # the default in place wins over the template: it is what the
        # repository says will run when nobody sets the variable
        return word, word_unknown
    if op in (":?", "?"):
        return (env[name], False) if name in env else (None, True)
    # :+ / + : replacement only when set
    if name in env:
        set_ = bool(env[name]) if op == ":+" else True
        return (word if set_ else ""), word_unknown
    return None, True


def parse_env_template(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv template (quotes stripped, comments skipped)."""
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _NAME.fullmatch(key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        env[key] = value
    return env
