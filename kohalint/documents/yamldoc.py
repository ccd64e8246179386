"""YAML documents that remember where every value came from.

We compose with ruamel.yaml (YAML 1.2, so `22:22` stays a string and `on:` a
key) and build our own small node tree instead of ruamel's round-trip objects:
merge keys, anchors and compose's `!reset`/`!override` tags are resolved here,
each node keeps (path, line, column), and building stops at a node budget so an
alias bomb costs bounded time and memory.
"""

from __future__ import annotations

import io
from typing import Any, Iterator, Optional, Union

from kohalint.errors import ParseError

MAX_NODES = 200_000  # after alias expansion; a real compose file has a few thousand
MAX_DEPTH = 200

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


def load_yaml(text: str, path: str, *, max_nodes: int = MAX_NODES) -> Optional[YNode]:
    """Parse the first document of `text`; None for an empty document."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        node = yaml.compose(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        raise ParseError(f"invalid YAML: {_problem(exc)}", line, col) from None
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise ParseError(f"invalid YAML: {type(exc).__name__}") from None
    if node is None:
        return None
    return _Builder(path, max_nodes).build(node, 0)


def _problem(exc: Exception) -> str:
    # ruamel's `problem` names the construct ("mapping values are not allowed
    # here"); its `context` may quote the document, so only `problem` is kept.
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return str(problem).splitlines()[0][:120]


def _tag_of(node: Any) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag) or "")


class _Builder:
    def __init__(self, path: str, max_nodes: int) -> None:
        self.path = path
        self.budget = max_nodes
        self.cache: dict[int, YNode] = {}  # anchored nodes are built once and shared

    def build(self, node: Any, depth: int) -> YNode:
        self.budget -= 1
        if self.budget < 0:
            raise ParseError("document too large after alias expansion (node limit reached)",
                             node.start_mark.line + 1, node.start_mark.column + 1)
        if depth > MAX_DEPTH:
            raise ParseError("document nested too deeply", node.start_mark.line + 1,
                             node.start_mark.column + 1)
        key = id(node)
        if key in self.cache:
            # An alias: shared subtree. Charge its size against the budget so a
            # billion-laughs document stops here instead of in a later walk.
            cached = self.cache[key]
            self.budget -= _size(cached)
            if self.budget < 0:
                raise ParseError("document too large after alias expansion (node limit reached)",
                                 node.start_mark.line + 1, node.start_mark.column + 1)
            return cached
        built = self._build(node, depth)
        if getattr(node, "anchor", None):
            self.cache[key] = built
        return built

    def _build(self, node: Any, depth: int) -> YNode:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        tag = _tag_of(node)
        local_tag = tag if tag.startswith("!") and not tag.startswith("!!") else None
        if isinstance(node, MappingNode):
            return self._mapping(node, depth, line, col, local_tag)
        if isinstance(node, SequenceNode):
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
                raise ParseError(f"duplicate key '{_safe_key(name)}'", key.line, key.column)
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


def _safe_key(name: str) -> str:
    return name[:60]


def _size(node: YNode) -> int:
    if isinstance(node, YMap):
        return 1 + sum(_size(v) for _, v in node.items())
    if isinstance(node, YSeq):
        return 1 + sum(_size(v) for v in node.items)
    return 1


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
