"""Where deployments happen: deploy workflows (their name, file name or a job
`environment:` says deploy / production) job by job, and deploy scripts
(shell files whose name says deploy, e.g. `scripts/deploy.sh`). Shared by
KL208 (what they deploy) and KL304 (whether they verify it first).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Optional

from kohalint.documents.workflow import Job, Workflow, says_deploy, substitute_command
from kohalint.documents.yamldoc import YMap, YScalar

if TYPE_CHECKING:
    from kohalint.context import Context
    from kohalint.documents.shell import Command


@dataclass
class Assignment:
    """`NAME=value` seen by a deployment: env key, command prefix or script line."""
    name: str
    value: str
    path: str
    line: int
    column: int = 1


@dataclass
class DeployUnit:
    path: str
    label: str  # "job 'deploy'" / "the script"
    commands: list["Command"]
    assignments: list[Assignment] = field(default_factory=list)
    workflow: Optional[Workflow] = None
    job: Optional[Job] = None
    # verification done before this unit starts (a job it `needs`)
    verified_before: bool = False


_ASSIGN_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|#]*)",
                          re.M)


def is_deploy_script(path: str) -> bool:
    return "deploy" in posixpath.basename(path).lower()


def script_assignments(text: str, path: str, line_offset: int = 0) -> list[Assignment]:
    out = []
    for m in _ASSIGN_LINE.finditer(text):
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        line = line_offset + text.count("\n", 0, m.start()) + 1
        out.append(Assignment(m.group(1), value, path, line, m.start(1) - m.start() + 1))
    return out


def _env_assignments(node: object, path: str) -> list[Assignment]:
    if not isinstance(node, YMap):
        return []
    return [Assignment(k, v.text(), path, v.line, v.column) for k, v in node.items()
            if isinstance(v, YScalar)]


def is_verify(cmd: "Command") -> bool:
    return cmd.basename == "cosign" and cmd.argv[1:2] in (("verify",), ("verify-attestation",))


def deploy_units(ctx: "Context") -> Iterator[DeployUnit]:
    """Every deploy job and script. Their rules report only at the unit's own
    file, so in pre-commit mode units of files not passed are not read."""
    for path in ctx.repo.files_of_kind("workflow"):
        if not ctx.reports_on(path):
            continue
        wf = ctx.docs.get("workflow", path)
        if wf is None:
            continue
        whole = wf.is_deploy()
        by_job: dict[str, list["Command"]] = {}
        for job, _step, cmd in wf.commands():
            by_job.setdefault(job.id, []).append(cmd)
        verifying = {j for j, cmds in by_job.items() if any(is_verify(c) for c in cmds)}
        for job in wf.jobs:
            cmds = by_job.get(job.id, [])
            if not (whole or says_deploy(job.environment)):
                continue
            assigns = _env_assignments(wf.node.get("env"), path) + \
                _env_assignments(job.node.get("env"), path)
            for step in job.steps:
                assigns += _env_assignments(step.node.get("env"), path)
                for script in step.scripts():
                    assigns += script_assignments(script.text(), path, wf.script_offset(script))
            for c in cmds:
                assigns += [Assignment(a.split("=", 1)[0], a.split("=", 1)[1], path, c.line, c.column)
                            for a in c.assignments if "=" in a]
            yield DeployUnit(path, f"job '{job.id}'", cmds, assigns, wf, job,
                             verified_before=_needs_verified(wf, job, verifying))
    for path in ctx.repo.files_of_kind("shell"):
        if not is_deploy_script(path) or not ctx.reports_on(path):
            continue
        script = ctx.docs.get("shell", path)
        text = ctx.repo.read_text(path) or ""
        if script is None:
            continue
        assigns = script_assignments(text, path)
        env = {a.name: a.value for a in assigns}
        cmds = [substitute_command(c, env) for c in script.commands]
        for c in cmds:
            assigns += [Assignment(a.split("=", 1)[0], a.split("=", 1)[1], path, c.line, c.column)
                        for a in c.assignments if "=" in a]
        yield DeployUnit(path, "this script", cmds, assigns)


def _needs_verified(wf: Workflow, job: Job, verifying: set[str]) -> bool:
    seen: set[str] = set()
    todo = list(job.needs)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in verifying:
            return True
        dep = wf.job(name)
        if dep is not None:
            todo.extend(dep.needs)
    return False
