"""`kohalint gate`: one line per area, exit codes, formats, roles.

Most tests run the gate with stand-in rules, one per area, that report what a
`findings/<area>.txt` file says (`<severity> <message>` per line), so the gate
logic is tested apart from the rule families.
"""

from __future__ import annotations

import json
import re

import pytest

from kohalint.cli import main
from kohalint.models import Area
from kohalint.rule_catalog import catalog_ids, load_record
from kohalint.rules import check, registry
from tests.conftest import ROOT

AREAS = ["security", "delivery", "supply-chain", "runtime", "observability", "recovery"]
TITLES = ["Security", "Delivery", "Supply chain", "Runtime", "Observability", "Recovery"]
FAKE = {area: f"KL99{i}" for i, area in enumerate(AREAS, start=1)}
COMPOSE = "services:\n  koha:\n    image: ghcr.io/acme/koha:sha-1a2b3c4\n"


@pytest.fixture
def fake_rules():
    base = load_record("KL003")
    for area, rid in FAKE.items():
        record = base.model_copy(update={"id": rid, "name": f"fake-{area}", "area": Area(area)})

        def fake(ctx, area=area):
            text = ctx.repo.read_text(f"findings/{area}.txt") or ""
            for no, line in enumerate(text.splitlines(), start=1):
                sev, _, message = line.partition(" ")
                if sev in ("critical", "high", "medium", "low"):
                    yield ctx.finding(f"findings/{area}.txt", no, message.split("#")[0].strip(),
                                      severity=sev, identity=f"{area}|{no}")

        check(rid, f"fake-{area}", target="repository", record=record)(fake)
    yield FAKE
    for rid in FAKE.values():
        registry.remove(rid)


def gate(capsys, root, *extra: str):
    rc = main(["gate", str(root), "--select", "KL99,KL0", "--no-color", *extra])
    return rc, capsys.readouterr().out


def area_lines(out: str) -> dict[str, str]:
    return {m.group(2).strip(): m.group(1) for m in
            re.finditer(r"^(PASS|FAIL|n/a) +(Security|Delivery|Supply chain|Runtime|Observability|"
                        r"Recovery|Engine)\b", out, re.M)}


def test_all_pass_exit_0_six_lines(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    rc, out = gate(capsys, root)
    assert rc == 0, out
    lines = [line for line in out.splitlines() if line.startswith("PASS")]
    assert [line.split()[1] for line in lines] == ["Security", "Delivery", "Supply", "Runtime",
                                                  "Observability", "Recovery"]
    assert "Engine" not in out
    assert out.rstrip().endswith("Gate: PASS (6 of 6 areas judged, all pass)")


def test_failing_area_exit_1_names_it(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE,
                      "findings/runtime.txt": "critical db publishes 3306\nmedium no pids limit\n",
                      "findings/delivery.txt": "medium no concurrency\n"})
    rc, out = gate(capsys, root)
    assert rc == 1
    assert area_lines(out) == {"Security": "PASS", "Delivery": "PASS", "Supply chain": "PASS",
                               "Runtime": "FAIL", "Observability": "PASS", "Recovery": "PASS"}
    assert "FAIL  Runtime        1 blocking (1 critical), 1 below high" in out
    assert "findings/runtime.txt:1:1: KL994 [critical] db publishes 3306" in out
    assert "no pids limit" not in out  # below the threshold: counted, not listed
    assert "Delivery       0 blocking, 1 below high" in out
    assert out.rstrip().endswith("Gate: FAIL (Runtime)")


def test_suppressed_findings_do_not_block(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE,
                      "findings/security.txt": "high leaked key  # kohalint: ignore[KL991] rotated, OPS-12\n"})
    rc, out = gate(capsys, root)
    assert rc == 0, out
    assert "PASS  Security       0 blocking, 1 suppressed" in out


def test_baselined_findings_do_not_block(make_repo, fake_rules, capsys, tmp_path):
    root = make_repo({"compose.yaml": COMPOSE, "findings/runtime.txt": "high accepted debt\n"})
    base = tmp_path / "baseline.json"
    assert main(["baseline", str(root), "--select", "KL99", "-o", str(base), "-q"]) == 0
    capsys.readouterr()
    rc, out = gate(capsys, root, "--baseline", str(base))
    assert rc == 0, out
    assert "PASS  Runtime        0 blocking, 1 suppressed" in out
    (root / "findings" / "runtime.txt").write_text("high accepted debt\ncritical new problem\n")
    rc, out = gate(capsys, root, "--baseline", str(base))
    assert rc == 1 and "KL994 [critical] new problem" in out and "accepted debt" not in out


def test_fail_on_threshold_flag_and_config(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE, "findings/recovery.txt": "medium restore test old\n"})
    assert gate(capsys, root)[0] == 0
    rc, out = gate(capsys, root, "--fail-on", "medium")
    assert rc == 1 and area_lines(out)["Recovery"] == "FAIL"
    (root / ".kohalint.yaml").write_text("gate:\n  area-fail-on:\n    recovery: medium\n")
    rc, out = gate(capsys, root)
    assert rc == 1 and "below" not in out.split("Recovery")[1].splitlines()[0]


def test_max_findings_per_area(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE, ".kohalint.yaml": "gate:\n  max-findings:\n    delivery: 1\n",
                      "findings/delivery.txt": "low a\nlow b\n"})
    rc, out = gate(capsys, root)
    assert rc == 1
    assert "FAIL  Delivery       0 blocking, 2 below high, more than the 1 allowed (gate.max-findings)" in out
    assert "findings/delivery.txt:2:1: KL992 [low] b" in out  # over the limit: every finding is listed


def test_build_repository_deployment_areas_are_na(make_repo, fake_rules, capsys):
    root = make_repo({"Dockerfile": "FROM scratch\n"})
    rc, out = gate(capsys, root)
    assert rc == 0
    assert area_lines(out) == {"Security": "PASS", "Delivery": "PASS", "Supply chain": "PASS",
                               "Runtime": "PASS", "Observability": "n/a", "Recovery": "n/a"}
    assert "n/a   Recovery       no compose project: a build repository" in out
    assert "(4 of 6 areas judged, all pass)" in out


def test_findings_in_a_na_area_still_count(make_repo, fake_rules, capsys):
    root = make_repo({"README.md": "x\n", "findings/recovery.txt": "high backup script has no set -e\n"})
    rc, out = gate(capsys, root)
    assert rc == 1 and area_lines(out)["Recovery"] == "FAIL"


def test_configured_areas_override_detection(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE, ".kohalint.yaml": "areas: [security, delivery, supply-chain]\n",
                      "findings/runtime.txt": "critical would fail\n"})
    rc, out = gate(capsys, root)
    assert rc == 0
    assert "n/a   Runtime        not in the configured `areas`" in out


def test_parse_error_fails_on_an_engine_line(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE, "docker-compose.prod.yml": "services:\n  a: [\n"})
    rc, out = gate(capsys, root)
    assert rc == 1
    assert area_lines(out)["Engine"] == "FAIL"
    assert re.search(r"docker-compose.prod.yml:\d+:\d+: KL001 \[high\] cannot parse", out)
    assert out.rstrip().endswith("Gate: FAIL (Engine)")
    rc, out = gate(capsys, root, "--fail-on", "critical")  # a parse error blocks at any threshold
    assert rc == 1 and area_lines(out)["Engine"] == "FAIL"


def test_internal_error_exits_2(make_repo, fake_rules, capsys):
    @check("KL998", "always-fails", target="repository",
           record=load_record("KL003").model_copy(update={"id": "KL998", "name": "always-fails",
                                                          "area": Area.runtime}))
    def boom(ctx):
        raise RuntimeError("boom")

    try:
        root = make_repo({"compose.yaml": COMPOSE})
        rc, out = gate(capsys, root, "--extend-select", "KL998")
    finally:
        registry.remove("KL998")
    assert rc == 2
    assert area_lines(out)["Engine"] == "FAIL" and "KL003 [high] rule KL998 failed" in out


def test_markdown_format(make_repo, fake_rules, capsys):
    root = make_repo({"compose.yaml": COMPOSE, "findings/security.txt": "critical token | in a file\n"})
    rc, out = gate(capsys, root, "--format", "markdown")
    assert rc == 1
    assert out.startswith("## kohalint gate: ❌ FAIL\n")
    assert "| Security | ❌ FAIL | 1 (1 critical) | 0 | 0 |  |" in out
    assert "| Delivery | ✅ PASS | 0 | 0 | 0 |  |" in out
    assert "### Security: 1 finding to fix" in out
    assert ("| critical | [KL991](docs/rules/KL991.md) fake-security | `findings/security.txt:1` | "
            "token \\| in a file |") in out


def test_json_format_and_output_file(make_repo, fake_rules, capsys, tmp_path):
    root = make_repo({"Dockerfile": "FROM scratch\n", "findings/supply-chain.txt": "high not signed\n"})
    target = tmp_path / "out" / "gate.json"
    rc, out = gate(capsys, root, "--format", "json", "-o", str(target))
    assert rc == 1 and out == ""
    data = json.loads(target.read_text())
    assert data["passed"] is False and data["exit_code"] == 1 and data["fail_on"] == "high"
    assert [a["area"] for a in data["areas"]] == AREAS
    by_area = {a["area"]: a for a in data["areas"]}
    assert by_area["supply-chain"]["status"] == "fail"
    assert by_area["supply-chain"]["counts"] == {"blocking": 1, "below_threshold": 0, "suppressed": 0,
                                                 "by_severity": {"high": 1}}
    assert by_area["supply-chain"]["findings"][0]["location"]["path"] == "findings/supply-chain.txt"
    assert by_area["recovery"]["status"] == "n/a"
    assert data["engine"] is None


def test_gate_needs_one_directory(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    assert main(["gate", str(root / "compose.yaml")]) == 2
    assert "give one directory" in capsys.readouterr().err


def test_unselected_areas_are_na(make_repo, capsys):
    root = make_repo({"compose.yaml": COMPOSE})
    rc = main(["gate", str(root), "--select", "KL501", "--no-color"])
    out = capsys.readouterr().out
    assert rc == 1
    lines = area_lines(out)
    assert lines["Observability"] == "FAIL" and lines["Security"] == "n/a"
    assert "n/a   Security       no rule of this area selected" in out
    assert "compose.yaml:1:1: KL501 [high] no central logging" in out


def test_compliant_example_passes_every_implemented_area(capsys):
    """The compliant twin passes each area that has rules (areas still without rules are skipped)."""
    example = ROOT / "examples" / "compliant"
    if not example.is_dir():
        pytest.skip("examples not bundled yet")
    cataloged = set(catalog_ids())
    implemented = {c.area.value for c in registry if c.target != "engine" and c.id in cataloged}
    rc = main(["gate", str(example), "--today", "2026-11-27", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    failing = {a["area"]: [f"{f['rule_id']} {f['location']['path']}:{f['location']['line']}"
                           for f in a["findings"]]
               for a in data["areas"] if a["area"] in implemented and a["status"] != "pass"}
    assert failing == {}
    assert data["engine"] is None
    if implemented >= set(AREAS):
        assert rc == 0
