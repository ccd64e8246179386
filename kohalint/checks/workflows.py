"""Delivery rules for GitHub Actions workflows (KL201-KL204).

KL201-KL203 judge one workflow file; KL204 asks the whole repository whether
each required check runs on pull requests, so it is a repository check.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from kohalint.checks.workflow_tools import pr_job_checks, pr_workflows
from kohalint.context import Context
from kohalint.documents.workflow import Workflow, says_deploy
from kohalint.documents.yamldoc import YMap, YNode, YScalar
from kohalint.models import Finding
from kohalint.rules import check

_SHA = re.compile(r"^[0-9a-fA-F]{40}$")
_CONCURRENCY_EVENTS = ("push", "pull_request", "workflow_dispatch")


# -- KL201 -------------------------------------------------------------------------
@check("KL201", "action-not-pinned", target="workflow")
def action_not_pinned(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    for job in wf.jobs:
        if job.uses is not None:
            yield from _pin(ctx, job.uses, f"job '{job.id}'")
        for step in job.steps:
            if step.uses is not None:
                yield from _pin(ctx, step.uses, f"job '{job.id}'")
        # The images a job runs in are dependencies of the workflow just like
        # the actions it uses; KL208 is about what gets deployed.
        for image in [job.container_image, *job.service_images]:
            if image is not None:
                yield from _image_pin(ctx, image, f"job '{job.id}'")


def _pin(ctx: Context, node: YScalar, where: str) -> Iterator[Finding]:
    uses = node.text().strip()
    if not uses or uses.startswith(("./", "../", "$/")) or "${{" in uses:
        return
    if uses.startswith("docker://"):
        yield from _image_pin(ctx, node, where, uses[len("docker://"):], prefix="docker://")
        return
    name, _, ref = uses.partition("@")
    if _SHA.match(ref):
        return
    if re.fullmatch(r"[0-9a-fA-F]{7,39}", ref):
        msg = (f"`{name}@{ref}` is a short SHA: GitHub rejects it (and it is ambiguous); pin the "
               f"full 40-character commit SHA: `uses: {name}@<sha> # <tag>`")
    elif not ref:
        msg = (f"`{name}` in {where} has no ref, so it runs whatever the default branch holds: "
               f"pin it to a full commit SHA: `uses: {name}@<sha> # <tag>`")
    else:
        msg = (f"pin {name}@{ref} to its commit SHA: `uses: {name}@<sha> # {ref}` "
               f"(a tag or branch can be moved to other code)")
    yield ctx.at(node, msg, identity=f"{where}|{name}")


def _image_pin(ctx: Context, node: YScalar, where: str, image: Optional[str] = None,
               prefix: str = "") -> Iterator[Finding]:
    from kohalint.checks.docker_cli import has_digest, parse_image

    text = (image if image is not None else node.text()).strip()
    if not text or "${{" in text or "$" in text or has_digest(text):
        return
    ref = parse_image(text)
    shown = prefix + (text if ref.tag else text + ":latest")
    yield ctx.at(node, f"image `{shown}` in {where} is not pinned by digest: use "
                 f"`{shown}@sha256:<digest>` (a tag can be moved to another image)",
                 identity=f"{where}|{ref.name}")


# -- KL202 -------------------------------------------------------------------------
@check("KL202", "workflow-permissions", target="workflow")
def workflow_permissions(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    perms = wf.permissions
    if perms is None and set(wf.triggers) == {"workflow_call"}:
        return  # a reusable workflow runs with its caller's token: the caller's block decides
    if perms is None:
        yield ctx.finding(wf.path, wf.node.line, "no top-level `permissions:`: every job gets the "
                          "repository's default token, which may be read/write on everything; add "
                          "`permissions: {}` (or `contents: read`) and grant writes per job",
                          identity="missing")
        return
    if isinstance(perms, YScalar):
        if perms.text().strip().lower() == "write-all":
            yield ctx.at(perms, "`permissions: write-all` gives every job write access to every "
                         "scope: use `contents: read` at the top and grant writes on the jobs that "
                         "need them", identity="write-all")
        return
    if isinstance(perms, YMap):
        for scope, value in perms.items():
            if isinstance(value, YScalar) and value.text().strip().lower() == "write":
                yield ctx.at(value, f"top-level `{scope}: write` is granted to every job: move it to "
                             "the job that needs it", identity=f"scope|{scope}")


# -- KL203 -------------------------------------------------------------------------
@check("KL203", "workflow-concurrency", target="workflow")
def workflow_concurrency(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    deploy = wf.is_deploy()
    for node, owner in [(wf.concurrency, None), *[(j.concurrency, j) for j in wf.jobs]]:
        cancel = _cancel_node(node)
        if cancel is None or cancel.value is not True:
            continue
        if not (deploy or (owner is not None and says_deploy(owner.environment))):
            continue
        where = f"job '{owner.id}'" if owner is not None else "this deploy workflow"
        yield ctx.at(cancel, f"`cancel-in-progress: true` in {where} can stop a deployment "
                     "half-way (migrations run, containers half replaced): use "
                     "`cancel-in-progress: false` so runs queue instead",
                     identity=f"cancel|{owner.id if owner else ''}")
    events = [e for e in _CONCURRENCY_EVENTS if wf.has_trigger(e)]
    if events and wf.concurrency is None and not any(j.concurrency is not None for j in wf.jobs):
        yield ctx.finding(wf.path, wf.node.line, f"runs on {', '.join(events)} without `concurrency:`: "
                          "overlapping runs race each other (add `concurrency: {group: "
                          "${{ github.workflow }}-${{ github.ref }}}`)", identity="missing")


def _cancel_node(node: Optional[YNode]) -> Optional[YScalar]:
    if isinstance(node, YMap):
        v = node.get("cancel-in-progress")
        return v if isinstance(v, YScalar) else None
    return None


# -- KL204 -------------------------------------------------------------------------
@check("KL204", "required-check-missing", target="repository", reads={"workflow"})
def required_check_missing(ctx: Context) -> Iterator[Finding]:
    required = [c for c in ctx.settings.delivery.required_checks if c.strip()]
    if not required:
        return
    workflows = pr_workflows(ctx)
    provided: set[str] = set()
    remote: list[str] = []
    for jc in pr_job_checks(ctx):
        provided |= jc.checks
        remote += [r for r in jc.remote if r not in remote]
    missing = [c for c in required if c not in provided]
    if not missing:
        return
    if workflows:
        wf = min(workflows, key=lambda w: (not _looks_like_ci(w.path), w.path))
        path, line = wf.path, 1
        where = "no workflow triggered on pull_request runs"
    else:
        files = ctx.repo.files_of_kind("workflow")
        path = next((p for p in files if _looks_like_ci(p)), files[0] if files else ".github/workflows/ci.yml")
        line = 1
        where = "no workflow is triggered on pull_request, so nothing runs"
    hint = ""
    if remote:
        shown = ", ".join(f"`{r}`" for r in remote[:3])
        hint = (f"; it may run in the reusable workflow {shown}, which kohalint cannot read offline: "
                "declare what it provides in `delivery.reusable-workflow-checks`")
    for name in missing:
        yield ctx.finding(path, line, f"{where} `{name}` before merge (required check){hint}",
                          identity=f"missing|{name}")


def _looks_like_ci(path: str) -> bool:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return stem in ("ci", "pr", "pull-request", "pull_request", "checks", "lint")
