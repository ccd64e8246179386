"""Supply-chain rules (KL301-KL304): what a published image carries, and
whether a deployment checks it.

A publishing workflow pushes an image: docker/build-push-action or
docker/bake-action with `push:` true (or an expression, which is true on some
runs), `docker push`, `docker buildx build --push` / `--output type=registry`,
`buildah push`, `crane push`, `skopeo copy`, `ko build`. SBOM, provenance and
signing may come from any job of that workflow; findings about a missing piece
are reported at the first publishing job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Optional

from kohalint.checks.deploy_units import deploy_units, is_verify
from kohalint.checks.docker_cli import deployed_images, docker_sub, option_values, pushes
from kohalint.context import Context
from kohalint.documents.workflow import Job, Step, Workflow
from kohalint.documents.yamldoc import YMap, YScalar
from kohalint.models import Finding
from kohalint.rules import check

if TYPE_CHECKING:
    from kohalint.documents.shell import Command

BUILD_ACTIONS = ("docker/build-push-action", "docker/bake-action")
_SBOM_ACTIONS = ("anchore/sbom-action", "actions/attest-sbom")
_PROVENANCE_ACTIONS = ("actions/attest-build-provenance", "slsa-framework/slsa-github-generator")
_SBOM_FORMATS = re.compile(r"^(cyclonedx|spdx|spdx-json|spdxjson|cyclonedx-json|syft-json)$", re.I)


@dataclass
class _Publishing:
    job: Job
    step: Optional[Step]
    cmd: Optional["Command"]


def _truthy_input(text: str) -> bool:
    t = text.strip().lower()
    return bool(t) and t not in ("false", "0", "no", "off")


def publishers(wf: Workflow) -> list[_Publishing]:
    out = []
    for job in wf.jobs:
        for step in job.steps:
            name = step.action
            if name in BUILD_ACTIONS and (_truthy_input(step.input_text("push")) or re.search(
                    r"type=registry|push=true", step.input_text("outputs"))):
                out.append(_Publishing(job, step, None))
            elif name == "redhat-actions/push-to-registry":
                out.append(_Publishing(job, step, None))
    for job, _step, cmd in wf.commands():
        if pushes(cmd.argv):
            out.append(_Publishing(job, None, cmd))
    return out


def _cosign(cmd: "Command", verb: str) -> bool:
    return cmd.basename == "cosign" and len(cmd.argv) > 1 and cmd.argv[1] == verb


def _action_steps(wf: Workflow) -> Iterator[tuple[Job, Step]]:
    for job in wf.jobs:
        for step in job.steps:
            yield job, step


def has_sbom(wf: Workflow) -> bool:
    for job, step in _action_steps(wf):
        name = step.action
        if name in _SBOM_ACTIONS:
            return True
        if name in BUILD_ACTIONS and (_truthy_input(step.input_text("sbom"))
                                      or "type=sbom" in step.input_text("attests")):
            return True
        if name == "aquasecurity/trivy-action" and (
                _SBOM_FORMATS.match(step.input_text("format").strip())
                or step.input_text("scan-type").strip().lower() == "sbom"):
            return True
    for _job, _step, cmd in wf.commands():
        args = list(cmd.argv[1:])
        if cmd.basename in ("syft", "cdxgen"):
            return True
        if cmd.basename == "trivy" and any(_SBOM_FORMATS.match(v) for v in option_values(args, "--format", "-f")):
            return True
        if cmd.basename in ("docker", "podman") and args[:1] == ["sbom"]:
            return True
        if any(w in ("--sbom", "--sbom=true") or w.startswith("--sbom=generator") for w in args):
            return True
        if "type=sbom" in " ".join(option_values(args, "--attest")):
            return True
        if _cosign(cmd, "attest") and any(_SBOM_FORMATS.match(v) for v in option_values(args, "--type")):
            return True
    return False


def provenance(wf: Workflow) -> tuple[bool, list[YScalar]]:
    """(provenance produced somewhere, `provenance: false` inputs)."""
    found, disabled = False, []
    for _job, step in _action_steps(wf):
        name = step.action
        if name.startswith(_PROVENANCE_ACTIONS):
            found = True
        elif name in BUILD_ACTIONS:
            node = step.input("provenance")
            if node is not None and _truthy_input(node.text()):
                found = True
            elif node is not None:
                disabled.append(node)
            if "type=provenance" in step.input_text("attests"):
                found = True
    for job in wf.jobs:
        if job.uses is not None and job.uses.text().lower().startswith(_PROVENANCE_ACTIONS[1]):
            found = True
    for _job, _step, cmd in wf.commands():
        args = list(cmd.argv[1:])
        if any(w == "--provenance" or (w.startswith("--provenance=") and _truthy_input(w.split("=", 1)[1]))
               for w in args) or "type=provenance" in " ".join(option_values(args, "--attest")):
            found = True
        if _cosign(cmd, "attest") and any("slsaprovenance" in v for v in option_values(args, "--type")):
            found = True
    return found, disabled


@check("KL301", "sbom-missing", target="workflow")
def sbom_missing(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    pubs = publishers(wf)
    if pubs and not has_sbom(wf):
        job = pubs[0].job
        yield ctx.at(job.key, f"job '{job.id}' publishes an image and no job of this workflow produces "
                     "an SBOM: set `sbom: true` on docker/build-push-action or attach one with "
                     "anchore/sbom-action / actions/attest-sbom", identity="missing")


@check("KL302", "provenance-missing", target="workflow")
def provenance_missing(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    pubs = publishers(wf)
    if not pubs:
        return
    found, disabled = provenance(wf)
    if found:
        return  # e.g. `provenance: false` next to actions/attest-build-provenance
    for index, node in enumerate(disabled):
        yield ctx.at(node, "`provenance: false` publishes the image without a provenance "
                     "attestation, so nobody can check how and from which commit it was built: use "
                     "`provenance: mode=max` (or actions/attest-build-provenance)",
                     identity=f"disabled|{index}")
    if not disabled:
        job = pubs[0].job
        yield ctx.at(job.key, f"job '{job.id}' publishes an image without a declared provenance "
                     "attestation: set `provenance: mode=max` on docker/build-push-action (its "
                     "default depends on the repository's visibility and the builder) or use "
                     "actions/attest-build-provenance", identity="missing")


def _has_id_token(wf: Workflow, job: Job) -> bool:
    perms = job.permissions if job.permissions is not None else wf.permissions
    if isinstance(perms, YScalar):
        return perms.text().strip().lower() == "write-all"
    if isinstance(perms, YMap):
        v = perms.get("id-token")
        return isinstance(v, YScalar) and v.text().strip().lower() == "write"
    return False


def _sign_targets(cmd: "Command") -> list[str]:
    words = list(cmd.argv[2:])
    out, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w.startswith("-"):
            skip = "=" not in w and w not in ("--yes", "-y", "--recursive", "-r", "--upload=true",
                                              "--tlog-upload=true") and not w.startswith("--yes")
            continue
        out.append(w)
    return out


def _by_digest(target: str) -> Optional[bool]:
    """True/False, or None when a variable hides the reference."""
    if "@" in target:
        after = target.split("@", 1)[1]
        return after.startswith(("sha256:", "$", "{")) or "{{" in after
    return None if "$" in target or "{{" in target else False


def _keyless(cmd: "Command", env: dict[str, str]) -> bool:
    args = cmd.argv[2:]
    if any(a in ("--key", "-key") or a.startswith(("--key=", "-key=")) for a in args):
        return False
    return "COSIGN_KEY" not in env


@check("KL303", "image-not-signed", target="workflow")
def image_not_signed(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    pubs = publishers(wf)
    if not pubs:
        return
    signs = [(job, step, cmd) for job, step, cmd in wf.commands() if _cosign(cmd, "sign")]
    for job, step, cmd in signs:
        verdicts = [_by_digest(t) for t in _sign_targets(cmd)]
        if verdicts and all(v is False for v in verdicts):
            yield ctx.finding(wf.path, cmd.line, "`cosign sign` signs by tag: a tag can be moved to "
                              "another image after signing; sign `IMAGE@${{ steps.<build>.outputs.digest }}`",
                              column=cmd.column, identity=f"tag|{job.id}|{step.index}")
            continue
        if _keyless(cmd, wf.step_env(job, step)) and not _has_id_token(wf, job):
            yield ctx.finding(wf.path, cmd.line, f"keyless `cosign sign` in job '{job.id}' needs an OIDC "
                              "token, but the job has no `permissions: id-token: write`",
                              column=cmd.column, identity=f"id-token|{job.id}")
    if not signs:
        job = pubs[0].job
        yield ctx.at(job.key, f"job '{job.id}' publishes an image that no job signs: add "
                     "sigstore/cosign-installer and `cosign sign --yes IMAGE@${{ steps.<build>.outputs.digest }}` "
                     "(keyless, with `id-token: write`)", identity="missing")


@check("KL304", "deploy-without-verification", target="repository", reads={"workflow", "shell"})
def deploy_without_verification(ctx: Context) -> Iterator[Finding]:
    for unit in deploy_units(ctx):
        verified = unit.verified_before
        for cmd in unit.commands:
            if is_verify(cmd) or (cmd.basename == "gh" and cmd.argv[1:3] == ("attestation", "verify")):
                verified = True
                continue
            if deployed_images(cmd.argv) is None:
                continue
            if not verified:
                sub = docker_sub(cmd.argv)[0]
                shown = f"{cmd.basename} {sub}" if sub else " ".join(cmd.argv[:3])
                yield ctx.finding(unit.path, cmd.line, f"{unit.label} deploys images (`{shown} ...`) "
                                  "without `cosign verify` (or `cosign verify-attestation`) first: a "
                                  "tampered or unsigned image would run in production",
                                  column=cmd.column, identity=f"{unit.label}|unverified")
            break
