"""KL604/KL605: the backup and restore scripts, read as shell."""

from __future__ import annotations

import pytest

import kohalint

COMPOSE = "services:\n  db:\n    image: mariadb:11.4\n"
HEAD = "#!/usr/bin/env bash\nset -euo pipefail\n"
ENCRYPT = "mariadb-dump --defaults-extra-file=/etc/b.cnf --all-databases | age -r age1x > /srv/b/db.sql.age\n"
OFFSITE = "rclone copy /srv/b offsite:koha\n"
BINLOG = "rsync -a /var/lib/mysql-binlog/ /srv/b/binlog/\n"


def scan(make_repo, files: dict[str, str], rule: str, name: str = "repo", **config):
    root = make_repo(files, name=name)
    report = kohalint.scan(root, config={"select": [rule], **config})
    assert not [f for f in report.findings if f.rule_id == "KL003"]
    return [f for f in report.findings if f.rule_id == rule]


def missing(findings) -> set[str]:
    return {f.identity for f in findings if f.location.line == 1}


# -- KL604 ------------------------------------------------------------------------------
def test_complete_backup_script_is_clean(make_repo):
    assert scan(make_repo, {"scripts/backup.sh": HEAD + ENCRYPT + OFFSITE + BINLOG}, "KL604") == []


@pytest.mark.parametrize("drop,key", [(ENCRYPT, "encryption"), (OFFSITE, "offsite"), (BINLOG, "binlog")])
def test_each_missing_capability_is_one_finding(make_repo, drop, key):
    body = (HEAD + ENCRYPT + OFFSITE + BINLOG).replace(drop, "mariadb-dump --all-databases > /srv/b/x.sql\n"
                                                        if key == "encryption" else "")
    found = scan(make_repo, {"scripts/backup.sh": body}, "KL604")
    assert [(f.location.path, f.location.line, f.identity) for f in found] == [("scripts/backup.sh", 1, key)]


@pytest.mark.parametrize("head,ok", [
    ("set -euo pipefail\n", True),
    ("set -e\nset -o pipefail\n", True),
    ("set -eu -o pipefail\n", True),
    ("set -e\n", False),
    ("set -o pipefail\n", False),
    ("", False),
])
def test_strict_mode(make_repo, head, ok):
    body = "#!/bin/bash\n" + head + ENCRYPT + OFFSITE + BINLOG
    assert ("strict-mode" not in missing(scan(make_repo, {"scripts/backup.sh": body}, "KL604"))) is ok


# Built at run time so kohalint's own scan of this file finds no literal password.
PW = "S3cr3t" + "Value"


@pytest.mark.parametrize("line,severity", [
    (f"mariadb-dump -u root -p{PW} koha > x.sql", "high"),
    (f"mariadb-dump -u root --password='{PW}' koha > x.sql", "high"),
    (f"mysqldump -uroot --pass={PW} koha > x.sql", "high"),
    ('mariadb-dump -u root -p"$DB_PASS" koha > x.sql', "medium"),
    ("mariadb-dump -u root --password=${DB_PASS} koha > x.sql", "medium"),
    ("docker compose exec -T db mariadb-dump -uroot -p$(cat /run/secrets/pw) koha > x.sql", "medium"),
    ("sh -c 'mysqldump -uroot -phunter2hunter2 koha > x.sql'", "high"),
])
def test_password_on_command_line(make_repo, line, severity):
    body = HEAD + ENCRYPT + OFFSITE + BINLOG + line + "\n"
    found = scan(make_repo, {"scripts/backup.sh": body}, "KL604")
    assert [(f.location.line, f.severity.value) for f in found] == [(6, severity)]
    assert all("S3cr3t" not in f.message and "hunter2" not in f.message for f in found)


@pytest.mark.parametrize("line", [
    "mariadb-dump -u root -p koha > x.sql",  # prompts
    "mariadb-dump --defaults-extra-file=/run/secrets/b.cnf koha > x.sql",
    "mbstream -p4 -x < /srv/b/full.xb",  # -p: parallel threads
    "mkdir -p /srv/b",
])
def test_no_password_finding(make_repo, line):
    body = HEAD + ENCRYPT + OFFSITE + BINLOG + line + "\n"
    assert scan(make_repo, {"scripts/backup.sh": body}, "KL604") == []


@pytest.mark.parametrize("binlog,ok", [
    ("sh -c 'mariadb-binlog --read-from-remote-server --raw --host=db mysql-bin.000001'", True),
    ("docker compose exec -T db mysqlbinlog -R --raw mysql-bin.000001 > /srv/b/bin", True),
    ("docker compose exec -T db tar -C /var/lib/mysql-binlog -cf - . > /srv/b/binlogs.tar", True),
    ("cp /var/lib/mysql/mysql-bin.0* /srv/b/", True),
    ("mariadb-binlog /var/lib/mysql/mysql-bin.000001 > /srv/b/decoded.sql", True),  # a copy of the binlog
    ("mariadb-backup --backup --target-dir=/srv/b/full", False),  # position only, not the binlogs
    ("echo 'remember to copy the binlogs'", False),
])
def test_binlog_backup(make_repo, binlog, ok):
    body = HEAD + ENCRYPT + OFFSITE + binlog + "\n"
    assert ("binlog" not in missing(scan(make_repo, {"scripts/backup.sh": body}, "KL604"))) is ok


@pytest.mark.parametrize("offsite,ok", [
    ("aws s3 cp /srv/b s3://koha-backups/ --recursive", True),
    ("rsync -a /srv/b/ backup@offsite.example.org:/srv/koha/", True),
    ('scp /srv/b/db.sql.age "$OFFSITE_HOST:/backups/"', True),
    ("restic -r sftp:backup@offsite.example.org:/koha backup /srv/b", True),
    ("borg create ssh://backup@offsite.example.org/./koha::{now} /srv/b", True),
    ("restic -r /mnt/usb/restic backup /srv/b", False),
    ("rsync -a /srv/b/ /mnt/nas/koha/", False),
    ("cp -r /srv/b /mnt/other-disk/", False),
])
def test_offsite_copy(make_repo, offsite, ok):
    body = HEAD + ENCRYPT + BINLOG + offsite + "\n"
    assert ("offsite" not in missing(scan(make_repo, {"scripts/backup.sh": body}, "KL604"))) is ok


@pytest.mark.parametrize("step,ok", [
    ("openssl enc -aes-256-cbc -pbkdf2 -pass file:/etc/k -in x -out x.enc", True),
    ("gpg --batch --encrypt -r ops@example.org x", True),
    ("restic -r /mnt/usb backup x", True),
    ("openssl dgst -sha256 x", False),
    ("gzip x", False),
])
def test_encryption_step(make_repo, step, ok):
    body = HEAD + "mariadb-dump --all-databases > x\n" + step + "\n" + OFFSITE + BINLOG
    assert ("encryption" not in missing(scan(make_repo, {"scripts/backup.sh": body}, "KL604"))) is ok


def test_capabilities_in_a_called_script_count(make_repo):
    files = {"scripts/backup.sh": HEAD + ". ./lib/ship.sh\n" + ENCRYPT + BINLOG,
             "scripts/lib/ship.sh": "ship() {\n  " + OFFSITE + "}\n"}
    assert scan(make_repo, files, "KL604") == []


def test_script_found_through_the_schedule_and_the_policy(make_repo):
    bad = "#!/bin/sh\nmariadb-dump --all-databases > /srv/b/x.sql\n"
    crontab = {"ops/crontab": "0 2 * * * root /srv/koha/bin/nightly-backup.sh\n", "bin/nightly-backup.sh": bad,
               "scripts/old-backup-notes.sh": HEAD + ENCRYPT + OFFSITE + BINLOG}
    assert {f.location.path for f in scan(make_repo, crontab, "KL604")} == {"bin/nightly-backup.sh"}
    policy = {"ops/recovery.yaml": "version: 1\nbackup:\n  script: bin/nightly.sh\n", "bin/nightly.sh": bad}
    found = scan(make_repo, policy, "KL604", name="policy")
    assert {(f.location.path, f.location.line) for f in found} == {("bin/nightly.sh", 1)}


@pytest.mark.parametrize("files,config,expected", [
    ({"compose.yaml": COMPOSE}, {}, {("scripts/backup.sh", 1)}),
    ({"Dockerfile": "FROM debian\n"}, {}, set()),  # a build repository
    ({"Dockerfile": "FROM debian\n"}, {"areas": ["recovery"]}, {("scripts/backup.sh", 1)}),
    ({"compose.yaml": COMPOSE, "ops/recovery.yaml": "version: 1\nbackup:\n  script: ops/backup\n"}, {},
     {("ops/backup", 1)}),
])
def test_missing_backup_script(make_repo, files, config, expected):
    assert {(f.location.path, f.location.line) for f in scan(make_repo, files, "KL604", **config)} == expected


# -- KL605 ------------------------------------------------------------------------------
FULL = 'gunzip -c "$DUMP" | mariadb --defaults-extra-file=/root/r.cnf\n'
PITR = 'mariadb-binlog --stop-datetime="$TARGET" /srv/b/bin/mysql-bin.0* | mariadb --binary-mode\n'
GETOPTS = ('while getopts "f:t:n" opt; do\n  case "$opt" in\n    f) DUMP="$OPTARG" ;;\n'
           '    t) TARGET="$OPTARG" ;;\n    n) DRY_RUN=1 ;;\n  esac\ndone\n')


def restore_missing(make_repo, body: str, name: str = "scripts/restore.sh") -> set[str]:
    return {f.identity for f in scan(make_repo, {name: body}, "KL605")}


def test_complete_restore_with_getopts(make_repo):
    assert restore_missing(make_repo, HEAD + GETOPTS + FULL + PITR) == set()


@pytest.mark.parametrize("parser", [
    'case "$1" in\n  --dry-run) DRY_RUN=1 ;;\n  --to) TARGET="$2" ;;\nesac\n',
    'case "$1" in\n  -n|--verify) DRY_RUN=1 ;;\nesac\n',
    'MODE="$1"\ncase "$MODE" in\n  full|pitr) ;;\n  verify) DRY_RUN=1 ;;\nesac\n',
    'while getopts ":nt:" o; do :; done\n',
])
def test_verify_mode_parsed_by_case_or_getopts(make_repo, parser):
    assert restore_missing(make_repo, HEAD + parser + FULL + PITR) == set()


@pytest.mark.parametrize("parser", [
    'case "$1" in\n  --to) TARGET="$2" ;;\n  --yes) YES=1 ;;\nesac\n',
    'while getopts "t:y" o; do :; done\n',
    "",
])
def test_no_verify_mode(make_repo, parser):
    assert restore_missing(make_repo, HEAD + parser + FULL + PITR) == {"verify"}


@pytest.mark.parametrize("pitr,ok", [
    (PITR, True),
    ('mysqlbinlog --start-position=4 --stop-position "$STOP" bin.000002 | mysql\n', True),
    ("docker compose exec -T db sh -c \"mariadb-binlog --stop-datetime='$2' /b/mysql-bin.0* | mariadb\"\n", True),
    ("mariadb-binlog --stop-datetime='2026-11-02 14:05:00' /b/mysql-bin.0* | mariadb\n", False),  # fixed time
    ("mariadb-binlog /b/mysql-bin.0* | mariadb\n", False),  # replays everything
])
def test_pitr_to_a_user_given_target(make_repo, pitr, ok):
    assert ("pitr" not in restore_missing(make_repo, HEAD + GETOPTS + FULL + pitr)) is ok


@pytest.mark.parametrize("full,ok", [
    (FULL, True),
    ("mariadb koha < /srv/b/koha.sql\n", True),
    ("docker compose exec -T db mariadb < /srv/b/koha.sql\n", True),
    ("docker compose run --rm -v /srv/b:/b --entrypoint bash db -c 'mariadb-backup --copy-back --target-dir=/b'\n",
     True),
    ("myloader --directory /srv/b/koha\n", True),
    ("mariadb-backup --prepare --target-dir=/srv/b/full\n", False),  # prepared, never copied back
    ("", False),  # only the binlog replay below feeds mariadb
])
def test_full_restore(make_repo, full, ok):
    assert ("full" not in restore_missing(make_repo, HEAD + GETOPTS + full + PITR)) is ok


def test_restore_test_wrapper_gets_the_called_script(make_repo):
    files = {"scripts/restore-test.sh": HEAD + "./scripts/restore.sh -n -f /srv/b/latest.sql.gz\n",
             "scripts/restore.sh": HEAD + GETOPTS + FULL + PITR}
    assert scan(make_repo, files, "KL605") == []


def test_missing_restore_script_only_in_a_deployment(make_repo):
    found = scan(make_repo, {"compose.yaml": COMPOSE}, "KL605")
    assert [(f.location.path, f.location.line) for f in found] == [("scripts/restore.sh", 1)]
    assert scan(make_repo, {"README.md": "build only\n"}, "KL605", name="build") == []
