"""Alerting rules and runbooks (KL503, KL504).

A Prometheus rule file is found by what it holds, not by its name: any YAML
file with `groups:` whose rules have `alert:` (also inside a Kubernetes
PrometheusRule's `spec:`). Only files whose text mentions both keys are parsed,
and Helm chart templates (Go templates, not YAML until rendered) are skipped, so
this rule adds no parse errors for files nobody meant as YAML.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional
from urllib.parse import unquote, urlsplit

from kohalint.context import Context
from kohalint.documents.store import Documents, register_parser
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq
from kohalint.models import Area, Finding
from kohalint.roles import plays_deployment_role
from kohalint.rules import check

_GROUPS = re.compile(r"^\s*(groups|spec)\s*:", re.M)
_ALERT = re.compile(r"^\s*-?\s*alert\s*:", re.M)
_HEADING = re.compile(r"^#{1,6}\s+(.*?)(\s+#+)?\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_FILE_URL = re.compile(r"^/[^/]+/[^/]+(?:/-)?/(?:blob|tree|raw)/[^/]+/(.+)$")
_RUNBOOK_KEYS = ("runbook_url", "runbook")

_SITUATIONS = {
    "container-down": "no alert for a container or healthcheck that is down (e.g. `up == 0`)",
    "http-5xx": "no alert for a spike of HTTP 5xx responses",
    "low-disk": "no alert for low disk space (e.g. on node_filesystem_avail_bytes)",
    "backup-failure": "no alert for a failed or stale backup or restore test",
}
_SCENARIOS = {"db-down": "database down", "queue-backlog": "queue backlog", "disk-full": "disk full"}


@dataclass
class AlertRule:
    path: str
    node: YMap
    name: str
    expr: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: Optional[YMap] = None
    label_map: Optional[YMap] = None

    def fields(self) -> list[str]:
        """What alert patterns are searched in, one string each."""
        return [self.name, self.expr] + [f"{k}={v}" for k, v in self.labels.items()]


def _text(node: Optional[YNode]) -> str:
    return node.text() if isinstance(node, YScalar) else ""


def _is_candidate(path: str, text: str) -> bool:
    if "templates" in path.split("/")[:-1] and "{{" in text:
        return False
    return bool(_GROUPS.search(text) and _ALERT.search(text))


@register_parser("alert-rules")
def _parse_alert_rules(text: str, path: str, docs: Documents) -> Optional[list[AlertRule]]:
    """The alerting rules of a Prometheus rule file; None when it is not one."""
    if not _is_candidate(path, text):
        return None
    doc = docs.yaml(path)
    if not isinstance(doc, YMap):
        return None
    groups = doc.get("groups")
    if groups is None and isinstance(doc.get("spec"), YMap):
        groups = doc.get("spec").get("groups")  # type: ignore[union-attr]
    if not isinstance(groups, YSeq):
        return None
    out: list[AlertRule] = []
    for group in groups.items:
        rules = group.get("rules") if isinstance(group, YMap) else None
        if not isinstance(rules, YSeq):
            continue
        for rule in rules.items:
            if not isinstance(rule, YMap) or "alert" not in rule:
                continue
            labels = rule.get("labels")
            out.append(AlertRule(
                path=path, node=rule, name=_text(rule.get("alert")), expr=_text(rule.get("expr")),
                labels={k: _text(v) for k, v in labels.items()} if isinstance(labels, YMap) else {},
                annotations=rule.get("annotations") if isinstance(rule.get("annotations"), YMap) else None,
                label_map=labels if isinstance(labels, YMap) else None))
    return out or None


def alert_rule_files(ctx: Context) -> tuple[list[tuple[str, list[AlertRule]]], list[str]]:
    """(rule files with their alerts, candidate rule files that do not parse)."""
    found, broken = [], []
    for path in ctx.repo.files_of_kind("yaml"):
        kinds = ctx.repo.kinds(path)
        if "compose" in kinds or "workflow" in kinds:
            continue
        rules = ctx.docs.get("alert-rules", path)
        if rules:
            found.append((path, rules))
        elif path in ctx.docs.errors:
            if _is_candidate(path, ctx.repo.read_text(path) or ""):
                broken.append(path)
    return found, broken


def _may_report(ctx: Context, also: Callable[[str], bool]) -> bool:
    """KL503/KL504 report on alert-rule files (YAML that is neither compose nor
    a workflow) and on `also` (the default rules file, the runbooks): in
    pre-commit mode without such a file, the rule files are not read."""
    if ctx.only is None:
        return True
    for path in ctx.only:
        kinds = ctx.repo.kinds(path)
        if also(path) or ("yaml" in kinds and not kinds & {"compose", "workflow"}):
            return True
    return False


@check("KL503", "alert-missing", target="repository", reads={"yaml"})
def alert_missing(ctx: Context) -> Iterator[Finding]:
    opts = ctx.settings.observability
    if not _may_report(ctx, lambda p: p == opts.alert_rules_file):
        return
    files, broken = alert_rule_files(ctx)
    if broken:
        return  # KL001 reports them; what they would alert on is unknown
    if not files and not plays_deployment_role(ctx, Area.observability):
        return
    rules = [r for _, rs in files for r in rs]
    path = files[0][0] if files else opts.alert_rules_file
    for situation, patterns in opts.alerts.items():
        compiled = [re.compile(p) for p in patterns]
        if any(p.search(text) for r in rules for text in r.fields() for p in compiled):
            continue
        what = _SITUATIONS.get(situation, f"no alert for '{situation}'")
        if files:
            counted = (f"{len(rules)} alerting rule{'s' if len(rules) != 1 else ''} in {len(files)} "
                       f"rule file{'s' if len(files) != 1 else ''}")
            where = f"none of the {counted} matches the `{situation}` patterns (observability.alerts)"
        else:
            where = (f"the repository has no Prometheus alerting rules (`groups:` with `alert:` "
                     f"rules); add them, e.g. in {path}")
        yield ctx.finding(path, 1, f"{what}: {where}", identity=f"alert|{situation}")


# -- runbooks -----------------------------------------------------------------
def first_heading(text: str) -> Optional[str]:
    """The first Markdown (ATX or setext) or AsciiDoc heading, after any front matter."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        start = end + 1 if end is not None else 0
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line:
            continue
        m = _HEADING.match(line)
        if m:
            return m.group(1)
        if line.startswith("= "):
            return line[2:].strip()
        if i + 1 < len(lines) and _SETEXT.match(lines[i + 1].strip()) and not line.startswith(("-", "*")):
            return line
    return None


def _runbook_texts(ctx: Context, directory: str) -> list[tuple[str, list[str]]]:
    """(path, [file name without extension, first heading]) of every runbook."""
    out = []
    for path in ctx.repo.in_dir(directory):
        stem = posixpath.splitext(posixpath.basename(path))[0]
        names = [stem]
        heading = first_heading(ctx.repo.read_text(path) or "")
        if heading:
            names.append(heading)
        out.append((path, names))
    return out


def repository_target(url: str, rules_path: str, ctx: Context) -> Optional[tuple[str, list[str]]]:
    """(shown path, candidate repository paths) a runbook_url names, or None when it
    names something outside this repository (a wiki, another repository)."""
    opts = ctx.settings.observability
    u = url.strip()
    if not u or "{{" in u or u.startswith(("mailto:", "#")):
        return None
    if "://" not in u and not u.startswith("//"):
        p = unquote(u.split("#", 1)[0].split("?", 1)[0])
        if p.startswith("/"):
            cands = [posixpath.normpath(p.lstrip("/"))]
        elif p.startswith(("./", "../")):
            cands = [posixpath.normpath(posixpath.join(posixpath.dirname(rules_path), p))]
        else:
            here = posixpath.dirname(rules_path)
            cands = [posixpath.normpath(p), posixpath.normpath(posixpath.join(here, p))]
        cands = [c for c in dict.fromkeys(cands) if c not in (".", "") and not c.startswith("../")]
        return (p, cands) if cands else None
    parts = urlsplit(u)
    path = unquote(parts.path)
    if opts.repository_url:
        base = urlsplit(opts.repository_url.strip().rstrip("/"))
        if parts.netloc.lower() != base.netloc.lower() or not path.startswith(base.path.rstrip("/") + "/"):
            return None
        rest = path[len(base.path.rstrip("/")):]
        m = re.match(r"^(?:/-)?/(?:blob|tree|raw)/[^/]+/(.+)$", rest)
        target = m.group(1) if m else None
    else:
        m = _FILE_URL.match(path)
        if parts.netloc.lower() == "raw.githubusercontent.com":
            m = re.match(r"^/[^/]+/[^/]+/[^/]+/(.+)$", path)
        target = m.group(1) if m else None
        directory = opts.runbooks_dir.strip("/") + "/"
        if target is not None and not target.startswith(directory):
            return None  # may well be another repository's file: do not guess
    if not target:
        return None
    target = posixpath.normpath(target.strip("/"))
    return target, [target]


def _exists(ctx: Context, path: str) -> bool:
    return ctx.repo.exists(path) or bool(ctx.repo.in_dir(path))


@check("KL504", "runbook-missing", target="repository", reads={"yaml"})
def runbook_missing(ctx: Context) -> Iterator[Finding]:
    opts = ctx.settings.observability
    directory = opts.runbooks_dir.strip("/")
    if not _may_report(ctx, lambda p: p.startswith(directory + "/")):
        return
    runbooks = _runbook_texts(ctx, directory)
    if runbooks or plays_deployment_role(ctx, Area.observability):
        for scenario, patterns in opts.runbooks.items():
            compiled = [re.compile(p) for p in patterns]
            if any(p.search(name) for _, names in runbooks for name in names for p in compiled):
                continue
            title = _SCENARIOS.get(scenario, scenario)
            fix = f"{directory}/{scenario}.md"
            yield ctx.finding(fix, 1, f"no runbook for the P1/P2 scenario '{title}': no file under "
                              f"{directory}/ whose name or first heading matches the `{scenario}` patterns "
                              f"(observability.runbooks); write {fix}", identity=f"runbook|{scenario}")
    files, _ = alert_rule_files(ctx)
    for path, rules in files:
        for rule in rules:
            yield from _dead_runbook_links(rule, path, ctx)


def _dead_runbook_links(rule: AlertRule, path: str, ctx: Context) -> Iterator[Finding]:
    for holder in (rule.annotations, rule.label_map):
        if holder is None:
            continue
        for key in _RUNBOOK_KEYS:
            node = holder.get(key)
            if not isinstance(node, YScalar) or node.unknown:
                continue
            target = repository_target(node.text(), path, ctx)
            if target is None:
                continue
            shown, candidates = target
            if any(_exists(ctx, c) for c in candidates):
                continue
            yield ctx.at(node, f"alert '{rule.name}' has a {key} that points at {shown}, which does not "
                         "exist in this repository: whoever is paged finds no runbook",
                         identity=f"runbook-url|{rule.name}|{shown}")
