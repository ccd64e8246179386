"""What several recovery rules (KL6xx) ask of a repository: does it play the
deployment role, which schedules exist and what they run, and which scripts
are the backup and the restore script.

Schedules come from crontab files, systemd timers (with the service they
start) and workflow `schedule:` crons; each becomes a `ScheduledJob` with the
longest time it can leave between two runs.
"""

from __future__ import annotations

import datetime
import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Optional

from kohalint.documents.yamldoc import YMap, YScalar, YSeq
from kohalint.repository import classify
from kohalint.schedule import parse_crontab, timer_longest_gap, union_longest_gap

# MariaDB/MySQL tools whose presence marks a script as being about the database.
DB_TOOLS = frozenset({
    "mariadb", "mysql", "mariadb-dump", "mysqldump", "mariadb-backup", "mariabackup", "xtrabackup",
    "mariadb-binlog", "mysqlbinlog", "myloader", "mydumper", "mariadb-import", "mysqlimport",
    "mbstream", "xbstream", "mariadb-check", "mysqlcheck", "mariadb-admin", "mysqladmin",
})
BINLOG_TOOLS = frozenset({"mariadb-binlog", "mysqlbinlog"})
# Commands that read or lint a script rather than run it.
_NOT_RUNNING = frozenset({"shellcheck", "shfmt", "cat", "less", "chmod", "chown", "cp", "mv", "git",
                          "ls", "test", "[", "echo", "printf", "grep", "sed", "diff", "bats", "install"})
_RESTORE_TEST_TEXT = re.compile(r"restore[\W_]*(?:test|drill|check|verif)|(?:test|verify|check)[\W_]*restore",
                                re.I)
_USER = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$")
_COMMON_COMMANDS = frozenset({
    "cd", "docker", "bash", "sh", "flock", "run-parts", "test", "nice", "ionice", "timeout", "sleep",
    "echo", "find", "curl", "wget", "python", "python3", "perl", "php", "restic", "borg", "rsync",
    "chronic", "systemctl", "podman", "kubectl", "make", "env", "sudo", "mariadb-dump", "mysqldump",
})
_CRONTAB_SUFFIXES = ("", ".cron", ".crontab", ".txt")


def deployment_role(ctx: Any) -> bool:
    """Recovery absences apply to deployment repositories: a compose project,
    or `areas:` in the config naming recovery (the engine already dropped the
    recovery rules when `areas` leaves it out)."""
    if ctx.settings.areas is not None:
        return any(getattr(a, "value", a) == "recovery" for a in ctx.settings.areas)
    return bool(ctx.repo.files_of_kind("compose"))


@dataclass
class ScheduledJob:
    source: str  # "crontab", "timer" or "workflow"
    path: str
    line: int
    gap: Optional[datetime.timedelta]  # None: never repeats (or not understood)
    text: str  # what it runs and how it is described, for matching
    commands: list = field(default_factory=list)  # shell Commands it runs
    base_dir: str = ""  # where relative script paths start

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _parse(text: str, line_offset: int = 0) -> list:
    from kohalint.documents.shell import parse_shell  # heavy: bashlex

    return list(parse_shell(text, line_offset=line_offset).commands)


def scheduled_jobs(ctx: Any) -> list[ScheduledJob]:
    # Four rules ask; the documents object lives exactly as long as one scan.
    cache = getattr(ctx.docs, "_recovery_jobs", None)
    if cache is None:
        cache = [*_crontab_jobs(ctx), *_timer_jobs(ctx), *_workflow_jobs(ctx)]
        ctx.docs._recovery_jobs = cache
    return cache


def _is_crontab(path: str) -> bool:
    name = posixpath.basename(path).lower()
    ext = posixpath.splitext(name)[1]
    return "schedule" in classify(path) and not name.endswith(".timer") and ext in _CRONTAB_SUFFIXES


def _crontab_jobs(ctx: Any) -> Iterable[ScheduledJob]:
    for path in ctx.repo.files_of_kind("schedule"):  # what _is_crontab keeps, from the kind index
        if not _is_crontab(path):
            continue
        text = ctx.repo.read_text(path)
        if not text:
            continue
        entries = parse_crontab(text if text.endswith("\n") else text + "\n")
        # /etc/crontab and /etc/cron.d files carry a user before the command.
        system = bool(entries) and all(_looks_like_user(e.command) for e in entries)
        for entry in entries:
            command = entry.command.split(None, 1)[1] if system else entry.command
            gap = _longest_gap(entry.schedule) if entry.schedule is not None else None
            yield ScheduledJob("crontab", path, entry.line, gap, command,
                               _parse(command, entry.line - 1), posixpath.dirname(path))


@lru_cache(maxsize=1024)
def _longest_gap(expr: Any) -> Any:
    # a pass over a 28-year calendar; crontabs repeat the same few schedules
    return union_longest_gap([expr])


def _looks_like_user(command: str) -> bool:
    words = command.split(None, 1)
    return len(words) == 2 and bool(_USER.match(words[0])) and words[0] not in _COMMON_COMMANDS


def _timer_jobs(ctx: Any) -> Iterable[ScheduledJob]:
    for path in ctx.repo.files:
        if not path.endswith(".timer"):
            continue
        text = ctx.repo.read_text(path) or ""
        found = timer_longest_gap(text)
        gap, line = found if found else (None, 1)
        unit = _timer_unit(text) or posixpath.basename(path)[: -len(".timer")] + ".service"
        service = _find_unit(ctx, path, unit)
        service_text = ctx.repo.read_text(service) if service else None
        execs = _unit_values(service_text or "", "ExecStart")
        described = " ".join(_unit_values(text, "Description") + _unit_values(service_text or "", "Description"))
        commands = [c for value in execs for c in _parse(value.lstrip("-@:+!"))]
        yield ScheduledJob("timer", path, line, gap, " ".join([described, unit, *execs]), commands,
                           posixpath.dirname(path))


def _unit_values(text: str, key: str) -> list[str]:
    out = []
    for raw in text.split("\n"):
        name, eq, value = raw.strip().partition("=")
        if eq and name.strip() == key and value.strip():
            out.append(value.strip())
    return out


def _timer_unit(text: str) -> Optional[str]:
    values = _unit_values(text, "Unit")
    return values[-1] if values else None


def _find_unit(ctx: Any, timer: str, unit: str) -> Optional[str]:
    beside = posixpath.join(posixpath.dirname(timer), unit)
    if ctx.repo.exists(beside):
        return beside
    return next(iter(ctx.repo.named(unit)), None)


def _workflow_jobs(ctx: Any) -> Iterable[ScheduledJob]:
    from kohalint.schedule import parse_cron

    for path in ctx.repo.files_of_kind("workflow"):
        root = ctx.docs.yaml(path)
        if not isinstance(root, YMap):
            continue
        crons = _workflow_crons(root)
        exprs = []
        for node in crons:
            try:
                exprs.append(parse_cron(node.text()))
            except ValueError:
                continue
        if not crons:
            continue
        gap = union_longest_gap(exprs) if exprs else None
        texts, commands = _workflow_text(ctx, path, root)
        yield ScheduledJob("workflow", path, crons[0].line, gap, texts, commands, "")


def _workflow_crons(root: YMap) -> list[YScalar]:
    on = root.get("on")
    schedule = on.get("schedule") if isinstance(on, YMap) else None
    out = []
    for item in schedule.items if isinstance(schedule, YSeq) else []:
        cron = item.get("cron") if isinstance(item, YMap) else None
        if isinstance(cron, YScalar):
            out.append(cron)
    return out


def _workflow_text(ctx: Any, path: str, root: YMap) -> tuple[str, list]:
    parts = [path, root.get_text("name") or ""]
    commands: list = []
    workflow = _workflow_doc(ctx, path)
    if workflow is not None:
        for job, step, command in workflow.commands():
            commands.append(command)
    jobs = root.get("jobs")
    for job_id, job in (jobs.items() if isinstance(jobs, YMap) else []):
        parts.append(job_id)
        steps = job.get("steps") if isinstance(job, YMap) else None
        for step in steps.items if isinstance(steps, YSeq) else []:
            if not isinstance(step, YMap):
                continue
            parts.append(step.get_text("name") or "")
            run = step.get("run")
            if isinstance(run, YScalar):
                parts.append(run.text())
                if workflow is None:
                    commands.extend(_parse(run.text(), run.line))
    return " ".join(parts), commands


def _workflow_doc(ctx: Any, path: str) -> Any:
    try:
        import kohalint.documents.workflow  # noqa: F401  (registers the parser)
    except ImportError:
        return None
    from kohalint.documents.store import DOCUMENT_PARSERS

    return ctx.docs.get("workflow", path) if "workflow" in DOCUMENT_PARSERS else None


# -- what a job runs ----------------------------------------------------------------
def words(cmd: Any) -> list[str]:
    """argv, with arguments that hold a command line split into words, since
    `docker compose run db -c '... mariadb-backup --copy-back'` hides one."""
    from kohalint.documents.shell import split_words

    out: list[str] = []
    for word in cmd.argv:
        out.append(word)
        if " " in word and len(word) < 4000:
            try:
                out.extend(split_words(word))
            except Exception:  # noqa: BLE001 - an odd string is just not split
                continue
    return out


def script_words(job: ScheduledJob) -> list[str]:
    """Words naming scripts the job runs (not scripts it merely lints or copies)."""
    out = []
    for cmd in job.commands:
        if cmd.basename in _NOT_RUNNING:
            continue
        out.extend(w for w in words(cmd) if re.search(r"\.(?:sh|bash)$", w))
    return out


def runs_restore_test(job: ScheduledJob) -> bool:
    if _RESTORE_TEST_TEXT.search(job.text):
        return True
    return any("restore" in posixpath.basename(w).lower() for w in script_words(job))


def runs_backup(job: ScheduledJob) -> bool:
    if any("backup" in posixpath.basename(w).lower() and "restore" not in w.lower()
           for w in script_words(job)):
        return True
    return any(c.basename in ("mariadb-dump", "mysqldump", "mariadb-backup", "mariabackup")
               for c in job.commands)


def resolve_repo_path(ctx: Any, word: str, base_dir: str = "") -> Optional[str]:
    """The repository file a script path in a command names.

    Deployment paths (`/srv/koha/scripts/backup.sh`) are matched by their
    longest tail that is a repository path; relative paths first from `base_dir`.
    """
    word = word.strip().strip("'\"")
    if not word or "$" in posixpath.basename(word):
        return None
    if not word.startswith("/"):
        for candidate in (posixpath.normpath(posixpath.join(base_dir, word)), posixpath.normpath(word)):
            if ctx.repo.exists(candidate):
                return candidate
    parts = [p for p in word.split("/") if p not in ("", ".")]
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        if ctx.repo.exists(tail):
            return tail
    name = parts[-1] if parts else ""
    matches = ctx.repo.named(name)
    return matches[0] if len(matches) == 1 else None


def _named_scripts(ctx: Any, keyword: str) -> list[str]:
    shells = [p for p in ctx.repo.files_of_kind("shell") if keyword in posixpath.basename(p).lower()]
    if keyword == "backup":
        shells = [p for p in shells if "restore" not in posixpath.basename(p).lower()]
    about_db = [p for p in shells if _uses_db_tools(ctx, p)]
    return about_db or shells


def _uses_db_tools(ctx: Any, path: str) -> bool:
    script = ctx.docs.shell(path)
    return script is not None and any(c.basename in DB_TOOLS for c in script.commands)


def find_scripts(ctx: Any, role: str, configured: Optional[str]) -> list[str]:
    """The backup (role "backup") or restore ("restore") scripts, best source first:
    the policy's path, the scripts the schedules run, then `*backup*.sh` files."""
    if configured:
        return [configured] if ctx.repo.exists(configured) else []
    wanted = runs_backup if role == "backup" else runs_restore_test
    found: list[str] = []
    for job in scheduled_jobs(ctx):
        if not wanted(job):
            continue
        for word in script_words(job):
            if role not in posixpath.basename(word).lower():
                continue
            path = resolve_repo_path(ctx, word, job.base_dir)
            if path and path not in found:
                found.append(path)
    return found or _named_scripts(ctx, role)


@dataclass
class ScriptView:
    """A script with the commands of the repository scripts it calls (one level)."""

    path: str
    script: Any
    commands: list
    options: set
    called: list[str]
    scripts: list = field(default_factory=list)  # the script, then the scripts it calls


def script_view(ctx: Any, path: str) -> Optional[ScriptView]:
    script = ctx.docs.shell(path)
    if script is None:
        return None
    commands, options, called, scripts = list(script.commands), set(script.options), [], [script]
    base = posixpath.dirname(path)
    for cmd in script.commands:
        target = _called_script(cmd)
        callee = resolve_repo_path(ctx, target, base) if target else None
        if callee and callee != path and callee not in called:
            sub = ctx.docs.shell(callee)
            if sub is not None:
                called.append(callee)
                scripts.append(sub)
                commands.extend(sub.commands)
                options |= sub.options
    return ScriptView(path, script, commands, options, called, scripts)


def _called_script(cmd: Any) -> Optional[str]:
    if cmd.name in (".", "source") and cmd.args:
        return cmd.args[0]
    if cmd.basename in ("bash", "sh") and cmd.args and not cmd.args[0].startswith("-"):
        return cmd.args[0]
    if re.search(r"\.(?:sh|bash)$", cmd.name):
        return cmd.name
    return None
