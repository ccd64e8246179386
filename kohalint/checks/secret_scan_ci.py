"""KL111: CI runs a secret scanner on pull requests and on pushes to the
default branch.

What counts as a scanner comes from the delivery rules' reading of a job
(`kohalint.checks.workflow_tools.job_checks`: gitleaks, trufflehog,
detect-secrets, ggshield, kohalint with KL101 selected; as actions, commands,
`docker run IMAGE` or local composite actions and reusable workflows), plus a
`pre-commit run` whose `.pre-commit-config.yaml` holds a secret-scanning hook.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq
from kohalint.models import Finding, Severity
from kohalint.rules import check

SUGGESTED = ".github/workflows/secret-scan.yml"
_PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
_SCANNER_HOOKS = re.compile(r"(?i)gitleaks|trufflehog|detect-secrets|ggshield|kohalint")


@check("KL111", "secret-scan-not-in-ci", target="repository", reads={"workflow"})
def secret_scan_not_in_ci(ctx: Context) -> Iterator[Finding]:
    workflows = [wf for p in ctx.repo.files_of_kind("workflow")
                 if (wf := ctx.docs.get("workflow", p)) is not None]
    branch = ctx.settings.delivery.default_branch
    pr = [wf for wf in workflows if wf.has_trigger("pull_request")]
    push = [wf for wf in workflows if _pushes_to(wf.triggers.get("push"), branch) and wf.has_trigger("push")]
    scans = {wf.path for wf in workflows if _scans(ctx, wf)}
    pr_ok = any(wf.path in scans for wf in pr)
    push_ok = any(wf.path in scans for wf in push)
    scanners = "gitleaks, trufflehog, detect-secrets or `kohalint check --select KL101`"
    if not pr_ok:
        target = pr[0].path if pr else SUGGESTED
        state = "" if pr else " (missing: create it)"
        also = "" if push_ok else f" and on push to `{branch}`"
        lead = ("no workflow that runs on pull_request runs a secret scanner" if pr
                else "no workflow runs on pull_request")
        yield ctx.finding(target, 1, f"{lead}: run {scanners} on pull_request{also} in {target}{state}, "
                          "so a leaked credential is caught before it is merged", identity="pull_request")
    elif not push_ok:
        target = next(wf.path for wf in pr if wf.path in scans)
        yield ctx.finding(target, 1, f"no workflow that runs on push to `{branch}` runs a secret scanner: "
                          f"add `push: branches: [{branch}]` to {target}, which scans pull requests, so "
                          "direct pushes and merge results are scanned too", severity=Severity.medium,
                          identity="push")


def _scans(ctx: Context, wf) -> bool:
    from kohalint.checks.workflow_tools import command_checks, job_checks

    for job in wf.jobs:
        if "secret-scan" in job_checks(ctx, wf, job).checks:
            return True
    for _job, _step, cmd in wf.commands():
        inner = _unwrap(cmd.argv)
        if inner != cmd.argv and "secret-scan" in command_checks(inner):
            return True
    return _pre_commit_scans(ctx, wf)


_RUNNERS = {("pipx", "run"), ("uv", "run"), ("uv", "tool"), ("poetry", "run"), ("pipenv", "run"),
            ("pdm", "run"), ("hatch", "run")}


def _unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`pipx run kohalint ...`, `uvx --from x kohalint ...` -> `kohalint ...`."""
    words = list(argv)
    if not words:
        return argv
    name = words[0].rsplit("/", 1)[-1]
    if name == "uvx":
        rest = words[1:]
    elif len(words) > 1 and (name, words[1]) in _RUNNERS:
        rest = words[2:]
        if name == "uv" and words[1] == "tool" and rest[:1] == ["run"]:
            rest = rest[1:]
    else:
        return argv
    while rest and rest[0].startswith("-"):
        # options with a value: --spec X, --from X, --with X, --python X
        rest = rest[2:] if rest[0] in ("--spec", "--from", "--with", "--python", "-p") else rest[1:]
    return tuple(rest) if rest else argv


def _pre_commit_scans(ctx: Context, wf) -> bool:
    runs = any(step.action == "pre-commit/action" for job in wf.jobs for step in job.steps)
    runs = runs or any(cmd.basename == "pre-commit" and "run" in cmd.args for _j, _s, cmd in wf.commands())
    if not runs:
        return False
    config = ctx.docs.yaml(_PRE_COMMIT_CONFIG) if ctx.repo.exists(_PRE_COMMIT_CONFIG) else None
    repos = config.get("repos") if isinstance(config, YMap) else None
    for repo in repos.items if isinstance(repos, YSeq) else []:
        if not isinstance(repo, YMap):
            continue
        url = repo.get_text("repo") or ""
        hooks = repo.get("hooks")
        ids = [h.get_text("id") or "" for h in (hooks.items if isinstance(hooks, YSeq) else [])
               if isinstance(h, YMap)]
        if _SCANNER_HOOKS.search(url) and any(_SCANNER_HOOKS.search(i) or i == "kohalint" for i in ids):
            return True
    return False


def _pushes_to(config: Optional[YNode], branch: str) -> bool:
    """Whether a `push:` trigger (None: every branch) fires for `branch`."""
    if not isinstance(config, YMap):
        return True
    branches, ignore = _texts(config.get("branches")), _texts(config.get("branches-ignore"))
    if branches is None and ignore is None:
        # tags only: not a branch push
        return not ("tags" in config or "tags-ignore" in config)
    if ignore is not None:
        return not any(_glob(p, branch) for p in ignore)
    hit = False
    for p in branches or []:
        if p.startswith("!"):
            if _glob(p[1:], branch):
                hit = False
        elif _glob(p, branch):
            hit = True
    return hit


def _texts(node: Optional[YNode]) -> Optional[list[str]]:
    if node is None:
        return None
    if isinstance(node, YScalar):
        return [node.text()]
    if isinstance(node, YSeq):
        return [i.text() for i in node.items if isinstance(i, YScalar)]
    return []


def _glob(pattern: str, name: str) -> bool:
    """GitHub's branch filter globs: `*` stops at `/`, `**` does not."""
    rx = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            rx += ".*"
            i += 2
            continue
        c = pattern[i]
        rx += "[^/]*" if c == "*" else "." if c == "?" else re.escape(c)
        i += 1
    return re.fullmatch(rx, name) is not None
