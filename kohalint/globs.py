"""Path globs for configuration (`exclude`, `per-file-ignores`, critical paths).

One small dialect used everywhere in `.kohalint.yaml`: `*` and `?` stay within a
path segment, `**` spans any number of segments, a trailing `/` means "this
directory and everything below", and a pattern without `/` matches a file or
directory name at any depth (as in .gitignore). CODEOWNERS and .dockerignore
have their own matchers with their own tools' rules.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable


_LIT, _ONE, _STAR, _ANY, _SEGS = range(5)


@lru_cache(maxsize=1024)
def _parse(pattern: str) -> tuple[bool, bool, tuple[tuple[int, str], ...]]:
    """(anchored, directory, tokens) of a glob."""
    pat = pattern.strip()
    if pat.startswith("./"):
        pat = pat[2:]
    anchored = "/" in pat.rstrip("/")
    directory = pat.endswith("/")
    pat = pat.strip("/")
    tokens: list[tuple[int, str]] = []
    i = 0
    while i < len(pat):
        if pat.startswith("**/", i):
            tokens.append((_SEGS, ""))  # zero or more whole segments
            i += 3
        elif pat.startswith("**", i):
            tokens.append((_ANY, ""))  # anything, slashes included
            i += 2
        else:
            c = pat[i]
            tokens.append((_STAR, "") if c == "*" else (_ONE, "") if c == "?" else (_LIT, c))
            i += 1
    return anchored, directory, tuple(tokens)


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    anchored, directory, tokens = _parse(pattern)
    parts = {_SEGS: "(?:[^/]+/)*", _ANY: ".*", _STAR: "[^/]*", _ONE: "[^/]"}
    body = "".join(parts.get(kind) or re.escape(c) for kind, c in tokens)
    prefix = "" if anchored else "(?:.*/)?"
    # A match on a directory covers everything below it.
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(f"{prefix}{body}{suffix}\\Z", re.DOTALL)  # \Z, not $: `$` also matches before a final newline


def _risky(pattern: str) -> bool:
    """Three or more unbounded parts: Python's backtracking `re` can take time
    exponential in their number on a deep path (`**/**/**/x`), and patterns
    come from repository files too (`.gitattributes`)."""
    anchored, _, tokens = _parse(pattern)
    return sum(kind in (_STAR, _ANY, _SEGS) for kind, _ in tokens) + (not anchored) >= 3


def _nfa_match(pattern: str, path: str) -> bool:
    """The same language as `compile_glob`, matched in O(len(path) * len(pattern))."""
    anchored, directory, tokens = _parse(pattern)
    m = len(tokens)
    pre, tail = -1, -2  # the unanchored `(?:.*/)?` prefix loop; everything after `/` past the end

    def closure(i: int, into: set[int]) -> None:
        while i < m and tokens[i][0] in (_STAR, _ANY, _SEGS):
            into.add(i)  # these may match nothing: the next token is live too
            i += 1
        into.add(i)

    states: set[int] = set()
    closure(0, states)
    if not anchored:
        states.add(pre)
    for ch in path:
        nxt: set[int] = set()
        for st in states:
            if st == pre:
                nxt.add(pre)
                if ch == "/":
                    closure(0, nxt)
            elif st == tail:
                nxt.add(tail)
            elif st > m:  # inside a segment of the `**/` token st - m - 1
                i = st - m - 1
                if ch == "/":
                    closure(i, nxt)
                else:
                    nxt.add(st)
            elif st == m:
                if ch == "/":
                    nxt.add(tail)
            else:
                kind, c = tokens[st]
                if kind == _LIT:
                    if ch == c:
                        closure(st + 1, nxt)
                elif kind == _ONE:
                    if ch != "/":
                        closure(st + 1, nxt)
                elif kind == _STAR:
                    if ch != "/":
                        closure(st, nxt)
                elif kind == _ANY:
                    closure(st, nxt)
                elif ch != "/":  # _SEGS: a segment starts
                    nxt.add(m + 1 + st)
        states = nxt
        if not states:
            return False
    return tail in states or (not directory and m in states)


def glob_match(pattern: str, path: str) -> bool:
    if _risky(pattern):
        return _nfa_match(pattern, path)
    return compile_glob(pattern).match(path) is not None


class GlobSet:
    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = [p for p in patterns if p and p.strip()]
        self._res = [compile_glob(p) for p in self.patterns if not _risky(p)]
        self._risky = [p for p in self.patterns if _risky(p)]

    def match(self, path: str) -> bool:
        return any(r.match(path) for r in self._res) or any(_nfa_match(p, path) for p in self._risky)

    def __bool__(self) -> bool:
        return bool(self.patterns)
