"""Limits: each one reached is a finding or a note, never a hang, and each is
configurable (`limits` in .kohalint.yaml; `max-file-bytes` at the top level)."""

from __future__ import annotations

import threading
import time

import pytest

import kohalint
from kohalint import engine, limits
from kohalint.config import settings_from_mapping
from kohalint.errors import ConfigError, ParseError
from kohalint.limits import DeadlineExceeded, run_with_deadline
from tests.hostile.clitools import run_main, write

@pytest.fixture
def yaml_limits():
    from kohalint.documents import yamldoc

    saved = yamldoc.MAX_NODES, yamldoc.MAX_DEPTH, yamldoc.PARSE_TIMEOUT
    yield yamldoc
    yamldoc.set_limits(max_nodes=saved[0], max_depth=saved[1], parse_timeout=saved[2])


def _busy() -> None:
    while True:
        pass


# -- the deadline itself ---------------------------------------------------------------

def test_a_runaway_loop_is_stopped():
    start = time.monotonic()
    assert run_with_deadline(_busy, 0.2) == (True, None)
    assert time.monotonic() - start < 5


def test_values_and_exceptions_come_back():
    assert run_with_deadline(lambda: 42, 5) == (False, 42)
    assert run_with_deadline(lambda: 42, None) == (False, 42)  # no limit: inline
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(lambda: 1 / 0, 5)


def test_nested_deadlines_stop_what_they_guard():
    inner = run_with_deadline(lambda: run_with_deadline(_busy, 0.1), 5)
    assert inner == (False, (True, None))  # the inner one expired, the outer did not
    start = time.monotonic()
    assert run_with_deadline(lambda: run_with_deadline(_busy, 60), 0.2) == (True, None)
    assert time.monotonic() - start < 5  # the outer one stops the inner worker too


def test_no_exception_escapes_after_a_deadline_that_just_expired():
    def work(n: int):
        return lambda: sum(range(n))

    expired = 0
    for i in range(300):
        hit, _ = run_with_deadline(work(i * 50), 0.0005 + (i % 3) * 0.0005)
        expired += hit
        sum(range(2000))  # a stray DeadlineExceeded would surface here
    time.sleep(0.2)
    assert threading.active_count() <= 3  # every worker ended


def test_deadline_exceeded_cannot_be_swallowed_by_except_exception():
    assert not issubclass(DeadlineExceeded, Exception)
    assert DeadlineExceeded().code == 2  # should it ever reach the top: exit 2, fail closed


# -- YAML limits -------------------------------------------------------------------

def test_yaml_node_and_depth_limits_are_settable(yaml_limits):
    text = "services:\n" + "".join(f"  s{i}:\n    image: x\n" for i in range(60))
    assert yaml_limits.load_yaml(text, "compose.yaml") is not None
    yaml_limits.set_limits(max_nodes=50)
    with pytest.raises(ParseError, match="node limit"):
        yaml_limits.load_yaml(text, "compose.yaml")
    yaml_limits.set_limits(max_nodes=200_000, max_depth=3)
    with pytest.raises(ParseError, match="nested too deeply"):
        yaml_limits.load_yaml("a: {b: {c: {d: {e: 1}}}}\n", "compose.yaml")


def test_yaml_parse_timeout(yaml_limits):
    line = "- [" + "a, " * 300 + "]\n"
    text = line * 400  # ~360 kB of flow YAML: seconds for ruamel
    yaml_limits.set_limits(parse_timeout=0.3)
    start = time.monotonic()
    with pytest.raises(ParseError, match="limits.parse-timeout"):
        yaml_limits.load_yaml(text, "compose.yaml")
    assert time.monotonic() - start < 5


def test_limits_section_is_validated():
    s = settings_from_mapping({"limits": {"yaml-max-nodes": 10, "rule-timeout": 0, "parse-timeout": 1.5}})
    assert (s.limits.yaml_max_nodes, s.limits.rule_timeout, s.limits.parse_timeout) == (10, 0, 1.5)
    with pytest.raises(ConfigError, match="did you mean 'rule-timeout'"):
        settings_from_mapping({"limits": {"rule-timout": 5}})
    with pytest.raises(ConfigError):
        settings_from_mapping({"limits": {"yaml-max-nodes": 0}})
    with pytest.raises(ConfigError):
        settings_from_mapping({"limits": {"yaml-max-depth": 100_000}})  # Python's own stack is the bound


def test_apply_limits_sets_the_parsers_limits(yaml_limits):
    limits.apply_limits(settings_from_mapping({"limits": {"yaml-max-nodes": 7, "yaml-max-depth": 9,
                                                          "parse-timeout": 3}}))
    assert (yaml_limits.MAX_NODES, yaml_limits.MAX_DEPTH, yaml_limits.PARSE_TIMEOUT) == (7, 9, 3)


# -- the rule guard ----------------------------------------------------------------

@pytest.fixture
def looping_rule():
    from kohalint.rule_catalog import load_record
    from kohalint.rules import check, registry

    record = load_record("KL003").model_copy(update={"id": "KL997", "name": "loops-forever"})

    @check("KL997", "loops-forever", target="dockerfile", record=record)
    def loops(doc, ctx):
        yield ctx.finding(doc.path, 1, "seen before the loop")
        if "slow" in doc.path:
            _busy()
        if "steady" in doc.path:
            time.sleep(0.3)  # slow on every file, stuck on none

    yield
    registry.remove("KL997")


def test_a_stopped_rule_keeps_its_earlier_findings(looping_rule):
    import datetime

    from kohalint.context import Context
    from kohalint.rules import registry
    from tests.hostile.memrepo import documents_for

    docs = documents_for({"a/Dockerfile": "FROM x\n", "slow/Dockerfile": "FROM x\n", "z/Dockerfile": "FROM x\n"})
    ctx = Context(docs.repo, docs, docs.settings, datetime.date(2026, 11, 27))
    chk = registry.get("KL997")
    ctx.check = chk
    targets = ((p, docs.get("dockerfile", p)) for p in docs.repo.files_of_kind("dockerfile"))
    start = time.monotonic()
    per_target, failed = limits.run_rule_by_target(ctx, chk, targets, engine._call, engine._internal_error, 0.5)
    found = [f for _, fs in per_target for f in fs]
    assert time.monotonic() - start < 5 and failed
    # a/ was done before the rule got stuck on slow/; z/ was never reached
    assert [(f.rule_id, f.location.path) for f in found] == [("KL997", "a/Dockerfile"), ("KL003", "slow/Dockerfile")]
    assert "did not finish within 0.5 s (limits.rule-timeout)" in found[-1].message


def test_a_rule_past_its_time_is_kl003_and_exit_2(tmp_path, capsys, looping_rule):
    root = write(tmp_path / "r", {"slow/Dockerfile": "FROM debian:latest\n", "compose.yaml":
                                  "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n",
                                  ".kohalint.yaml": "limits:\n  rule-timeout: 0.5\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL997,KL003,KL401,KL410", "--format", "json",
                   timeout=60)
    assert run.rc == 2 and run.seconds < 30
    assert {("KL003", "slow/Dockerfile"), ("KL401", "compose.yaml"), ("KL410", "slow/Dockerfile")} <= run.rules()
    assert run.json["summary"]["internal_error"]


def test_configured_node_limit_applies_to_a_scan(tmp_path, yaml_limits):
    root = write(tmp_path / "r", {"compose.yaml": "services:\n" + "".join(
        f"  s{i}:\n    image: x\n" for i in range(60))})
    report = kohalint.scan(root, select=["KL001"], config={"limits": {"yaml-max-nodes": 50}})
    assert [(f.rule_id, "node limit" in f.message) for f in report.findings] == [("KL001", True)]


def test_oversized_files_are_a_note_at_the_configured_size(tmp_path, capsys):
    root = write(tmp_path / "r", {"compose.yaml": "services:\n  db:\n    image: x\n" + "#" * 5000 + "\n",
                                  ".kohalint.yaml": "max-file-bytes: 1000\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL001,KL401", "--format", "json")
    assert run.rc == 0
    assert [n["path"] for n in run.json["notes"]] == ["compose.yaml"]
    assert "larger than 1000 bytes" in run.json["notes"][0]["message"]


def test_configured_yaml_node_limit_reaches_the_parser(tmp_path):
    """`limits.yaml-max-nodes` in the settings is what the YAML builder enforces."""
    import kohalint
    from kohalint.documents import yamldoc

    root = tmp_path / "r"
    root.mkdir()
    (root / "compose.yaml").write_text("services:\n" + "".join(f"  s{i}:\n    image: x\n" for i in range(50)))
    try:
        report = kohalint.scan(root, config={"select": ["KL001"], "limits": {"yaml-max-nodes": 20}})
        assert [(f.rule_id, f.location.path) for f in report.findings] == [("KL001", "compose.yaml")]
        assert "node limit" in report.findings[0].message
    finally:
        yamldoc.set_limits(max_nodes=200_000, max_depth=200, parse_timeout=30.0)


def test_the_rule_timeout_is_per_file_so_a_large_repository_is_not_a_stuck_rule(tmp_path, capsys, looping_rule):
    files = {f"steady{i}/Dockerfile": "FROM x\n" for i in range(5)}
    root = write(tmp_path / "r", {**files, ".kohalint.yaml": "limits:\n  rule-timeout: 0.5\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL997", "--format", "json", timeout=60)
    assert run.rc == 1, run.out  # 1.5 s over five files, 0.3 s on each: no KL003
    assert sorted(run.rules()) == sorted(("KL997", p) for p in files)


def test_a_stuck_rule_in_a_worker_process_is_kl003_for_its_file(tmp_path, capsys, monkeypatch, looping_rule):
    monkeypatch.setenv("KOHALINT_JOBS", "2")  # forked workers run the per-file rules
    files = {f"d{i}/Dockerfile": "FROM debian:latest\n" for i in range(6)}
    root = write(tmp_path / "r", {**files, "slow/Dockerfile": "FROM debian:latest\n",
                                  ".kohalint.yaml": "limits:\n  rule-timeout: 0.5\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL997,KL003,KL410", "--format", "json", timeout=60)
    assert run.rc == 2 and run.json["summary"]["internal_error"]
    found = run.rules()
    assert ("KL003", "slow/Dockerfile") in found
    assert {("KL410", p) for p in files} | {("KL410", "slow/Dockerfile")} <= found
    assert {("KL997", p) for p in files} <= found
    kl003 = [f for f in run.json["findings"] if f["rule_id"] == "KL003"]
    assert len(kl003) == 1 and "limits.rule-timeout" in kl003[0]["message"]
