"""``.dockerignore`` as Docker (BuildKit) reads it, not as git would.

The differences that decide whether a secret reaches a build context:

* a pattern is matched against the whole context-relative path, so ``*.env``
  matches ``a.env`` at the root only, and ``**/*.env`` is needed for depth;
* a path is excluded when it or any parent directory matches (moby
  patternmatcher ``MatchesOrParentMatches``), and a later ``!`` line can
  re-include a file inside an excluded directory;
* the last matching line decides, ``#`` starts a comment only in column 1,
  and ``<Dockerfile>.dockerignore`` next to the Dockerfile replaces the
  context's ``.dockerignore``.

Line handling follows buildkit ``dockerignore.ReadAll`` / patternmatcher
``ignorefile.ReadAll`` and pattern typing follows patternmatcher ``compile``
(exact, prefix, suffix or wildcard match). Wildcard patterns are matched by
dynamic programming, not Python ``re``: Docker uses Go's linear-time regexp,
while a backtracking engine can hang on ``**/**/**/...``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import lru_cache
from collections.abc import Callable

# Go's strings.TrimSpace set (unicode.IsSpace); str.strip() would also eat
# \x1c-\x1f, which Go keeps.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(chr(code) for code in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)

# Representative names for what KL104 requires to stay out of a context.
# ".env.*" is probed with names nobody re-includes on purpose (unlike
# ".env.example", which projects often keep with "!.env.example").
SENSITIVE_PROBES: dict[str, tuple[str, ...]] = {
    ".env": (".env",),
    ".env.*": (".env.local", ".env.production"),
    ".git": (".git/config", ".git/HEAD", ".git/objects/pack/pack-0.pack", ".git/refs/heads/main"),
}


@dataclass(frozen=True)
class IgnorePattern:
    """One pattern line after Docker's cleaning; ``text`` has no ``!``."""

    text: str
    negated: bool
    line: int
    column: int = 1
    valid: bool = True


@dataclass(frozen=True)
class IgnoreProblem:
    line: int
    column: int
    kind: str
    message: str


@dataclass
class DockerIgnore:
    patterns: list[IgnorePattern] = field(default_factory=list)
    problems: list[IgnoreProblem] = field(default_factory=list)

    def is_excluded(self, path: str) -> bool:
        """Whether Docker leaves ``path`` (context-relative, posix) out."""
        path = go_clean(path).lstrip("/")
        if path in ("", "."):
            # patternmatcher refuses to exclude the context root itself.
            return False
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for pattern in self.patterns:
            # Only a pattern that can change the verdict is evaluated.
            if not pattern.valid or pattern.negated != matched:
                continue
            compiled = _compile(pattern.text)
            hit = compiled.match(path) or any(
                compiled.match("/".join(parents[: depth + 1])) for depth in range(len(parents))
            )
            if hit:
                matched = not pattern.negated
        return matched


def excludes_sensitive(ignore: DockerIgnore) -> list[str]:
    """Which of ``.env``, ``.env.*`` and ``.git`` a context would still send."""
    return [
        label
        for label, probes in SENSITIVE_PROBES.items()
        if not all(ignore.is_excluded(probe) for probe in probes)
    ]


def ignore_file_for(
    context_dir: str, dockerfile_path: str | None, exists: Callable[[str], bool]
) -> str | None:
    """The ignore file BuildKit applies to a build, as a repo-relative path.

    Both arguments are repository-relative; ``dockerfile_path`` None means
    the default ``<context>/Dockerfile``. BuildKit reads
    ``<Dockerfile name>.dockerignore`` from the Dockerfile's directory and
    falls back to ``.dockerignore`` at the context root.
    """
    context = _repo_path(context_dir)
    dockerfile = _repo_path(dockerfile_path) if dockerfile_path else _join(context, "Dockerfile")
    for candidate in (dockerfile + ".dockerignore", _join(context, ".dockerignore")):
        if exists(candidate):
            return candidate
    return None


def _repo_path(path: str) -> str:
    cleaned = go_clean(path.replace("\\", "/")).lstrip("/")
    return cleaned or "."


def _join(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"


def go_clean(path: str) -> str:
    """Go's filepath.Clean on a slash-separated path."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def _trim(text: str) -> str:
    return text.strip(_GO_SPACE)


def parse_dockerignore(text: str) -> DockerIgnore:
    """Parse ``.dockerignore`` text. Never raises.

    A line Docker rejects makes the whole build fail; here it is kept as a
    never-matching pattern and reported in ``problems``, so the remaining
    lines can still be judged.
    """
    result = DockerIgnore()
    for index, raw in enumerate(text.split("\n")):
        number = index + 1
        line = raw[:-1] if raw.endswith("\r") else raw
        if index == 0 and line.startswith("\ufeff"):
            line = line[1:]
        if line.startswith("#"):
            continue
        pattern = _trim(line)
        if not pattern:
            continue
        column = len(line) - len(line.lstrip(_GO_SPACE)) + 1
        # ReadAll: strip "!", clean, drop one leading "/", put "!" back.
        negated = pattern[0] == "!"
        if negated:
            pattern = _trim(pattern[1:])
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        # patternmatcher.New then cleans again and reads "!" itself.
        full = go_clean(_trim(("!" if negated else "") + pattern))
        negated = full[0] == "!"
        if negated:
            if len(full) == 1:
                result.patterns.append(IgnorePattern("", True, number, column, valid=False))
                result.problems.append(IgnoreProblem(
                    number, column, "empty-exception",
                    "a lone '!' is an illegal exclusion pattern; Docker refuses this file",
                ))
                continue
            full = full[1:]
        reason = _syntax_error(full)
        result.patterns.append(IgnorePattern(full, negated, number, column, valid=reason is None))
        if reason is not None:
            result.problems.append(IgnoreProblem(
                number, column, "bad-pattern",
                f"invalid pattern ({reason}); Docker refuses this file",
            ))
    return result


# --- pattern syntax (Go filepath.Match) -----------------------------------


def _class_item(pattern: str, pos: int) -> tuple[str, int] | None:
    """One class character at ``pos`` (Go getEsc); None if malformed."""
    if pos >= len(pattern) or pattern[pos] in "-]":
        return None
    if pattern[pos] == "\\":
        pos += 1
        if pos >= len(pattern):
            return None
    return pattern[pos], pos + 1


def _parse_class(
    pattern: str, pos: int
) -> tuple[bool, tuple[tuple[str, str], ...], int] | str:
    """Parse ``[...]`` whose ``[`` is just before ``pos``; str = error."""
    negated = pos < len(pattern) and pattern[pos] == "^"
    if negated:
        pos += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if pos >= len(pattern):
            return "unclosed '['"
        if pattern[pos] == "]" and ranges:
            return negated, tuple(ranges), pos + 1
        item = _class_item(pattern, pos)
        if item is None:
            return "malformed character class"
        low, pos = item
        high = low
        if pos < len(pattern) and pattern[pos] == "-":
            item = _class_item(pattern, pos + 1)
            if item is None:
                return "malformed character range"
            high, pos = item
        if low > high:
            # filepath.Match accepts it, but Go's regexp (what Docker really
            # runs) rejects a reversed range.
            return "reversed character range"
        ranges.append((low, high))


def _syntax_error(pattern: str) -> str | None:
    pos = 0
    while pos < len(pattern):
        ch = pattern[pos]
        if ch == "\\":
            if pos + 1 >= len(pattern):
                return "ends with a lone backslash"
            pos += 2
            continue
        if ch == "[":
            parsed = _parse_class(pattern, pos + 1)
            if isinstance(parsed, str):
                return parsed
            pos = parsed[2]
            continue
        pos += 1
    return None


# --- matching (patternmatcher compile/match) ------------------------------

_LIT, _ANY1, _STAR, _ANYALL, _OPTDIRS, _CLASS, _BOL = range(7)
_EXACT, _PREFIX, _SUFFIX, _WILD = range(4)


@dataclass(frozen=True)
class _Compiled:
    kind: int
    text: str
    tokens: tuple[tuple[int, object], ...]

    def match(self, path: str) -> bool:
        if self.kind == _EXACT:
            return path == self.text
        if self.kind == _PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == _SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return _wild_match(self.tokens, path)


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> _Compiled:
    """Classify like patternmatcher: "foo" exact, "foo/**" prefix, "**/x"
    suffix, anything else wildcard."""
    tokens: list[tuple[int, object]] = []
    kind = _EXACT
    pos = 0
    first = True
    while pos < len(pattern):
        ch = pattern[pos]
        pos += 1
        if ch == "*":
            if pos < len(pattern) and pattern[pos] == "*":
                pos += 1
                if pos < len(pattern) and pattern[pos] == "/":
                    pos += 1
                if pos >= len(pattern):
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        tokens.append((_ANYALL, None))
                        kind = _WILD
                else:
                    # "**/" spans zero or more directories.
                    tokens.append((_OPTDIRS, None))
                    kind = _WILD
                if first:
                    kind = _SUFFIX
            else:
                tokens.append((_STAR, None))
                kind = _WILD
        elif ch == "?":
            tokens.append((_ANY1, None))
            kind = _WILD
        elif ch == "\\" and pos < len(pattern):
            tokens.append((_LIT, pattern[pos]))
            pos += 1
            kind = _WILD
        elif ch == "[":
            parsed = _parse_class(pattern, pos)
            if isinstance(parsed, str):  # unreachable for validated patterns
                return _Compiled(_WILD, pattern, ((_CLASS, (False, ())),))
            tokens.append((_CLASS, parsed[:2]))
            pos = parsed[2]
            kind = _WILD
        elif ch == "]":
            tokens.append((_LIT, ch))
            kind = _WILD
        elif ch == "^":
            # Docker copies "^" into its regexp unescaped, where it anchors.
            tokens.append((_BOL, None))
        else:
            tokens.append((_LIT, ch))
        first = False
    return _Compiled(kind, pattern, tuple(tokens))


def _class_hit(spec: object, ch: str) -> bool:
    negated, ranges = spec  # type: ignore[misc]
    inside = any(low <= ch <= high for low, high in ranges)
    return inside != negated


def _wild_match(tokens: tuple[tuple[int, object], ...], path: str) -> bool:
    """Run the token list over ``path`` in O(len(tokens) * len(path))."""
    count = len(tokens)
    size = len(path)
    nxt = [False] * count + [True]
    nxt_in = [False] * (count + 1)
    for pos in range(size, -1, -1):
        cur = [False] * (count + 1)
        cur_in = [False] * (count + 1)
        cur[count] = pos == size
        ch = path[pos] if pos < size else None
        for i in range(count - 1, -1, -1):
            kind, arg = tokens[i]
            if kind == _LIT:
                cur[i] = ch == arg and nxt[i + 1]
            elif kind == _ANY1:
                cur[i] = ch is not None and ch != "/" and nxt[i + 1]
            elif kind == _STAR:
                cur[i] = cur[i + 1] or (ch is not None and ch != "/" and nxt[i])
            elif kind == _ANYALL:
                # Go's "." does not match a newline.
                cur[i] = cur[i + 1] or (ch is not None and ch != "\n" and nxt[i])
            elif kind == _OPTDIRS:
                # "(.*/)?": nothing, or anything that ends with a slash.
                inside = ch is not None and (
                    (ch == "/" and nxt[i + 1]) or (ch != "\n" and nxt_in[i])
                )
                cur_in[i] = inside
                cur[i] = cur[i + 1] or inside
            elif kind == _CLASS:
                cur[i] = ch is not None and _class_hit(arg, ch) and nxt[i + 1]
            else:  # _BOL
                cur[i] = pos == 0 and cur[i + 1]
        nxt, nxt_in = cur, cur_in
    return nxt[0]
