"""KL602/KL603: the MariaDB service's binlog as the server would run it."""

from __future__ import annotations

import pytest

import kohalint
from tests.conftest import triples

DB = "services:\n  db:\n    image: {image}\n{extra}"
VOLUMES = "    volumes:\n      - db-data:/var/lib/mysql\n{more}volumes:\n  db-data:\n"


def compose(extra: str = "", image: str = "mariadb:11.4", mounts: str = "") -> str:
    """A db service (line 2) with a db-data volume and `extra` keys (from line 4)."""
    return DB.format(image=image, extra=extra) + VOLUMES.format(more=mounts)


def found(make_repo, files: dict[str, str], rule: str, name: str = "repo") -> set[tuple[str, int]]:
    root = make_repo(files, name=name)
    report = kohalint.scan(root, select=[rule])
    assert not [f for f in report.findings if f.rule_id == "KL003"]
    return {(path, line) for _, path, line in triples(report, rule)}


CONF = "      - ./mariadb/conf.d:/etc/mysql/conf.d:ro\n"


# -- KL602 ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    '    command: ["--log-bin=mysql-bin", "--binlog-format=ROW"]\n',
    "    command: --log-bin --binlog-format=ROW\n",
    "    command: mariadbd --log-bin=mysql-bin\n",
    "    command:\n      - --character-set-server=utf8mb4\n      - --log-bin\n",
])
def test_binlog_enabled_only_by_command(make_repo, command):
    assert found(make_repo, {"compose.yaml": compose(command)}, "KL602") == set()


def test_binlog_unset_is_reported_at_the_service(make_repo):
    assert found(make_repo, {"compose.yaml": compose()}, "KL602") == {("compose.yaml", 2)}


def test_command_that_runs_another_program_is_not_read_as_server_flags(make_repo):
    text = compose('    command: ["sh", "-c", "echo --log-bin"]\n')
    assert found(make_repo, {"compose.yaml": text}, "KL602") == {("compose.yaml", 2)}


@pytest.mark.parametrize("cnf,expected", [
    ("[mysqld]\nlog-bin = mysql-bin\nskip-log-bin\n", {("mariadb/conf.d/koha.cnf", 3)}),
    ("[mysqld]\nskip-log-bin\nlog-bin = mysql-bin\n", set()),
    ("[mysqld]\nlog_bin\n[mariadb]\ndisable-log-bin\n", {("mariadb/conf.d/koha.cnf", 4)}),
    ("[mysqld]\nlog_bin = OFF\n", set()),  # names the files "OFF", does not disable
    ("[client]\nlog-bin\n", {("compose.yaml", 2)}),  # not a server group
    ("[mariadb-10.11]\nlog-bin\n", {("compose.yaml", 2)}),  # another version's group
    ("[mariadb-11.4]\nlog-bin\n", set()),
    ("[mysqld]\nloose-log-bin\n", set()),
])
def test_option_file_settings_in_order(make_repo, cnf, expected):
    files = {"compose.yaml": compose(mounts=CONF), "mariadb/conf.d/koha.cnf": cnf}
    assert found(make_repo, files, "KL602") == expected


def test_includedir_reads_files_in_byte_order(make_repo):
    files = {"compose.yaml": compose(mounts=CONF),
             "mariadb/conf.d/10-binlog.cnf": "[mysqld]\nlog-bin\n",
             "mariadb/conf.d/20-dev.cnf": "[mysqld]\nskip-log-bin\n",
             "mariadb/conf.d/30-notes.cnf.bak": "[mysqld]\nlog-bin\n"}
    assert found(make_repo, files, "KL602") == {("mariadb/conf.d/20-dev.cnf", 2)}
    files["mariadb/conf.d/05-dev.cnf"] = files.pop("mariadb/conf.d/20-dev.cnf")
    assert found(make_repo, files, "KL602", name="renamed") == set()


def test_conf_d_is_read_after_mariadb_conf_d(make_repo):
    mounts = ("      - ./conf.d:/etc/mysql/conf.d:ro\n"
              "      - ./mariadb.conf.d:/etc/mysql/mariadb.conf.d:ro\n")
    files = {"compose.yaml": compose(mounts=mounts),
             "conf.d/koha.cnf": "[mysqld]\nskip-log-bin\n",
             "mariadb.conf.d/99-binlog.cnf": "[mysqld]\nlog-bin\n"}
    assert found(make_repo, files, "KL602") == {("conf.d/koha.cnf", 2)}


def test_include_chain_and_single_file_mounts(make_repo):
    mounts = ("      - ./my.cnf:/etc/mysql/conf.d/zz-koha.cnf:ro\n"
              "      - ./extra:/etc/mysql/extra:ro\n")
    files = {"compose.yaml": compose(mounts=mounts),
             "my.cnf": "[mysqld]\n!includedir /etc/mysql/extra\n",
             "extra/binlog.cnf": "[mariadbd]\nlog-bin\n"}
    assert found(make_repo, files, "KL602") == set()


def test_compose_configs_are_mounted_files(make_repo):
    text = ("services:\n  db:\n    image: mariadb:11.4\n    configs:\n"
            "      - source: koha-cnf\n        target: /etc/mysql/conf.d/koha.cnf\n"
            "configs:\n  koha-cnf:\n    file: ./mariadb/koha.cnf\n")
    files = {"compose.yaml": text, "mariadb/koha.cnf": "[mysqld]\nlog-bin\n"}
    assert found(make_repo, files, "KL602") == set()


def test_override_command_wins_over_files(make_repo):
    files = {"compose.yaml": compose(mounts=CONF),
             "mariadb/conf.d/koha.cnf": "[mysqld]\nlog-bin\n",
             "compose.override.yaml": "services:\n  db:\n    command:\n      - --skip-log-bin\n"}
    assert found(make_repo, files, "KL602") == {("compose.override.yaml", 4)}


def test_unreadable_option_files_are_not_guessed(make_repo):
    host = "      - /etc/koha/mysql:/etc/mysql/conf.d:ro\n"
    assert found(make_repo, {"compose.yaml": compose(mounts=host)}, "KL602") == set()
    # ...but the command line still decides
    text = compose('    command: ["--skip-log-bin"]\n', mounts=host)
    assert found(make_repo, {"compose.yaml": text}, "KL602", name="cmd") == {("compose.yaml", 4)}


@pytest.mark.parametrize("image,flagged", [
    ("mariadb:11.4", True),
    ("docker.io/library/mariadb:10.11@sha256:" + "ab" * 32, True),
    ("${DB_IMAGE:-mariadb:11.4}", True),
    ("bitnami/mariadb:11.4", True),
    ("mysql:8.4", False),  # binlog on by default since MySQL 8.0
    ("mysql:5.7", True),
    ("ghcr.io/acme/koha:24.05", False),  # not a database
    ("${DB_IMAGE}", False),  # unknown until deploy time
])
def test_database_images(make_repo, image, flagged):
    assert bool(found(make_repo, {"compose.yaml": compose(image=image)}, "KL602")) is flagged


# -- KL603 ------------------------------------------------------------------------------
SAFE = ('    command: ["--log-bin=mysql-bin", "--server-id=1", "--binlog-format=ROW", '
        '"--sync-binlog=1"]\n')


def test_safe_binlog_is_clean(make_repo):
    assert found(make_repo, {"compose.yaml": compose(SAFE)}, "KL603") == set()


def test_defaults_are_judged_at_the_service(make_repo):
    root = make_repo({"compose.yaml": compose('    command: ["--log-bin", "--server-id=2"]\n')})
    report = kohalint.scan(root, select=["KL603"])
    messages = sorted(f.message.split("`")[1] for f in report.findings)
    assert messages == ["binlog_format", "sync_binlog"]  # innodb_flush_log_at_trx_commit defaults to 1
    assert {f.location.line for f in report.findings} == {2}


def test_missing_server_id(make_repo):
    text = compose('    command: ["--log-bin", "--binlog-format=row", "--sync-binlog=1"]\n')
    root = make_repo({"compose.yaml": text})
    report = kohalint.scan(root, select=["KL603"])
    assert [(f.location.line, "server_id" in f.message) for f in report.findings] == [(2, True)]


@pytest.mark.parametrize("log_bin,mounts,flagged", [
    ("mysql-bin", "", False),  # relative: in the datadir, on db-data
    ("/var/lib/mysql/binlog/mysql-bin", "", False),
    ("/var/log/mysql/mariadb-bin", "", True),  # the container's own filesystem
    ("/var/log/mysql/mariadb-bin", "      - ./binlogs:/var/log/mysql\n", False),  # bind mount
    ("/var/log/mysql/mariadb-bin", "      - binlog:/var/log\n", False),  # a volume on a parent
    ("/var/log/mysql/mariadb-bin", "      - /var/log/mysql\n", True),  # anonymous volume
    ("/var/log/mysql/mariadb-bin", "      - type: tmpfs\n        target: /var/log/mysql\n", True),
])
def test_binlog_directory_persistence(make_repo, log_bin, mounts, flagged):
    cnf = f"[mysqld]\nserver_id=1\nlog_bin={log_bin}\nbinlog_format=ROW\nsync_binlog=1\n"
    files = {"compose.yaml": compose(mounts=CONF + mounts), "mariadb/conf.d/koha.cnf": cnf}
    expected = {("mariadb/conf.d/koha.cnf", 3)} if flagged else set()
    assert found(make_repo, files, "KL603") == expected


def test_relative_binlog_without_any_volume(make_repo):
    text = "services:\n  db:\n    image: mariadb:11.4\n" + SAFE
    assert found(make_repo, {"compose.yaml": text}, "KL603") == {("compose.yaml", 4)}


POLICY = "version: 1\nrpo: 15m\nrto: 4h\nbackup:\n  schedule: \"{schedule}\"\n"


@pytest.mark.parametrize("schedule,retention,flagged", [
    ("0 3 * * 0", "expire_logs_days = 7", True),  # weekly: needs 8 days
    ("0 3 * * 0", "expire_logs_days = 8", False),
    ("0 3 * * *", "binlog_expire_logs_seconds = 172800", False),  # daily: 2 days is enough
    ("0 3 * * *", "binlog_expire_logs_seconds = 86400", True),
    ("24h", "expire_logs_days = 1", True),
    ("0 3 1 * *", "expire_logs_days = 30", True),  # monthly on the 1st: 31-day gaps
    ("0 3 * * 0", "binlog_expire_logs_seconds = 0", False),  # never purged
    ("0 3 * * 0", "expire_logs_days = 30\nbinlog_expire_logs_seconds = 86400", True),  # last one wins
])
def test_retention_against_backup_interval(make_repo, schedule, retention, flagged):
    cnf = f"[mysqld]\nserver_id=1\nlog_bin=mysql-bin\nbinlog_format=ROW\nsync_binlog=1\n{retention}\n"
    files = {"compose.yaml": compose(mounts=CONF), "mariadb/conf.d/koha.cnf": cnf,
             "ops/recovery.yaml": POLICY.format(schedule=schedule)}
    got = found(make_repo, files, "KL603")
    assert bool(got) is flagged
    if flagged:
        assert got == {("mariadb/conf.d/koha.cnf", 5 + retention.count("\n") + 1)}


def test_stock_retention_is_reported_at_the_service(make_repo):
    # the image's 50-server.cnf sets expire_logs_days = 10
    files = {"compose.yaml": compose(SAFE), "ops/recovery.yaml": POLICY.format(schedule="0 3 1 * *")}
    assert found(make_repo, files, "KL603") == {("compose.yaml", 2)}


def test_binlog_off_is_left_to_kl602(make_repo):
    cnf = "[mysqld]\nbinlog_format=STATEMENT\nsync_binlog=0\n"
    files = {"compose.yaml": compose(mounts=CONF), "mariadb/conf.d/koha.cnf": cnf}
    assert found(make_repo, files, "KL603") == set()


# -- KL001 on option files and scripts no rule happens to read ----------------------------
def test_unparsable_option_file_and_script_are_kl001_at_their_line(make_repo):
    root = make_repo({
        "mariadb/conf.d/binlog.cnf": "[mariadbd]\nlog-bin\n[mysqld\nbinlog-format=ROW\n",
        "mariadb/orphan.cnf": "log-bin\n",  # an option before any [group]: mariadbd refuses to start
        "scripts/tool.sh": "#!/bin/sh\necho ok\necho 'unterminated\n",
        "mariadb/fine.cnf": "[client-server]\n!includedir /etc/mysql/conf.d/\n",
    })
    report = kohalint.scan(root, select=["KL001"])
    assert triples(report) == {("KL001", "mariadb/conf.d/binlog.cnf", 3), ("KL001", "mariadb/orphan.cnf", 1),
                               ("KL001", "scripts/tool.sh", 3)}
    assert not report.internal_error


# -- a database built from the repository ---------------------------------------------------
BUILT_DB = "services:\n  db:\n    build: ./mariadb\n    image: registry.example/koha-db:sha-0123456\n"


@pytest.mark.parametrize("dockerfile, files, expected", [
    # FROM mariadb, nothing enables the binlog: KL602 at the service
    ("FROM mariadb:11.4\n", {}, {("compose.yaml", 2)}),
    # the option file the image copies in turns it on
    ("FROM mariadb:11.4\nCOPY binlog.cnf /etc/mysql/conf.d/\n",
     {"mariadb/binlog.cnf": "[mariadbd]\nlog-bin = mysql-bin\n"}, set()),
    # ... also through a named base stage and a copied directory
    ("FROM mariadb:11.4 AS server\nFROM server\nCOPY conf.d /etc/mysql/conf.d\n",
     {"mariadb/conf.d/binlog.cnf": "[mariadbd]\nlog-bin\n"}, set()),
    # the copied file turns it off: reported at its line
    ("FROM mariadb:11.4\nCOPY binlog.cnf /etc/mysql/conf.d/zz.cnf\n",
     {"mariadb/binlog.cnf": "[mariadbd]\nlog-bin\nskip-log-bin\n"}, {("mariadb/binlog.cnf", 3)}),
    # a copy kohalint cannot read: not judged
    ("FROM mariadb:11.4\nCOPY --from=cfg /out/ /etc/mysql/conf.d/\n", {}, set()),
    # not a database
    ("FROM perl:5.38\n", {}, set()),
])
def test_database_built_from_the_repository(make_repo, dockerfile, files, expected):
    repo = {"compose.yaml": BUILT_DB, "mariadb/Dockerfile": dockerfile, **files}
    assert found(make_repo, repo, "KL602") == expected
