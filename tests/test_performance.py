"""Regression guards for the performance work; none of them times anything.

* a pre-commit run on a compose file imports neither detect-secrets nor
  bashlex (each costs more than the whole rest of such a run), nor
  ruamel.yaml (libyaml reads its YAML: kohalint.documents.yaml_libyaml);
* a scan reads each file once;
* the rule header read for every finding agrees with the full record;
* the repository's indexed lookups agree with a scan of every path;
* worker processes change nothing in the report, and a worker that dies
  becomes KL003 for the file it was scanning.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kohalint.engine import run_scan
from kohalint.config import Settings
from kohalint.reporters import render
from kohalint.repository import Repository
from kohalint.rule_catalog import catalog_ids, load_header, load_record
from tests.conftest import ROOT, git_repo

# A small deployment: a compose file without anything secret-looking, and
# files of every kind whose rules would need bashlex or detect-secrets.
REPO = {
    "compose.yaml": "services:\n  koha:\n    image: ghcr.io/acme/koha:sha-1a2b3c4\n"
                    "    environment:\n      KOHA_DB_PASSWORD: ${KOHA_DB_PASSWORD}\n",
    "Dockerfile": "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n",
    # a function: simple commands alone are read without bashlex
    "scripts/backup.sh": "#!/bin/sh\nset -eu\ndump() { mariadb-dump --all-databases; }\n"
                         "dump | gzip > /backup/db.sql.gz\n",
    "scripts/deploy.sh": "#!/bin/sh\ndocker compose pull && docker compose up -d\n",
    "ops/crontab": "0 3 * * * /srv/koha/scripts/backup.sh\n",
    ".github/workflows/deploy.yml": "name: deploy\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n"
                                    "    environment: production\n    steps:\n      - run: docker compose up -d\n",
    ".env": "DB_PASSWORD=kohaDb-fake-8Rt2qLw9\n",
}

PROBE = """
import sys
from kohalint.cli import main
main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"detect_secrets", "bashlex", "ruamel"})
print("HEAVY", ",".join(heavy), file=sys.stderr)
"""


def _heavy_imports(root: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), KOHALINT_JOBS="1")
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("HEAVY"))
    return line.split(" ", 1)[1].strip() if " " in line else ""


def test_precommit_on_a_compose_file_imports_neither_detect_secrets_nor_bashlex(tmp_path):
    root = git_repo(tmp_path / "repo", {**REPO, ".kohalint.yaml": "severity-threshold: low\n"})
    assert _heavy_imports(root, "check", "compose.yaml") == ""


def test_the_probe_sees_heavy_imports_when_they_happen(tmp_path):
    # the guard above must not pass because the probe is blind
    root = git_repo(tmp_path / "repo", REPO)
    assert _heavy_imports(root, "check", "scripts/backup.sh") == "bashlex"
    assert _heavy_imports(root, "check", ".env") == "detect_secrets"
    # a %YAML directive is left to ruamel.yaml (yaml_libyaml's reference)
    (root / "compose.yaml").write_text("%YAML 1.2\n---\n" + REPO["compose.yaml"])
    assert _heavy_imports(root, "check", "compose.yaml") == "ruamel"


def _scan_counting_reads(tmp_path: Path, monkeypatch, **kw) -> tuple[object, Counter]:
    """A scan of a copy of the non-compliant example, one process, and how
    often each file was read."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "noncompliant", root)
    reads: Counter[str] = Counter()
    original = Repository._read

    def counting(self, path):
        reads[path] += 1
        return original(self, path)

    monkeypatch.setattr(Repository, "_read", counting)
    monkeypatch.setenv("KOHALINT_JOBS", "1")
    return run_scan(root, Settings(), **kw), reads


def test_each_file_is_read_once(tmp_path, monkeypatch):
    report, reads = _scan_counting_reads(tmp_path, monkeypatch)
    assert report.findings and reads
    assert {p: n for p, n in reads.items() if n > 1} == {}


def test_precommit_on_a_compose_file_reads_its_project_not_the_workflows(tmp_path, monkeypatch):
    report, reads = _scan_counting_reads(tmp_path, monkeypatch, only_files=["compose.prod.yaml"])
    assert report.findings
    assert {"compose.yaml", "compose.prod.yaml"} <= set(reads)
    assert [p for p in reads if p.startswith(".github/")] == []


def test_rule_headers_match_their_records_without_reading_them(monkeypatch):
    load_header.cache_clear()
    full = {i: load_record(i) for i in catalog_ids()}
    monkeypatch.setattr("kohalint.rule_catalog.load_record", lambda i: pytest.fail(f"{i}: full read"))
    for rid, rec in full.items():
        h = load_header(rid)
        assert (h.id, h.name, h.area, h.severity, h.confidence) == \
            (rec.id, rec.name, rec.area, rec.severity, rec.confidence), rid
    load_header.cache_clear()


def test_repository_lookups_agree_with_a_full_scan():
    repo = Repository(ROOT / "examples")
    files = repo.files
    dirs = {posixpath.dirname(p) for p in files} | {"", ".", "/", "noncompliant/scr", "nope/x", "compliant/"}
    for d in dirs:
        prefix = "" if d in ("", ".") else d.rstrip("/") + "/"
        assert repo.in_dir(d) == [p for p in files if p.startswith(prefix)], d
        assert repo.has_prefix(d + "/") == any(p.startswith(d + "/") for p in files), d
        assert repo.names_in(d) == {posixpath.basename(p) for p in files if posixpath.dirname(p) == d}, d
    for name in {posixpath.basename(p) for p in files} | {"absent.txt"}:
        assert repo.named(name) == sorted(p for p in files if posixpath.basename(p) == name), name
    for kind in ("yaml", "compose", "workflow", "shell", "dockerfile", "dotenv"):
        assert repo.files_of_kind(kind) == [p for p in files if kind in repo.kinds(p)], kind


def _report(root: Path, jobs: str, monkeypatch, **kw) -> tuple[str, bool]:
    monkeypatch.setenv("KOHALINT_JOBS", jobs)
    import datetime

    report = run_scan(root, Settings(), today=datetime.date(2026, 1, 15), **kw)
    return render(report, "json"), report.internal_error


@pytest.mark.skipif(sys.platform != "linux", reason="workers need fork")
def test_workers_change_nothing_in_the_report(tmp_path, monkeypatch):
    root = git_repo(tmp_path / "repo", {}, commit=False)
    for twin in ("noncompliant", "compliant"):
        shutil.copytree(ROOT / "examples" / twin, root / twin)
    subprocess.run(["git", "-C", str(root), "add", "-A", "-f"], check=True)
    sequential, _ = _report(root, "1", monkeypatch)
    parallel, error = _report(root, "2", monkeypatch)
    assert not error
    assert json.loads(parallel)["findings"]  # a real comparison
    assert parallel == sequential
    # pre-commit mode with --all goes through the workers too
    files = ["noncompliant/compose.yaml", "noncompliant/.env"]
    assert _report(root, "2", monkeypatch, only_files=[str(root / f) for f in files], run_all=True) == \
        _report(root, "1", monkeypatch, only_files=[str(root / f) for f in files], run_all=True)


def _probe_rule(rule_id: str, func, target: str = "repository") -> None:
    """Register `func` as a test-only rule (the caller removes it)."""
    from kohalint.rule_catalog import RuleRecord
    from kohalint.rules import check

    record = RuleRecord.model_validate({
        "id": rule_id, "name": f"probe-{rule_id.lower()}", "area": "security", "severity": "low",
        "summary": "s", "rationale": "r", "remediation": "m",
        "examples": {"bad": [{"files": {"a": "b"}}], "good": [{"files": {"a": "b"}}]}})
    check(rule_id, f"probe-{rule_id.lower()}", target=target, record=record)(func)


@pytest.mark.skipif(sys.platform != "linux", reason="workers need fork")
def test_a_worker_that_dies_becomes_kl003(tmp_path, monkeypatch):
    from kohalint.rules import registry

    def dies(path, ctx):
        if path.endswith("boom.txt"):
            os._exit(3)  # what a segfault or the OOM killer does to a worker
        return []

    _probe_rule("ZZ901", dies, target="text")
    try:
        root = tmp_path / "repo"
        shutil.copytree(ROOT / "examples" / "noncompliant", root)
        (root / "boom.txt").write_text("x\n")
        text, error = _report(root, "2", monkeypatch)
        assert error
        died = [f for f in json.loads(text)["findings"] if f["rule_id"] == "KL003"]
        assert [(f["location"]["path"], "worker process" in f["message"]) for f in died] == [("boom.txt", True)]
        # everything else is as if no worker had died
        registry.remove("ZZ901")
        clean, _ = _report(root, "1", monkeypatch)
        others = [f for f in json.loads(text)["findings"] if f["rule_id"] != "KL003"]
        assert others == json.loads(clean)["findings"]
    finally:
        registry.remove("ZZ901")




@pytest.mark.skipif(sys.platform != "linux", reason="workers need fork")
def test_repository_rules_run_in_two_processes_and_report_as_one(tmp_path, monkeypatch):
    from kohalint.rules import registry

    meeting = tmp_path / "meeting"
    meeting.mkdir()

    def meet(rule_id):
        # Each probe waits for the other: they can only both finish when two
        # processes run them at the same time.
        def rule(ctx):
            (meeting / rule_id).write_text(str(os.getpid()))
            other = meeting / ("ZZ912" if rule_id == "ZZ911" else "ZZ911")
            for _ in range(500):
                if other.exists():
                    break
                time.sleep(0.01)
            return [ctx.finding("compose.yaml", 1, f"{rule_id} met the other: {other.exists()}")]
        return rule

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "noncompliant", root)
    try:
        for rule_id in ("ZZ911", "ZZ912"):
            _probe_rule(rule_id, meet(rule_id))
        text, error = _report(root, "2", monkeypatch)
        pids = {(meeting / r).read_text() for r in ("ZZ911", "ZZ912")}
    finally:
        registry.remove("ZZ911")
        registry.remove("ZZ912")
    assert not error and len(pids) == 2
    found = json.loads(text)["findings"]
    probes = [f["message"] for f in found if f["rule_id"].startswith("ZZ")]
    assert probes == ["ZZ911 met the other: True", "ZZ912 met the other: True"]
    # every other rule as in one process, in the same order
    sequential, _ = _report(root, "1", monkeypatch)
    assert [f for f in found if not f["rule_id"].startswith("ZZ")] == json.loads(sequential)["findings"]


@pytest.mark.skipif(sys.platform != "linux", reason="workers need fork")
def test_repository_rules_of_a_forked_process_that_dies_run_again_here(tmp_path, monkeypatch):
    from kohalint.rules import registry

    parent = os.getpid()

    def dies_when_forked(ctx):
        if os.getpid() != parent:
            os._exit(3)  # a crash in the process sharing the repository rules
        return [ctx.finding("compose.yaml", 1, "ran in the scanning process")]

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "noncompliant", root)
    try:
        _probe_rule("ZZ913", dies_when_forked)
        text, error = _report(root, "2", monkeypatch)
        sequential, _ = _report(root, "1", monkeypatch)
    finally:
        registry.remove("ZZ913")
    assert not error
    assert [f["message"] for f in json.loads(text)["findings"] if f["rule_id"] == "ZZ913"] == \
        ["ran in the scanning process"]
    assert text == sequential
