"""The recovery policy and restore-test log (models, schemas) and KL601, KL606, KL607."""

from __future__ import annotations

import datetime
import json

import jsonschema
import pytest
from ruamel.yaml import YAML

import kohalint
from kohalint import recovery_policy as rp
from kohalint.documents.yamldoc import load_yaml
from tests.conftest import ROOT

COMPOSE = "services:\n  db:\n    image: mariadb:11.4\n"
POLICY = ("version: 1\nrpo: 15m\nrto: 4h\nbackup:\n  schedule: \"0 2 * * *\"\n  retention_days: 35\n"
          "restore_test:\n  max_interval_days: {days}\n  log: ops/restore-tests.yaml\n")
TODAY = datetime.date(2026, 11, 27)


def scan(make_repo, files: dict[str, str], rule: str, name: str = "repo", **config):
    root = make_repo(files, name=name)
    report = kohalint.scan(root, config={"select": [rule], **config}, today=TODAY)
    assert not [f for f in report.findings if f.rule_id == "KL003"]
    return [f for f in report.findings if f.rule_id == rule]


def where(findings) -> set[tuple[str, int]]:
    return {(f.location.path, f.location.line) for f in findings}


# -- models and schemas ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(rp.SCHEMA_FILES))
def test_shipped_schemas_are_current(name):
    # regenerate with: python -m kohalint.recovery_policy --write-schemas
    for directory in rp.schema_targets(ROOT):
        assert (directory / name).read_text(encoding="utf-8") == rp.schema_text(name), directory / name


def test_write_schemas_command(tmp_path, monkeypatch, capsys):
    assert rp.main(["--bogus"]) == 2
    monkeypatch.setattr(rp, "schema_targets", lambda root=None: [tmp_path / "a", tmp_path / "b"])
    assert rp.main(["--write-schemas"]) == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(rp.SCHEMA_FILES)
    assert rp.write_schemas() == []  # idempotent


def _schema(name: str) -> dict:
    return json.loads(rp.schema_text(name))


@pytest.mark.parametrize("twin", ["compliant", "noncompliant"])
def test_schemas_accept_the_example_files(twin):
    yaml = YAML(typ="safe", pure=True)
    base = ROOT / "examples" / twin / "ops"
    if not base.is_dir():
        pytest.skip("examples not bundled")
    policy = yaml.load((base / "recovery.yaml").read_text())
    log = yaml.load((base / "restore-tests.yaml").read_text())
    jsonschema.validate(json.loads(json.dumps(policy, default=str)), _schema("recovery-policy.schema.json"))
    jsonschema.validate(json.loads(json.dumps(log, default=str)), _schema("restore-tests.schema.json"))


@pytest.mark.parametrize("value,ok", [("15m", True), ("1h10m", True), ("2d", True), ("0", True),
                                      ("1m10h", False), ("15 minutes", False), ("15M", False)])
def test_duration_pattern_agrees_with_the_model(value, ok):
    schema = _schema("recovery-policy.schema.json")
    doc = {"version": 1, "rpo": value}
    valid_schema = jsonschema.Draft202012Validator(schema).is_valid(doc)
    valid_model = not rp.validate(load_yaml(f"version: 1\nrpo: '{value}'\n", "p"), "p", rp.RecoveryPolicy).issues
    assert valid_schema is valid_model is ok


def test_backup_interval_from_cron_or_duration():
    assert rp.BackupPolicy(schedule="0 3 1 * *").interval() == datetime.timedelta(days=31)
    assert rp.BackupPolicy(schedule="0 3 * * 0").interval() == datetime.timedelta(days=7)
    assert rp.BackupPolicy(schedule="36h").interval() == datetime.timedelta(hours=36)


# -- KL601 ----------------------------------------------------------------------------------
def test_each_schema_error_at_its_line(make_repo):
    policy = ("version: 1\nrpo: 1x\nrto: 4h\nbackup:\n  schedule: every night\n  retention_days: -1\n"
              "restore_test:\n  max_interval_days: 14\n  logs: ops/x.yaml\nextra: true\n")
    found = scan(make_repo, {"ops/recovery.yaml": policy}, "KL601")
    assert sorted(f.location.line for f in found) == [2, 5, 6, 9, 10]
    assert all("every night" not in f.message for f in found)


def test_yaml_syntax_error_is_invalid(make_repo):
    found = scan(make_repo, {"ops/recovery.yaml": "version: 1\nrpo: [15m\n"}, "KL601")
    assert len(found) == 1 and "YAML" in found[0].message


@pytest.mark.parametrize("policy,expected", [
    ("version: 1\nrpo: 15m\n", {("ops/recovery.yaml", 1)}),  # rto missing
    ("# objectives\nversion: 1\nrto: 4h\nrpo:\n", {("ops/recovery.yaml", 4)}),  # rpo empty
    (POLICY.format(days=31), set()),
])
def test_rpo_rto_unset(make_repo, policy, expected):
    assert where(scan(make_repo, {"ops/recovery.yaml": policy}, "KL601")) == expected


@pytest.mark.parametrize("files,config,expected", [
    ({"compose.yaml": COMPOSE}, {}, {("ops/recovery.yaml", 1)}),
    ({"compose.yaml": COMPOSE}, {"recovery": {"policy": "docs/recovery.yml"}}, {("docs/recovery.yml", 1)}),
    ({"Dockerfile": "FROM debian\n"}, {}, set()),
    ({"Dockerfile": "FROM debian\n"}, {"areas": ["recovery"]}, {("ops/recovery.yaml", 1)}),
])
def test_missing_policy_only_in_a_deployment(make_repo, files, config, expected):
    assert where(scan(make_repo, files, "KL601", name=str(len(config)) + str(len(files)), **config)) == expected


# -- KL606 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cron,days,flagged", [
    ("0 3 1 * *", 31, False),  # the longest gap is 31 days (e.g. 1 Jan -> 1 Feb)
    ("0 3 1 * *", 30, True),
    ("0 3 * * 0", 14, False),
    ("0 3 * * 0", 6, True),
    ("@monthly", 28, True),
    ("0 3 1,15 * *", 17, False),
])
def test_cron_gap_against_max_interval(make_repo, cron, days, flagged):
    files = {"ops/recovery.yaml": POLICY.format(days=days),
             "ops/crontab": f"{cron} root /srv/koha/scripts/restore.sh verify\n"}
    assert where(scan(make_repo, files, "KL606")) == ({("ops/crontab", 1)} if flagged else set())


def test_most_frequent_restore_job_counts(make_repo):
    crontab = ("MAILTO=ops@example.org\n0 3 1 * * /srv/scripts/restore.sh --dry-run\n"
               "0 4 * * 6 RESTORE_TEST=1 /srv/scripts/restore-drill.sh\n0 2 * * * /srv/scripts/backup.sh\n")
    files = {"ops/recovery.yaml": POLICY.format(days=14), "ops/crontab": crontab}
    assert scan(make_repo, files, "KL606") == []


def test_systemd_timer_and_its_service(make_repo):
    timer = "[Timer]\nOnCalendar=monthly\nPersistent=true\n"
    files = {"ops/recovery.yaml": POLICY.format(days=14), "systemd/db-check.timer": timer,
             "systemd/db-check.service": "[Service]\nExecStart=/srv/koha/scripts/restore.sh --verify\n"}
    assert where(scan(make_repo, files, "KL606")) == {("systemd/db-check.timer", 2)}
    files["systemd/db-check.timer"] = "[Timer]\nOnCalendar=Mon *-*-* 04:00\n"
    assert scan(make_repo, files, "KL606", name="weekly") == []


def test_scheduled_workflow(make_repo):
    workflow = ("name: nightly\non:\n  schedule:\n    - cron: '0 5 * * 1'\n  workflow_dispatch: {}\n"
                "jobs:\n  t:\n    runs-on: ubuntu-24.04\n    steps:\n"
                "      - run: |\n          ./scripts/restore.sh --dry-run\n")
    files = {"compose.yaml": COMPOSE, "ops/recovery.yaml": POLICY.format(days=14),
             ".github/workflows/nightly.yml": workflow}
    assert scan(make_repo, files, "KL606") == []
    files["ops/recovery.yaml"] = POLICY.format(days=3)
    assert where(scan(make_repo, files, "KL606", name="daily")) == {(".github/workflows/nightly.yml", 4)}


def test_linting_the_restore_script_is_not_a_restore_test(make_repo):
    workflow = ("on:\n  schedule:\n    - cron: '0 5 * * *'\njobs:\n  lint:\n    runs-on: ubuntu-24.04\n"
                "    steps:\n      - run: shellcheck scripts/restore.sh\n")
    files = {"compose.yaml": COMPOSE, ".github/workflows/lint.yml": workflow}
    assert where(scan(make_repo, files, "KL606")) == {("ops/crontab", 1)}


def test_no_schedule_is_reported_in_the_existing_crontab(make_repo):
    files = {"compose.yaml": COMPOSE, "deploy/koha.cron": "0 2 * * * root /srv/koha/scripts/backup.sh\n"}
    assert where(scan(make_repo, files, "KL606")) == {("deploy/koha.cron", 1)}
    assert scan(make_repo, {"Dockerfile": "FROM debian\n"}, "KL606", name="build") == []


# -- KL607 ----------------------------------------------------------------------------------
def run(date: str, kind: str = "pitr", result: str = "pass", rto: str = "40m", rpo: str = "2m") -> str:
    return (f"- date: {date}\n  kind: {kind}\n  measured_rto: {rto}\n  measured_rpo: {rpo}\n"
            f"  result: {result}\n")


@pytest.mark.parametrize("log,days,expected", [
    (run("2026-11-20"), 14, set()),
    (run("2026-11-13"), 14, set()),  # exactly 14 days old
    (run("2026-11-12"), 14, {1}),
    (run("2026-11-20", result="fail"), 14, {1}),
    (run("2026-11-20", kind="full"), 14, {1}),
    (run("2026-10-01") + run("2026-11-20", rto="5h"), 14, {8}),  # the latest passing run missed the RTO
    (run("2026-11-20", rpo="20m"), 14, {4}),
    (run("2026-11-20") + run("2026-11-21", kind="full", rpo="1d"), 14, {9}),
    (run("2026-11-20") + "- date: yesterday\n  kind: pitr\n  result: pass\n", 14, {6}),
    ("[]\n", 14, {1}),
])
def test_restore_log(make_repo, log, days, expected):
    files = {"ops/recovery.yaml": POLICY.format(days=days), "ops/restore-tests.yaml": log}
    assert {line for _, line in where(scan(make_repo, files, "KL607"))} == expected


def test_today_is_injectable(make_repo):
    files = {"ops/recovery.yaml": POLICY.format(days=14), "ops/restore-tests.yaml": run("2026-11-20")}
    root = make_repo(files)
    late = kohalint.scan(root, select=["KL607"], today=datetime.date(2026, 12, 24))
    assert [f.location.line for f in late.findings] == [1]
    assert kohalint.scan(root, select=["KL607"], today=TODAY).findings == []


def test_missing_log_and_missing_policy(make_repo):
    files = {"compose.yaml": COMPOSE, "ops/recovery.yaml": POLICY.format(days=14)}
    assert where(scan(make_repo, files, "KL607")) == {("ops/restore-tests.yaml", 1)}
    files = {"compose.yaml": COMPOSE, "ops/restore-tests.yaml": run("2020-01-01")}
    assert scan(make_repo, files, "KL607", name="nopolicy") == []  # KL601 speaks
