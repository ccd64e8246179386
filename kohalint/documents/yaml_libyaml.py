"""A fast path for yamldoc: libyaml's events, composed here.

PyYAML's C parser (libyaml) reads a compose file about twenty times faster
than ruamel.yaml's pure-Python scanner and parser, which were a quarter of a
large scan's CPU time and most of a pre-commit run's. Only its *events* are
used: PyYAML's own C composer recurses once per nesting level in C, so a
document of `- - - - ...` overflows the stack; composing here is iterative.

ruamel.yaml stays the reference. Scalars are resolved by the YAML 1.2 core
schema as ruamel.yaml resolves them (`on:` stays a key, `22:22` a string,
`0o17` and `1_000` numbers), and every case where the two could disagree
returns None so that the caller asks ruamel: a parse error (its messages are
the ones KL001 shows), a second document, a `%YAML` or `%TAG` directive, a
document end marker, the non-specific `!` tag, an unknown or reused anchor,
an empty key or flow value (positioned differently), a tab, line breaks
that YAML 1.1 and 1.2 count differently, nesting beyond the depth limit.
`tests/test_yaml_libyaml.py` checks that both paths build the same trees.
"""

from __future__ import annotations

import re
import time
from typing import Any, Optional

# YAML 1.2 core schema, with the extensions ruamel.yaml's 1.2 resolver
# accepts (underscores, 0b binary, 0o or leading-0 octal).
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?(?:0b[01_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                    r"|[0-9][0-9_]*[eE][-+]?[0-9]+"
                    r"|\.[0-9_]+(?:[eE][-+][0-9]+)?"
                    r"|\.(?:inf|Inf|INF))"
                    r"|\.(?:nan|NaN|NAN)")
_CORE = "tag:yaml.org,2002:"
STR, SEQ, MAP = _CORE + "str", _CORE + "seq", _CORE + "map"
# Directives, and document end markers (ruamel counts a second `...` as
# another document, libyaml does not).
_DIRECTIVE_OR_END = re.compile(r"(?m)^(?:%|\.\.\.)")
# YAML 1.1 breaks lines at these, 1.2 does not: line numbers would differ.
_AMBIGUOUS = ("\x85", "\u2028", "\u2029")


def _left_to_ruamel(text: str) -> bool:
    """Texts the two parsers were seen to read differently, whatever follows."""
    return (("%" in text or "..." in text) and _DIRECTIVE_OR_END.search(text) is not None
            # ruamel refuses some tabs that libyaml (and YAML) accept: `a: 0<TAB>`
            or "\t" in text
            or any(c in text for c in _AMBIGUOUS)
            or "\ufeff" in text[1:])  # a byte-order mark not at the start


def resolve_plain(value: str) -> str:
    """The tag of a plain (unquoted, untagged) scalar."""
    if _NULL.fullmatch(value):
        return _CORE + "null"
    if _BOOL.fullmatch(value):
        return _CORE + "bool"
    if _INT.fullmatch(value):
        return _CORE + "int"
    if _FLOAT.fullmatch(value):
        return _CORE + "float"
    if value == "<<":
        return _CORE + "merge"
    return STR


class Node:
    """What yamldoc's builder reads of a composed node (ruamel's names)."""

    __slots__ = ("id", "tag", "value", "style", "start_mark", "anchor", "flow")

    def __init__(self, kind: str, tag: str, value: Any, style: Optional[str], mark: Any,
                 anchor: Optional[str]) -> None:
        self.id = kind
        self.tag = tag
        self.value = value
        self.style = style
        self.start_mark = mark
        self.anchor = anchor
        self.flow = False


class TooSlow(Exception):
    """The deadline passed while composing."""


_EVENTS: list[Any] = []


def available() -> bool:
    """Whether PyYAML was built with libyaml here."""
    if not _EVENTS:
        try:
            import yaml
            from yaml import events as ev
            from yaml._yaml import CParser
        except ImportError:
            _EVENTS.append(None)
        else:
            _EVENTS.append((CParser, yaml.YAMLError, ev.ScalarEvent, ev.AliasEvent,
                            ev.SequenceStartEvent, ev.MappingStartEvent, ev.SequenceEndEvent,
                            ev.MappingEndEvent, ev.DocumentStartEvent, ev.StreamEndEvent,
                            ev.DocumentEndEvent))
    return _EVENTS[0] is not None


def compose(text: str, max_depth: int, deadline: Optional[float]) -> tuple[bool, Optional[Node]]:
    """(True, root node or None for an empty stream), or (False, None) when
    ruamel must decide. Raises TooSlow past `deadline`."""
    if not available() or _left_to_ruamel(text):
        return False, None
    (CParser, YAMLError, Scalar, Alias, SeqStart, MapStart, SeqEnd, MapEnd,
     DocStart, StreamEnd, DocEnd) = _EVENTS[0]
    ends = (SeqEnd, MapEnd, StreamEnd, DocEnd)
    anchors: dict[str, Node] = {}
    # open collections: [node, key read and waiting for its value (mappings)]
    stack: list[list[Any]] = []
    root: Optional[Node] = None
    documents = 0
    count = 0
    pending: Optional[Node] = None  # an empty value waiting for its position
    try:
        parser = CParser(text)
        while True:
            event = parser.get_event()
            kind = type(event)
            if pending is not None:
                # ruamel places an empty mapping value where the next token
                # starts (at the end of the text when no newline ends it)
                if kind in ends and not text.endswith("\n"):
                    return False, None
                pending.start_mark = event.start_mark
                pending = None
            count += 1
            if deadline is not None and not count & 1023 and time.monotonic() > deadline:
                raise TooSlow
            if kind is DocStart:
                documents += 1
                if documents > 1:
                    return False, None  # ruamel: "expected a single document"
                continue
            if kind is StreamEnd:
                return True, root
            node: Optional[Node] = None
            if kind is Scalar:
                tag = event.tag
                if tag == "!":
                    return False, None
                if tag is None:
                    tag = resolve_plain(event.value) if event.implicit[0] else STR
                node = Node("scalar", tag, event.value, event.style or None, event.start_mark,
                            event.anchor)
                if event.value == "" and event.implicit[0] and event.tag is None and event.anchor is None:
                    top = stack[-1] if stack else None
                    if top is None or top[0].flow or top[0].id == "mapping" and top[1] is None:
                        return False, None  # an empty key, document or flow value: rare, ruamel decides
                    if top[0].id == "mapping":
                        pending = node
            elif kind is Alias:
                node = anchors.get(event.anchor)
                if node is None:
                    return False, None
            elif kind is SeqStart or kind is MapStart:
                tag = event.tag
                if tag == "!":
                    return False, None
                is_map = kind is MapStart
                node = Node("mapping" if is_map else "sequence", tag or (MAP if is_map else SEQ),
                            [], None, event.start_mark, event.anchor)
                node.flow = bool(event.flow_style)
                if len(stack) >= max_depth + 1:
                    return False, None  # ruamel reports the depth (or recursion) itself
            elif kind is SeqEnd or kind is MapEnd:
                node = stack.pop()[0]
                _attach(stack, node)
                if not stack:
                    root = node
                continue
            else:  # stream start, document end
                continue
            if node.anchor is not None and kind is not Alias:
                if node.anchor in anchors:
                    return False, None  # reused anchor: ruamel decides
                anchors[node.anchor] = node
            if node.id == "scalar" or kind is Alias:
                _attach(stack, node)
                if not stack:
                    root = node
            else:
                stack.append([node, None])
    except (YAMLError, UnicodeError):  # UnicodeError: lone surrogates, which libyaml cannot take
        return False, None


def _attach(stack: list[list[Any]], node: Node) -> None:
    if not stack:
        return
    top = stack[-1]
    parent = top[0]
    if parent.id == "sequence":
        parent.value.append(node)
    elif top[1] is None:
        top[1] = node
    else:
        parent.value.append((top[1], node))
        top[1] = None
