"""The MariaDB service's binary log, as the server would run it (KL602, KL603).

The options are resolved from the files the container sees: the image's stock
option files, overlaid by the service's mounts of repository files, then the
`command:` flags, which beat every file. A mount kohalint cannot read (a host
path, a named volume over /etc/mysql) makes the file options unknown: then
only what the command line decides is judged, since the rest would be a guess.
"""

from __future__ import annotations

import datetime
import posixpath
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from kohalint.checks.built_image import BuiltImage, built_image
from kohalint.checks.compose_helpers import image_repo_name, label
from kohalint.context import Context
from kohalint.documents import mycnf
from kohalint.documents.compose import ComposeProject, Service
from kohalint.documents.ports import Mount
from kohalint.documents.yamldoc import YMap, YScalar, YSeq
from kohalint.models import Finding
from kohalint.rules import check

_FLAVORS = {"mariadb": "mariadb", "mysql": "mysql", "percona": "mysql", "percona-server": "mysql",
            "mysql-server": "mysql"}
_SERVER_PROGRAMS = frozenset({"mariadbd", "mysqld", "docker-entrypoint.sh", "mariadbd-safe", "mysqld_safe"})
_ENTRY = "/.kohalint/defaults.cnf"
# mariadbd and mysqld read /etc/my.cnf, then /etc/mysql/my.cnf (last setting wins).
_ENTRY_TEXT = f"!include /etc/my.cnf\n!include {mycnf.OFFICIAL_IMAGE_ENTRY}\n"
_CONFIG_ROOTS = ("/etc/mysql", "/etc/my.cnf", "/etc/my.cnf.d")
# The official mysql image (8.x, Oracle Linux based) reads /etc/my.cnf, which
# includes /etc/mysql/conf.d/; from 8.0 the binlog is on by default.
_MYSQL_FILES = {"/etc/my.cnf": "[mysqld]\ndatadir=/var/lib/mysql\n!includedir /etc/mysql/conf.d/\n"}
_MYSQL_DIRS: dict[str, list[str]] = {"/etc/mysql/conf.d": []}
_MYSQL8_DEFAULTS = {"binlog_format": "ROW", "sync_binlog": "1", "binlog_expire_logs_seconds": "2592000"}


@dataclass
class ContainerFiles:
    """What the container sees under its option-file paths."""

    repo: Any
    stock_files: dict[str, str]
    stock_dirs: dict[str, list[str]]
    files: dict[str, str] = field(default_factory=dict)  # container file -> repo file
    dirs: dict[str, str] = field(default_factory=dict)  # container dir -> repo dir
    unknown: list[str] = field(default_factory=list)  # container paths of unreadable mounts

    def _dir_mount(self, path: str) -> Optional[tuple[str, str]]:
        best = None
        for target, source in self.dirs.items():
            if (path == target or path.startswith(target.rstrip("/") + "/")) and (
                    best is None or len(target) > len(best[0])):
                best = (target, source)
        return best

    def _hidden(self, path: str) -> bool:
        roots = [*self.dirs, *self.unknown]
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def repo_path(self, path: str) -> Optional[str]:
        if path in self.files:
            return self.files[path]
        mount = self._dir_mount(path)
        if mount is None:
            return None
        rel = path[len(mount[0]):].lstrip("/")
        candidate = posixpath.normpath(posixpath.join(mount[1], rel)) if rel else mount[1]
        return candidate if self.repo.exists(candidate) else None

    def read(self, path: str) -> Optional[str]:
        if path == _ENTRY:
            return _ENTRY_TEXT
        repo_path = self.repo_path(path)
        if repo_path is not None:
            return self.repo.read_text(repo_path)
        return None if self._hidden(path) else self.stock_files.get(path)

    def list_dir(self, path: str) -> Optional[list[str]]:
        path = path.rstrip("/") or "/"
        names: set[str] = set()
        known = False
        mount = self._dir_mount(path)
        if mount is not None:
            rel = path[len(mount[0]):].lstrip("/")
            folder = posixpath.normpath(posixpath.join(mount[1], rel)) if rel else mount[1]
            names |= self.repo.names_in(folder)
            known = True  # Docker creates a missing bind source as an empty directory
        elif not self._hidden(path) and path in self.stock_dirs:
            names |= set(self.stock_dirs[path])
            known = True
        single = {posixpath.basename(f) for f in self.files if posixpath.dirname(f) == path}
        return sorted(names | single) if known or single else None


@dataclass
class ServerView:
    service: Service
    flavor: str
    options: mycnf.ResolvedOptions
    files: ContainerFiles
    unknown_files: bool
    version: Optional[str]

    def value(self, name: str) -> Optional[str]:
        setting = self.options.get(name)
        if setting is not None:
            return setting.value
        if self.flavor == "mysql" and _mysql8(self.version) and name in _MYSQL8_DEFAULTS:
            return _MYSQL8_DEFAULTS[name]
        return mycnf.SERVER_DEFAULTS.get(name)

    def decided(self, setting: Optional[mycnf.OptionSetting]) -> bool:
        """Whether kohalint knows the outcome (the files are readable, or the command decides)."""
        return not self.unknown_files or (setting is not None and setting.group == "command")

    def where(self, setting: Optional[mycnf.OptionSetting]) -> tuple[str, int]:
        """The repository line of a setting, else the service's line."""
        if setting is not None:
            if setting.group == "command":
                return setting.path, setting.line
            repo_path = self.files.repo_path(setting.path)
            if repo_path is not None:
                return repo_path, setting.line
        return self.service.path, self.service.line

    def binlog_on(self) -> bool:
        if self.options.get("log_bin") is not None:
            return mycnf.is_binlog_on(self.options)
        return self.flavor == "mysql" and _mysql8(self.version)

    def binlog_paths(self) -> list[str]:
        base = mycnf.log_bin_basename(self.options)
        if base is None:  # mysql 8: on by default, named binlog.N in the datadir
            base = posixpath.join(mycnf.datadir(self.options), "binlog")
        paths = [base]
        index = mycnf.log_bin_index_path(self.options)
        if index and posixpath.dirname(index) != posixpath.dirname(base):
            paths.append(index)
        return paths


def _mysql8(version: Optional[str]) -> bool:
    head = (version or "").split(".", 1)[0]
    return not head.isdigit() or int(head) >= 8  # "latest", "lts": a current server


def db_services(project: ComposeProject, ctx: Optional[Context] = None) -> Iterator[tuple[Service, str]]:
    """(service, flavor) of each MariaDB/MySQL server, pulled or (with `ctx`) built from the repository."""
    for svc in project.services.values():
        image = _server_image(ctx, svc)[0] if ctx is not None else (
            svc.image.text() if svc.image is not None and not svc.image.unknown else "")
        flavor = _FLAVORS.get(image_repo_name(image)) if image else None
        if flavor:
            yield svc, flavor


def _server_image(ctx: Context, svc: Service) -> tuple[str, Optional[BuiltImage]]:
    """The image a service runs as a reference: a built service's base image
    (its `image:` then only names the result), else its `image:`."""
    built = built_image(ctx, svc) if svc.builds else None
    if built is not None:
        return built.base, built
    image = svc.image
    return (image.text() if image is not None and not image.unknown else ""), None


def _image_version(image: str) -> Optional[str]:
    ref = image.split("@", 1)[0]
    tail = ref.rsplit("/", 1)[-1]
    return tail.split(":", 1)[1] if ":" in tail else None


def _is_repo_source(source: str) -> bool:
    return bool(source) and not source.startswith(("/", "~", "$", "\\")) and ":" not in source


def container_files(ctx: Context, svc: Service, flavor: str) -> ContainerFiles:
    stock_files, stock_dirs = ((mycnf.OFFICIAL_IMAGE_FILES, mycnf.OFFICIAL_IMAGE_DIRS) if flavor == "mariadb"
                               else (_MYSQL_FILES, _MYSQL_DIRS))
    fs = ContainerFiles(ctx.repo, stock_files, stock_dirs)
    built = _server_image(ctx, svc)[1]
    if built is not None:  # what the Dockerfile copied in; the mounts below cover it at run time
        fs.files.update(built.files)
        fs.dirs.update(built.dirs)
        fs.unknown.extend(built.unknown)
    for mount in svc.mounts():
        target = posixpath.normpath(mount.target) if mount.target.startswith("/") else ""
        if not target:
            continue
        if mount.kind == "bind" and _is_repo_source(mount.source):
            source = posixpath.normpath(posixpath.join(posixpath.dirname(mount.node.path), mount.source))
            if ctx.repo.exists(source):
                fs.files[target] = source
                continue
            if ctx.repo.has_prefix(source + "/") or source == ".":
                fs.dirs[target] = "" if source == "." else source
                continue
        if mount.kind != "tmpfs":
            fs.unknown.append(target)
    for target, source in _config_mounts(svc):
        if ctx.repo.exists(source):
            fs.files[target] = source
        else:
            fs.unknown.append(target)
    return fs


def _config_mounts(svc: Service) -> Iterator[tuple[str, str]]:
    """Compose `configs:` with a `file:` source, as (container path, repo path)."""
    configs = svc.get("configs")
    top = svc.project.top.get("configs")
    if not isinstance(configs, YSeq) or not isinstance(top, YMap):
        return
    for item in configs.items:
        name = item.text() if isinstance(item, YScalar) else (item.get_text("source") if isinstance(item, YMap)
                                                                else None)
        target = item.get_text("target") if isinstance(item, YMap) else None
        definition = top.get(name or "")
        source = definition.get_text("file") if isinstance(definition, YMap) else None
        if name and source and _is_repo_source(source):
            base = posixpath.dirname(definition.path)
            yield (target or "/" + name), posixpath.normpath(posixpath.join(base, source))


def command_groups(svc: Service) -> list[tuple[list[str], str, int]]:
    """The `command:` words that reach the server, grouped per list item so a
    flag is located on its own line: (words, path, line)."""
    from kohalint.documents.shell_words import split_words

    node = svc.get("command")
    if isinstance(node, YSeq):
        items = [(i.text(), i.path, i.line) for i in node.items if isinstance(i, YScalar)]
    elif isinstance(node, YScalar) and node.text().strip():
        items = [(w, node.path, node.line) for w in split_words(node.text())]
    else:
        return []
    words = [w for w, _, _ in items]
    start = _server_args_start(words)
    if start is None:
        return []
    groups: list[tuple[list[str], str, int]] = []
    for word, path, line in items[start:]:
        if word.startswith("-") or not groups:
            groups.append(([word], path, line))
        else:
            groups[-1][0].append(word)
    return groups


def _server_args_start(words: list[str]) -> Optional[int]:
    """Index of the first server argument, or None when the command starts
    something else (the entrypoint then runs that instead of the server)."""
    if not words:
        return None
    if words[0].startswith("-"):
        return 0  # the image's entrypoint prepends mariadbd
    if posixpath.basename(words[0]) in _SERVER_PROGRAMS:
        return 1
    return None


def server_view(ctx: Context, svc: Service, flavor: str) -> ServerView:
    fs = container_files(ctx, svc, flavor)
    version = _image_version(_server_image(ctx, svc)[0])
    options = mycnf.resolve_server_options(_ENTRY, fs.read, fs.list_dir, version=version)
    for words, path, line in command_groups(svc):
        options.apply_command_line(words, path, line)
    unknown = any(t == root or t.startswith(root + "/") or root.startswith(t.rstrip("/") + "/")
                  for t in fs.unknown for root in _CONFIG_ROOTS)
    return ServerView(svc, flavor, options, fs, unknown, version)


def _db_services(ctx: Context) -> Iterator[tuple[Service, str]]:
    for project in ctx.docs.compose_projects():
        yield from db_services(project, ctx)


# Repository checks over every project rather than `compose` checks, so that a
# pre-commit run on an option file alone (the kohalint-mariadb hook) runs them.
_READS = {"compose", "optionfile"}


@check("KL602", "binlog-disabled", target="repository", reads=_READS)
def binlog_disabled(ctx: Context) -> Iterator[Finding]:
    for svc, flavor in _db_services(ctx):
        view = server_view(ctx, svc, flavor)
        setting = view.options.get("log_bin")
        if view.binlog_on() or not view.decided(setting):
            continue
        path, line = view.where(setting)
        how = (f"`{setting.prefix}-log-bin` turns it off" if setting is not None and setting.prefix
               else "nothing enables `log_bin` (MariaDB's default is off)")
        yield ctx.finding(path, line, f"{label(svc)} runs without the binary log: {how}; point-in-time "
                          "recovery needs it. Set `log_bin` in a mounted option file or `--log-bin` "
                          "in `command:`", identity=svc.name)


@check("KL603", "binlog-unsafe", target="repository", reads=_READS)
def binlog_unsafe(ctx: Context) -> Iterator[Finding]:
    from kohalint.recovery_policy import valid_policy

    policy = valid_policy(ctx)
    interval = policy.backup.interval() if policy is not None and policy.backup is not None else None
    for svc, flavor in _db_services(ctx):
        view = server_view(ctx, svc, flavor)
        if not view.binlog_on():
            continue
        yield from _unsafe_settings(ctx, view)
        yield from _retention(ctx, view, interval)
        yield from _persistence(ctx, view)


_EXPECTED = (
    ("binlog_format", "ROW", "row-based logging replays exactly; MIXED and STATEMENT can diverge"),
    ("sync_binlog", "1", "without it a crash can lose committed transactions from the binlog"),
    ("innodb_flush_log_at_trx_commit", "1", "without it a crash can lose committed transactions"),
)


def _unsafe_settings(ctx: Context, view: ServerView) -> Iterator[Finding]:
    svc = view.service
    for name, want, why in _EXPECTED:
        setting = view.options.get(name)
        value = (view.value(name) or "").strip()
        if value.upper() == want or not view.decided(setting):
            continue
        path, line = view.where(setting)
        shown = f"is {value}" if setting is not None else f"is unset (default {value})"
        yield ctx.finding(path, line, f"{label(svc)}: `{name}` {shown}; set `{name} = {want}`: {why}",
                          identity=f"{svc.name}|{name}")
    setting = view.options.get("server_id")
    if setting is None and not view.unknown_files:
        yield ctx.finding(svc.path, svc.line, f"{label(svc)}: binlog on but no `server_id` set; set a "
                          "unique `server_id` so binlogs can be replayed and replicated unambiguously",
                          identity=f"{svc.name}|server_id")


def _retention_setting(view: ServerView) -> Optional[mycnf.OptionSetting]:
    for setting in reversed(view.options.order):
        if setting.name in ("binlog_expire_logs_seconds", "expire_logs_days"):
            return setting
    return None


def _retention(ctx: Context, view: ServerView, interval: Optional[datetime.timedelta]) -> Iterator[Finding]:
    if interval is None:
        return  # no backup schedule in the policy: KL601 is about that
    setting = _retention_setting(view)
    if not view.decided(setting):
        return
    if setting is None and view.flavor == "mysql" and _mysql8(view.version):
        seconds: Optional[int] = int(_MYSQL8_DEFAULTS["binlog_expire_logs_seconds"])
    else:
        seconds = mycnf.binlog_retention_seconds(view.options)
    need = interval + datetime.timedelta(days=1)
    if seconds is None or seconds >= need.total_seconds():
        return
    from kohalint.schedule import format_duration

    path, line = view.where(setting)
    source = f"`{setting.name} = {setting.value}`" if setting is not None else "the default"
    yield ctx.finding(path, line, f"{label(view.service)}: binlogs are purged after "
                      f"{format_duration(datetime.timedelta(seconds=seconds))} ({source}), but full backups "
                      f"can be {format_duration(interval)} apart; keep them at least "
                      f"{format_duration(need)} (the backup interval plus one day) so a PITR can "
                      "start from the last full backup", identity=f"{view.service.name}|retention")


def _covering_mount(svc: Service, path: str) -> Optional[Mount]:
    best = None
    for mount in svc.mounts():
        target = posixpath.normpath(mount.target) if mount.target.startswith("/") else ""
        if target and (path == target or path.startswith(target.rstrip("/") + "/")) and (
                best is None or len(target) > len(posixpath.normpath(best.target))):
            best = mount
    return best


def _persistence(ctx: Context, view: ServerView) -> Iterator[Finding]:
    svc = view.service
    lost = []
    for path in view.binlog_paths():
        folder = posixpath.dirname(path)
        mount = _covering_mount(svc, folder)
        if mount is None or mount.kind == "tmpfs" or (mount.kind == "volume" and not mount.source):
            lost.append(folder)
    if not lost:
        return
    setting = view.options.get("log_bin")
    if not view.decided(setting) and not view.decided(view.options.get("datadir")):
        return
    path, line = view.where(setting if setting is not None and setting.value else view.options.get("datadir"))
    folders = ", ".join(dict.fromkeys(lost))
    yield ctx.finding(path, line, f"{label(svc)}: the binlogs are written to {folders}, which no named "
                      "volume or bind mount covers, so they vanish with the container; mount a "
                      "persistent volume there (a relative `log_bin` name lives in the datadir)",
                      identity=f"{svc.name}|binlog-volume")
