"""The backup and restore scripts, read as shell (KL604, KL605).

Capabilities are looked for in the script and in the repository scripts it
calls (`source lib.sh`, `./scripts/offsite.sh`), and through the commands the
shell adapter finds inside `sh -c`, `docker exec`, `$(...)` and functions.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Iterator, Optional

from kohalint.checks.recovery_common import (BINLOG_TOOLS, DB_TOOLS, ScriptView, deployment_role,
                                             find_scripts, script_view, words)
from kohalint.context import Context
from kohalint.models import Finding, Severity
from kohalint.rules import check

DEFAULT_BACKUP_SCRIPT = "scripts/backup.sh"
DEFAULT_RESTORE_SCRIPT = "scripts/restore.sh"
_READS = {"shell", "schedule", "yaml"}

_ENCRYPTING = frozenset({"gpg", "gpg2", "gpgtar", "age", "rage", "restic", "borg", "borgmatic", "kopia", "sops"})
_REMOTE_PREFIXES = ("s3:", "sftp:", "rest:", "b2:", "azure:", "gs:", "swift:", "rclone:", "ssh://")
_HOST_PATH = re.compile(r"^(?:[^/\s:@]+@)?[^/\s:@]+:(?!//)")  # [user@]host:path, not a URL
_URL = re.compile(r"^[a-z0-9+]+://", re.I)
_BINLOG_WORD = re.compile(r"bin-?log|mysql-bin|mariadb-bin|-bin\.(?:\d|\*|\[)|/var/log/mysql", re.I)
_COPYING = frozenset({"cp", "rsync", "tar", "rclone", "aws", "restic", "borg", "scp", "gsutil", "s3cmd", "mc",
                      "zip", "kopia", "duplicity", "azcopy", "b2", "gcloud", "az", "docker", "podman", "find"})
_PASSWORD = re.compile(r"^(?:-p(?P<short>.+)|--pass(?:w(?:o(?:r(?:d)?)?)?)?=(?P<long>.*))$")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
# Where -p means something else (mbstream -p: parallel threads).
_PASSWORD_TOOLS = DB_TOOLS - {"mbstream", "xbstream"}
# Their arguments are text for people, not commands.
_MESSAGES = frozenset({"echo", "printf", "logger", ":", "log", "info", "warn", "die"})
_VERIFY_OPTION = re.compile(r"^(?:-n|--?(?:dry-?run|verify|check|validate|plan|test|simulate|no-?op))$", re.I)
_VERIFY_ARM = re.compile(r"(?m)^\s*\(?\s*(?:[\w\"'*-]+\s*\|\s*)*[\"']?(?:--?)?(?:verify|dry-?run|check|validate|plan)"
                         r"[\"']?\s*(?:\|[^)\n]*)?\)")


def invocations(commands: Iterable[Any]) -> Iterator[tuple[str, list[str], Any]]:
    """(program, args, command) for each command, plus programs named inside
    argument strings the adapter did not parse as scripts (`run db -c '...'`)."""
    for cmd in commands:
        yield cmd.basename, list(cmd.args), cmd
        if cmd.basename in _MESSAGES:
            continue
        extra = words(cmd)[len(cmd.argv):]
        for i, word in enumerate(extra):
            name = posixpath.basename(word)
            if name in DB_TOOLS or name in _ENCRYPTING or name in _COPYING:
                args = []
                for arg in extra[i + 1:]:
                    if arg in _SEPARATORS:
                        break
                    args.append(arg)
                yield name, args, cmd


def _operands(args: list[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def _encrypts(view: ScriptView) -> bool:
    for name, args, _ in invocations(view.commands):
        if name in _ENCRYPTING:
            return True
        if name == "openssl" and args and (args[0] == "enc" or args[0].startswith("aes")
                                           or (args[0] in ("smime", "cms") and "-encrypt" in args)):
            return True
        if name == "duplicity" and "--no-encryption" not in args:
            return True
        if name == "xtrabackup" and any(a.startswith("--encrypt") for a in args):
            return True
    return False


def _remote_repo(name: str, args: list[str], cmd: Any) -> bool:
    env = " ".join(cmd.assignments + cmd.prefix)
    if name == "restic":
        repos = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-r", "--repo")]
        repos += [a.split("=", 1)[1] for a in args if a.startswith(("--repo=", "--repository-file="))]
        repos += re.findall(r"RESTIC_REPOSITORY=(\S+)", env)
        if not repos:
            return True  # from the environment (RESTIC_REPOSITORY): set at deploy time
        return any("$" in r or r.startswith(_REMOTE_PREFIXES) for r in repos)
    repos = [a.split("::", 1)[0] for a in _operands(args) if "::" in a] or re.findall(r"BORG_REPO=(\S+)", env)
    if not repos:
        return True
    return any("$" in r or r.startswith("ssh://") or bool(_HOST_PATH.match(r)) for r in repos)


def _offsite(view: ScriptView) -> bool:
    for name, args, cmd in invocations(view.commands):
        ops = _operands(args)
        first = ops[0] if ops else ""
        if name == "rclone" and first in ("copy", "sync", "move", "copyto", "moveto", "bisync"):
            return True
        if name == "aws" and ((first == "s3" and len(ops) > 1 and ops[1] in ("cp", "sync", "mv"))
                              or (first == "s3api" and "put-object" in ops)):
            return True
        if (name, first) in {("gsutil", "cp"), ("gsutil", "rsync"), ("s3cmd", "put"), ("s3cmd", "sync"),
                             ("mc", "cp"), ("mc", "mirror"), ("azcopy", "copy"), ("azcopy", "sync"),
                             ("b2", "upload-file"), ("b2", "sync"), ("gcloud", "storage")}:
            return True
        if name == "az" and "storage" in ops and any(o.startswith("upload") for o in ops):
            return True
        if name in ("restic", "borg") and {"backup", "create", "copy"} & set(ops) and _remote_repo(name, args, cmd):
            return True
        if name in ("rsync", "scp", "sftp") and any(_HOST_PATH.match(o) or o.startswith("rsync://") for o in ops):
            return True
        if name == "duplicity" and any(_URL.match(o) and not o.startswith("file://") for o in ops):
            return True
    return False


def _binlog_backup(view: ScriptView) -> bool:
    for name, args, _ in invocations(view.commands):
        if name in BINLOG_TOOLS:
            return True  # in a backup script it streams or decodes binlogs into the backup
        if name in _COPYING and any(_BINLOG_WORD.search(a) for a in args):
            return True
    return False


def _strict_mode(view: ScriptView) -> bool:
    return {"e", "pipefail"} <= view.script.set_flags


def _passwords(ctx: Context, view: ScriptView) -> Iterator[Finding]:
    for cmd in view.script.commands:
        if cmd.basename not in _PASSWORD_TOOLS:
            continue
        for arg in cmd.args:
            m = _PASSWORD.match(arg)
            value = (m.group("short") if m.group("short") is not None else m.group("long")) if m else ""
            if not m or not value:
                continue
            literal = "$" not in value
            kind = "a literal password" if literal else "a password from a variable"
            yield ctx.finding(view.path, cmd.line, f"`{cmd.basename}` gets {kind} on its command line, where "
                              "any user on the host can read it in the process list; put the credentials in "
                              "an option file (`--defaults-extra-file`, mode 0600) instead",
                              column=cmd.column, severity=Severity.high if literal else Severity.medium,
                              identity=f"{cmd.basename}|{'literal' if literal else 'variable'}")


_BACKUP_NEEDS = (
    ("encryption", _encrypts, "no encryption step (gpg, age, openssl enc, restic, borg): backups leave the "
                              "host readable by whoever holds the copy"),
    ("offsite", _offsite, "no offsite copy (rclone, aws s3, restic/borg to a remote repository, rsync/scp "
                          "to another host): one incident can take the data and its backups"),
    ("binlog", _binlog_backup, "no binary-log backup (mariadb-binlog --read-from-remote-server, or copying "
                               "the binlog directory): without binlogs there is no point-in-time recovery"),
    ("strict-mode", _strict_mode, "no `set -euo pipefail` (or `set -e` and `-o pipefail`): a failed dump "
                                  "piped into gzip still looks like a successful backup"),
)


def _may_report(ctx: Context, configured: Optional[str], default: str) -> bool:
    """KL604/KL605 report on shell scripts (what schedules run and `*backup*.sh`
    resolve to), the configured script or the default path: in pre-commit mode
    without such a file, finding the scripts (which parses every schedule's
    commands) is skipped."""
    if ctx.only is None:
        return True
    return any(p in (configured, default) or "shell" in ctx.repo.kinds(p) for p in ctx.only)


@check("KL604", "backup-not-3-2-1", target="repository", reads=_READS)
def backup_not_321(ctx: Context) -> Iterator[Finding]:
    from kohalint.recovery_policy import valid_policy

    policy = valid_policy(ctx)
    configured = policy.backup.script if policy is not None and policy.backup is not None else None
    if not _may_report(ctx, configured, DEFAULT_BACKUP_SCRIPT):
        return
    scripts = find_scripts(ctx, "backup", configured)
    if not scripts:
        if deployment_role(ctx):
            target = configured or DEFAULT_BACKUP_SCRIPT
            yield ctx.finding(target, 1, f"no backup script found (expected {target}, a `*backup*.sh`, or the "
                              "script a schedule runs): add one that dumps, encrypts and ships the database "
                              "and its binlogs offsite", identity="absent")
        return
    for path in scripts:
        view = script_view(ctx, path)
        if view is None:
            continue
        for key, present, message in _BACKUP_NEEDS:
            if not present(view):
                yield ctx.finding(path, 1, f"backup script: {message}", identity=key)
        yield from _passwords(ctx, view)


# -- restore ----------------------------------------------------------------------------
def _fed_by_binlog(view: ScriptView, cmd: Any) -> bool:
    """Whether an earlier stage of `cmd`'s pipeline replays binlogs (PITR, not a full restore)."""
    for script in view.scripts:
        if any(c is cmd for c in script.commands):
            return any(c.pipeline == cmd.pipeline and c.stage < cmd.stage and c.basename in BINLOG_TOOLS
                       for c in script.commands)
    return False


def _full_restore(view: ScriptView) -> bool:
    for name, args, cmd in invocations(view.commands):
        if name in ("mariadb-backup", "mariabackup", "xtrabackup") and (
                "--copy-back" in args or "--move-back" in args):
            return True
        if name in ("myloader", "mariadb-import", "mysqlimport"):
            return True
        if name in ("mariadb", "mysql"):
            fed = cmd.stage > 0 or any(op == "<" for op, _ in cmd.redirects)
            sourced = any(re.match(r"^(?:-e|--execute=)?\s*source\s", a, re.I) for a in args)
            if (fed and not _fed_by_binlog(view, cmd)) or sourced:
                return True
    return False


def _stop_value(args: list[str]) -> Optional[str]:
    for i, arg in enumerate(args):
        for flag in ("--stop-datetime", "--stop-position"):
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
    return None


def _pitr(view: ScriptView) -> bool:
    for name, args, _ in invocations(view.commands):
        value = _stop_value(args) if name in BINLOG_TOOLS else None
        if value is not None and "$" in value:  # a literal stop point is not a user-given target
            return True
    return False


def _verify_mode(view: ScriptView, text: str) -> bool:
    return any(_VERIFY_OPTION.match(o) for o in view.options) or bool(_VERIFY_ARM.search(text))


@check("KL605", "restore-incomplete", target="repository", reads=_READS)
def restore_incomplete(ctx: Context) -> Iterator[Finding]:
    from kohalint.recovery_policy import valid_policy

    policy = valid_policy(ctx)
    configured = policy.restore.script if policy is not None else None
    if not _may_report(ctx, configured, DEFAULT_RESTORE_SCRIPT):
        return
    scripts = find_scripts(ctx, "restore", configured)
    if not scripts:
        if deployment_role(ctx):
            target = configured or DEFAULT_RESTORE_SCRIPT
            yield ctx.finding(target, 1, f"no restore script found (expected {target} or a `*restore*.sh`): add "
                              "one with a full restore, PITR to a given time, and a verify/dry-run mode",
                              identity="absent")
        return
    for path in scripts:
        view = script_view(ctx, path)
        if view is None:
            continue
        texts = [ctx.repo.read_text(p) or "" for p in (path, *view.called)]
        needs = (
            ("full", _full_restore(view), "no full restore (load a dump into `mariadb`, or "
                                          "`mariadb-backup --copy-back`)"),
            ("pitr", _pitr(view), "no point-in-time recovery: replay binlogs with `mariadb-binlog "
                                  "--stop-datetime`/`--stop-position` set from a target the user gives"),
            ("verify", _verify_mode(view, "\n".join(texts)),
             "no verify or dry-run mode (an option such as `--dry-run` or `verify`, parsed with getopts "
             "or case) to check a backup without touching a database"),
        )
        for key, present, message in needs:
            if not present:
                yield ctx.finding(path, 1, f"restore script: {message}", identity=key)
