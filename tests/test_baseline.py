"""Baselines: accepted findings stay accepted under unrelated edits; new ones show."""

from __future__ import annotations

import json

import pytest

import kohalint
from kohalint.baseline import apply_baseline, build_baseline, load_baseline
from kohalint.cli import main
from kohalint.errors import ConfigError

COMPOSE = """\
services:
  db:
    image: mariadb:11.4
    ports:
      - "3306:3306"
  cache:
    image: memcached:1.6
"""


def scan(root):
    return kohalint.scan(root, select=["KL401", "KL402"])


def make_baseline(root, capsys) -> dict:
    assert main(["baseline", str(root), "--select", "KL401,KL402", "-q"]) == 0
    capsys.readouterr()
    return json.loads((root / ".kohalint-baseline.json").read_text())


def new_findings(root) -> list:
    report = scan(root)
    apply_baseline(report, root / ".kohalint-baseline.json")
    return [(f.rule_id, f.location.path, f.location.line) for f in report.active]


def test_unchanged_repo_has_no_new_findings(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    doc = make_baseline(root, capsys)
    assert doc["version"] == 1 and doc["tool"]["name"] == "kohalint"
    assert doc["settings"]["select"] == ["KL401", "KL402"]
    text = (root / ".kohalint-baseline.json").read_text()
    assert len(text.splitlines()) == 7 + len(doc["findings"]), "one finding per line, for diffs"
    assert {(e["rule"], e["path"]) for e in doc["findings"]} == {
        ("KL401", "compose.yaml"), ("KL402", "compose.yaml")}
    assert new_findings(root) == []


def test_line_inserted_above_keeps_findings_baselined(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    make_baseline(root, capsys)
    (root / "compose.yaml").write_text("# the stack\nname: koha\n\n" + COMPOSE.replace(
        "    image: mariadb:11.4\n", "    image: mariadb:11.4\n    # reporting team\n    restart: always\n"))
    assert new_findings(root) == []


def test_a_new_problem_is_exactly_one_new_finding(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    make_baseline(root, capsys)
    (root / "compose.yaml").write_text(COMPOSE + "    ports:\n      - \"11211:11211\"\n")
    assert new_findings(root) == [("KL401", "compose.yaml", 9)]


def test_identical_findings_are_counted(make_repo, capsys):
    """Two identical flagged lines are two entries: a third copy is new."""
    text = "services:\n  db:\n    image: mariadb:11.4\n    ports:\n      - 3306\n      - 3306\n"
    root = make_repo({"compose.yaml": text})
    report = kohalint.scan(root, select=["KL401"])
    assert len(report.findings) == 2 and report.findings[0].fingerprint == report.findings[1].fingerprint
    doc = build_baseline(report, None)
    assert [e.get("count") for e in doc["findings"]] == [2]
    (root / ".kohalint-baseline.json").write_text(json.dumps(doc))
    (root / "compose.yaml").write_text(text + "      - 3306\n")
    report = kohalint.scan(root, select=["KL401"])
    assert apply_baseline(report, root / ".kohalint-baseline.json") == 2
    assert [f.location.line for f in report.active] == [7]


def test_baselined_findings_are_external_suppressions_in_sarif(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    make_baseline(root, capsys)
    rc = main(["check", str(root), "--select", "KL401,KL402", "--format", "sarif",
               "--baseline", str(root / ".kohalint-baseline.json")])
    assert rc == 0
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert len(results) == 3
    assert all(r["suppressions"][0]["kind"] == "external" for r in results)


def test_check_exit_code_counts_only_new_findings(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    make_baseline(root, capsys)
    args = ["check", str(root), "--select", "KL401,KL402", "--baseline", str(root / ".kohalint-baseline.json")]
    assert main(args) == 0
    (root / "compose.yaml").write_text(COMPOSE.replace("memcached:1.6", "memcached:1.6\n    ports: [\"11211:11211\"]"))
    capsys.readouterr()
    assert main(args) == 1
    assert "11211" in capsys.readouterr().out


def test_baseline_never_holds_a_secret_or_a_message(make_repo, capsys):
    secret = "Zx81-kLm0-Qw77-vB3n"  # pragma: allowlist secret
    root = make_repo({"compose.yaml": COMPOSE.replace("    image: mariadb:11.4\n", "    image: mariadb:11.4\n"
                                                      f"    environment:\n      DB_PASSWORD: {secret}\n")})
    from kohalint.rules import registry

    secret_rules = [r for r in ("KL101", "KL105") if registry.get(r) is not None]
    assert main(["baseline", str(root), "-q", "--select", ",".join(["KL401", *secret_rules])]) == 0
    text = (root / ".kohalint-baseline.json").read_text()
    assert secret not in text
    assert set().union(*(e.keys() for e in json.loads(text)["findings"])) <= {
        "rule", "path", "fingerprint", "count", "reason"}


def test_reasons_survive_regeneration_and_become_justifications(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    doc = make_baseline(root, capsys)
    doc["findings"][0]["reason"] = "OPS-12: VPN only until go-live"
    (root / ".kohalint-baseline.json").write_text(json.dumps(doc))
    again = make_baseline(root, capsys)
    assert again["findings"][0]["reason"] == "OPS-12: VPN only until go-live"
    report = scan(root)
    apply_baseline(report, root / ".kohalint-baseline.json")
    reasons = {f.suppression.justification for f in report.findings}
    assert "OPS-12: VPN only until go-live" in reasons


@pytest.mark.parametrize("content, message", [
    ("not json", "not a readable kohalint baseline"),
    ('{"version": 9, "findings": []}', "version 9 is not supported"),
    ('{"version": 1}', "no 'findings' list"),
    ('{"version": 1, "findings": [{"fingerprint": "ab", "count": 0}]}', "positive integer"),
])
def test_unusable_baseline_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_baseline(path)


def test_missing_baseline_is_exit_2(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    assert main(["check", str(root), "--baseline", str(root / "nope.json")]) == 2
    assert "baseline file not found" in capsys.readouterr().err


def test_narrower_baseline_selection_is_noted(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    make_baseline(root, capsys)
    report = kohalint.scan(root, select=["KL401", "KL402", "KL405"])
    apply_baseline(report, root / ".kohalint-baseline.json")
    assert any("narrower rule selection" in n.message for n in report.notes)
    assert {f.rule_id for f in report.active} == {"KL405"}
