"""MariaDB option files: line rules, prefixes, includes, image chain, binlog helpers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kohalint.documents.mycnf import (
    OFFICIAL_IMAGE_ENTRY,
    SERVER_DEFAULTS,
    Directive,
    binlog_in_datadir,
    binlog_retention_seconds,
    datadir,
    is_binlog_on,
    log_bin_basename,
    log_bin_index_path,
    parse_option_file,
    resolve_server_options,
    with_official_image,
)
from kohalint.errors import ParseError


def fake_fs(files: dict[str, str]):
    """read_file/list_dir over a dict of container paths; directories are implied."""

    def read(path: str) -> str | None:
        return files.get(path)

    def listing(path: str) -> list[str] | None:
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/")[0] for p in files if p.startswith(prefix)}
        return sorted(names) if names else None

    return read, listing


def resolve(files: dict[str, str], entry: str = "/etc/my.cnf", **kw):
    read, listing = fake_fs(files)
    return resolve_server_options(entry, read, listing, **kw)


def only(text: str):
    (group, setting), = parse_option_file(text, "my.cnf").entries
    return group, setting


# (line, name, value, enabled, loose, prefix)
OPTION_LINES = [
    ("log-bin", "log_bin", None, True, False, None),
    ("log_bin = mysql-bin", "log_bin", "mysql-bin", True, False, None),
    ("log-bin=/var/log/mysql/mysql-bin", "log_bin", "/var/log/mysql/mysql-bin", True, False, None),
    ("log_bin=OFF", "log_bin", "OFF", True, False, None),  # names the files "OFF"
    ("log_bin=0", "log_bin", "0", True, False, None),
    ("skip-log-bin", "log_bin", "0", False, False, "skip"),
    ("disable_log_bin", "log_bin", "0", False, False, "disable"),
    ("skip-log-bin=0", "log_bin", "1", True, False, "skip"),  # double negation
    ("enable-log-bin", "log_bin", "1", True, False, "enable"),
    ("enable-log-bin=0", "log_bin", "0", False, False, "enable"),
    ("loose-skip-log-bin", "log_bin", "0", False, True, "skip"),
    ("skip-loose-log-bin", "log_bin", None, True, True, None),  # last stripped prefix wins
    ("Binlog-Format = ROW", "binlog_format", "ROW", None, False, None),
    ("sync_binlog=1", "sync_binlog", "1", True, False, None),
    ("general_log = off", "general_log", "off", False, False, None),
    ("general_log = TRUE", "general_log", "TRUE", True, False, None),
    ("general_log = yes", "general_log", "yes", None, False, None),  # my_getopt: not a boolean
    ("loose-innodb-foo = 3", "innodb_foo", "3", None, True, None),
    ("skip-name-resolve", "skip_name_resolve", None, True, False, None),  # a real option name
    ("maximum-max-connections = 500", "maximum_max_connections", "500", None, False, "maximum"),
    ("autoset-innodb-buffer-pool-size", "innodb_buffer_pool_size", "auto", None, False, "autoset"),
    ("datadir = '/srv/my sql' ", "datadir", "/srv/my sql", None, False, None),
    ('log_error = "/var/log/e.log"  # inline', "log_error", "/var/log/e.log", None, False, None),
    ("init_connect = 'SET a=\"#x\"' # real comment", "init_connect", 'SET a="#x"', None, False, None),
    ("log-bin # enable it", "log_bin", None, True, False, None),
    ("server_id = 2 ; not a comment", "server_id", "2 ; not a comment", None, False, None),
    (r"ft_stopword_file = a\sb\tc\qd", "ft_stopword_file", "a b\tc\\qd", None, False, None),
    ("opt =", "opt", "", None, False, None),
    ("  \tbinlog_format=row\r", "binlog_format", "row", None, False, None),
]


@pytest.mark.parametrize(("line", "name", "value", "enabled", "loose", "prefix"), OPTION_LINES)
def test_option_line(line, name, value, enabled, loose, prefix):
    group, setting = only(f"[mysqld]\n{line}\n")
    assert (setting.name, setting.value, setting.enabled, setting.loose, setting.prefix) == (
        name, value, enabled, loose, prefix)
    assert (group, setting.group, setting.line, setting.path) == ("mysqld", "mysqld", 2, "my.cnf")


def test_comments_blank_lines_and_directives_keep_line_numbers():
    text = "# top\n; also\n\n!include /etc/a.cnf\n[ mysqld ]  # x\n  # indented\nserver_id=3\n!includedir  /etc/d/ \n!other thing\n"
    parsed = parse_option_file(text, "f.cnf")
    assert parsed.directives == [Directive("include", "/etc/a.cnf", 4), Directive("includedir", "/etc/d/", 8)]
    assert [(g, s.name, s.line) for g, s in parsed.entries] == [("mysqld", "server_id", 7)]
    assert [type(i).__name__ for i in parsed.items] == ["Directive", "OptionSetting", "Directive"]


@pytest.mark.parametrize(("text", "line"), [
    ("log-bin\n[mysqld]\n", 1),  # MariaDB: option without preceding group
    ("# c\n\nserver_id=1\n", 3),
    ("[mysqld\nlog-bin\n", 1),
    ("[mysqld]\n!include\n", 2),
    ("[mysqld]\n!includedir   \n", 2),
    ("[mysqld]\n= value\n", 2),
    ("[mysqld]\nbind-address 0.0.0.0\n", 2),
])
def test_unreadable_lines_raise_parse_error_with_line(text, line):
    with pytest.raises(ParseError) as info:
        parse_option_file(text, "x.cnf")
    assert info.value.line == line
    assert "0.0.0.0" not in info.value.message


def test_each_included_file_starts_outside_any_group():
    result = resolve({"/etc/my.cnf": "[mysqld]\n!include /etc/b.cnf\n", "/etc/b.cnf": "log-bin\n"})
    assert result.errors == [("/etc/b.cnf", 1, result.errors[0][2])]
    assert not is_binlog_on(result)


@pytest.mark.parametrize(("text", "on"), [
    ("[mysqld]\nlog-bin\nskip-log-bin\n", False),
    ("[mysqld]\nskip-log-bin\nlog-bin\n", True),
    ("[mysqld]\nlog_bin=mysql-bin\ndisable-log-bin\n", False),
    ("[mariadbd]\nlog-bin=OFF\n", True),
    ("[client]\nlog-bin\n", False),
    ("[mysqldump]\nlog-bin\n", False),
    ("[mariadb-backup]\nlog-bin\n", False),
    ("[embedded]\nlog-bin\n", False),
    ("[client-server]\nlog-bin\n", True),
    ("[SERVER]\nlog-bin\n", True),
    ("[galera]\nlog-bin\n", True),
    ("[mysqld]\n", False),
])
def test_binlog_on_off(text, on):
    assert is_binlog_on(resolve({"/etc/my.cnf": text})) is on


def test_includedir_reads_only_cnf_in_byte_order_and_last_wins():
    files = {
        "/etc/my.cnf": "[mysqld]\nbinlog_format=STATEMENT\n!includedir /etc/conf.d/\nserver_id=9\n",
        "/etc/conf.d/20-b.cnf": "[mysqld]\nbinlog-format = ROW\n",
        "/etc/conf.d/10-a.cnf": "[mysqld]\nbinlog_format = MIXED\nserver-id=5\n",
        "/etc/conf.d/30-c.cnf.bak": "[mysqld]\nbinlog_format = STATEMENT\n",
        "/etc/conf.d/README": "[mysqld]\nbinlog_format = STATEMENT\n",
        "/etc/conf.d/Z.cnf": "[mysqld]\nsync_binlog=1\n",
        "/etc/conf.d/a.cnf": "[mysqld]\nsync_binlog=0\n",  # 'a' sorts after 'Z'
    }
    result = resolve(files)
    assert result.files_read == ["/etc/my.cnf", "/etc/conf.d/10-a.cnf", "/etc/conf.d/20-b.cnf",
                                 "/etc/conf.d/Z.cnf", "/etc/conf.d/a.cnf"]
    fmt = result.get("binlog-format")
    assert (fmt.value, fmt.path, fmt.line) == ("ROW", "/etc/conf.d/20-b.cnf", 2)
    assert [s.value for s in result.history["binlog_format"]] == ["STATEMENT", "MIXED", "ROW"]
    assert result.get("server_id").value == "9"  # after the directive: read later
    assert result.value("sync_binlog") == "0"


@pytest.mark.parametrize(("version", "applies", "noted"), [
    ("10.11", True, False), ("10.11.6", True, False), ("10.6", False, False),
    ("11.4", False, False), (None, True, True), ("latest", True, True), ("10", True, True),
])
def test_versioned_group(version, applies, noted):
    result = resolve({"/etc/my.cnf": "[mysqld]\nbinlog_format=MIXED\n[mariadb-10.11]\nbinlog_format=ROW\n"},
                     version=version)
    assert (result.value("binlog_format") == "ROW") is applies
    assert bool(result.notes) is noted
    if noted:
        assert result.notes[0][:2] == ("/etc/my.cnf", 4)


@pytest.mark.parametrize(("group", "version", "applies"), [
    ("mariadbd-11.4", "11.4.2", True), ("mysqld-11.4", "11.4", True), ("mariadb-11", "11.4", True),
    ("mariadb-11", "10.11", False), ("mysqld-11", "11.4", False), ("mariadb-10.11-x", "10.11", False),
])
def test_versioned_group_forms(group, version, applies):
    result = resolve({"/etc/my.cnf": f"[{group}]\nlog-bin\n"}, version=version)
    assert is_binlog_on(result) is applies


def test_loose_and_dash_underscore_are_one_option():
    result = resolve({"/etc/my.cnf": "[mysqld]\nloose-binlog-row-image=MINIMAL\nbinlog_row_image = FULL\n"})
    assert result.get("binlog-row-image").value == "FULL"
    assert [s.loose for s in result.history["binlog_row_image"]] == [True, False]


def test_include_cycle_missing_targets_and_errors_do_not_stop_resolution():
    files = {
        "/etc/my.cnf": "[mysqld]\n!include /etc/a.cnf\n!include /etc/missing.cnf\n!includedir /nope\n"
                       "!include /etc/bad.cnf\nserver_id=7\n",
        "/etc/a.cnf": "[mysqld]\nlog-bin\n!include /etc/my.cnf\n",
        "/etc/bad.cnf": "oops\n",
    }
    result = resolve(files)
    assert result.files_read == ["/etc/my.cnf", "/etc/a.cnf", "/etc/bad.cnf"]
    assert [(p, line) for p, line, _ in result.errors] == [("/etc/my.cnf", 4), ("/etc/bad.cnf", 1)]
    assert [(p, line) for p, line, _ in result.notes] == [("/etc/a.cnf", 3), ("/etc/my.cnf", 3)]
    assert is_binlog_on(result) and result.value("server_id") == "7"


def test_max_files_and_depth_are_bounded():
    files = {f"/etc/{i}.cnf": f"[mysqld]\nserver_id={i}\n!include /etc/{i + 1}.cnf\n" for i in range(40)}
    result = resolve(files, entry="/etc/0.cnf", max_files=5)
    assert len(result.files_read) == 5
    assert result.errors[0][2].startswith("more than 5")
    deep = resolve(files, entry="/etc/0.cnf")
    assert len(deep.files_read) == 11  # MariaDB's include depth limit is 10
    assert deep.value("server_id") == "10"


def test_relative_include_is_taken_from_root():
    result = resolve({"/etc/my.cnf": "[mysqld]\n!include etc/x.cnf\n", "/etc/x.cnf": "[mysqld]\nlog-bin\n"})
    assert is_binlog_on(result)


@pytest.mark.parametrize(("args", "name", "value"), [
    (["mariadbd", "--log-bin"], "log_bin", None),
    (["--log-bin=mysqld-bin", "--binlog-format=ROW"], "binlog_format", "ROW"),
    (["--binlog_format", "ROW"], "binlog_format", "ROW"),
    (["--log-bin", "mysqld-bin"], "log_bin", None),  # optional argument: never the next word
    (["--server-id", "--log-bin"], "server_id", None),
    (["--loose-sync-binlog=1"], "sync_binlog", "1"),
    (["--", "--sync-binlog=1"], "sync_binlog", "0"),
    (["-u", "mysql", "--sync_binlog=1"], "sync_binlog", "1"),
])
def test_command_line_flags(args, name, value):
    result = resolve({"/etc/my.cnf": "[mysqld]\nsync_binlog=0\n"})
    result.apply_command_line(args, "compose.yaml", 12)
    setting = result.get(name)
    assert (setting.value if setting else None) == value
    if setting and setting.group == "command":
        assert (setting.path, setting.line) == ("compose.yaml", 12)


def test_command_line_beats_files_both_ways():
    result = resolve({"/etc/my.cnf": "[mysqld]\nlog-bin\nbinlog_format=MIXED\n"})
    result.apply_command_line(["mariadbd", "--skip-log-bin", "--binlog-format=ROW"], "compose.yaml", 3)
    assert not is_binlog_on(result) and result.value("binlog_format") == "ROW"
    result.apply_command_line(["--log-bin"], "compose.yaml", 4)
    assert is_binlog_on(result)


def test_no_defaults_drops_file_options():
    result = resolve({"/etc/my.cnf": "[mysqld]\nlog-bin\n"})
    result.apply_command_line(["mariadbd", "--no-defaults", "--server-id=3"], "c.yaml", 1)
    assert not is_binlog_on(result) and result.value("server_id") == "3"
    result.apply_command_line(["--defaults-file=/x.cnf"], "c.yaml", 2)
    assert result.notes[-1][:2] == ("c.yaml", 2)


def test_official_image_chain_reads_mounted_conf_d_last():
    repo = {"/etc/mysql/conf.d/binlog.cnf": "[mariadb]\nlog-bin=mysqld-bin\nexpire_logs_days=3\n"}
    read, listing = with_official_image(*fake_fs(repo))
    result = resolve_server_options(OFFICIAL_IMAGE_ENTRY, read, listing)
    assert result.files_read == ["/etc/mysql/my.cnf", "/etc/mysql/mariadb.conf.d/05-skipcache.cnf",
                                 "/etc/mysql/mariadb.conf.d/50-server.cnf", "/etc/mysql/conf.d/binlog.cnf"]
    assert result.errors == []
    assert is_binlog_on(result) and binlog_retention_seconds(result) == 3 * 86400


def test_official_image_stock_retention_and_hidden_stock():
    read, listing = with_official_image(*fake_fs({}))
    stock = resolve_server_options(OFFICIAL_IMAGE_ENTRY, read, listing)
    assert not is_binlog_on(stock) and binlog_retention_seconds(stock) == 10 * 86400
    read, listing = with_official_image(*fake_fs({}), mounted=["/etc/mysql/mariadb.conf.d"])
    hidden = resolve_server_options(OFFICIAL_IMAGE_ENTRY, read, listing)
    assert binlog_retention_seconds(hidden) is None
    assert hidden.errors == []  # an absent mount source becomes an empty directory


@pytest.mark.parametrize(("lines", "seconds"), [
    ([], None),
    (["expire_logs_days=0"], None),
    (["expire_logs_days=7"], 604800),
    (["expire_logs_days=0.5"], 43200),
    (["binlog_expire_logs_seconds=3600"], 3600),
    (["expire_logs_days=7", "binlog_expire_logs_seconds=3600"], 3600),  # linked: last wins
    (["binlog_expire_logs_seconds=3600", "expire_logs_days=2"], 172800),
    (["expire_logs_days=7", "binlog_expire_logs_seconds=0"], None),
    (["binlog_expire_logs_seconds=99999999"], 8553600),
    (["expire_logs_days=500"], 99 * 86400),
    (["binlog_expire_logs_seconds=1k"], 1024),
    (["expire_logs_days=soon"], None),
])
def test_binlog_retention_seconds(lines, seconds):
    result = resolve({"/etc/my.cnf": "[mysqld]\n" + "\n".join(lines) + "\n"})
    assert binlog_retention_seconds(result) == seconds


@pytest.mark.parametrize(("lines", "basename", "in_datadir"), [
    (["skip-log-bin"], None, None),
    (["log-bin"], "/var/lib/mysql/<hostname>-bin", True),
    (["log-bin", "log-basename=koha"], "/var/lib/mysql/koha-bin", True),
    (["log-bin=mysql-bin"], "/var/lib/mysql/mysql-bin", True),
    (["log-bin=mysql-bin", "datadir=/data/db/"], "/data/db/mysql-bin", True),
    (["log-bin=/var/log/mysql/mysql-bin"], "/var/log/mysql/mysql-bin", False),
    (["log-bin=/var/lib/mysql-binlogs/b"], "/var/lib/mysql-binlogs/b", False),
    (["log-bin=logs/b"], "/var/lib/mysql/logs/b", True),
])
def test_binlog_location(lines, basename, in_datadir):
    result = resolve({"/etc/my.cnf": "[mysqld]\n" + "\n".join(lines) + "\n"})
    assert log_bin_basename(result) == basename
    assert binlog_in_datadir(result) is in_datadir


def test_index_path_and_defaults():
    result = resolve({"/etc/my.cnf": "[mysqld]\nlog-bin=/b/x\nlog_bin_index=idx/x.index\n"})
    assert log_bin_index_path(result) == "/var/lib/mysql/idx/x.index"
    plain = resolve({"/etc/my.cnf": "[mysqld]\nlog-bin=x\n"})
    assert log_bin_index_path(plain) == "/var/lib/mysql/x.index"
    assert datadir(plain) == SERVER_DEFAULTS["datadir"] == "/var/lib/mysql"
    assert [plain.value(n) for n in ("binlog_format", "sync_binlog", "innodb-flush-log-at-trx-commit",
                                     "server_id", "nonexistent")] == ["MIXED", "0", "1", "1", None]


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=200),
                st.text(alphabet=st.sampled_from(list("[]!#;='\"\\ \t\r\nabcdilnorsux-_.0\x00\x85\u2028")),
                        max_size=200)))
def test_arbitrary_text_parses_or_raises_parse_error(text):
    try:
        parsed = parse_option_file(text, "fuzz.cnf")
    except ParseError as exc:
        assert exc.line >= 1
        return
    for _, setting in parsed.entries:
        assert setting.name == setting.name.lower() and "-" not in setting.name
