"""Word-level helpers: quote removal, substitution spans, shlex-like split.

Expansions (`$FOO`, `${BAR:-x}`, `$(cmd)`) are kept literally: kohalint
never evaluates a script, and rules want to see `-p"$PW"` as `-p$PW` to know
a password comes from a variable.
"""

from __future__ import annotations

import re

from kohalint.documents.shell_lex import Lexer

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=")
_ANSI = {
    "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
    "v": "\v", "e": "\x1b", "E": "\x1b", "\\": "\\", "'": "'", '"': '"',
}  # fmt: skip
_DQ_ESCAPES = "$`\"\\"


def is_assignment(raw: str) -> bool:
    """`NAME=...` as written (a quoted `"A=1"` is an argument, not an assignment)."""
    return bool(_ASSIGNMENT.match(raw))


def unquote(raw: str) -> str:
    """Remove quotes and backslashes the way the shell would, keeping expansions."""
    if not any(c in raw for c in "'\"\\$`"):
        return raw
    lx = Lexer(raw)
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == "\\":
            if raw.startswith("\\\n", i):
                i += 2
                continue
            out.append(raw[i + 1 : i + 2])
            i += 2
        elif c == "'":
            end = lx.single(i)
            out.append(raw[i + 1 : end - 1] if raw[end - 1 : end] == "'" else raw[i + 1 : end])
            i = max(end, i + 1)
        elif raw.startswith("$'", i):
            end = lx.ansi(i)
            out.append(_decode_ansi(raw[i + 2 : end - 1]))
            i = max(end, i + 2)
        elif c == '"' or raw.startswith('$"', i):
            i = _unquote_double(raw, i + (c == "$"), lx, out)
        elif c in "$`":
            end = lx.dollar(i) if c == "$" else lx.backtick(i)
            out.append(raw[i:end])
            i = max(end, i + 1)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _unquote_double(raw: str, i: int, lx: Lexer, out: list[str]) -> int:
    """Append the content of the double-quoted string at `i`; return its end."""
    n = len(raw)
    j = i + 1
    while j < n and raw[j] != '"':
        c = raw[j]
        if c == "\\" and j + 1 < n and raw[j + 1] in _DQ_ESCAPES + "\n":
            out.append("" if raw[j + 1] == "\n" else raw[j + 1])
            j += 2
        elif c == "`" or (c == "$" and raw[j + 1 : j + 2] not in ("'", '"')):
            end = lx.dollar(j) if c == "$" else lx.backtick(j)
            out.append(raw[j:end])
            j = max(end, j + 1)
        else:
            out.append(c)
            j += 1
    return j + 1


def _decode_ansi(body: str) -> str:
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        esc = body[i + 1]
        hexpart = re.match(r"[0-9A-Fa-f]{1,2}", body[i + 2 : i + 4]) if esc == "x" else None
        if hexpart:
            out.append(chr(int(hexpart.group(), 16)))
            i += 2 + len(hexpart.group())
        else:
            out.append(_ANSI.get(esc, "\\" + esc))
            i += 2
    return "".join(out)


def find_substitutions(raw: str, *, heredoc: bool = False) -> list[tuple[str, int]]:
    """Bodies of `$(...)`, backticks and `<(...)`, with their offset in `raw`.

    Nested substitutions are left inside the returned body: the caller parses
    each body as a script, which finds them in turn.
    """
    if not any(s in raw for s in ("$(", "`", "<(", ">(")):
        return []
    lx = Lexer(raw)
    found: list[tuple[str, int]] = []
    i, n, dq = 0, len(raw), heredoc  # quotes are literal inside a heredoc body
    while i < n:
        c = raw[i]
        if c == "\\":
            i += 2
        elif c == "'" and not dq:
            i = max(lx.single(i), i + 1)
        elif c == '"' and not heredoc:
            dq, i = not dq, i + 1
        elif raw.startswith("$'", i) and not dq:
            i = max(lx.ansi(i), i + 2)
        elif raw.startswith("$((", i):
            i += 3  # arithmetic: its text is scanned for nested $( ) as we go
        elif raw.startswith("$(", i) or (raw.startswith(("<(", ">("), i) and not dq):
            end = lx.dollar(i) if c == "$" else lx.subst(i + 1)
            body_end = end - 1 if raw[end - 1 : end] == ")" else end
            found.append((raw[i + 2 : body_end], i + 2))
            i = max(end, i + 2)
        elif c == "`":
            end = lx.backtick(i)
            body_end = end - 1 if raw[end - 1 : end] == "`" else end
            found.append((_unescape_backticks(raw[i + 1 : body_end]), i + 1))
            i = max(end, i + 1)
        else:
            i += 1
    return found


def _unescape_backticks(body: str) -> str:
    # Inside `...` a backslash only escapes $ ` and \ (bash manual, Command
    # Substitution); other backslashes are kept for the inner parse.
    return re.sub(r"\\([$`\\])", r"\1", body)


def split_words(text: str) -> list[str]:
    """Split on unquoted blanks and remove quotes; never raises.

    Unlike a shell, operators (`|`, `;`) are not special and nothing is
    expanded: this is for argument strings such as `env -S` or exec forms.
    """
    try:
        lx = Lexer(text)
        words: list[str] = []
        i, n = 0, len(text)
        while i < n:
            if text[i] in " \t\r\n":
                i += 1
                continue
            end = max(lx.word(i, blanks_only=True), i + 1)
            words.append(unquote(text[i:end]))
            i = end
        return words
    except Exception:  # a helper for rules must not take the scan down
        return text.split()
