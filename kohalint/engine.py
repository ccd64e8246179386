"""The scan: repository -> documents -> checks -> findings -> suppressions.

Checks run one document at a time; an exception in a check becomes KL003 for
that document and the scan goes on (fail closed: exit 2, never silently green).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import posixpath
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional

from kohalint.config import Settings
from kohalint.context import Context
from kohalint.documents.store import Documents
from kohalint.globs import glob_match
from kohalint.limits import apply_limits, run_rule_by_target
from kohalint.models import Finding, Location, Report, Severity
from kohalint.repository import Repository
from kohalint.rules import Check, registry
from kohalint.suppressions import apply_suppressions

if TYPE_CHECKING:
    from kohalint.workers import Results

AREA_ORDER = ("security", "delivery", "supply-chain", "runtime", "observability", "recovery")


def selected_checks(settings: Settings) -> list[Check]:
    wanted = registry.resolve(settings.select + settings.extend_select)
    wanted -= registry.resolve(settings.ignore)
    checks = [c for c in registry if c.id in wanted]
    if settings.areas is not None:
        areas = {a.value for a in settings.areas} | {"engine"}
        checks = [c for c in checks if c.area.value in areas]
    return checks


def run_scan(root: Path, settings: Settings, *, only_files: Optional[Iterable[str]] = None,
             run_all: bool = False, today: Optional[datetime.date] = None,
             inline_suppressions: bool = True) -> Report:
    apply_limits(settings)  # node, depth and parse-time caps live where the parsers read them
    repo = Repository(root, exclude=settings.exclude, max_file_bytes=settings.max_file_bytes)
    docs = Documents(repo, settings)
    ctx = Context(repo, docs, settings, today or datetime.date.today())
    checks = selected_checks(settings)
    only = _only_set(repo, only_files)
    ctx.only = frozenset(only) if only is not None else None
    findings: list[Finding] = []
    report = Report(root=str(repo.root), rules_run=[c.id for c in checks], files_scanned=len(repo.files))
    from kohalint.workers import PER_FILE_TARGETS, run_per_file, run_split

    # Large repositories: the per-file rules run on every core first; their
    # findings are put back below in the order this loop produces them.
    done = run_per_file(ctx, checks, only, run_all, _call, _internal_error)
    if done is not None:
        report.internal_error |= done.internal_error

    def run_one(chk: Check) -> tuple[list[Finding], bool]:
        # Each rule runs guarded: an exception on one file is KL003 for that
        # file, running past limits.rule-timeout stops the rule with KL003.
        ctx.check = chk
        where: dict[str, str] = {}
        per_target, failed = run_rule_by_target(ctx, chk, _targets(chk, ctx, only, run_all, where), _call,
                                                _internal_error, settings.limits.rule_timeout, where)
        return [f for _, found in per_target for f in found], failed

    in_process = [c for c in checks if c.target != "engine" and c.func is not None
                  and not (done is not None and c.target in PER_FILE_TARGETS)]
    # ... and then the repository and compose rules on both cores as well.
    ran = run_split(ctx, in_process, run_one) if done is not None else {}
    for chk in checks:
        if chk.target == "engine" or chk.func is None:
            continue
        if done is not None and chk.target in PER_FILE_TARGETS:
            kind = chk.target
            for path in repo.files if kind == "text" else repo.files_of_kind(kind):
                if only is None or run_all or path in only:
                    findings.extend(done.take(chk.id, path))
            continue
        found, failed = ran.pop(chk.id) if chk.id in ran else run_one(chk)
        findings.extend(found)
        report.internal_error |= failed
    ids = {c.id for c in checks}
    if "KL001" in ids:
        crashed = _parse_everything(ctx, only)
        findings.extend(crashed)
        report.internal_error |= bool(crashed)
        for path, err in sorted(docs.errors.items()):
            findings.append(ctx.finding(err.path or path, err.line, f"cannot parse: {err.message}",
                                        column=err.column, rule_id="KL001"))
    findings = _post_process(findings, settings, only)
    if inline_suppressions and not settings.no_inline_suppressions:
        sups = apply_suppressions(findings, _suppression_reader(repo, done), _resolve_selector,
                                  require_reason=settings.require_suppression_reason,
                                  scanned_paths=[p for p in repo.files if (only is None or p in only)
                                                 and _holds_suppressions(repo, p)])
        if "KL002" in ids:
            unused = []
            for s in sups:
                if s.used or not any(_resolve_selector(t) in ids for t in s.targets):
                    continue
                why = ("has no reason (required by require-suppression-reason)"
                       if settings.require_suppression_reason and not s.reason
                       else "matched no finding")
                unused.append(ctx.finding(s.path, s.line, f"suppression of {', '.join(s.targets)} {why}",
                                          column=s.column, rule_id="KL002"))
            # KL002 obeys per-file-ignores and severity overrides like every rule
            findings.extend(_post_process(unused, settings, only))
    lines: dict[str, list[str]] = {}
    states: dict = {}
    for f in findings:
        f.fingerprint = fingerprint(f, repo, lines, states)
    report.findings = sorted(_dedupe(findings), key=Finding.sort_key)
    report.notes = sorted(set(repo.notes), key=lambda n: (n.path, n.message))
    return report


def _suppression_reader(repo: Repository, done: Optional[Results]) -> Callable[[str], Optional[str]]:
    """`repo.read_text`, except for the files a worker read and found without a
    `kohalint:` comment: no need to read them again to look for suppressions."""
    if done is None or not done.unmarked:
        return repo.read_text
    skip, read = done.unmarked, repo.read_text
    return lambda path: "" if path in skip else read(path)


# Kinds whose files are parsed for KL001 even when no selected rule reads them.
STRICT_KINDS = {"compose": "yaml", "workflow": "yaml", "dockerfile": "dockerfile", "optionfile": "optionfile",
                "shell": "shell"}


def _parse_everything(ctx: Context, only: Optional[set[str]]) -> list[Finding]:
    """Parse the strict kinds for KL001; a parser that raises anything but its
    ParseError is KL003 for that file (fail closed), not a traceback."""
    docs = ctx.docs
    failed = []
    for kind, parser in STRICT_KINDS.items():
        for path in docs.repo.files_of_kind(kind):
            if only is None or path in only:
                try:
                    docs.get(parser, path)
                except Exception as exc:  # noqa: BLE001 - a parser bug
                    kl001 = registry.get("KL001")
                    assert kl001 is not None
                    failed.append(_internal_error(ctx, kl001, path, exc))
    return failed


def _only_set(repo: Repository, only_files: Optional[Iterable[str]]) -> Optional[set[str]]:
    """The passed files as root-relative paths (pre-commit gives them relative to cwd)."""
    if only_files is None:
        return None
    out = set()
    for p in only_files:
        try:
            full = Path(os.path.abspath(p))
            full = Path(os.path.realpath(full.parent)) / full.name  # keep a symlinked file itself
            out.add(full.relative_to(repo.root).as_posix())
        except ValueError:
            out.add(posixpath.normpath(Path(p).as_posix()))
    return out


def _targets(chk: Check, ctx: Context, only: Optional[set[str]], run_all: bool,
             where: Optional[dict[str, str]] = None) -> Iterator[tuple[str, object]]:
    """(path, document) for each target of `chk`; `where["path"]` names the file being parsed."""
    repo, docs = ctx.repo, ctx.docs
    where = {} if where is None else where
    if chk.target == "repository":
        if only is None or run_all or any(repo.kinds(p) & chk.reads for p in only):
            yield "", None
        return
    if chk.target == "compose":
        for project in docs.compose_projects():
            if only is None or run_all or set(project.files) & only:
                yield project.files[0], project
        return
    kind = chk.target
    paths = repo.files if kind == "text" else repo.files_of_kind(kind)
    for path in paths:
        if only is not None and not run_all and path not in only:
            continue
        where["path"] = path
        doc = docs.get(kind, path) if kind != "text" else path
        if doc is not None:
            yield path, doc


def _call(chk: Check, doc: object, ctx: Context) -> list[Finding]:
    assert chk.func is not None
    result = chk.func(ctx) if chk.target == "repository" else chk.func(doc, ctx)
    return list(result or ())


def _internal_error(ctx: Context, chk: Check, path: str, exc: BaseException) -> Finding:
    # Name the exception type and where in kohalint it happened, never its
    # message: messages can carry file content, and file content can be secret.
    tb = traceback.extract_tb(exc.__traceback__)
    frame = next((f for f in reversed(tb) if "kohalint" in f.filename), tb[-1] if tb else None)
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    if "--debug" in sys.argv:
        traceback.print_exception(exc)
    return ctx.finding(path or ".", 1, f"rule {chk.id} failed on this file: "
                       f"{type(exc).__name__}{where}; please report it", rule_id="KL003")


def _holds_suppressions(repo: Repository, path: str) -> bool:
    """Files of a kind kohalint reads and that can carry `#`/`;` comments.

    Prose and source code (a README showing the syntax, a test building a
    fixture) quote suppression comments without meaning them, so they are
    only searched when a finding lands in them.
    """
    return bool(repo.kinds(path) - {"json"})


def _resolve_selector(token: str) -> Optional[str]:
    chk = registry.get(token)
    return chk.id if chk else token.upper()


def _post_process(findings: list[Finding], settings: Settings, only: Optional[set[str]]) -> list[Finding]:
    overrides = {}
    for key, sev in settings.severity.items():
        for rid in registry.resolve([key]):
            overrides[rid] = sev
    per_file = [(glob, registry.resolve(codes)) for glob, codes in settings.per_file_ignores.items()]
    out = []
    for f in findings:
        if only is not None and f.location.path not in only and f.rule_id != "KL003":
            continue
        if any(f.rule_id in codes and glob_match(glob, f.location.path) for glob, codes in per_file):
            continue
        if f.rule_id in overrides:
            f.severity = overrides[f.rule_id]
        out.append(f)
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and place: the same line seen from several compose projects."""
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.location.path, f.location.line, f.location.column, f.message)
        loose = (f.rule_id, f.location.path, f.location.line, f.location.column, f.identity)
        if key in seen or (f.identity and loose in seen):
            continue
        seen.add(key)
        if f.identity:
            seen.add(loose)
        out.append(f)
    return out


def fingerprint(f: Finding, repo: Repository, cache: Optional[dict[str, list[str]]] = None,
                states: Optional[dict[tuple[str, str, int], "hashlib._Hash"]] = None) -> str:
    """Stable across line moves and unrelated edits: rule, file and what is flagged.

    `cache` keeps each file's lines across calls (one split per file, not per
    finding); `states` keeps, per (rule, file, line), the hash of everything
    but the message, so that many findings on one long line hash it once."""
    path = f.location.path
    if f.identity:
        digest = hashlib.sha256(f"{f.rule_id}|{path}|{f.identity}".encode("utf-8", "replace"))
        return digest.hexdigest()[:32]
    key = (f.rule_id, path, f.location.line)
    state = states.get(key) if states is not None else None
    if state is None:
        lines = cache.get(path) if cache is not None else None
        if lines is None:
            lines = (repo.read_text(path) or "").splitlines()
            if cache is not None:
                cache[path] = lines
        content = lines[f.location.line - 1] if 0 < f.location.line <= len(lines) else ""
        # hashed right away: the flagged line may hold a secret
        state = hashlib.sha256(f"{f.rule_id}|{path}|{' '.join(content.split())}|".encode("utf-8", "replace"))
        if states is not None:
            states[key] = state
    digest = state.copy()
    digest.update(f.message.encode("utf-8", "replace"))
    return digest.hexdigest()[:32]


def exit_code(report: Report, threshold: Severity) -> int:
    if report.internal_error:
        return 2
    return 1 if any(f.severity.rank >= threshold.rank for f in report.active) else 0
