"""Text edits to YAML files, placed with ruamel.yaml's round-trip composer.

`kohalint fix` must keep every comment, quote, key order and indentation. We
do not re-emit documents: ruamel's round-trip dumper (even with
`preserve_quotes`) re-flows long lines and normalises spacing in lines nobody
touched. Instead ruamel (`YAML(typ="rt")`, YAML 1.2) composes the node graph,
whose marks say exactly where each key and value sits; an edit splices a few
lines of text there, in the file's own indentation and line endings, and the
result is composed again to prove it still parses. Everything outside the
splice stays byte for byte.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Optional, Union

MERGE_TAG = "tag:yaml.org,2002:merge"
# Line breaks YAML counts that str.splitlines() and our line table would not agree on.
_ODD_BREAKS = ("\x85", "\u2028", "\u2029")

class Verbatim:
    """A value given as lines copied from the file, already indented (comments kept)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines


Value = Union[str, list, dict, Verbatim]  # str: an already formatted YAML scalar


class Unfixable(Exception):
    """This finding cannot be fixed safely; the message says why (no file content)."""


def compose(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        return yaml.compose(io.StringIO(text))
    except (YAMLError, RecursionError, ValueError, TypeError):
        raise Unfixable("the file does not parse as YAML") from None


def _is(node: Any, kind: str) -> bool:
    return type(node).__name__ == kind


def is_map(node: Any) -> bool:
    return _is(node, "MappingNode")


def is_seq(node: Any) -> bool:
    return _is(node, "SequenceNode")


def is_scalar(node: Any) -> bool:
    return _is(node, "ScalarNode")


def tag_of(node: Any) -> str:
    tag = node.tag
    return str(getattr(tag, "value", tag) or "")


def scalar_text(node: Any) -> Optional[str]:
    return node.value if is_scalar(node) else None


@dataclass
class Found:
    owner: Any   # the mapping that holds the key (the node itself or a merged anchor)
    key: Any
    value: Any


class YamlText:
    """One YAML file's text and its composed node graph."""

    def __init__(self, text: str) -> None:
        if any(b in text for b in _ODD_BREAKS) or "\r" in text.replace("\r\n", ""):
            raise Unfixable("unusual line breaks")
        self.text = text
        self.nl = "\r\n" if "\r\n" in text else "\n"
        self.root = compose(text)
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self.step, self.dash = _detect_indent(self.root)

    # -- looking things up ------------------------------------------------------------
    @staticmethod
    def pairs(node: Any) -> list[tuple[Any, Any]]:
        return [(k, v) for k, v in node.value if tag_of(k) != MERGE_TAG] if is_map(node) else []

    @staticmethod
    def get(node: Any, key: str) -> Optional[tuple[Any, Any]]:
        for k, v in YamlText.pairs(node):
            if is_scalar(k) and k.value == key:
                return k, v
        return None

    @staticmethod
    def merge_sources(node: Any) -> list[Any]:
        out = []
        if not is_map(node):
            return out
        for k, v in node.value:
            if tag_of(k) == MERGE_TAG:
                out.extend([v] if is_map(v) else [i for i in v.value if is_map(i)] if is_seq(v) else [])
        return out

    def lookup(self, node: Any, key: str, depth: int = 0) -> Optional[Found]:
        """Where `key` of mapping `node` comes from: its own entry, else its merge keys
        (earlier sources win, as YAML says)."""
        own = self.get(node, key)
        if own is not None:
            return Found(node, own[0], own[1])
        if depth > 10:
            return None
        for src in self.merge_sources(node):
            found = self.lookup(src, key, depth + 1)
            if found is not None:
                return found
        return None

    # -- geometry ------------------------------------------------------------------
    def line_text(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def content_end(self, node: Any) -> int:
        """The last line (0-based) holding text of `node` itself (not of an alias target)."""
        last = node.start_mark.line
        stack = [node]
        seen: set[int] = set()
        while stack:
            n = stack.pop()
            if id(n) in seen or n.start_mark.index < node.start_mark.index:
                continue  # an alias: its text lives at the anchor
            seen.add(id(n))
            if is_scalar(n):
                end = n.end_mark.line if n.end_mark.column > 0 else n.end_mark.line - 1
                while n.style in ("|", ">") and end > n.start_mark.line and not self.line_text(end).strip():
                    end -= 1  # kept blank lines of a block scalar belong to what follows
                last = max(last, end)
            elif is_map(n):
                if n.flow_style:
                    last = max(last, n.end_mark.line)
                for k, v in n.value:
                    stack.extend((k, v))
            elif is_seq(n):
                if n.flow_style:
                    last = max(last, n.end_mark.line)
                stack.extend(n.value)
        return last

    def child_column(self, mapping: Any) -> int:
        # Not the mapping's own mark: for `x-a: &anchor` that points at the anchor token.
        keys = [k for k, _ in mapping.value if k.start_mark.index >= mapping.start_mark.index]
        return keys[0].start_mark.column if keys else mapping.start_mark.column

    # -- edits (each returns the new text) -----------------------------------------
    def insert_lines(self, line: int, lines: list[str]) -> str:
        """Insert whole lines before 0-based `line` (len(starts) appends)."""
        text = self.text
        block = "".join(part + self.nl for part in lines)
        if line >= len(self.starts) or (line == len(self.starts) - 1 and self.starts[line] == len(text)):
            if text and not text.endswith("\n"):
                text += self.nl
            return text + block
        pos = self.starts[line]
        return text[:pos] + block + text[pos:]

    def splice(self, start: int, end: int, new: str) -> str:
        return self.text[:start] + new + self.text[end:]

    def render(self, key: str, value: Value, col: int) -> list[str]:
        pad = " " * col
        if isinstance(value, Verbatim):
            return [f"{pad}{key}:"] + value.lines
        if isinstance(value, str):
            return [f"{pad}{key}: {value}"]
        if isinstance(value, list):
            dash = " " * (col + self.dash)
            return [f"{pad}{key}:"] + [f"{dash}- {item}" for item in value]
        out = [f"{pad}{key}:"]
        for k, v in value.items():
            out.extend(self.render(k, v, col + self.step))
        return out

    def add_key(self, mapping: Any, key: str, value: Value, *, before: Optional[Any] = None) -> str:
        """Add `key: value` to a mapping: at its end, or before the key node `before`."""
        if not is_map(mapping):
            raise Unfixable("the place to edit is not a mapping")
        if mapping.flow_style:
            if not isinstance(value, str):
                raise Unfixable("a nested value inside a flow mapping `{...}`")
            return self._flow_insert(mapping, f"{key}: {value}")
        if not mapping.value:
            raise Unfixable("an empty mapping")
        col = self.child_column(mapping)
        lines = self.render(key, value, col)
        if before is not None:
            at = before.start_mark.line
            while at > 0 and self.line_text(at - 1).lstrip().startswith("#") \
                    and _indent(self.line_text(at - 1)) == col:
                at -= 1  # a comment block right above a key belongs to that key
            if at > 0 and not self.line_text(at - 1).strip():
                lines = lines + [""]  # keep the file's blank line between top-level blocks
            return self.insert_lines(at, lines)
        return self.insert_lines(self.content_end(mapping) + 1, lines)

    def append_item(self, seq: Any, item: str) -> str:
        """Append a scalar item to a block or flow sequence, quoted like its last item."""
        if not is_seq(seq):
            raise Unfixable("the place to edit is not a list")
        item = _quote_like(seq.value[-1] if seq.value else None, item)
        if seq.flow_style:
            return self._flow_insert(seq, item)
        if not seq.value:
            raise Unfixable("an empty block list")
        last = seq.value[-1]
        line = self.content_end(last) if last.start_mark.index >= seq.start_mark.index else last.start_mark.line
        return self.insert_lines(line + 1, [" " * self._dash_column(seq) + "- " + item])

    def _dash_column(self, seq: Any) -> int:
        # The seq's own mark can be an anchor token (`key: &a`); the dash before an item is not.
        for node in seq.value:
            if node.start_mark.index >= seq.start_mark.index:
                dash = self.line_text(node.start_mark.line).rfind("-", 0, node.start_mark.column)
                if dash >= 0:
                    return dash
        return seq.start_mark.column

    def _flow_insert(self, node: Any, item: str) -> str:
        close = node.end_mark.index - 1
        if close < 0 or self.text[close] not in "]}":
            raise Unfixable("unexpected flow collection")
        if node.value:
            last = node.value[-1]
            last = last[1] if isinstance(last, tuple) else last
            if last.start_mark.index < node.start_mark.index:  # an alias as last item
                raise Unfixable("a flow collection ending in an alias")
            return self.splice(last.end_mark.index, last.end_mark.index, ", " + item)
        return self.splice(close, close, item)

    def replace_scalar(self, node: Any, plain: str) -> str:
        """Replace a one-line scalar value, keeping its quote style."""
        if not is_scalar(node) or node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
            raise Unfixable("the value to replace is not a one-line scalar")
        new = _quote_like(node, plain)
        return self.splice(node.start_mark.index, node.end_mark.index, new)


def _quote_like(model: Optional[Any], plain: str) -> str:
    style = getattr(model, "style", None) if model is not None and is_scalar(model) else None
    if style == '"':
        return '"' + plain.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "'":
        return "'" + plain.replace("'", "''") + "'"
    return plain


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _detect_indent(root: Any) -> tuple[int, int]:
    """(mapping step, dash offset of block lists under a key) as the file uses them."""
    step = dash = None
    stack = [root] if is_map(root) else []
    seen: set[int] = set()
    while stack and (step is None or dash is None):
        n = stack.pop(0)
        if id(n) in seen or n.flow_style:
            continue
        seen.add(id(n))
        for k, v in n.value:
            if tag_of(k) == MERGE_TAG:
                continue
            first = v.value[0] if (is_map(v) or is_seq(v)) and v.value else None
            first = first[0] if isinstance(first, tuple) else first
            if first is None or v.flow_style or first.start_mark.line <= k.start_mark.line \
                    or first.start_mark.index < v.start_mark.index:
                continue
            if is_map(v):
                if step is None and first.start_mark.column > k.start_mark.column:
                    step = first.start_mark.column - k.start_mark.column
                stack.append(v)
            elif is_seq(v):
                if dash is None and first.start_mark.column >= k.start_mark.column + 2:
                    dash = first.start_mark.column - 2 - k.start_mark.column
                stack.extend(i for i in v.value if is_map(i))
    step = step if step and step > 0 else 2
    return step, dash if dash is not None and dash >= 0 else step
