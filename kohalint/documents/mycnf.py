"""MariaDB option files (my.cnf) and the server options they add up to.

The line rules follow mysys/my_default.c: `#`/`;` start a comment only at the
start of a line, but a `#` outside quotes also ends a value; a value loses one
pair of matching quotes and then its escapes (\\n \\t \\r \\b \\s \\" \\' \\\\).
Each file starts outside any group, and an option before the first `[group]`
is fatal, so it is a ParseError here. Prefix handling follows mysys/my_getopt.c.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from kohalint.errors import ParseError

ReadFile = Callable[[str], "str | None"]
ListDir = Callable[[str], "list[str] | None"]

# my_isspace over latin1: str.strip() would also eat Unicode spaces MariaDB keeps.
_WS = " \t\n\r\v\f"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "s": " ", '"': '"', "'": "'", "\\": "\\"}
_SUFFIXES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}
_BOOLS = {"1": True, "on": True, "true": True, "0": False, "off": False, "false": False}
# [galera] is read only by WSREP builds; the official image is one.
SERVER_GROUPS = frozenset({"client-server", "server", "mysqld", "mariadb", "mariadbd", "galera"})
# mysqld-X.Y, mariadb(d)-X.Y and, in newer servers, major-only mariadb(d)-X (verify since when).
_VERSIONED_GROUP = re.compile(r"(mysqld|mariadb|mariadbd)-(\d+)(?:\.(\d+))?")
_PREFIXES = ("skip", "disable", "enable", "maximum", "loose", "autoset")
# Real option names that merely look prefixed: my_getopt tries the full name first.
_REAL_PREFIXED = frozenset("skip_" + n for n in (
    "grant_tables host_cache name_resolve networking show_database slave_start replica_start external_locking"
).split())
# Options whose argument is optional or boolean: `--opt word` leaves `word` alone.
_OPTIONAL_ARG = _REAL_PREFIXED | frozenset((
    "log_bin log_bin_index log_slave_updates log_replica_updates general_log slow_query_log log_slow_query "
    "binlog_annotate_row_events log_bin_trust_function_creators gtid_strict_mode read_only"
).split())
_DEFAULTS_FLAGS = frozenset({"no_defaults", "defaults_file", "defaults_extra_file", "defaults_group_suffix"})
MAX_INCLUDE_DEPTH = 10  # my_default.c skips directives nested deeper than this

# What mariadbd uses when nothing sets the option. (verify) marks weaker facts.
SERVER_DEFAULTS: dict[str, str] = {
    "binlog_format": "MIXED",  # since 10.2.4; STATEMENT before
    "sync_binlog": "0",
    "innodb_flush_log_at_trx_commit": "1",
    "server_id": "1",  # since 10.2.2 (MariaDB commit 1c91569); 0 before
    "binlog_expire_logs_seconds": "0",  # 0 = never purge; option exists from 10.6.1
    "expire_logs_days": "0",
    "max_binlog_size": "1073741824",
    "binlog_row_image": "FULL",
    "datadir": "/var/lib/mysql",  # compile-time default of the official packages (verify)
}


@dataclass(frozen=True)
class OptionSetting:
    """One option as mariadbd would see it.

    Prefixed forms carry the value my_getopt substitutes: skip-/disable- "0"
    (but `skip-x=0` is "1"), enable- "1" (or "0"), autoset- "auto". `enabled`
    is my_getopt's boolean reading (1/ON/TRUE, 0/OFF/FALSE, bare = True, YES/NO
    and the rest None), except for log_bin where only the skip-/disable- forms
    (or enable-log-bin=0) turn it off: `log_bin=OFF` names the files "OFF".
    """

    name: str
    value: str | None
    enabled: bool | None
    path: str
    line: int
    group: str
    loose: bool
    prefix: str | None = None  # skip/disable/enable/maximum/autoset that applied


@dataclass(frozen=True)
class Directive:
    kind: str  # "include" or "includedir"; other `!` lines are ignored, as MariaDB does
    target: str
    line: int


@dataclass
class OptionFile:
    path: str
    entries: list[tuple[str, OptionSetting]] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    items: list[OptionSetting | Directive] = field(default_factory=list)  # file order


def normalise_name(name: str) -> str:
    return name.strip(_WS).lower().replace("-", "_")


def parse_bool(value: str | None) -> bool | None:
    return True if value is None else _BOOLS.get(value.lower())


def make_setting(raw_name: str, value: str | None, *, path: str, line: int, group: str) -> OptionSetting:
    """Apply my_getopt's prefix rules to one `name[=value]`."""
    name = normalise_name(raw_name)
    prefix: str | None = None
    loose = False
    # my_getopt strips one prefix at a time until a known name remains; the
    # prefix stripped last is the one that takes effect.
    while name not in _REAL_PREFIXED:
        for candidate in _PREFIXES:
            if name.startswith(candidate + "_") and len(name) > len(candidate) + 1:
                name = name[len(candidate) + 1:]
                prefix = candidate
                loose = loose or candidate == "loose"
                break
        else:
            break
    if prefix == "loose":
        prefix = None
    if prefix in ("skip", "disable"):
        value = "1" if value == "0" else "0"
    elif prefix == "enable":
        value = "0" if value == "0" else "1"
    elif prefix == "autoset":
        value = "auto"
    elif prefix == "maximum":
        name = "maximum_" + name  # sets the ceiling, not the option itself
    enabled = parse_bool(value)
    if name == "log_bin":
        enabled = not (prefix in ("skip", "disable", "enable") and value == "0")
    return OptionSetting(name, value, enabled, path, line, group, loose, prefix)


def _strip_inline_comment(text: str) -> str:
    quote: str | None = None
    escape = False
    for index, char in enumerate(text):
        if char in "'\"" and not escape:
            if quote is None:
                quote = char
            elif quote == char:
                quote = None
        if quote is None and char == "#":
            return text[:index]
        escape = quote is not None and char == "\\" and not escape
    return text


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        value = value[1:-1]
    # Unknown escapes keep their backslash; a trailing backslash stays as is.
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value, flags=re.DOTALL)


def _directive(body: str, lineno: int) -> Directive | None:
    rest = body[1:].lstrip(_WS)
    for kind in ("includedir", "include"):
        after = rest[len(kind):len(kind) + 1]
        if rest.startswith(kind) and (after == "" or after in _WS):
            # No comment stripping here: my_default.c takes the rest verbatim.
            target = rest[len(kind):].strip(_WS)
            if not target:
                raise ParseError(f"!{kind} without a target", lineno)
            return Directive(kind, target, lineno)
    return None


def parse_option_file(text: str, path: str) -> OptionFile:
    """Parse one option file; raises ParseError where mariadbd would abort."""
    result = OptionFile(path)
    group: str | None = None
    for lineno, raw in enumerate(text.split("\n"), start=1):
        body = raw.split("\x00", 1)[0].lstrip(_WS)  # C strings end at NUL
        if not body or body[0] in "#;":
            continue
        if body[0] == "!":
            directive = _directive(body, lineno)
            if directive is not None:
                result.directives.append(directive)
                result.items.append(directive)
            continue
        if body[0] == "[":
            end = body.find("]")
            if end < 0:
                raise ParseError("group header without a closing ']'", lineno)
            group = body[1:end].strip(_WS)
            continue
        if group is None:
            raise ParseError("option before any [group] header (mariadbd refuses to start)", lineno)
        body = _strip_inline_comment(body)
        equals = body.find("=")
        name = (body if equals < 0 else body[:equals]).rstrip(_WS)
        value = None if equals < 0 else _unquote(body[equals + 1:].strip(_WS))
        if not name:
            raise ParseError("option line without a name", lineno)
        if any(char in _WS for char in name):
            raise ParseError("option name contains whitespace (use name=value)", lineno)
        setting = make_setting(name, value, path=path, line=lineno, group=group)
        result.entries.append((group, setting))
        result.items.append(setting)
    return result


def _parse_version(version: str | None) -> tuple[int, int | None] | None:
    match = re.match(r"(\d+)(?:\.(\d+))?", version or "")  # "latest", "lts": unknown
    return (int(match.group(1)), int(match.group(2)) if match.group(2) else None) if match else None


@dataclass(eq=False)
class ResolvedOptions:
    """The options mariadbd ends up with from its server groups, in order."""

    options: dict[str, OptionSetting] = field(default_factory=dict)
    history: dict[str, list[OptionSetting]] = field(default_factory=dict)
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # mariadbd would not start
    files_read: list[str] = field(default_factory=list)
    notes: list[tuple[str, int, str]] = field(default_factory=list)  # assumptions, skipped includes
    order: list[OptionSetting] = field(default_factory=list)

    def get(self, name: str) -> OptionSetting | None:
        return self.options.get(normalise_name(name))

    def value(self, name: str) -> str | None:
        """The set value, else mariadbd's default (None when kohalint knows none)."""
        setting = self.get(name)
        return setting.value if setting is not None else SERVER_DEFAULTS.get(normalise_name(name))

    def record(self, setting: OptionSetting) -> None:
        self.options[setting.name] = setting
        self.history.setdefault(setting.name, []).append(setting)
        self.order.append(setting)

    def apply_command_line(self, args: Sequence[str], path: str, line: int) -> None:
        """Add `--flags` (compose `command:`), which beat every option file."""
        words = [str(word) for word in args]
        index, first = 0, True
        while index < len(words):
            word = words[index]
            index += 1
            if word == "--":
                break  # my_getopt: end of options
            if not word.startswith("--"):
                continue  # program name, short options and their arguments
            raw, equals, val = word[2:].partition("=")
            value = val if equals else None
            if normalise_name(raw) in _DEFAULTS_FLAGS:
                # my_default.c honours --no-defaults only as the first argument.
                if first and normalise_name(raw) == "no_defaults":
                    self._drop_file_settings()
                else:
                    self.notes.append((path, line, "--defaults-* flag not followed"))
                first = False
                continue
            first = False
            setting = make_setting(raw, value, path=path, line=line, group="command")
            if (value is None and setting.prefix is None and setting.name not in _OPTIONAL_ARG
                    and index < len(words) and not words[index].startswith("-")):
                # A required-argument option takes the next word on the command line only.
                setting = make_setting(raw, words[index], path=path, line=line, group="command")
                index += 1
            self.record(setting)

    def _drop_file_settings(self) -> None:
        kept = [s for s in self.order if s.group == "command"]
        self.options, self.history, self.order = {}, {}, []
        for setting in kept:
            self.record(setting)


def _group_applies(group: str, version: tuple[int, int | None] | None) -> bool | None:
    """True/False, or None for a versioned group when the version is not known well enough."""
    match = _VERSIONED_GROUP.fullmatch(group.lower())
    if group.lower() in SERVER_GROUPS:
        return True
    if not match or (match[1] == "mysqld" and match[3] is None) or (version and int(match[2]) != version[0]):
        return False
    if version is None or (match[3] is not None and version[1] is None):
        return None
    return match[3] is None or int(match[3]) == version[1]


def resolve_server_options(entry: str, read_file: ReadFile, list_dir: ListDir, *,
                           version: str | None = None, max_files: int = 200) -> ResolvedOptions:
    """Read `entry` and everything it includes, keeping the server groups.

    Paths are container paths. A relative include target is taken from `/`
    (mariadbd's working directory in the official image, verify). Include cycles are
    cut at the first repeat; MariaDB itself only stops at depth 10.
    """
    resolved = ResolvedOptions()
    parsed_version = _parse_version(version)
    noted_groups: set[tuple[str, str]] = set()

    def read(path: str, depth: int, stack: tuple[str, ...], where: tuple[str, int]) -> None:
        if path in stack:
            resolved.notes.append((*where, "include cycle; file already being read"))
            return
        if len(resolved.files_read) >= max_files:
            if not any(msg.startswith("more than") for _, _, msg in resolved.errors):
                resolved.errors.append((*where, f"more than {max_files} option files; stopped"))
            return
        text = read_file(path)
        if text is None:
            resolved.notes.append((*where, "option file not found; MariaDB skips it"))
            return
        resolved.files_read.append(path)
        try:
            parsed = parse_option_file(text, path)
        except ParseError as exc:
            resolved.errors.append((path, exc.line, exc.message))
            return
        for item in parsed.items:
            if isinstance(item, OptionSetting):
                applies = _group_applies(item.group, parsed_version)
                if applies is None and (path, item.group.lower()) not in noted_groups:
                    noted_groups.add((path, item.group.lower()))
                    resolved.notes.append((path, item.line, "versioned group assumed to match the server version"))
                if applies is not False:
                    resolved.record(item)
                continue
            if depth >= MAX_INCLUDE_DEPTH:
                resolved.notes.append((path, item.line, "include nested too deep; MariaDB skips it"))
                continue
            target = posixpath.normpath(posixpath.join("/", item.target))
            if item.kind == "include":
                read(target, depth + 1, (*stack, path), (path, item.line))
                continue
            names = list_dir(target)
            if names is None:
                resolved.errors.append((path, item.line, "!includedir directory not found (mariadbd refuses to start)"))
                continue
            for name in sorted(names):  # my_dir(MY_WANT_SORT): byte order
                if name.endswith(".cnf"):
                    read(posixpath.join(target, name), depth + 1, (*stack, path), (path, item.line))

    read(posixpath.normpath(entry), 0, (), (posixpath.normpath(entry), 1))
    return resolved


# The official mariadb image (10.5+): /etc/mysql/my.cnf links to mariadb.cnf, whose
# two !includedir lines the Dockerfile swaps so the documented conf.d mount wins.
OFFICIAL_IMAGE_ENTRY = "/etc/mysql/my.cnf"
OFFICIAL_IMAGE_MY_CNF = (
    "[client-server]\nsocket = /run/mysqld/mysqld.sock\n"
    "!includedir /etc/mysql/mariadb.conf.d/\n!includedir /etc/mysql/conf.d/\n"
)
# Only the server-relevant stock lines (log*, bind-address and user are commented
# out by the image build). expire_logs_days = 10 ships in 50-server.cnf (verify per tag).
OFFICIAL_IMAGE_FILES: dict[str, str] = {
    OFFICIAL_IMAGE_ENTRY: OFFICIAL_IMAGE_MY_CNF,
    "/etc/mysql/mariadb.conf.d/05-skipcache.cnf": "[mariadb]\nhost-cache-size=0\nskip-name-resolve\n",
    "/etc/mysql/mariadb.conf.d/50-server.cnf": (
        "[server]\n[mariadbd]\npid-file = /run/mysqld/mysqld.pid\nbasedir = /usr\nexpire_logs_days = 10\n"
    ),
}
OFFICIAL_IMAGE_DIRS: dict[str, list[str]] = {
    "/etc/mysql/conf.d": [],
    "/etc/mysql/mariadb.conf.d": ["05-skipcache.cnf", "50-server.cnf"],
}


def with_official_image(read_file: ReadFile, list_dir: ListDir, *,
                        mounted: Iterable[str] = ()) -> tuple[ReadFile, ListDir]:
    """Callbacks that fall back to the image's stock files where the repo has none.

    `mounted`: container directories the repo mounts over; the stock content
    under them is hidden, as a bind mount hides it. The caller's list_dir must
    list what the mounts put in a directory (single-file mounts included).
    """
    roots = [posixpath.normpath(m) for m in mounted]

    def hidden(path: str) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def read(path: str) -> str | None:
        text = read_file(path)
        return text if text is not None or hidden(path) else OFFICIAL_IMAGE_FILES.get(path)

    def listing(path: str) -> list[str] | None:
        names = list_dir(path)
        if names is None and path in roots:
            return []  # Docker creates a missing bind-mount source as an empty directory
        stock = None if names is not None or hidden(path) else OFFICIAL_IMAGE_DIRS.get(path)
        return list(stock) if stock is not None else names

    return read, listing


def is_binlog_on(opts: ResolvedOptions) -> bool:
    setting = opts.get("log_bin")
    return bool(setting is not None and setting.enabled)


def _number(text: str | None) -> float | None:
    match = re.fullmatch(r"(\d+(?:\.\d*)?)([kmgtpe]?)", (text or "").strip().lower())
    return None if match is None else float(match.group(1)) * _SUFFIXES[match.group(2)]


def binlog_retention_seconds(opts: ResolvedOptions) -> int | None:
    """Seconds before binlogs are purged; None means never (0 or unset) or unreadable.

    binlog_expire_logs_seconds and expire_logs_days are linked, so the one set
    last wins; values above the maxima (8553600 s, 99 days) are clamped.
    """
    for setting in reversed(opts.order):
        if setting.name == "binlog_expire_logs_seconds":
            seconds = _number(setting.value)
            seconds = None if seconds is None else min(int(seconds), 8553600)
            break
        if setting.name == "expire_logs_days":
            days = _number(setting.value)
            seconds = None if days is None else round(min(days, 99.0) * 86400)
            break
    else:
        return None
    return seconds if seconds else None


def datadir(opts: ResolvedOptions) -> str:
    setting = opts.get("datadir")
    return setting.value if setting is not None and setting.value else SERVER_DEFAULTS["datadir"]


def _in_datadir(opts: ResolvedOptions, name: str) -> str:
    return posixpath.normpath(name if name.startswith("/") else posixpath.join(datadir(opts), name))


def log_bin_basename(opts: ResolvedOptions) -> str | None:
    """Absolute binlog basename, or None when the binlog is off.

    Without a name mariadbd uses `<log_basename>-bin`, by default
    `<hostname>-bin`, in the datadir; the placeholder stays in the result.
    """
    if not is_binlog_on(opts):
        return None
    setting = opts.get("log_bin")
    base = setting.value if setting is not None and setting.prefix is None else None
    if not base:
        stem = opts.get("log_basename")
        base = (stem.value if stem is not None and stem.value else "<hostname>") + "-bin"
    return _in_datadir(opts, base)


def log_bin_index_path(opts: ResolvedOptions) -> str | None:
    basename = log_bin_basename(opts)
    if basename is None:
        return None
    setting = opts.get("log_bin_index")
    if setting is not None and setting.prefix is None and setting.value:
        return _in_datadir(opts, setting.value)
    return basename + ".index"


def binlog_in_datadir(opts: ResolvedOptions) -> bool | None:
    """Whether the binlogs share the datadir (and so its volume); None when off."""
    basename = log_bin_basename(opts)
    root = datadir(opts).rstrip("/") or "/"
    return None if basename is None else basename.startswith(root + "/") or posixpath.dirname(basename) == root
