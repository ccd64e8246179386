"""`kohalint fix` (and `check --fix`, `--diff`): apply the safe fixes.

A fix starts from the findings of a scan restricted to the fixable rules the
user selected, so inline suppressions, `ignore` and `per-file-ignores` are
honoured: what kohalint would not report, it does not change. Each finding is
mapped to one file and one fixer; the fixer edits text (see fix_yaml.py for
why text), and every intermediate result must parse again. A file that does
not parse, is not valid UTF-8, is a symlink, or would stop parsing is never
written. `--diff` prints a unified diff and writes nothing.

Fixed: KL402 no-new-privileges, KL403 cap_drop ALL, KL405 restart policy,
KL406 json-file rotation, KL202 top-level permissions, KL203 concurrency,
KL103 `.env` in .gitignore, KL104 `.env`/`.git` in .dockerignore.
"""

from __future__ import annotations

import argparse
import difflib
import posixpath
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from kohalint.fix_yaml import Unfixable, YamlText
from kohalint.models import Finding

COMPOSE_RULES = ("KL402", "KL403", "KL405", "KL406")
WORKFLOW_RULES = ("KL202", "KL203")
IGNORE_RULES = ("KL103", "KL104")
FIXABLE = COMPOSE_RULES + WORKFLOW_RULES + IGNORE_RULES
MAX_EDITS_PER_TASK = 20  # a fixer converges in a few edits; more means a bug, not a big file

GITIGNORE_LINES = (".env", ".env.*")
DOCKERIGNORE_LINES = (".env", ".env.*", ".git")


@dataclass
class FixResult:
    root: Path
    changes: dict[str, tuple[Optional[str], str]] = field(default_factory=dict)  # path -> (old, new)
    fixed: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)

    def diff(self) -> str:
        out = []
        for path in sorted(self.changes):
            old, new = self.changes[path]
            out.extend(difflib.unified_diff(
                (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile="/dev/null" if old is None else f"a/{path}", tofile=f"b/{path}"))
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in out)


@dataclass
class _Task:
    rule: str
    path: str
    subject: str          # service name, or "" for file-level fixes
    findings: list[Finding] = field(default_factory=list)


def fixable_rules(settings: Any) -> list[str]:
    from kohalint.engine import selected_checks

    return sorted(c.id for c in selected_checks(settings) if c.id in FIXABLE)


def run_fix(root: Path, settings: Any, *, only_files: Optional[list[str]] = None,
            write: bool = True, today: Any = None) -> FixResult:
    """Fix what the selected fixable rules report under `root`."""
    from kohalint.engine import run_scan

    rules = fixable_rules(settings)
    result = FixResult(root=Path(root).resolve())
    if not rules:
        return result
    scoped = settings.model_copy(update={"select": rules, "extend_select": [], "ignore": []})
    report = run_scan(root, scoped, only_files=only_files, today=today)
    findings = [f for f in report.active if f.rule_id in rules]
    pending: dict[str, set[str]] = {}
    for f in findings:
        if f.rule_id in COMPOSE_RULES:
            pending.setdefault(f.rule_id, set()).add(f.identity)
    tasks: dict[tuple[str, str, str], _Task] = {}
    for f in findings:
        target = _target(f, result.root, settings)
        if isinstance(target, str) and target.startswith("!"):
            result.skipped.append((f, target[1:]))
            continue
        path, subject = target
        tasks.setdefault((path, f.rule_id, subject), _Task(f.rule_id, path, subject)).findings.append(f)
    by_file: dict[str, list[_Task]] = {}
    for (path, _rule, _subject), task in sorted(tasks.items()):
        by_file.setdefault(path, []).append(task)
    for path, file_tasks in by_file.items():
        _fix_file(result, path, file_tasks, pending, settings)
    if write:
        for path, (_old, new) in sorted(result.changes.items()):
            _write(result.root / path, new)
    return result


def _target(f: Finding, root: Path, settings: Any) -> Any:
    """(file, subject) to edit for a finding, or '!reason' when there is none."""
    path = f.location.path
    if f.rule_id in COMPOSE_RULES:
        if not f.identity or "|" in f.identity:
            return "!privileged: true must be removed by a person" if f.identity.endswith("|privileged") \
                else "!no service named in the finding"
        return path, f.identity
    if f.rule_id in WORKFLOW_RULES:
        return path, ""
    if f.rule_id == "KL103":
        return (path if posixpath.basename(path) == ".gitignore" else ".gitignore"), ""
    base = posixpath.basename(path)
    if base.endswith(".dockerignore"):
        return path, ""
    if "dockerfile" in _kinds(path):
        own = f"{path}.dockerignore"
        return (own if (root / own).is_file() else posixpath.join(posixpath.dirname(path), ".dockerignore")), ""
    return "!the build context's .dockerignore could not be told from the finding"


def _kinds(path: str) -> frozenset[str]:
    from kohalint.repository import classify

    return classify(path)


def _fix_file(result: FixResult, path: str, tasks: list[_Task], pending: dict, settings: Any) -> None:
    full = result.root / path
    try:
        old = _read(full, result.root)
    except Unfixable as exc:
        result.skipped.extend((f, str(exc)) for t in tasks for f in t.findings)
        return
    text = old if old is not None else ""
    for task in tasks:
        try:
            new = _apply(task, text, old is None, pending, settings, result.root)
        except Unfixable as exc:
            result.skipped.extend((f, str(exc)) for f in task.findings)
            continue
        if new is None:
            if text != (old or ""):
                result.fixed.extend(task.findings)  # an earlier edit (a shared anchor) covered it
            else:
                result.skipped.extend((f, "kohalint found nothing to change") for f in task.findings)
            continue
        text = new
        result.fixed.extend(task.findings)
    if text != (old or "") or (old is None and text):
        result.changes[path] = (old, text)


def _apply(task: _Task, text: str, created: bool, pending: dict, settings: Any, root: Path) -> Optional[str]:
    if task.rule in IGNORE_RULES:
        lines = _ignore_lines(task.rule, settings, root)
        return _append_lines(text, lines)
    if created:
        raise Unfixable("the file does not exist")
    from kohalint.fix_compose import COMPOSE_FIXERS
    from kohalint.fix_workflow import WORKFLOW_FIXERS

    fixer: Callable[..., Optional[str]]
    if task.rule in COMPOSE_FIXERS:
        fixer, arg = COMPOSE_FIXERS[task.rule], task.subject
        extra: tuple = (pending,)
    else:
        fixer, arg, extra = WORKFLOW_FIXERS[task.rule], task.path, ()
    changed = False
    for _ in range(MAX_EDITS_PER_TASK):
        new = fixer(YamlText(text), arg, *extra)
        if new is None:
            return text if changed else None
        _must_parse(new, task.path)
        text, changed = new, True
    raise Unfixable("the fix did not converge")


def _must_parse(text: str, path: str) -> None:
    from kohalint.documents.yamldoc import load_yaml
    from kohalint.errors import ParseError

    try:
        load_yaml(text, path)
    except ParseError:
        raise Unfixable("the edit would not parse; nothing written") from None


def _ignore_lines(rule: str, settings: Any, root: Path) -> list[str]:
    if rule == "KL104":
        return ["# keep secrets and git history out of the build context (kohalint fix)",
                *DOCKERIGNORE_LINES]
    keep = [t for t in settings.env_templates if "/" not in t and (root / t).is_file()]
    return (["# environment files hold secrets (kohalint fix)", *GITIGNORE_LINES]
            + [f"!{t}" for t in (keep or [".env.example"])])


def _append_lines(text: str, lines: list[str]) -> Optional[str]:
    """Append the pattern lines `text` lacks (the first line of `lines` is their comment)."""
    have = {ln.strip() for ln in text.splitlines()}
    header, patterns = lines[0], lines[1:]
    missing = [ln for ln in patterns if ln not in have]
    if all(ln.startswith("!") for ln in missing):
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    if text and not text.endswith("\n"):
        text += nl
    return text + nl.join([header] + missing) + nl


def _read(full: Path, root: Path) -> Optional[str]:
    """The file's exact text, None when it does not exist; Unfixable when we must not touch it."""
    if full.is_symlink():
        raise Unfixable("the file is a symlink")
    try:
        full.resolve().relative_to(root)
    except ValueError:
        raise Unfixable("the file is outside the scanned root") from None
    if not full.exists():
        return None
    if not full.is_file():
        raise Unfixable("not a regular file")
    data = full.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Unfixable("the file is not valid UTF-8") from None
    if text.startswith("\ufeff"):
        raise Unfixable("the file starts with a byte-order mark")
    return text


def _write(full: Path, text: str) -> None:
    full.parent.mkdir(parents=True, exist_ok=True)
    with open(full, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


# -- command line ----------------------------------------------------------------------

def _root_and_settings(args: argparse.Namespace) -> tuple[Path, Optional[list[str]], Any]:
    from kohalint.cli import _csv
    from kohalint.config import load_settings
    from kohalint.errors import ConfigError

    paths = args.paths or ["."]
    dirs = [p for p in paths if Path(p).is_dir()]
    if any(not Path(p).exists() for p in paths):
        raise ConfigError(f"no such file or directory: {next(p for p in paths if not Path(p).exists())}")
    if dirs and len(paths) > 1:
        raise ConfigError("give one directory, or only files")
    overrides: dict[str, Any] = {}
    for key in ("select", "extend_select", "ignore"):
        value = _csv(getattr(args, key, None))
        if value is not None:
            overrides[key] = value
    root = Path(dirs[0]) if dirs else Path(".")
    return root, (None if dirs else list(paths)), load_settings(root, args.config, overrides)


def fix_from_args(args: argparse.Namespace) -> int:
    """Apply safe fixes (or, with --diff, print them); 1 when --diff shows changes."""
    root, only, settings = _root_and_settings(args)
    diff = bool(getattr(args, "diff", False))
    result = run_fix(root, settings, only_files=only, write=not diff, today=getattr(args, "today", None))
    quiet = getattr(args, "quiet", False)
    if diff:
        text = result.diff()
        out = getattr(args, "output", None) if getattr(args, "command", "") == "fix" else None
        if out is not None:
            Path(out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if not quiet:
        verb = "would fix" if diff else "fixed"
        n, files = len(result.fixed), len(result.changes)
        print(f"kohalint: {verb} {n} finding{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}",
              file=sys.stderr)
        for f, why in result.skipped:
            loc = f.location
            print(f"kohalint: not fixed: {loc.path}:{loc.line}: {f.rule_id} ({why})", file=sys.stderr)
    return 1 if diff and result.changes else 0


def configure(p: argparse.ArgumentParser) -> None:
    from kohalint.cli import add_scan_options

    add_scan_options(p)
    p.add_argument("--diff", action="store_true", help="print the changes as a unified diff, write nothing")


def run(args: argparse.Namespace) -> int:
    """Apply safe, idempotent fixes (comments and formatting kept)."""
    return fix_from_args(args)


def _register() -> None:
    from kohalint.cli import EXTRA_COMMANDS

    EXTRA_COMMANDS["fix"] = (configure, run)


_register()
