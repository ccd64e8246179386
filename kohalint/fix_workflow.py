"""Safe fixes for GitHub workflows: KL202 (permissions) and KL203 (concurrency).

KL202: a workflow with no top-level `permissions` gets `contents: read`. One
whose top level grants writes keeps every job's effective token: the
top-level block is copied onto each job that has none of its own (a job's
block replaces the top-level one, so nothing changes for it), then the top
level becomes `contents: read`. Comments of the old block are kept.

KL203: a workflow with no `concurrency` anywhere gets a top-level group;
deploy workflows never cancel a run in progress (a half-applied deploy is
worse than a queued one), so they get `cancel-in-progress: false`, and a
deploy workflow's `cancel-in-progress: true` becomes false.

Like the compose fixers, each call makes at most one edit or returns None.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Optional

from kohalint.fix_yaml import Unfixable, Verbatim, YamlText, is_map, is_scalar, scalar_text

GROUP = "${{ github.workflow }}-${{ github.ref }}"
_DEPLOY = re.compile(r"(?i)deploy|production|\bprod\b")
_WRITE = re.compile(r"^(write|write-all)$")
_COMMENT = re.compile(r"\s+(#.*)$")


def _root(yt: YamlText) -> Any:
    if not is_map(yt.root) or yt.root.flow_style:
        raise Unfixable("the workflow is not a block mapping")
    return yt.root


def _jobs(yt: YamlText) -> list[tuple[Any, Any]]:
    entry = yt.get(_root(yt), "jobs")
    if entry is None or not is_map(entry[1]):
        return []
    return [(k, v) for k, v in yt.pairs(entry[1]) if is_map(v)]


def _jobs_key(yt: YamlText) -> Optional[Any]:
    entry = yt.get(_root(yt), "jobs")
    return entry[0] if entry else None


def _grants_write(node: Any) -> bool:
    if is_scalar(node):
        return bool(_WRITE.match(node.value.strip()))
    if is_map(node):
        return any(is_scalar(v) and v.value.strip() == "write" for _, v in node.value)
    return False


def fix_permissions(yt: YamlText, path: str) -> Optional[str]:
    root = _root(yt)
    entry = yt.get(root, "permissions")
    if entry is None:
        return yt.add_key(root, "permissions", {"contents": "read"}, before=_jobs_key(yt))
    key, value = entry
    if not _grants_write(value):
        return None
    if scalar_text(value) is not None and "${{" in value.value:
        raise Unfixable("the permissions are an expression")
    for _, job in _jobs(yt):
        if job.flow_style:
            raise Unfixable("a job is a flow mapping")
        if yt.get(job, "permissions") is None:
            steps = yt.get(job, "steps")
            return yt.add_key(job, "permissions", _copy_block(yt, value, job),
                              before=steps[0] if steps else None)
    return _replace_top_permissions(yt, key, value)


def _copy_block(yt: YamlText, value: Any, job: Any) -> Any:
    """The top-level permissions as a value for `add_key` at the job's indentation."""
    if is_scalar(value):
        return yt.text[value.start_mark.index:value.end_mark.index]
    if value.flow_style:
        return yt.text[value.start_mark.index:value.end_mark.index]
    first, last = value.start_mark.line, yt.content_end(value)
    lines = [yt.line_text(i) for i in range(first, last + 1)]
    shift = yt.child_column(job) + yt.step - value.start_mark.column
    if shift < 0:
        lines = [ln[-shift:] if ln[:-shift].strip() == "" else ln.lstrip() for ln in lines]
        return Verbatim(lines)
    return Verbatim([(" " * shift + ln) if ln.strip() else ln for ln in lines])


def _replace_top_permissions(yt: YamlText, key: Any, value: Any) -> str:
    first, last = key.start_mark.line, yt.content_end(value)
    kept = []
    for i in range(first, last + 1):
        line = yt.line_text(i)
        m = _COMMENT.search(line)
        if line.lstrip().startswith("#"):
            kept.append(line.strip())
        elif m and "'" not in line and '"' not in line:
            kept.append(m.group(1))
    col = key.start_mark.column
    new = [" " * col + "permissions:", " " * (col + yt.step) + "contents: read"]
    if kept:
        new += [" " * col + "# moved to the jobs by kohalint fix, with these comments:"]
        new += [" " * col + c for c in kept]
    start = yt.starts[first]
    end = yt.starts[last + 1] if last + 1 < len(yt.starts) else len(yt.text)
    tail = "" if end == len(yt.text) and not yt.text.endswith("\n") else yt.nl
    return yt.splice(start, end, yt.nl.join(new) + tail)


def _is_deploy(yt: YamlText, path: str) -> bool:
    name = yt.get(_root(yt), "name")
    if name and is_scalar(name[1]) and _DEPLOY.search(name[1].value):
        return True
    if _DEPLOY.search(posixpath.basename(path)):
        return True
    for _, job in _jobs(yt):
        env = yt.get(job, "environment")
        if env is None:
            continue
        node = env[1]
        if is_map(node):
            named = yt.get(node, "name")
            node = named[1] if named else None
        if node is not None and is_scalar(node) and _DEPLOY.search(node.value):
            return True
    return False


def fix_concurrency(yt: YamlText, path: str) -> Optional[str]:
    root = _root(yt)
    deploy = _is_deploy(yt, path)
    blocks = [yt.get(root, "concurrency")] + [yt.get(job, "concurrency") for _, job in _jobs(yt)]
    present = [b[1] for b in blocks if b is not None]
    if not present:
        value = {"group": GROUP, "cancel-in-progress": "false" if deploy else "true"}
        return yt.add_key(root, "concurrency", value, before=_jobs_key(yt))
    if deploy:
        for node in present:
            cancel = yt.get(node, "cancel-in-progress") if is_map(node) else None
            if cancel is not None and is_scalar(cancel[1]) and cancel[1].value.strip().lower() == "true":
                return yt.replace_scalar(cancel[1], "false")
    return None


WORKFLOW_FIXERS = {"KL202": fix_permissions, "KL203": fix_concurrency}
