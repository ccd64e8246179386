"""KL209: workflows an outsider can make run their own code.

Two shapes: a privileged trigger (`pull_request_target`, `workflow_run`) that
checks out the pull request's head, and `${{ }}` expressions of
attacker-controlled fields written into a script, where GitHub pastes the
value into the text before the shell (or github-script) runs it. The same
value passed through `env:` and read as `"$VAR"` is data, not code.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.workflow import Job, Step, Workflow
from kohalint.documents.yamldoc import YMap, YScalar
from kohalint.models import Finding, Severity
from kohalint.rules import check

PRIVILEGED = ("pull_request_target", "workflow_run")
_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.(head|merge_commit_sha)|github\.head_ref|refs/pull/|"
    r"github\.event\.workflow_run\.(head|pull_requests)|github\.event\.number", re.I)
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_ANY = r"\.[^.\s()]+"  # one path element, `*` or an index after normalising
# Fields anyone who can open an issue, a pull request, a comment or push a
# branch chooses freely (GitHub's own list of untrusted inputs, widened to
# commit authors and label names).
UNTRUSTED = [re.compile(p) for p in (
    r"\bgithub\.head_ref\b",
    r"\bgithub\.event\.(issue|pull_request|discussion)\.(title|body)\b",
    r"\bgithub\.event\.(comment|review|review_comment)\.body\b",
    r"\bgithub\.event\.pull_request\.head\.(ref|label|repo\.default_branch)\b",
    r"\bgithub\.event\.(issue|pull_request|discussion)\.labels" + _ANY + r"\.name\b",
    r"\bgithub\.event\.label\.name\b",
    r"\bgithub\.event\.pages" + _ANY + r"\.page_name\b",
    r"\bgithub\.event\.(commits" + _ANY + r"|head_commit)\.(message|author\.(email|name)|"
    r"committer\.(email|name))\b",
    r"\bgithub\.event\.workflow_run\.(head_branch|display_title|head_commit\.(message|"
    r"author\.(email|name)|committer\.(email|name))|pull_requests" + _ANY + r"\.head\.ref)\b",
    r"\btojson\(\s*github\.event\s*\)",
)]
_INPUT = re.compile(r"\b(?:github\.event\.)?inputs\.([a-z0-9_-]+)")
_ENV_REF = re.compile(r"\benv\.([a-z0-9_-]+)")
_SAFE_INPUT_TYPES = ("boolean", "number", "choice", "environment")


def normalise(expr: str) -> str:
    """`github.event['issue'].title` and `commits[0]` -> dotted, lower case."""
    out = re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", expr.strip())
    out = re.sub(r"\[\s*(\*|\d+)\s*\]", r".\1", out)
    return out.lower()


@check("KL209", "dangerous-workflow", target="workflow")
def dangerous_workflow(wf: Workflow, ctx: Context) -> Iterator[Finding]:
    privileged = [t for t in PRIVILEGED if wf.has_trigger(t)]
    if privileged:
        yield from _head_checkouts(wf, ctx, privileged[0])
    safe_inputs = _typed_inputs(wf)
    for job in wf.jobs:
        for step in job.steps:
            for script in _scripts(step):
                yield from _injections(wf, ctx, job, step, script, safe_inputs)


def _head_checkouts(wf: Workflow, ctx: Context, trigger: str) -> Iterator[Finding]:
    for job in wf.jobs:
        for step in job.steps:
            if step.action == "actions/checkout":
                for key in ("ref", "repository"):
                    node = step.input(key)
                    if node is not None and _PR_HEAD.search(node.text()):
                        yield ctx.at(node, f"`{trigger}` runs with secrets and a write token, and job "
                                     f"'{job.id}' checks out the pull request's code "
                                     f"(`{key}: {_short(node.text())}`): any build or script from it "
                                     "runs with those rights. Use `pull_request`, or never run the "
                                     "checked-out code", identity=f"checkout|{job.id}|{step.index}")
                        break
    for job, step, cmd in wf.commands():
        words = " ".join(cmd.argv)
        if (cmd.basename == "gh" and cmd.argv[1:3] == ("pr", "checkout")) or (
                cmd.basename == "git" and cmd.argv[1:2] in (("fetch",), ("checkout",), ("pull",))
                and _PR_HEAD.search(words)):
            yield ctx.finding(wf.path, cmd.line, f"`{trigger}` runs with secrets and a write token, and "
                              f"job '{job.id}' fetches the pull request's code with `{cmd.argv[0]} "
                              f"{cmd.argv[1]}`: anything it runs from it has those rights",
                              column=cmd.column, identity=f"fetch|{job.id}|{step.index}")


def _scripts(step: Step) -> list[tuple[YScalar, str]]:
    out = [(s, "shell script") for s in step.scripts()]
    if step.action == "actions/github-script":
        node = step.input("script")
        if node is not None:
            out.append((node, "github-script code"))
    return out


def _typed_inputs(wf: Workflow) -> set[str]:
    """Inputs whose type keeps them from carrying text (boolean, choice, ...)."""
    safe: set[str] = set()
    for event in ("workflow_dispatch", "workflow_call"):
        cfg = wf.triggers.get(event)
        inputs = cfg.get("inputs") if isinstance(cfg, YMap) else None
        if isinstance(inputs, YMap):
            for name, spec in inputs.items():
                kind = spec.get_text("type") if isinstance(spec, YMap) else None
                if (kind or "").strip().lower() in _SAFE_INPUT_TYPES:
                    safe.add(name.lower())
    return safe


def _untrusted(expr: str, env: dict[str, str], safe_inputs: set[str],
               depth: int = 0) -> Optional[tuple[str, bool]]:
    """(what is untrusted, from an input?) for one expression, or None."""
    norm = normalise(expr)
    for pat in UNTRUSTED:
        m = pat.search(norm)
        if m:
            return m.group(0), False
    m = _INPUT.search(norm)
    if m and m.group(1) not in safe_inputs and not norm.startswith(("secrets.", "vars.")):
        return m.group(0), True
    if depth < 3:
        for ref in _ENV_REF.finditer(norm):
            value = next((v for k, v in env.items() if k.lower() == ref.group(1)), "")
            for inner in _EXPR.finditer(value):
                found = _untrusted(inner.group(1), env, safe_inputs, depth + 1)
                if found:
                    return f"{ref.group(0)} (= {found[0]})", found[1]
    return None


def _injections(wf: Workflow, ctx: Context, job: Job, step: Step, script: tuple[YScalar, str],
                safe_inputs: set[str]) -> Iterator[Finding]:
    node, lang = script
    text = node.text()
    if "${{" not in text:
        return
    env = wf.step_env(job, step)
    first = wf.script_offset(node) + 1
    block = first > node.line
    for m in _EXPR.finditer(text):
        found = _untrusted(m.group(1), env, safe_inputs)
        if not found:
            continue
        what, from_input = found
        shown = _short(m.group(1).strip())
        line = first + text.count("\n", 0, m.start()) if block else node.line
        column = _column(wf, line, m.group(0), node)
        var = re.sub(r"[^A-Za-z0-9]+", "_", what.split(" ")[0].rsplit(".", 1)[-1]).upper().strip("_")
        read = f'"${var}"' if lang == "shell script" else f"process.env.{var}"
        who = ("whoever starts the workflow chooses it" if from_input
               else "anyone who can open an issue or pull request, comment or push a branch sets it")
        if " (= " in what:
            source = what.split(" (= ", 1)[1].rstrip(")")
            fix = f"read {read} instead (`{var}` is already in `env:`)"
            msg = (f"`${{{{ {shown} }}}}` pastes `{source}` into the {lang} of job '{job.id}' "
                   f"before it runs, and {who}: {fix}")
        else:
            msg = (f"`${{{{ {shown} }}}}` is pasted into the {lang} of job '{job.id}' before it "
                   f"runs, and {who}: pass it through `env:` (`{var}: ${{{{ {shown} }}}}`) and read "
                   f"{read} instead")
        yield ctx.finding(
            wf.path, line, msg, column=column,
            severity=Severity.high if from_input else None,
            identity=f"inject|{job.id}|{step.index}|{what}")


def _column(wf: Workflow, line: int, expr: str, node: YScalar) -> int:
    src = wf.lines[line - 1] if 0 < line <= len(wf.lines) else ""
    at = src.find(expr)
    if at < 0:
        at = src.find("${{")
    return at + 1 if at >= 0 else node.column


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."
