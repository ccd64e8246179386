"""Compose's merge rules for `-f base -f override`, over position-keeping nodes.

Mappings merge key by key, scalars take the later value, and sequences follow
compose-go's per-key rules (append then de-duplicate by a key, or replace).
Every node keeps the file and line that set it, so findings point there.
"""

from __future__ import annotations

from typing import Callable, Optional

from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq

# Sequences replaced by a later file rather than appended.
REPLACED = {"command", "entrypoint", "dns_search"}
# Sequences appended then de-duplicated by value.
BY_VALUE = {"expose", "cap_add", "cap_drop", "dns", "tmpfs", "profiles", "external_links",
            "group_add", "devices", "env_file"}
# Sequences appended without de-duplication.
APPENDED = {"security_opt"}
# Sequence items de-duplicated by the mount target.
BY_TARGET = {"volumes", "secrets", "configs"}
# Mappings normalised from list form (KEY=VALUE) and merged by key.
KEYED = {"environment", "labels", "sysctls", "extra_hosts", "annotations"}


def merge_service(base: YMap, over: YMap) -> YMap:
    entries = dict(base.entries)
    for key, (knode, value) in over.entries.items():
        if value.tag == "!reset":
            entries.pop(key, None)
            continue
        old = entries.get(key)
        if old is None or value.tag == "!override":
            entries[key] = (knode, value)
            continue
        entries[key] = (old[0], _merge_field(key, old[1], value))
    return YMap(entries, base.path, base.line, base.column)


def _merge_field(key: str, old: YNode, new: YNode) -> YNode:
    if key == "logging" and isinstance(old, YMap) and isinstance(new, YMap):
        od, nd = old.get_text("driver"), new.get_text("driver")
        if nd is not None and od is not None and od != nd:
            return new  # a different driver replaces the whole block
        return merge_mapping(old, new)
    if key == "healthcheck" and isinstance(old, YMap) and isinstance(new, YMap):
        return merge_mapping(old, new)  # `test` is a sequence but replaced, see below
    if isinstance(old, YMap) and isinstance(new, YMap):
        return merge_mapping(old, new)
    if isinstance(old, YSeq) and isinstance(new, YSeq):
        if key in REPLACED or key == "test":
            return new
        if key == "ports":
            return _append_unique(old, new, port_identity)
        if key in BY_TARGET:
            return _append_unique(old, new, mount_target)
        if key in BY_VALUE:
            return _append_unique(old, new, lambda n: _text(n))
        return YSeq(old.items + new.items, old.path, old.line, old.column)
    return new


def merge_mapping(old: YMap, new: YMap) -> YMap:
    entries = dict(old.entries)
    for key, (knode, value) in new.entries.items():
        if value.tag == "!reset":
            entries.pop(key, None)
            continue
        prev = entries.get(key)
        if prev is None or value.tag == "!override":
            entries[key] = (knode, value)
        else:
            entries[key] = (prev[0], _merge_field(key, prev[1], value))
    return YMap(entries, old.path, old.line, old.column)


def _append_unique(old: YSeq, new: YSeq, ident: Callable[[YNode], Optional[str]]) -> YSeq:
    items: list[YNode] = []
    index: dict[str, int] = {}
    for item in old.items + new.items:
        k = ident(item)
        if k is not None and k in index:
            items[index[k]] = item  # the later file's entry wins
            continue
        if k is not None:
            index[k] = len(items)
        items.append(item)
    return YSeq(items, old.path, old.line, old.column)


def _text(node: YNode) -> Optional[str]:
    return node.text() if isinstance(node, YScalar) else None


def port_identity(node: YNode) -> Optional[str]:
    from kohalint.documents.ports import parse_port

    bindings = parse_port(node)
    if not bindings:
        return None
    b = bindings[0]
    return f"{b.host_ip}|{b.target}|{b.published}|{b.protocol}"


def mount_target(node: YNode) -> Optional[str]:
    if isinstance(node, YMap):
        return node.get_text("target")
    if isinstance(node, YScalar):
        parts = node.text().split(":")
        if len(parts) >= 2:
            return parts[1]
        return parts[0]
    return None


def normalise_keyed(node: YNode) -> YNode:
    """`- KEY=VALUE` list form as a mapping KEY -> value node at the item's line."""
    if not isinstance(node, YSeq):
        return node
    entries: dict[str, tuple[YScalar, YNode]] = {}
    for item in node.items:
        if not isinstance(item, YScalar):
            continue
        text = item.text()
        key, sep, value = text.partition("=")
        key = key.strip()
        knode = YScalar(key, item.path, item.line, item.column)
        vnode = YScalar(value if sep else None, item.path, item.line, item.column,
                        quoted=item.quoted)
        vnode.unknown = item.unknown
        if item.raw is not None:  # keep the text as written (KL105 judges literals)
            vnode.raw = item.raw.partition("=")[2] if sep else None
        entries[key] = (knode, vnode)
    return YMap(entries, node.path, node.line, node.column, node.tag)
