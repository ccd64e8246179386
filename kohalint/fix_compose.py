"""Safe fixes for compose services: KL402, KL403, KL405, KL406.

Each fixer makes at most one edit per call and returns the new text, or None
when the service already complies; the caller calls again until None, so a
fix is idempotent by construction.

Where the edit goes: the file and service the finding names. When the value
comes from a merge key (`<<: *hardening`) the anchor is edited, but only if
every service merging that anchor wants the same fix (a service that
suppressed the finding keeps what it has); otherwise the service gets its own
key. A value set at deploy time (`${VAR}`) or reset by `!reset` is left for a
person.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator, Optional

from kohalint.fix_yaml import (Found, Unfixable, Value, YamlText, is_map, is_scalar, is_seq,
                               scalar_text, tag_of)

NNP_ITEM = "no-new-privileges:true"
_NNP_OK = re.compile(r"^no-new-privileges(?:[:=](?:true|1))?$", re.I)
_NNP_OFF = re.compile(r"^no-new-privileges[:=](?:false|0)$", re.I)
RESTART = "unless-stopped"
LOG_OPTIONS = {"max-size": '"10m"', "max-file": '"3"'}

Pending = dict[str, set[str]]  # rule id -> names of services with an active finding


def service_node(yt: YamlText, name: str) -> Any:
    services = yt.get(yt.root, "services") if is_map(yt.root) else None
    if services is None or not is_map(services[1]):
        raise Unfixable("no `services:` mapping in this file")
    entry = yt.get(services[1], name)
    if entry is None:
        raise Unfixable("the service is not defined in this file (extends or include)")
    node = entry[1]
    if not is_map(node) or node.flow_style:
        raise Unfixable("the service is not a block mapping")
    return node


def _services(yt: YamlText) -> Iterator[tuple[str, Any]]:
    services = yt.get(yt.root, "services")
    if services is None or not is_map(services[1]):
        return
    for k, v in yt.pairs(services[1]):
        if is_scalar(k) and is_map(v):
            yield k.value, v


def _all_pending(yt: YamlText, users: list[Any], rule: str, pending: Pending) -> bool:
    names = {id(node): name for name, node in _services(yt)}
    return bool(users) and all(id(u) in names and names[id(u)] in pending.get(rule, set()) for u in users)


def _mergers_of(yt: YamlText, src: Any) -> list[Any]:
    """Every mapping in the file that merges `src` through `<<`."""
    out, stack, seen = [], [yt.root], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if is_map(n):
            if any(s is src for s in yt.merge_sources(n)):
                out.append(n)
            stack.extend(v for _, v in n.value)
        elif is_seq(n):
            stack.extend(n.value)
    return out


def _users_of_value(yt: YamlText, key: str, value: Any) -> list[Any]:
    return [node for _, node in _services(yt)
            if (f := yt.lookup(node, key)) is not None and f.value is value]


def _target_for_new_key(yt: YamlText, svc: Any, rule: str, pending: Pending) -> Any:
    """The anchor merged into `svc` when all its users want the key, else `svc`."""
    for src in yt.merge_sources(svc):
        if src.flow_style or not src.value:
            continue
        if _all_pending(yt, _mergers_of(yt, src), rule, pending):
            return src
        break
    return svc


def _check_value(found: Found, key: str) -> None:
    if tag_of(found.value) in ("!reset", "!override"):
        raise Unfixable(f"an override resets `{key}` with {tag_of(found.value)}")
    text = scalar_text(found.value)
    if text is not None and "$" in text:
        raise Unfixable(f"`{key}` is set at deploy time")


def _ensure_item(yt: YamlText, svc: Any, rule: str, pending: Pending, key: str, item: str,
                 present: Callable[[str], bool], contrary: Callable[[str], bool]) -> Optional[str]:
    found = yt.lookup(svc, key)
    if found is None:
        return yt.add_key(_target_for_new_key(yt, svc, rule, pending), key, [item])
    _check_value(found, key)
    seq = found.value
    if not is_seq(seq):
        raise Unfixable(f"`{key}` is not a list")
    texts = [(i, scalar_text(i)) for i in seq.value]
    if any(t is not None and present(t.strip()) for _, t in texts):
        return None
    if any(t is not None and "$" in t for _, t in texts):
        raise Unfixable(f"`{key}` is set at deploy time")
    if not _all_pending(yt, _users_of_value(yt, key, seq), rule, pending):
        if found.owner is svc:
            raise Unfixable(f"`{key}` is shared with services that keep it as it is")
        if any(t is None for _, t in texts):
            raise Unfixable(f"`{key}` holds values that are not plain strings")
        # Give this service its own list (it wins over the merged one): the
        # shared items, in their own spelling, plus the fix.
        items = [yt.text[i.start_mark.index:i.end_mark.index] for i, t in texts
                 if t is not None and not contrary(t.strip())]
        return yt.add_key(svc, key, items + [item])
    for node, t in texts:
        if t is not None and contrary(t.strip()):
            return yt.replace_scalar(node, item)
    return yt.append_item(seq, item)


def fix_no_new_privileges(yt: YamlText, name: str, pending: Pending) -> Optional[str]:
    svc = service_node(yt, name)
    return _ensure_item(yt, svc, "KL402", pending, "security_opt", NNP_ITEM,
                        lambda t: bool(_NNP_OK.match(t)), lambda t: bool(_NNP_OFF.match(t)))


def fix_cap_drop(yt: YamlText, name: str, pending: Pending) -> Optional[str]:
    svc = service_node(yt, name)
    return _ensure_item(yt, svc, "KL403", pending, "cap_drop", "ALL",
                        lambda t: t.upper() in ("ALL", "CAP_ALL"), lambda t: False)


def fix_restart(yt: YamlText, name: str, pending: Pending) -> Optional[str]:
    svc = service_node(yt, name)
    deploy = yt.lookup(svc, "deploy")
    if deploy is not None and is_map(deploy.value) and yt.lookup(deploy.value, "restart_policy"):
        return None
    found = yt.lookup(svc, "restart")
    if found is None:
        return yt.add_key(_target_for_new_key(yt, svc, "KL405", pending), "restart", RESTART)
    _check_value(found, "restart")
    if not is_scalar(found.value):
        raise Unfixable("`restart` is not a scalar")
    if found.value.value.strip().lower() not in ("no", "false", "", "null", "~"):
        return None
    if not _all_pending(yt, _users_of_value(yt, "restart", found.value), "KL405", pending):
        if found.owner is svc:
            raise Unfixable("`restart` is shared with services that keep it as it is")
        return yt.add_key(svc, "restart", RESTART)  # an own key wins over the merged one
    if found.value.value.strip() in ("", "null", "~") and found.value.style is None:
        node = found.value
        if node.start_mark.index == node.end_mark.index:
            return yt.splice(node.start_mark.index, node.end_mark.index, " " + RESTART)
    return yt.replace_scalar(found.value, RESTART)


def fix_log_rotation(yt: YamlText, name: str, pending: Pending) -> Optional[str]:
    svc = service_node(yt, name)
    found = yt.lookup(svc, "logging")
    if found is None:
        value: Value = {"driver": "json-file", "options": dict(LOG_OPTIONS)}
        return yt.add_key(_target_for_new_key(yt, svc, "KL406", pending), "logging", value)
    _check_value(found, "logging")
    logging = found.value
    if not is_map(logging):
        raise Unfixable("`logging` is not a mapping")
    driver = yt.lookup(logging, "driver")
    if driver is not None:
        text = scalar_text(driver.value)
        if text is None or "$" in text:
            raise Unfixable("the logging driver is set at deploy time")
        if text.strip().lower() not in ("json-file", ""):
            return None
    opts = yt.lookup(logging, "options")
    missing = {k: v for k, v in LOG_OPTIONS.items()
               if opts is None or not is_map(opts.value) or yt.lookup(opts.value, k) is None}
    if not missing:
        return None
    users = _users_of_value(yt, "logging", logging)
    if not _all_pending(yt, users, "KL406", pending):
        raise Unfixable("the logging settings are shared with services that keep them as they are")
    if opts is None:
        return yt.add_key(logging, "options", missing)
    if not is_map(opts.value):
        raise Unfixable("`logging.options` is not a mapping")
    key, val = next(iter(missing.items()))
    return yt.add_key(opts.value, key, val)


COMPOSE_FIXERS: dict[str, Callable[[YamlText, str, Pending], Optional[str]]] = {
    "KL402": fix_no_new_privileges,
    "KL403": fix_cap_drop,
    "KL405": fix_restart,
    "KL406": fix_log_rotation,
}
