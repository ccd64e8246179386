"""YAML documents that remember where every value came from.

We compose with ruamel.yaml (YAML 1.2, so `22:22` stays a string and `on:` a
key) and build our own small node tree instead of ruamel's round-trip objects:
merge keys, anchors and compose's `!reset`/`!override` tags are resolved here,
each node keeps (path, line, column), and building stops at a node budget so an
alias bomb costs bounded time and memory.
"""

from __future__ import annotations

import io
import time
from typing import Any, Iterator, Optional, Union

from kohalint.documents import yaml_libyaml
from kohalint.errors import ParseError

MAX_NODES = 200_000  # after alias expansion; a real compose file has a few thousand
MAX_DEPTH = 200
PARSE_TIMEOUT = 30.0  # seconds per document (kohalint.limits); 0 or None: no limit

_INT_PREFIXES = {"0o": 8, "0x": 16}


class YNode:
    __slots__ = ("path", "line", "column", "tag")

    def __init__(self, path: str, line: int, column: int, tag: Optional[str] = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.tag = tag  # explicit local tag such as "!reset", else None

    def plain(self) -> Any:
        raise NotImplementedError


class YScalar(YNode):
    __slots__ = ("value", "quoted", "raw", "unknown")

    def __init__(self, value: Any, path: str, line: int, column: int,
                 tag: Optional[str] = None, quoted: bool = False) -> None:
        super().__init__(path, line, column, tag)
        self.value = value
        self.quoted = quoted
        self.raw: Optional[str] = None  # the text before interpolation, when it changed
        self.unknown = False  # holds a variable only known at deploy time

    def plain(self) -> Any:
        return self.value

    def text(self) -> str:
        """The value as compose would see it in a string position."""
        v = self.value
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    def __repr__(self) -> str:
        return f"YScalar({self.value!r} @{self.path}:{self.line})"


class YSeq(YNode):
    __slots__ = ("items",)

    def __init__(self, items: list, path: str, line: int, column: int, tag: Optional[str] = None) -> None:
        super().__init__(path, line, column, tag)
        self.items: list[YNode] = items

    def plain(self) -> list:
        return [i.plain() for i in self.items]

    def __iter__(self) -> Iterator[YNode]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class YMap(YNode):
    """A mapping; `keys` keeps the key node (its line) next to each value."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict, path: str, line: int, column: int, tag: Optional[str] = None) -> None:
        super().__init__(path, line, column, tag)
        self.entries: dict[str, tuple[YScalar, YNode]] = entries

    def get(self, key: str) -> Optional[YNode]:
        e = self.entries.get(key)
        return e[1] if e else None

    def key_node(self, key: str) -> Optional[YScalar]:
        e = self.entries.get(key)
        return e[0] if e else None

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def keys(self) -> list[str]:
        return list(self.entries)

    def items(self) -> Iterator[tuple[str, YNode]]:
        for k, (_, v) in self.entries.items():
            yield k, v

    def plain(self) -> dict:
        return {k: v.plain() for k, (_, v) in self.entries.items()}

    def get_text(self, key: str) -> Optional[str]:
        v = self.get(key)
        return v.text() if isinstance(v, YScalar) else None


YValue = Union[YMap, YSeq, YScalar]


def set_limits(*, max_nodes: Optional[int] = None, max_depth: Optional[int] = None,
               parse_timeout: Optional[float] = None) -> None:
    """Module-level limits (`limits` in the settings; kohalint.limits.apply_limits)."""
    global MAX_NODES, MAX_DEPTH, PARSE_TIMEOUT
    if max_nodes is not None:
        MAX_NODES = max_nodes
    if max_depth is not None:
        MAX_DEPTH = max_depth
    if parse_timeout is not None:
        PARSE_TIMEOUT = parse_timeout


def load_yaml(text: str, path: str, *, max_nodes: Optional[int] = None) -> Optional[YNode]:
    """Parse the first document of `text`; None for an empty document.

    Raises only ParseError: for invalid YAML, and for a document over the
    node budget (after alias expansion), nested deeper than MAX_DEPTH, or
    slower to read than PARSE_TIMEOUT seconds.
    """
    deep = _flow_too_deep(text, MAX_DEPTH)
    if deep is not None:
        # ruamel's scanner costs O(depth) per token in flow collections:
        # refuse such a document before it gets there
        raise ParseError("document nested too deeply", *deep)
    budget = MAX_NODES if max_nodes is None else max_nodes
    # The time limit is checked as nodes are composed and built, in this
    # thread: no per-document thread (thousands on a large repository), and
    # once the flow-nesting case above is refused, ruamel's time between two
    # nodes grows only with the length of one token.
    deadline = time.monotonic() + PARSE_TIMEOUT if PARSE_TIMEOUT and PARSE_TIMEOUT > 0 else None
    try:
        done, node = yaml_libyaml.compose(text, MAX_DEPTH, deadline)
        if not done:
            node = _compose(text, deadline)
        return _build(node, path, budget, deadline) if node is not None else None
    except (_TooSlow, yaml_libyaml.TooSlow):
        raise ParseError(f"reading took longer than {PARSE_TIMEOUT:g} s (limits.parse-timeout)") from None


class _TooSlow(Exception):
    """The document's parse deadline passed."""


_TIMED_COMPOSER: list[Any] = []


def _timed_composer() -> Any:
    """ruamel's Composer, checking the deadline its YAML object carries at each node."""
    if not _TIMED_COMPOSER:
        from ruamel.yaml.composer import Composer

        class TimedComposer(Composer):
            def compose_node(self, parent: Any, index: Any) -> Any:
                deadline = self.loader.kohalint_deadline
                if deadline is not None and time.monotonic() > deadline:
                    raise _TooSlow
                return super().compose_node(parent, index)

        _TIMED_COMPOSER.append(TimedComposer)
    return _TIMED_COMPOSER[0]


def _compose(text: str, deadline: Optional[float] = None) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    # The safe (pure-Python) composer: the same node graph as the round-trip
    # one (tags, styles, anchors, marks; YAML 1.2), without collecting
    # comments, which nothing here reads. About a third faster.
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _timed_composer()
    yaml.kohalint_deadline = deadline
    try:
        return yaml.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        raise ParseError(f"invalid YAML: {_problem(exc)}", line, col) from None
    except RecursionError:
        raise ParseError("document nested too deeply") from None
    except (YAMLError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        # ruamel reports some malformed input with assorted internal errors
        raise ParseError(f"invalid YAML: {type(exc).__name__}") from None


def _build(node: Any, path: str, max_nodes: int, deadline: Optional[float] = None) -> YNode:
    try:
        return _Builder(path, max_nodes, deadline).build(node, 0)
    except RecursionError:
        raise ParseError("document nested too deeply") from None


def _flow_too_deep(text: str, limit: int) -> Optional[tuple[int, int]]:
    """(line, column) where flow collections (`[`, `{`) nest deeper than
    `limit`, or None. A cheap approximation of YAML's tokens that errs on
    the side of under-counting (plain and block scalars, quoted scalars and
    comments are skipped; a bracket after an anchor or tag is missed), so it
    never refuses a document ruamel would accept within the limit."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    block_indent = -1  # inside a block scalar whose header line had this indentation
    quote = ""
    for lineno, line in enumerate(text.split("\n"), start=1):
        n = len(line)
        indent = n - len(line.lstrip(" "))
        if block_indent >= 0:
            if indent > block_indent or not line.strip():
                continue
            block_indent = -1
        prev, i = " ", 0
        while i < n:
            ch = line[i]
            if quote:
                if ch == "\\" and quote == '"':
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
                prev, i = ch, i + 1
                continue
            at_token = prev in " \t"
            if ch == "#" and at_token:
                break
            if depth:  # flow context: plain scalars cannot hold brackets here
                if ch in "'\"" and (at_token or prev in "[{,:"):
                    quote = ch
                elif ch in "[{":
                    depth += 1
                    if depth > limit:
                        return lineno, i + 1
                elif ch in "]}":
                    depth -= 1
            elif ch in " \t":
                pass
            elif ch in "-?:" and (i + 1 == n or line[i + 1] in " \t"):
                pass  # block indicators
            elif not at_token:
                pass
            elif ch in "[{":
                depth = 1
            elif ch in "'\"":
                quote = ch
            elif ch in "|>":
                if _ends_header(line[i + 1:]):
                    block_indent = indent
                break
            else:  # a plain scalar (or anchor, tag, alias): skip to its `: `
                j = line.find(": ", i)
                k = line.find(" #", i)
                if j < 0 or 0 <= k < j:
                    break
                prev, i = ":", j + 1
                continue
            prev, i = ch, i + 1
    return None


def _ends_header(rest: str) -> bool:
    """`rest` follows `|` or `>`: indentation/chomping indicators, then a comment or nothing."""
    body = rest.split(" #", 1)[0].strip()
    return all(c in "+-123456789" for c in body)


def _problem(exc: Exception) -> str:
    # ruamel's `problem` names the construct ("mapping values are not allowed
    # here"); its `context` may quote the document, so only `problem` is kept.
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return str(problem).splitlines()[0][:120]


def _tag_of(node: Any) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag) or "")


class _Builder:
    def __init__(self, path: str, max_nodes: int, deadline: Optional[float] = None) -> None:
        self.path = path
        self.budget = max_nodes
        self.deadline = deadline
        self.max_depth = MAX_DEPTH
        self.cache: dict[int, YNode] = {}  # anchored nodes are built once and shared
        self.sizes: dict[int, int] = {}  # id(built node) -> expanded size, for aliases

    def build(self, node: Any, depth: int) -> YNode:
        self.budget -= 1
        if self.deadline is not None and not self.budget & 1023 and time.monotonic() > self.deadline:
            raise _TooSlow
        if self.budget < 0:
            raise ParseError("document too large after alias expansion (node limit reached)",
                             node.start_mark.line + 1, node.start_mark.column + 1)
        if depth > self.max_depth:
            raise ParseError("document nested too deeply", node.start_mark.line + 1,
                             node.start_mark.column + 1)
        key = id(node)
        if key in self.cache:
            # An alias: shared subtree. Charge its size against the budget so a
            # billion-laughs document stops here instead of in a later walk.
            cached = self.cache[key]
            self.budget -= _size(cached, self.sizes)
            if self.budget < 0:
                raise ParseError("document too large after alias expansion (node limit reached)",
                                 node.start_mark.line + 1, node.start_mark.column + 1)
            return cached
        built = self._build(node, depth)
        if getattr(node, "anchor", None):
            self.cache[key] = built
        return built

    def _build(self, node: Any, depth: int) -> YNode:
        # `id` names the kind in ruamel's nodes and in yaml_libyaml's alike
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        tag = _tag_of(node)
        local_tag = tag if tag.startswith("!") and not tag.startswith("!!") else None
        if node.id == "mapping":
            return self._mapping(node, depth, line, col, local_tag)
        if node.id == "sequence":
            items = [self.build(n, depth + 1) for n in node.value]
            return YSeq(items, self.path, line, col, local_tag)
        return YScalar(_scalar_value(tag, node), self.path, line, col, local_tag,
                       quoted=node.style in ("'", '"'))

    def _mapping(self, node: Any, depth: int, line: int, col: int, tag: Optional[str]) -> YMap:
        entries: dict[str, tuple[YScalar, YNode]] = {}
        merged: dict[str, tuple[YScalar, YNode]] = {}
        for knode, vnode in node.value:
            if _tag_of(knode) == "tag:yaml.org,2002:merge":
                for src in self._merge_sources(vnode, depth):
                    for k, e in src.entries.items():
                        merged.setdefault(k, e)  # earlier sources win, as YAML says
                continue
            key = self.build(knode, depth + 1)
            if not isinstance(key, YScalar):
                raise ParseError("mapping keys must be plain values", key.line, key.column)
            name = key.text()
            if name in entries:
                # the key is not quoted: a secret pasted as a key must not reach output
                raise ParseError("duplicate key", key.line, key.column)
            entries[name] = (key, self.build(vnode, depth + 1))
        for k, e in merged.items():
            entries.setdefault(k, e)  # explicit keys override merged ones
        return YMap(entries, self.path, line, col, tag)

    def _merge_sources(self, vnode: Any, depth: int) -> list[YMap]:
        built = self.build(vnode, depth + 1)
        sources = built.items if isinstance(built, YSeq) else [built]
        if not all(isinstance(s, YMap) for s in sources):
            raise ParseError("merge key '<<' needs a mapping or a list of mappings",
                             built.line, built.column)
        return sources  # type: ignore[return-value]


def _size(node: YNode, memo: dict[int, int]) -> int:
    """Nodes below `node` with shared subtrees counted each time (what a walk
    visits); memoized so measuring an alias chain is linear, not the bomb."""
    if isinstance(node, YScalar):
        return 1
    key = id(node)
    if key not in memo:
        children = [v for _, v in node.items()] if isinstance(node, YMap) else node.items
        memo[key] = 1 + sum(_size(v, memo) for v in children)
    return memo[key]


def _scalar_value(tag: str, node: Any) -> Any:
    raw = node.value
    if node.style in ("'", '"', "|", ">"):
        return raw
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return raw.lower() == "true"
    if tag == "tag:yaml.org,2002:int":
        try:
            text = raw.replace("_", "")
            base = _INT_PREFIXES.get(text[:2].lower(), 10)
            return int(text[2:] if base != 10 else text, base)
        except ValueError:
            return raw
    if tag == "tag:yaml.org,2002:float":
        try:
            return float(raw.replace("_", ""))
        except ValueError:
            return raw
    return raw


def walk(node: Optional[YNode]) -> Iterator[YNode]:
    """Every node below `node`, depth first (shared anchors visited each time)."""
    if node is None:
        return
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, YMap):
            stack.extend(v for _, v in reversed(list(n.items())))
        elif isinstance(n, YSeq):
            stack.extend(reversed(n.items))
