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


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> re.Pattern[str]:
    pat = pattern.strip()
    if pat.startswith("./"):
        pat = pat[2:]
    anchored = "/" in pat.rstrip("/")
    directory = pat.endswith("/")
    pat = pat.strip("/")
    out = []
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
            continue
        if pat.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    # A match on a directory covers everything below it.
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(f"^{prefix}{body}{suffix}$", re.DOTALL)


def glob_match(pattern: str, path: str) -> bool:
    return compile_glob(pattern).match(path) is not None


class GlobSet:
    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = [p for p in patterns if p and p.strip()]
        self._res = [compile_glob(p) for p in self.patterns]

    def match(self, path: str) -> bool:
        return any(r.match(path) for r in self._res)

    def __bool__(self) -> bool:
        return bool(self._res)
