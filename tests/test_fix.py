"""`kohalint fix`: safe edits, byte for byte, every comment kept, idempotent."""

from __future__ import annotations

import re
import shutil

import pytest

import kohalint
from kohalint.cli import main
from kohalint.fix import _append_lines, run_fix
from kohalint.fix_workflow import fix_concurrency, fix_permissions
from kohalint.fix_yaml import Unfixable, YamlText
from kohalint.config import load_settings
from kohalint.rules import registry
from tests.conftest import ROOT

D = "@sha256:" + "4c0ffee0" * 8
COMPOSE_RULES = ["KL402", "KL403", "KL405", "KL406"]


def comments(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"(?m)(^|\s)#.*$", text)]


def fix(root, *extra: str) -> int:
    return main(["fix", str(root), "-q", *extra])


def active(root, rules=COMPOSE_RULES) -> list[tuple[str, str, int]]:
    report = kohalint.scan(root, select=rules)
    return sorted((f.rule_id, f.location.path, f.location.line) for f in report.active)


def fixed_twice(make_repo, files: dict[str, str], *extra: str):
    """Fix, check the result is clean and that a second run changes nothing."""
    root = make_repo(files)
    assert fix(root, *extra) == 0
    first = {p: (root / p).read_bytes() for p in files}
    assert fix(root, *extra) == 0
    assert {p: (root / p).read_bytes() for p in files} == first, "a second run changed something"
    for p, text in files.items():
        new = first[p].decode()
        missing = [c for c in comments(text) if c not in comments(new)]
        assert not missing, f"{p} lost comments {missing}"
    return root, {p: b.decode() for p, b in first.items()}


def test_service_gets_every_missing_key_in_the_files_style(make_repo):
    text = ("services:\n"
            "    db:   # the database\n"
            "        image: mariadb:11.4\n"
            "        volumes:\n"
            "        - data:/var/lib/mysql\n"
            "\n"
            "    # the cache comes next\n"
            "    cache:\n"
            "        image: memcached:1.6\n")
    root, out = fixed_twice(make_repo, {"compose.yaml": text}, "--select", ",".join(COMPOSE_RULES))
    assert out["compose.yaml"] == (
        "services:\n"
        "    db:   # the database\n"
        "        image: mariadb:11.4\n"
        "        volumes:\n"
        "        - data:/var/lib/mysql\n"
        "        security_opt:\n"
        "        - no-new-privileges:true\n"
        "        cap_drop:\n"
        "        - ALL\n"
        "        restart: unless-stopped\n"
        "        logging:\n"
        "            driver: json-file\n"
        "            options:\n"
        "                max-size: \"10m\"\n"
        "                max-file: \"3\"\n"
        "\n"
        "    # the cache comes next\n"
        "    cache:\n"
        "        image: memcached:1.6\n"
        "        security_opt:\n"
        "        - no-new-privileges:true\n"
        "        cap_drop:\n"
        "        - ALL\n"
        "        restart: unless-stopped\n"
        "        logging:\n"
        "            driver: json-file\n"
        "            options:\n"
        "                max-size: \"10m\"\n"
        "                max-file: \"3\"\n")
    assert active(root) == []


def test_existing_values_are_completed_in_place_keeping_quotes(make_repo):
    text = ("services:\n"
            "  web:\n"
            f"    image: nginx{D}\n"
            "    security_opt: [\"apparmor=docker-default\"]   # keep\n"
            "    cap_drop: [ NET_RAW ]\n"
            "    restart: \"no\"\n"
            "    logging:\n"
            "      driver: json-file\n"
            "      options: {max-size: 5m}\n"
            "  worker:\n"
            f"    image: busybox{D}\n"
            "    security_opt:\n"
            "      - 'no-new-privileges:false'\n"
            "    cap_drop:\n"
            "      - NET_RAW\n"
            "    restart: always\n"
            "    logging:\n"
            "      options:\n"
            "        max-file: '5'\n"
            "    command: |\n"
            "      run\n"
            "\n"
            "# end\n")
    root, out = fixed_twice(make_repo, {"compose.yaml": text}, "--select", ",".join(COMPOSE_RULES))
    assert out["compose.yaml"] == (
        "services:\n"
        "  web:\n"
        f"    image: nginx{D}\n"
        "    security_opt: [\"apparmor=docker-default\", \"no-new-privileges:true\"]   # keep\n"
        "    cap_drop: [ NET_RAW, ALL ]\n"
        "    restart: \"unless-stopped\"\n"
        "    logging:\n"
        "      driver: json-file\n"
        "      options: {max-size: 5m, max-file: \"3\"}\n"
        "  worker:\n"
        f"    image: busybox{D}\n"
        "    security_opt:\n"
        "      - 'no-new-privileges:true'\n"
        "    cap_drop:\n"
        "      - NET_RAW\n"
        "      - ALL\n"
        "    restart: always\n"
        "    logging:\n"
        "      options:\n"
        "        max-file: '5'\n"
        "        max-size: \"10m\"\n"
        "    command: |\n"
        "      run\n"
        "\n"
        "# end\n")
    assert active(root) == []


HARDENED = ("x-hardening: &hardening   # shared by every service\n"
            "  restart: unless-stopped\n"
            "  security_opt:\n"
            "    - apparmor=docker-default\n"
            "\n"
            "services:\n"
            "  db:\n"
            "    <<: *hardening\n"
            "    image: mariadb:11.4\n"
            "  app:\n"
            "    <<: *hardening\n"
            f"    image: ghcr.io/acme/koha{D}\n")


def test_hardening_from_a_merge_key_is_fixed_in_the_anchor(make_repo):
    root, out = fixed_twice(make_repo, {"compose.yaml": HARDENED}, "--select", "KL402,KL403")
    assert out["compose.yaml"] == HARDENED.replace(
        "    - apparmor=docker-default\n",
        "    - apparmor=docker-default\n    - no-new-privileges:true\n  cap_drop:\n    - ALL\n")
    assert active(root, ["KL402", "KL403"]) == []


def test_anchor_shared_with_a_suppressed_service_is_left_alone(make_repo):
    text = HARDENED.replace("  app:\n", "  app:   # kohalint: ignore[KL403] vendor image needs capabilities\n")
    root, out = fixed_twice(make_repo, {"compose.yaml": text}, "--select", "KL402,KL403")
    assert out["compose.yaml"] == text.replace(
        "    - apparmor=docker-default\n", "    - apparmor=docker-default\n    - no-new-privileges:true\n").replace(
        "    image: mariadb:11.4\n", "    image: mariadb:11.4\n    cap_drop:\n      - ALL\n")
    assert active(root, ["KL402", "KL403"]) == []
    report = kohalint.scan(root, select=["KL403"])
    assert [(f.identity, f.suppressed) for f in report.findings] == [("app", True)]


def test_shared_list_a_compliant_service_also_uses_is_copied_not_changed(make_repo):
    files = {"compose.yaml": HARDENED,
             "compose.override.yaml": "services:\n  app:\n    security_opt: [no-new-privileges:true]\n"}
    root, out = fixed_twice(make_repo, files, "--select", "KL402")
    assert out["compose.yaml"] == HARDENED.replace(
        "    image: mariadb:11.4\n",
        "    image: mariadb:11.4\n"
        "    security_opt:\n      - apparmor=docker-default\n      - no-new-privileges:true\n")
    assert out["compose.override.yaml"] == files["compose.override.yaml"]
    assert active(root, ["KL402"]) == []


def test_logging_from_an_alias_is_completed_in_the_anchor(make_repo):
    text = ("x-logging: &logging\n"
            "  driver: json-file\n"
            "services:\n"
            "  a:\n"
            "    image: busybox:1\n"
            "    logging: *logging\n"
            "  b:\n"
            "    image: busybox:1\n"
            "    logging: *logging\n")
    root, out = fixed_twice(make_repo, {"compose.yaml": text}, "--select", "KL406")
    assert out["compose.yaml"] == text.replace(
        "  driver: json-file\n",
        "  driver: json-file\n  options:\n    max-size: \"10m\"\n    max-file: \"3\"\n")


def test_override_file_is_where_the_finding_points(make_repo):
    files = {"compose.yaml": "services:\n  db:\n    image: mariadb:11.4\n    restart: always\n",
             "compose.override.yaml": "services:\n  db:\n    restart: \"no\"   # dev\n"}
    root, out = fixed_twice(make_repo, files, "--select", "KL405")
    assert out["compose.yaml"] == files["compose.yaml"]
    assert out["compose.override.yaml"] == "services:\n  db:\n    restart: \"unless-stopped\"   # dev\n"


def test_crlf_and_missing_final_newline(make_repo):
    text = "services:\r\n  db:\r\n    image: mariadb:11.4"
    root = make_repo({})
    (root / "compose.yaml").write_bytes(text.encode())
    assert fix(root, "--select", "KL405") == 0
    assert (root / "compose.yaml").read_bytes() == (
        b"services:\r\n  db:\r\n    image: mariadb:11.4\r\n    restart: unless-stopped\r\n")


def test_unparsable_file_is_never_touched(make_repo):
    files = {"compose.yaml": "services:\n  db:\n    image: mariadb:11.4\n",
             "other/compose.yaml": "services:\n  db: [\n    image: x\n"}
    root = make_repo(files)
    before = (root / "other/compose.yaml").read_bytes()
    assert fix(root, "--select", "KL405") == 0
    assert (root / "other/compose.yaml").read_bytes() == before
    assert "restart: unless-stopped" in (root / "compose.yaml").read_text()


def test_deploy_time_values_and_privileged_are_left_for_a_person(make_repo, capsys):
    files = {"compose.yaml": ("services:\n  db:\n    image: mariadb:11.4\n    privileged: true\n"
                              "    security_opt: ${DB_SECURITY_OPTS}\n")}
    root = make_repo(files)
    assert main(["fix", str(root), "--select", "KL402,KL403"]) == 0
    err = capsys.readouterr().err
    assert "privileged: true must be removed by a person" in err
    text = (root / "compose.yaml").read_text()
    assert "privileged: true" in text and "cap_drop" in text


def test_diff_prints_and_changes_nothing(make_repo, capsys):
    text = "services:\n  db:\n    image: mariadb:11.4\n"
    root = make_repo({"compose.yaml": text})
    assert main(["fix", str(root), "--select", "KL405", "--diff"]) == 1
    out = capsys.readouterr().out
    assert out == ("--- a/compose.yaml\n+++ b/compose.yaml\n@@ -1,3 +1,4 @@\n services:\n   db:\n"
                   "     image: mariadb:11.4\n+    restart: unless-stopped\n")
    assert (root / "compose.yaml").read_text() == text
    assert main(["check", str(root), "--select", "KL405", "--fix", "--diff"]) == 1
    assert (root / "compose.yaml").read_text() == text


def test_check_fix_reports_only_what_is_left(make_repo, capsys):
    root = make_repo({"compose.yaml": "services:\n  db:\n    image: mariadb:11.4\n    ports: ['3306:3306']\n"})
    assert main(["check", str(root), "--select", "KL401,KL405", "--fix", "--no-color"]) == 1
    out = capsys.readouterr().out
    assert "KL401" in out and "KL405" not in out
    assert "restart: unless-stopped" in (root / "compose.yaml").read_text()


def test_suppressed_and_ignored_findings_are_not_fixed(make_repo):
    text = "services:\n  db:   # kohalint: ignore[KL405] runs once\n    image: mariadb:11.4\n"
    root = make_repo({"compose.yaml": text})
    assert fix(root, "--select", "KL405") == 0
    assert (root / "compose.yaml").read_text() == text
    assert fix(root, "--select", "KL4", "--ignore", "KL402,KL403,KL405,KL406") == 0
    assert (root / "compose.yaml").read_text() == text


# -- workflows (the edit functions; end to end once KL202/KL203 are registered) -----------

WORKFLOW = """\
name: CI
on:
  push:
    branches: [main]

# the jobs
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
"""


def run_fixer(fixer, text: str, path: str = ".github/workflows/ci.yml") -> str:
    for _ in range(10):
        new = fixer(YamlText(text), path)
        if new is None:
            return text
        text = new
    raise AssertionError("did not converge")


def test_permissions_and_concurrency_go_above_jobs():
    text = run_fixer(fix_concurrency, run_fixer(fix_permissions, WORKFLOW))
    assert text == WORKFLOW.replace("\n# the jobs\n", (
        "\npermissions:\n  contents: read\n\n"
        "concurrency:\n  group: ${{ github.workflow }}-${{ github.ref }}\n  cancel-in-progress: true\n\n"
        "# the jobs\n"))


def test_top_level_writes_move_to_the_jobs_that_had_none():
    text = WORKFLOW.replace("\n# the jobs\n", "\npermissions:\n  contents: write   # push tags\n"
                            "  packages: write\n\n# the jobs\n") + (
        "  lint:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n"
        "    steps:\n      - run: make lint\n")
    out = run_fixer(fix_permissions, text)
    assert out == WORKFLOW.replace("\n# the jobs\n", (
        "\npermissions:\n  contents: read\n"
        "# moved to the jobs by kohalint fix, with these comments:\n# push tags\n\n# the jobs\n")).replace(
        "    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n",
        "    runs-on: ubuntu-latest\n    permissions:\n      contents: write   # push tags\n"
        "      packages: write\n    steps:\n      - run: make test\n") + (
        "  lint:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n"
        "    steps:\n      - run: make lint\n")
    assert "write-all" not in run_fixer(fix_permissions, WORKFLOW.replace(
        "\n# the jobs\n", "\npermissions: write-all\n# the jobs\n")).split("jobs:")[0]


def test_deploy_workflow_never_cancels_a_run_in_progress():
    deploy = "name: Deploy production\non: [workflow_dispatch]\n" \
             "concurrency:\n  group: prod\n  cancel-in-progress: true   # faster\njobs: {}\n"
    assert run_fixer(fix_concurrency, deploy, ".github/workflows/release.yml") == deploy.replace(
        "cancel-in-progress: true", "cancel-in-progress: false")
    new = run_fixer(fix_concurrency, WORKFLOW, ".github/workflows/deploy.yml")
    assert "cancel-in-progress: false" in new


def test_flow_style_workflow_is_unfixable():
    with pytest.raises(Unfixable):
        fix_permissions(YamlText("{on: push, jobs: {}}\n"), "x.yml")


@pytest.mark.skipif(registry.get("KL202") is None or registry.get("KL203") is None,
                    reason="workflow rules not registered yet")
def test_workflow_findings_are_fixed_end_to_end(make_repo):
    root, out = fixed_twice(make_repo, {".github/workflows/ci.yml": WORKFLOW}, "--select", "KL202,KL203")
    assert active(root, ["KL202", "KL203"]) == []
    assert "permissions:\n  contents: read\n" in out[".github/workflows/ci.yml"]


# -- ignore files -------------------------------------------------------------------------

def test_ignore_lines_are_appended_once():
    lines = ["# why", ".env", ".env.*", "!.env.example"]
    assert _append_lines("node_modules/", lines) == "node_modules/\n# why\n.env\n.env.*\n!.env.example\n"
    assert _append_lines(".env\r\n.env.*\r\n", lines) is None
    assert _append_lines(".env\r\n", lines) == ".env\r\n# why\r\n.env.*\r\n!.env.example\r\n"


@pytest.mark.skipif(registry.get("KL103") is None or registry.get("KL104") is None,
                    reason="secrets rules not registered yet")
def test_gitignore_and_dockerignore_fixed_end_to_end(make_repo):
    files = {".gitignore": "*.log\n", ".dockerignore": "node_modules\n", "Dockerfile": f"FROM debian{D}\n",
             ".env.example": "A=1\n"}
    root = make_repo(files, use_git=True)
    assert fix(root, "--select", "KL103,KL104") == 0
    assert (root / ".gitignore").read_text().endswith("\n.env\n.env.*\n!.env.example\n")
    assert (root / ".dockerignore").read_text().endswith("\n.env\n.env.*\n.git\n")
    assert active(root, ["KL103", "KL104"]) == []


# -- the bundled example ------------------------------------------------------------------

@pytest.mark.skipif(not (ROOT / "examples" / "noncompliant").is_dir(), reason="examples not bundled")
def test_noncompliant_example_copy_loses_every_fixable_finding(tmp_path):
    root = tmp_path / "noncompliant"
    shutil.copytree(ROOT / "examples" / "noncompliant", root)
    before = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}
    settings = load_settings(root)
    result = run_fix(root, settings)
    assert result.fixed
    rules = sorted({f.rule_id for f in result.fixed} | {f.rule_id for f, _ in result.skipped})
    left = kohalint.scan(root, select=rules)
    assert sorted((f.rule_id, f.identity) for f in left.active) == sorted(
        (f.rule_id, f.identity) for f, _ in result.skipped), "only what fix said it left may remain"
    assert all(f.identity.endswith("|privileged") for f, _ in result.skipped)
    for rel, text in before.items():
        new = (root / rel).read_text()
        assert [c for c in comments(text) if c not in comments(new)] == [], rel
    assert run_fix(root, settings).changes == {}
