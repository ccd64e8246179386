"""KL207: the default branch's protection, declared as code.

kohalint reads files only, so it judges what the repository declares: the
Probot settings app's `.github/settings.yml` (`branches: [{name, protection}]`,
the REST API's branch-protection body) and GitHub ruleset exports in
`.github/rulesets/*.json` (`target: branch`, `conditions.ref_name.include`,
rules such as `pull_request`, `required_status_checks`, `non_fast_forward`).
All declarations that apply to the default branch are combined, as GitHub
layers rulesets and branch protection.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from kohalint.checks.workflow_tools import context_satisfies, pr_job_checks
from kohalint.context import Context
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq, load_yaml
from kohalint.errors import ParseError
from kohalint.models import Finding
from kohalint.rules import check

SETTINGS = ".github/settings.yml"
RULESETS_DIR = ".github/rulesets/"
_READS_ONLY = "kohalint reads only files: protection set in GitHub's settings page is not visible to it"


@dataclass
class _Declared:
    review: bool = False
    no_force_push: bool = False
    contexts: list[str] = field(default_factory=list)
    anchor: Optional[tuple[str, int, int]] = None  # where a missing piece is reported


@check("KL207", "branch-protection-undeclared", target="repository", reads={"yaml", "json"})
def branch_protection_undeclared(ctx: Context) -> Iterator[Finding]:
    branch = ctx.settings.delivery.default_branch
    sources = ([SETTINGS] if ctx.repo.exists(SETTINGS) else []) + sorted(
        p for p in ctx.repo.files if p.startswith(RULESETS_DIR) and p.endswith(".json"))
    if not any(ctx.reports_on(p) for p in sources or [SETTINGS]):
        return  # pre-commit: its findings could only land on files not passed
    found = _Declared()
    for path in sources:
        if path == SETTINGS:
            _from_settings(ctx, path, branch, found)
        else:
            _from_ruleset(ctx, path, branch, found)
    if found.anchor is None:
        path = sources[0] if sources else SETTINGS
        what = (f"no rule in {', '.join(sources)} protects `{branch}`" if sources
                else f"branch protection of `{branch}` is not declared as code")
        yield ctx.finding(path, 1, f"{what}: add `.github/settings.yml` (settings app) or a ruleset in "
                          f"`.github/rulesets/` requiring pull-request review, the required status "
                          f"checks and no force pushes ({_READS_ONLY})", identity="undeclared")
        return
    path, line, column = found.anchor
    if not found.review:
        yield ctx.finding(path, line, f"protection of `{branch}` does not require an approving "
                          "pull-request review, so anyone with write access can merge or push "
                          f"unreviewed changes ({_READS_ONLY})", column=column, identity="review")
    if not found.no_force_push:
        yield ctx.finding(path, line, f"protection of `{branch}` allows force pushes, which rewrite "
                          "reviewed history: set `allow_force_pushes: false` or add a "
                          f"`non_fast_forward` rule ({_READS_ONLY})", column=column, identity="force-push")
    required = [c for c in ctx.settings.delivery.required_checks if c.strip()]
    jobs = pr_job_checks(ctx) if required else []
    missing = [c for c in required if not any(context_satisfies(x, c, jobs) for x in found.contexts)]
    if missing:
        yield ctx.finding(path, line, f"protection of `{branch}` does not require the status checks "
                          f"{', '.join(missing)} (KL204): add the names of the jobs that run them as "
                          f"required status checks ({_READS_ONLY})", column=column, identity="checks")


def _from_settings(ctx: Context, path: str, branch: str, out: _Declared) -> None:
    doc = _load(ctx, path)
    branches = doc.get("branches") if isinstance(doc, YMap) else None
    if not isinstance(branches, YSeq):
        return
    for entry in branches.items:
        if not isinstance(entry, YMap) or entry.get_text("name") not in (branch, "default"):
            continue
        prot = entry.get("protection")
        if not isinstance(prot, YMap) or not prot.keys():
            continue
        key = entry.key_node("protection")
        out.anchor = out.anchor or (path, key.line, key.column)  # type: ignore[union-attr]
        reviews = prot.get("required_pull_request_reviews")
        if isinstance(reviews, YMap):
            count = reviews.get("required_approving_review_count")
            if not (isinstance(count, YScalar) and _int(count.value) == 0):
                out.review = True
        force = prot.get("allow_force_pushes")
        if not (isinstance(force, YScalar) and force.value is True):
            out.no_force_push = True  # GitHub's protection blocks force pushes unless allowed
        checks = prot.get("required_status_checks")
        if isinstance(checks, YMap):
            out.contexts += _texts(checks.get("contexts"))
            listed = checks.get("checks")
            if isinstance(listed, YSeq):
                out.contexts += [i.get_text("context") or "" for i in listed.items if isinstance(i, YMap)]


def _from_ruleset(ctx: Context, path: str, branch: str, out: _Declared) -> None:
    doc = _load(ctx, path)
    if not isinstance(doc, YMap):
        return
    target = (doc.get_text("target") or "branch").lower()
    enforcement = (doc.get_text("enforcement") or "active").lower()
    if target != "branch" or enforcement != "active" or not _targets(doc, branch):
        return
    rules = doc.get("rules")
    if not isinstance(rules, YSeq):
        return
    key = doc.key_node("rules")
    if out.anchor is None:
        out.anchor = (path, key.line, key.column) if key is not None else (path, 1, 1)
    for rule in rules.items:
        if not isinstance(rule, YMap):
            continue
        kind = (rule.get_text("type") or "").lower()
        params = rule.get("parameters")
        if kind == "pull_request":
            count = params.get("required_approving_review_count") if isinstance(params, YMap) else None
            if not (isinstance(count, YScalar) and _int(count.value) == 0):
                out.review = True
        elif kind == "non_fast_forward":
            out.no_force_push = True
        elif kind == "required_status_checks" and isinstance(params, YMap):
            listed = params.get("required_status_checks")
            if isinstance(listed, YSeq):
                out.contexts += [i.get_text("context") or "" for i in listed.items if isinstance(i, YMap)]


def _targets(doc: YMap, branch: str) -> bool:
    cond = doc.get("conditions")
    ref = cond.get("ref_name") if isinstance(cond, YMap) else None
    if not isinstance(ref, YMap):
        return False
    full = f"refs/heads/{branch}"

    def hits(pattern: str) -> bool:
        return pattern in ("~DEFAULT_BRANCH", "~ALL") or fnmatch.fnmatchcase(full, pattern) \
            or fnmatch.fnmatchcase(branch, pattern)

    return any(hits(p) for p in _texts(ref.get("include"))) and \
        not any(hits(p) for p in _texts(ref.get("exclude")))


def _texts(node: Optional[YNode]) -> list[str]:
    if isinstance(node, YSeq):
        return [i.text() for i in node.items if isinstance(i, YScalar)]
    return []


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _load(ctx: Context, path: str) -> Optional[YNode]:
    """YAML nodes for positions; JSON that YAML rejects (tabs) is read without them."""
    text = ctx.repo.read_text(path)
    if text is None:
        return None
    try:
        return load_yaml(text, path)
    except ParseError:
        pass
    try:
        return _plain_to_nodes(json.loads(text), path)
    except (ValueError, RecursionError):
        return None


def _plain_to_nodes(value: Any, path: str) -> YNode:
    if isinstance(value, dict):
        return YMap({str(k): (YScalar(str(k), path, 1, 1), _plain_to_nodes(v, path))
                     for k, v in value.items()}, path, 1, 1)
    if isinstance(value, list):
        return YSeq([_plain_to_nodes(v, path) for v in value], path, 1, 1)
    return YScalar(value, path, 1, 1)
