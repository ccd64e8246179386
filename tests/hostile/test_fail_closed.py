"""Fail closed: a rule that raises on one file is KL003 for that file, every
other finding is still reported, and the run says it failed (exit 2, SARIF
`executionSuccessful: false`, the gate FAILs). `check` text output is
covered in tests/test_cli_and_reports.py."""

from __future__ import annotations

import json

import pytest

from tests.hostile.clitools import TODAY, run_main, write

LEAK_TEXT = "explodes-" + "with-" + "a-message-that-quotes-the-file"


@pytest.fixture
def exploding_rule():
    from kohalint.rule_catalog import load_record
    from kohalint.rules import check, registry

    record = load_record("KL003").model_copy(update={"id": "KL996", "name": "explodes-on-one-file"})

    @check("KL996", "explodes-on-one-file", target="dockerfile", record=record)
    def explodes(doc, ctx):
        if doc.path.startswith("bad/"):
            raise RuntimeError(LEAK_TEXT)
        return iter(())

    yield
    registry.remove("KL996")


@pytest.fixture
def repo(tmp_path):
    return write(tmp_path / "r", {
        "bad/Dockerfile": "FROM debian:latest\n", "good/Dockerfile": "FROM debian:latest\n",
        "compose.yaml": "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n"})


SELECT = "KL996,KL003,KL401,KL410"


def test_gate_fails_closed_and_still_lists_the_rest(repo, capsys, exploding_rule):
    for fmt in ("text", "markdown", "json"):
        run = run_main(capsys, "gate", str(repo), "--select", SELECT, "--format", fmt, "--today", TODAY)
        assert run.rc == 2
        assert LEAK_TEXT not in run.out + run.err
        if fmt == "text":
            assert "Gate: FAIL" in run.out and "a rule failed, so the scan is incomplete (exit 2)" in run.out
            assert "bad/Dockerfile:1:1: KL003 [high] rule KL996 failed on this file: RuntimeError" in run.out
            assert "compose.yaml:4:13: KL401" in run.out  # the other areas are still judged
        if fmt == "json":
            doc = json.loads(run.out)
            assert doc["internal_error"] is True and doc["passed"] is False


def test_sarif_says_the_run_did_not_succeed(repo, capsys, exploding_rule):
    run = run_main(capsys, "check", str(repo), "--select", SELECT, "--format", "sarif")
    assert run.rc == 2
    sarif = json.loads(run.out)
    (result_run,) = sarif["runs"]
    assert [inv["executionSuccessful"] for inv in result_run["invocations"]] == [False]
    located = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
               for r in result_run["results"]}
    assert {("KL003", "bad/Dockerfile"), ("KL410", "bad/Dockerfile"), ("KL410", "good/Dockerfile"),
            ("KL401", "compose.yaml")} <= located
    assert ("KL003", "good/Dockerfile") not in located
    assert LEAK_TEXT not in run.out


def test_exit_zero_and_baselines_cannot_hide_an_internal_error(repo, capsys, exploding_rule, tmp_path):
    run = run_main(capsys, "check", str(repo), "--select", SELECT, "--exit-zero")
    assert run.rc == 2
    baseline = tmp_path / "baseline.json"
    refused = run_main(capsys, "baseline", str(repo), "--select", SELECT, "-o", str(baseline))
    assert refused.rc == 2 and not baseline.exists()  # a baseline never records a crash
    assert run_main(capsys, "baseline", str(repo), "--select", "KL401,KL410", "-o", str(baseline)).rc == 0
    run = run_main(capsys, "check", str(repo), "--select", SELECT, "--baseline", str(baseline))
    assert run.rc == 2 and "KL003" in run.out


def test_a_crash_outside_any_rule_is_one_line_and_exit_2(repo, capsys, monkeypatch):
    """The last resort in the CLI: an exception no rule caught (here: in the
    reporter) is named, never shown with its message or a traceback."""
    from kohalint.reporters import text

    def broken(*_a, **_k):
        raise ValueError(LEAK_TEXT)

    monkeypatch.setattr(text, "render_text", broken)
    run = run_main(capsys, "check", str(repo), "--select", "KL401")
    assert run.rc == 2 and run.out == ""
    assert run.err.startswith("kohalint: internal error: ValueError at ") and LEAK_TEXT not in run.err
