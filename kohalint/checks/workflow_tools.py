"""Which required checks (hadolint, shellcheck, trivy config/image, a secret
scan) a workflow job runs: from the actions it uses, from the commands in its
`run:` scripts (also through `docker run IMAGE ...`), from local composite
actions and local reusable workflows it calls. Reusable workflows of other
repositories cannot be read offline: they are listed so a message can name
them, unless `delivery.reusable-workflow-checks` says what they provide.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from kohalint.checks.docker_cli import image_basename, option_values, run_image
from kohalint.documents.workflow import Job, Step, Workflow, action_name, shell_assignments, substitute
from kohalint.documents.yamldoc import YMap, YScalar, YSeq

if TYPE_CHECKING:
    from kohalint.context import Context

SECRET_SCANNERS = ("gitleaks", "trufflehog", "detect-secrets", "detect-secrets-hook", "ggshield")

# Actions that run one of the checks whatever their inputs say.
CHECK_ACTIONS: dict[str, frozenset[str]] = {
    "hadolint/hadolint-action": frozenset({"hadolint"}),
    "jbergstroem/hadolint-gh-action": frozenset({"hadolint"}),
    "reviewdog/action-hadolint": frozenset({"hadolint"}),
    "ludeeus/action-shellcheck": frozenset({"shellcheck"}),
    "reviewdog/action-shellcheck": frozenset({"shellcheck"}),
    "bewuethr/shellcheck-action": frozenset({"shellcheck"}),
    "azohra/shell-linter": frozenset({"shellcheck"}),
    "gitleaks/gitleaks-action": frozenset({"secret-scan"}),
    "zricethezav/gitleaks-action": frozenset({"secret-scan"}),
    "trufflesecurity/trufflehog": frozenset({"secret-scan"}),
    "gitguardian/ggshield-action": frozenset({"secret-scan"}),
    "reviewdog/action-detect-secrets": frozenset({"secret-scan"}),
}
# Images that run a check when started with `docker run` or `uses: docker://`.
CHECK_IMAGES: dict[str, str] = {
    "hadolint/hadolint": "hadolint",
    "koalaman/shellcheck": "shellcheck",
    "koalaman/shellcheck-alpine": "shellcheck",
    "zricethezav/gitleaks": "secret-scan",
    "gitleaks/gitleaks": "secret-scan",
    "trufflesecurity/trufflehog": "secret-scan",
    "gitguardian/ggshield": "secret-scan",
}
TRIVY_IMAGES = ("aquasec/trivy", "aquasecurity/trivy")
_SUPER_LINTER = ("github/super-linter", "super-linter/super-linter")
_SUPER_LINTER_SWITCHES = {"VALIDATE_DOCKERFILE_HADOLINT": "hadolint", "VALIDATE_BASH": "shellcheck",
                          "VALIDATE_GITLEAKS": "secret-scan"}
_TRIVY_SUBS = {"config": "trivy-config", "conf": "trivy-config", "image": "trivy-image", "i": "trivy-image"}
_TRIVY_FS = ("fs", "filesystem", "repo", "repository", "rootfs")
_MAX_DEPTH = 4


@dataclass
class JobChecks:
    workflow: Workflow
    job: Job
    checks: set[str] = field(default_factory=set)
    remote: list[str] = field(default_factory=list)  # reusable workflows kohalint cannot read

    def context_names(self) -> set[str]:
        """Names GitHub may show as this job's status check context."""
        names = {self.job.id}
        if self.job.name:
            names.add(self.job.name)
        if self.workflow.name:
            names |= {f"{self.workflow.name} / {n}" for n in list(names)}
        return {n.strip().lower() for n in names}


def trivy_checks(args: Iterable[str]) -> set[str]:
    """What `trivy ARGS` checks (args without the program name)."""
    words = list(args)
    for k, w in enumerate(words[:6]):
        if w.startswith("-"):
            continue
        if w in _TRIVY_SUBS:
            return {_TRIVY_SUBS[w]}
        if w in _TRIVY_FS:
            scanners = ",".join(option_values(words[k + 1:], "--scanners", "--security-checks"))
            return {"trivy-config"} if re.search(r"\b(misconfig|config)\b", scanners) else set()
        break
    return set()


def image_checks(image: str, args: Iterable[str]) -> set[str]:
    base = image_basename(image)
    if base in CHECK_IMAGES:
        return {CHECK_IMAGES[base]}
    if base in TRIVY_IMAGES:
        return trivy_checks(args)
    return set()


def command_checks(argv: tuple[str, ...]) -> set[str]:
    """Checks one command runs (also through `docker run IMAGE`)."""
    if not argv:
        return set()
    name = argv[0].rsplit("/", 1)[-1]
    args = argv[1:]
    name, args = _unwrap(name, args)
    if name == "hadolint":
        return {"hadolint"}
    if name == "shellcheck":
        return {"shellcheck"}
    if name == "trivy":
        return trivy_checks(args)
    if name in SECRET_SCANNERS:
        return {"secret-scan"}
    if name == "kohalint" and _kohalint_scans_secrets(args):
        return {"secret-scan"}
    found = run_image(argv)
    if found is not None:
        return image_checks(found[0], found[1])
    return set()


def _unwrap(name: str, args: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """`python -m X`, `pipx run X`, `uvx X`, `uv run X`, `poetry run X` -> X."""
    for _ in range(3):
        if re.fullmatch(r"python[0-9.]*", name) and args[:1] == ("-m",) and len(args) >= 2:
            name, args = args[1].replace("_", "-"), args[2:]
        elif (name in ("pipx", "uv", "poetry", "pdm", "hatch") and args[:1] == ("run",)) or name == "uvx":
            rest = list(args[1:] if name != "uvx" else args)
            k = 0
            while k < len(rest) and rest[k].startswith("-"):
                k += 1 if "=" in rest[k] or rest[k] in ("--no-cache", "-q", "--quiet") else 2
            if k >= len(rest):
                break
            name, args = rest[k].rsplit("/", 1)[-1].split("==", 1)[0], tuple(rest[k + 1:])
        else:
            break
    return name, args


def _kohalint_scans_secrets(args: tuple[str, ...]) -> bool:
    if args[:1] not in (("check",), ("gate",)) and args:
        return False
    selects = option_values(list(args), "--select")
    ignores = option_values(list(args), "--ignore")

    def names_kl101(value: str) -> bool:
        return any(t.strip().upper() in ("ALL", "KL", "KL1", "KL10", "KL101", "SECRET-IN-TRACKED-FILE")
                   for t in value.split(","))

    if any(names_kl101(v) for v in ignores):
        return False
    return not selects or any(names_kl101(v) for v in selects)


def step_checks(wf: Workflow, job: Job, step: Step) -> set[str]:
    """Checks a step runs through the action it uses (its commands come separately)."""
    if step.uses is None:
        return set()
    uses = step.uses.text().strip()
    if uses.startswith("docker://"):
        args = step.input_text("args").split()
        entry = step.input_text("entrypoint")
        return image_checks(uses, ([entry] if entry else []) + args)
    name = action_name(uses)
    if name in CHECK_ACTIONS:
        return set(CHECK_ACTIONS[name])
    if name == "aquasecurity/trivy-action":
        scan = (step.input_text("scan-type") or "image").strip().lower()
        if scan == "config":
            return {"trivy-config"}
        if scan == "image":
            return {"trivy-image"}
        if scan in _TRIVY_FS and re.search(r"\b(misconfig|config)\b", step.input_text("scanners")):
            return {"trivy-config"}
        return set()
    if name in _SUPER_LINTER:
        env = wf.step_env(job, step)
        switches = {k: env.get(k, "").strip().lower() for k in env if k.startswith("VALIDATE_")}
        only_true = any(v == "true" for v in switches.values())
        return {check for key, check in _SUPER_LINTER_SWITCHES.items()
                if ((switches.get(key) == "true") if only_true else switches.get(key) != "false")}
    return set()


def job_checks(ctx: "Context", wf: Workflow, job: Job, depth: int = 0) -> JobChecks:
    out = JobChecks(wf, job)
    for step in job.steps:
        out.checks |= step_checks(wf, job, step)
        if step.uses is not None and step.uses.text().strip().startswith("./"):
            out.checks |= _composite_checks(ctx, step.uses.text().strip(), depth)
    for j, _step, cmd in wf.commands():
        if j is job:
            out.checks |= command_checks(cmd.argv)
    if job.uses is not None:
        _reusable(ctx, job.uses.text().strip(), out, depth)
    return out


def _reusable(ctx: "Context", uses: str, out: JobChecks, depth: int) -> None:
    if uses.startswith("./"):
        if depth >= _MAX_DEPTH:
            return
        called = ctx.docs.get("workflow", posixpath.normpath(uses))
        if called is not None:
            for j in called.jobs:
                inner = job_checks(ctx, called, j, depth + 1)
                out.checks |= inner.checks
                out.remote += inner.remote
        return
    declared = ctx.settings.delivery.reusable_workflow_checks
    key = next((k for k in (uses, uses.split("@", 1)[0]) if k in declared), None)
    if key is not None:
        out.checks |= set(declared[key])
    else:
        out.remote.append(uses)


def _composite_checks(ctx: "Context", uses: str, depth: int) -> set[str]:
    """Checks run by a local composite action (`uses: ./path`)."""
    from kohalint.documents.shell import parse_shell

    base = posixpath.normpath(uses)
    doc = None
    for name in ("action.yml", "action.yaml"):
        doc = ctx.docs.yaml(posixpath.join(base, name))
        if doc is not None:
            break
    runs = doc.get("runs") if isinstance(doc, YMap) else None
    steps = runs.get("steps") if isinstance(runs, YMap) else None
    found: set[str] = set()
    if not isinstance(steps, YSeq) or depth >= _MAX_DEPTH:
        return found
    for item in steps.items:
        if not isinstance(item, YMap):
            continue
        uses_node = item.get("uses")
        if isinstance(uses_node, YScalar):
            text = uses_node.text().strip()
            name = action_name(text)
            if name in CHECK_ACTIONS:
                found |= CHECK_ACTIONS[name]
            elif text.startswith("./"):
                found |= _composite_checks(ctx, text, depth + 1)
        run = item.get("run")
        if isinstance(run, YScalar) and run.text().strip():
            env = shell_assignments(run.text())
            for cmd in parse_shell(run.text()).commands:
                found |= command_checks(tuple(substitute(w, env) for w in cmd.argv))
    return found


def pr_workflows(ctx: "Context") -> list[Workflow]:
    out = []
    for path in ctx.repo.files_of_kind("workflow"):
        wf = ctx.docs.get("workflow", path)
        if wf is not None and wf.has_trigger("pull_request"):
            out.append(wf)
    return out


def pr_job_checks(ctx: "Context") -> list[JobChecks]:
    return [job_checks(ctx, wf, job) for wf in pr_workflows(ctx) for job in wf.jobs]


def context_satisfies(context: str, check: str, jobs: list[JobChecks]) -> bool:
    """A status-check context name stands for `check`: by name ("hadolint",
    "Trivy config scan") or by naming a pull-request job that runs it."""
    c = context.strip().lower()
    if _loose(c, check):
        return True
    for jc in jobs:
        if check in jc.checks and (c in jc.context_names() or
                                   re.sub(r"\s*\(.*\)$", "", c) in jc.context_names()):
            return True
    return False


def _loose(context: str, check: str) -> bool:
    if check == "secret-scan" and any(s in context for s in ("gitleaks", "trufflehog", "detect-secrets",
                                                              "ggshield", "secret")):
        return True
    parts = [p for p in re.split(r"[-_ ]+", check.lower()) if p]
    return bool(parts) and all(p in context for p in parts)
