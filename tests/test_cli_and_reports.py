"""The command line end to end (in-process through `main`) and the renderers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from kohalint.cli import main
from tests.conftest import ROOT, SARIF_SCHEMA

D = "@sha256:" + "ab" * 32
BAD_COMPOSE = ("services:\n  db:\n    image: mariadb:11.4\n    ports:\n      - '3306:3306'\n"
               "  web:\n    image: nginx" + D + "\n")


@pytest.fixture
def repo(make_repo):
    return make_repo({"compose.yaml": BAD_COMPOSE, "broken/compose.yml": "services:\n  a: [\n",
                      "Dockerfile": "FROM debian:latest\nUSER app\n"})


def run(capsys, *argv: str):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_text_output_lines_and_exit_1(repo, capsys):
    rc, out, _ = run(capsys, "check", str(repo), "--select", "KL401,KL410,KL001", "--no-color")
    assert rc == 1
    lines = [line for line in out.splitlines() if re.match(r"^\S+:\d+:\d+: KL\d{3} \[", line)]
    assert len(lines) == 3
    assert lines[0] == ("Dockerfile:1:1: KL410 [critical] base image `debian:latest` uses :latest: "
                        "pin it by @sha256 digest")
    assert lines[1].startswith("broken/compose.yml:") and " KL001 [high] cannot parse" in lines[1]
    assert lines[2].startswith("compose.yaml:5:9: KL401 [critical] service 'db' (mariadb) publishes 3306")
    assert out.splitlines()[-1].startswith("3 findings (2 critical, 1 high) in 3 files")


def test_broken_file_does_not_stop_other_files(repo):
    import kohalint

    report = kohalint.scan(repo, select=["KL001", "KL401"])
    assert {(f.rule_id, f.location.path) for f in report.findings} == {
        ("KL001", "broken/compose.yml"), ("KL401", "compose.yaml")}


def test_clean_repo_exits_0(make_repo, capsys):
    root = make_repo({"compose.yaml": "services:\n  db:\n    image: mariadb:11.4\n"})
    assert run(capsys, "check", str(root), "--select", "KL401")[0] == 0


def test_severity_threshold_and_exit_zero(repo, capsys):
    assert run(capsys, str(repo), "--select", "KL410", "--severity-threshold", "critical")[0] == 1
    assert run(capsys, str(repo), "--select", "KL413", "--severity-threshold", "critical")[0] == 0
    assert run(capsys, str(repo), "--select", "KL410", "--exit-zero")[0] == 0


def test_unknown_config_key_is_exit_2_with_hint(make_repo, capsys):
    root = make_repo({".kohalint.yaml": "selekt: [KL4]\n", "compose.yaml": "services: {}\n"})
    rc, _, err = run(capsys, "check", str(root))
    assert rc == 2
    assert "unknown key 'selekt' (did you mean 'select'?)" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("text, where", [
    ("select: [KL4]\nselect: [KL1]\n", ":2: invalid YAML"),      # duplicate key
    ("select: [KL4\n", ":2: invalid YAML"),                         # unclosed at the end
    ("- KL4\n", ": expected a mapping at the top level"),
    (b"select: [\xff]\n", ": cannot read (not UTF-8)"),
])
def test_unreadable_config_is_exit_2_with_its_place(make_repo, capsys, text, where):
    root = make_repo({"compose.yaml": "services: {}\n"})
    config = root / ".kohalint.yaml"
    config.write_bytes(text) if isinstance(text, bytes) else config.write_text(text)
    rc, _, err = run(capsys, "check", str(root))
    assert rc == 2
    assert f".kohalint.yaml{where}" in err
    assert "Traceback" not in err


def test_unknown_selector_and_missing_path_are_exit_2(repo, capsys):
    assert run(capsys, "check", str(repo), "--select", "KL9")[0] == 2
    assert run(capsys, "check", str(repo / "nope"))[0] == 2


def test_config_file_behaves_like_flags(make_repo, capsys):
    files = {"compose.yaml": BAD_COMPOSE, "Dockerfile": "FROM debian:latest\n"}
    by_flag = make_repo(files, name="a")
    by_file = make_repo({**files, ".kohalint.yaml": "select: [KL410]\n"}, name="b")
    _, out_flag, _ = run(capsys, "check", str(by_flag), "--select", "KL410", "--format", "json")
    _, out_file, _ = run(capsys, "check", str(by_file), "--format", "json")
    assert json.loads(out_flag)["findings"] == json.loads(out_file)["findings"]


def test_pyproject_tool_section(make_repo):
    import kohalint

    root = make_repo({"pyproject.toml": "[tool.kohalint]\nignore = ['KL401']\n", "compose.yaml": BAD_COMPOSE})
    assert not [f for f in kohalint.scan(root).findings if f.rule_id == "KL401"]


def test_per_file_ignores_and_severity_override(make_repo):
    import kohalint

    root = make_repo({"compose.yaml": BAD_COMPOSE, "Dockerfile": "FROM debian:latest\n"})
    report = kohalint.scan(root, config={"select": ["KL401", "KL410"],
                                         "per-file-ignores": {"Dockerfile": ["base-image-not-pinned"]},
                                         "severity": {"KL401": "low"}})
    assert [(f.rule_id, f.severity.value) for f in report.findings] == [("KL401", "low")]


def test_sarif_validates_and_is_github_ready(repo, capsys, tmp_path):
    out = tmp_path / "k.sarif"
    rc, _, _ = run(capsys, "check", str(repo), "--format", "sarif", "-o", str(out), "--automation-id", "ci/x")
    assert rc == 1
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert all(r["helpUri"].endswith(f"docs/rules/{r['id']}.md") for r in rules)
    assert all(float(r["properties"]["security-severity"]) > 0 for r in rules)
    assert run_["automationDetails"] == {"id": "ci/x"}
    for res in run_["results"]:
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert re.fullmatch(r"[0-9a-f]{32}", res["partialFingerprints"]["kohalintFingerprint/v1"])


def test_suppressed_findings_stay_in_sarif_with_suppressions(make_repo, capsys):
    text = BAD_COMPOSE.replace("      - '3306:3306'\n",
                               "      # kohalint: ignore[KL401] tunnel for the DBA, firewalled\n"
                               "      - '3306:3306'\n")
    root = make_repo({"compose.yaml": text})
    rc, out, _ = run(capsys, "check", str(root), "--select", "KL401", "--format", "sarif")
    assert rc == 0
    (res,) = json.loads(out)["runs"][0]["results"]
    assert res["suppressions"] == [{"kind": "inSource", "status": "accepted",
                                    "justification": "tunnel for the DBA, firewalled"}]
    rc, _, _ = run(capsys, "check", str(root), "--select", "KL401", "--no-inline-suppressions")
    assert rc == 1


def test_suppression_by_name_trailing_and_reason_required(make_repo):
    import kohalint

    text = BAD_COMPOSE.replace("'3306:3306'", "'3306:3306'  # kohalint: ignore[internal-port-published]")
    root = make_repo({"compose.yaml": text})
    assert kohalint.scan(root, select=["KL401", "KL002"]).active == []
    report = kohalint.scan(root, config={"select": ["KL401", "KL002"], "require-suppression-reason": True})
    assert sorted(f.rule_id for f in report.active) == ["KL002", "KL401"]


def test_github_annotations_escape(repo, capsys):
    _, out, _ = run(capsys, "check", str(repo), "--select", "KL401", "--format", "github")
    assert out.startswith("::error file=compose.yaml,line=5,col=9,title=KL401 internal-port-published::")


def test_output_is_deterministic(repo, capsys):
    outs = {run(capsys, "check", str(repo), "--format", fmt)[1] for fmt in ["sarif"] * 2}
    assert len(outs) == 1


def test_rules_and_explain(capsys):
    rc, out, _ = run(capsys, "rules")
    assert rc == 0 and re.search(r"^KL402\s+no-new-privileges-missing\s+high\s+runtime", out, re.M)
    rc, out, _ = run(capsys, "explain", "no-new-privileges-missing")
    assert rc == 0 and out.startswith("# KL402 no-new-privileges-missing")
    assert run(capsys, "explain", "KL999")[0] == 2


def test_internal_error_is_kl003_and_exit_2(repo, capsys):
    from kohalint.rule_catalog import load_record
    from kohalint.rules import check, registry

    @check("KL998", "explodes", target="dockerfile",
           record=load_record("KL003").model_copy(update={"id": "KL998", "name": "explodes"}))
    def explodes(doc, ctx):
        raise ValueError("secret-looking text must not be shown")

    try:
        rc, out, err = run(capsys, "check", str(repo), "--select", "KL998,KL003,KL401")
    finally:
        registry.remove("KL998")
    assert rc == 2
    assert "Dockerfile:1:1: KL003 [high] rule KL998 failed on this file: ValueError" in out
    assert "KL401" in out  # everything else is still reported
    assert "secret-looking" not in out + err and "Traceback" not in out + err


def test_console_script_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "kohalint", "--version"], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.startswith("kohalint ")


def test_rule_docs_are_current():
    from kohalint.docs_gen import expected_pages

    docs = ROOT / "docs" / "rules"
    pages = expected_pages()
    assert sorted(p.name for p in docs.glob("*.md")) == sorted(pages), "run: python -m kohalint.docs_gen"
    for name, text in pages.items():
        assert (docs / name).read_text(encoding="utf-8") == text, f"{name} is stale: python -m kohalint.docs_gen"


def test_a_findings_json_is_pydantics_dump_of_it():
    from kohalint.models import Area, Finding, Location, Severity, Suppression

    loc = Location(path="a/compose.yaml", line=3, column=5, note="here")
    full = Finding(rule_id="KL401", rule_name="n", area=Area.runtime, severity=Severity.high, message="m",
                   location=loc, related=[loc, Location(path="b")], identity="i", fingerprint="f",
                   suppression=Suppression(kind="inSource", justification="why", location=loc))
    assert set(Finding.model_fields) - {"identity"} == set(full.as_json())  # a new field is serialized too
    bare = full.model_copy(update={"related": [], "suppression": Suppression(kind="external")})
    for f in (full, bare, full.model_copy(update={"suppression": None})):
        assert f.as_json() == f.model_dump(mode="json", exclude={"identity"})


def test_json_report_is_the_report_dict_with_one_finding_per_line(make_repo):
    import kohalint
    from kohalint.reporters import render
    from kohalint.reporters.json_report import report_dict

    report = kohalint.scan(make_repo({"compose.yaml": BAD_COMPOSE, "Dockerfile": "FROM debian:latest\n"}))
    assert len(report.findings) > 3
    text = render(report, "json")
    assert json.loads(text) == json.loads(json.dumps(report_dict(report)))
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == '  "findings": [' and lines[-1] == "}"
    assert [json.loads(ln.strip().rstrip(",")) for ln in lines[2:2 + len(report.findings)]] == \
        report_dict(report)["findings"]
    report.findings, report.notes = [], []
    assert json.loads(render(report, "json"))["findings"] == []
