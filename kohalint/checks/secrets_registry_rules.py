"""The secrets registry rules: it exists and validates (KL107), covers the
required categories and every secret the repository references (KL108),
its rotation dates hold (KL109), and its rotation runbook exists (KL110).

Only KL107 speaks when the registry is missing, and only in a deployment
repository (one with a compose project, or `areas:` naming a deployment
area): the content rules stay silent then.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.yamldoc import YMap, YScalar, YSeq, walk
from kohalint.models import Finding, Severity
from kohalint.rules import check
from kohalint.secret_values import is_secret_name, parse_assignment
from kohalint.secrets_registry import LoadedRegistry

_DEPLOYMENT_AREAS = {"runtime", "observability", "recovery"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)")
_GH_SECRET = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_READS = {"yaml", "compose", "workflow", "dotenv"}


def deployment_role(ctx: Context) -> bool:
    if ctx.settings.areas is not None:
        return any(getattr(a, "value", a) in _DEPLOYMENT_AREAS for a in ctx.settings.areas)
    return bool(ctx.repo.files_of_kind("compose"))


def registry(ctx: Context) -> tuple[str, Optional[LoadedRegistry]]:
    path = ctx.settings.secrets.registry
    if not ctx.repo.exists(path):
        return path, None
    return path, ctx.docs.get("secrets-registry", path)


@check("KL107", "secret-registry-invalid", target="repository", reads=_READS)
def registry_invalid(ctx: Context) -> Iterator[Finding]:
    path, reg = registry(ctx)
    if not ctx.repo.exists(path):
        if deployment_role(ctx):
            yield ctx.finding(path, 1, f"no secrets registry at {path} (missing: create it): list every "
                              "secret with its owner, store and rotation dates (schema: "
                              "docs/schemas/secrets-registry.schema.json)", identity="missing")
        return
    if reg is None:
        err = ctx.docs.errors.get(path)
        yield ctx.finding(path, err.line if err else 1, "the secrets registry cannot be read as YAML "
                          f"({err.message if err else 'unreadable'})", identity="unreadable")
        return
    for e in reg.errors:
        yield ctx.finding(path, e.line, f"secrets registry: {e.message}", column=e.column,
                          identity=e.message)


@check("KL108", "secret-registry-coverage", target="repository", reads=_READS)
def registry_coverage(ctx: Context) -> Iterator[Finding]:
    path, reg = registry(ctx)
    if reg is None:
        return
    categories = {e.model.category for e in reg.entries}
    line = reg.key_line("secrets")
    for cat in ctx.settings.secrets.required_categories:
        if cat not in categories:
            yield ctx.finding(path, line, f"the secrets registry has no '{cat}' secret: list the {cat} "
                              "credentials the deployment uses", identity=f"category|{cat}")
    known = {e.model.name.upper() for e in reg.entries}
    seen: set[tuple[str, str, int]] = set()
    for name, where, lno, source in _references(ctx):
        if name.upper() in known or (name, where, lno) in seen:
            continue
        seen.add((name, where, lno))
        yield ctx.finding(where, lno, f"{name} ({source}) has no entry in the secrets registry {path}: "
                          "add its owner, store and rotation dates", identity=f"drift|{name}")


def _references(ctx: Context) -> Iterator[tuple[str, str, int, str]]:
    """(name, file, line, what references it), in file order; in a
    pre-commit run only the passed files, where a finding can land."""
    pattern = ctx.settings.secrets.name_pattern
    for cpath in ctx.repo.files_of_kind("compose"):
        if not ctx.reports_on(cpath):
            continue
        for node in walk(ctx.docs.yaml(cpath)):
            if isinstance(node, YMap):
                yield from _compose_map_refs(node, pattern)
            elif isinstance(node, YSeq):
                for item in node.items:
                    if isinstance(item, YScalar) and isinstance(item.value, str) and "=" in item.value:
                        key, _, value = item.value.partition("=")
                        yield from _vars(value, item, pattern, is_secret_name(key.strip(), pattern))
    templates = set(ctx.settings.env_templates)
    for tpath in ctx.repo.files:
        name = posixpath.basename(tpath)
        if not (name in templates or tpath in templates or name.endswith(".env.example")) \
                or not ctx.reports_on(tpath):
            continue
        for no, text in enumerate((ctx.repo.read_text(tpath) or "").splitlines(), start=1):
            parsed = parse_assignment(text)
            if parsed and is_secret_name(parsed[0], pattern):
                yield parsed[0], tpath, no, f"in {name}"
    for wpath in ctx.repo.files_of_kind("workflow"):
        if not ctx.reports_on(wpath):
            continue
        for no, text in enumerate((ctx.repo.read_text(wpath) or "").splitlines(), start=1):
            if "secrets" not in text:
                continue
            for expr in _EXPR.findall(text):
                for m in _GH_SECRET.finditer(expr):
                    name = m.group(1) or m.group(2)
                    if name and name.upper() != "GITHUB_TOKEN":
                        yield name, wpath, no, "a workflow secret"


def _compose_map_refs(node: YMap, pattern: str) -> Iterator[tuple[str, str, int, str]]:
    for key, value in node.items():
        if isinstance(value, YScalar) and isinstance(value.value, str) and "$" in value.value:
            yield from _vars(value.value, value, pattern, is_secret_name(key, pattern))


def _vars(text: str, node: YScalar, pattern: str, secret_key: bool) -> Iterator[tuple[str, str, int, str]]:
    for m in _VAR.finditer(text.replace("$$", "")):
        name = m.group(1) or m.group(2)
        if secret_key or is_secret_name(name, pattern):
            yield name, node.path, node.line, "referenced in compose"


@check("KL109", "secret-rotation-overdue", target="repository", reads=_READS)
def rotation_overdue(ctx: Context) -> Iterator[Finding]:
    path, reg = registry(ctx)
    if reg is None:
        return
    today: datetime.date = ctx.today
    soon = ctx.settings.secrets.due_soon_days
    for e in reg.entries:
        m = e.model
        if m.compromised and m.compromised_on is not None and m.last_rotated <= m.compromised_on:
            yield ctx.finding(path, e.line_of("last_rotated"), f"{m.name} was marked compromised on "
                              f"{m.compromised_on} and has not been rotated since (last rotated "
                              f"{m.last_rotated}): rotate it now", identity=f"{m.name}|compromised")
            continue
        due = m.last_rotated + datetime.timedelta(days=m.rotation_period_days)
        days = (due - today).days
        if days < 0:
            yield ctx.finding(path, e.line_of("last_rotated"), f"{m.name} is overdue for rotation by "
                              f"{-days} days (due {due}, every {m.rotation_period_days} days)",
                              identity=f"{m.name}|overdue")
        elif days <= soon:
            yield ctx.finding(path, e.line_of("last_rotated"), f"{m.name} is due for rotation in {days} "
                              f"days ({due})", severity=Severity.medium, identity=f"{m.name}|due-soon")


@check("KL110", "rotation-runbook-missing", target="repository", reads=_READS)
def runbook_missing(ctx: Context) -> Iterator[Finding]:
    path, reg = registry(ctx)
    if reg is None or not isinstance(reg.node, YMap):
        return
    node = reg.runbook
    if node is None:
        yield ctx.finding(path, reg.key_line("rotation_runbook"), "the secrets registry names no "
                          "rotation_runbook: write down how each secret is rotated and point to it",
                          identity="unset")
        return
    target = node.text().strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", target, re.I):
        return  # a wiki page: cannot be checked offline
    candidates = [posixpath.normpath(target.lstrip("/")),
                  posixpath.normpath(posixpath.join(posixpath.dirname(path), target))]
    found = next((c for c in candidates if ctx.repo.exists(c)), None)
    if found is None:
        yield ctx.finding(path, node.line, f"rotation_runbook `{target}` does not exist", column=node.column,
                          identity="missing")
    elif not (ctx.repo.read_text(found) or "").strip():
        yield ctx.finding(path, node.line, f"rotation_runbook `{target}` is empty", column=node.column,
                          identity="empty")
