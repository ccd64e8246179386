"""Whole scans of generated repositories: whatever the files hold, every rule
runs to the end (no KL003, no exception) and every finding has a location."""

from __future__ import annotations

import datetime
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kohalint
from kohalint.limits import run_with_deadline
from tests.hostile import strategies as S

pytestmark = pytest.mark.slow

TODAY = datetime.date(2026, 11, 27)
SCAN_BOUND = 60.0  # seconds for one scan of a handful of small files


def _text_for(strategy):
    return st.one_of(strategy, st.text(max_size=80))


REPO = st.fixed_dictionaries({
    "compose.yaml": _text_for(S.yaml_text(S.compose_doc())),
}, optional={
    "compose.override.yaml": _text_for(S.yaml_text(S.compose_doc())),
    "docker-compose.prod.yml": _text_for(S.yaml_text(S.compose_doc())),
    ".github/workflows/ci.yml": _text_for(S.yaml_text(S.workflow_doc())),
    ".github/workflows/deploy.yml": _text_for(S.yaml_text(S.workflow_doc())),
    "Dockerfile": _text_for(S.soup(S.DOCKERFILE_TOKENS, 40)),
    "scripts/backup.sh": _text_for(S.soup(S.SHELL_TOKENS, 40)),
    "scripts/restore.sh": _text_for(S.soup(S.SHELL_TOKENS, 40)),
    "mariadb/conf.d/my.cnf": _text_for(S.soup(S.CNF_TOKENS, 30)),
    ".github/CODEOWNERS": _text_for(S.soup(S.CODEOWNERS_TOKENS, 30)),
    ".dockerignore": _text_for(S.soup(S.DOCKERIGNORE_TOKENS, 30)),
    ".env": st.text(max_size=80),
    ".gitignore": st.text(max_size=40),
    "ops/recovery.yaml": _text_for(S.yaml_text(S.policy_doc())),
    "ops/restore-tests.yaml": _text_for(S.yaml_text(S.restore_log_doc())),
    "ops/secrets-registry.yaml": _text_for(S.yaml_text(S.registry_doc())),
    "ops/crontab": _text_for(S.soup(S.CRON_TOKENS + ["\n", " root ", " /opt/backup.sh\n"], 30)),
    "ops/backup.timer": _text_for(S.soup(S.TIMER_TOKENS, 30)),
    "monitoring/alerts.yml": _text_for(S.soup(S.YAML_TOKENS + ["groups:\n", "- alert: ", "expr: "], 40)),
    ".github/settings.yml": _text_for(S.yaml_text(S.values())),
    ".pre-commit-config.yaml": _text_for(S.yaml_text(S.values())),
    ".github/dependabot.yml": _text_for(S.yaml_text(S.values())),
    ".github/rulesets/main.json": _text_for(S.values().map(lambda v: json.dumps(v, default=str))),
    "daemon.json": _text_for(S.values().map(lambda v: json.dumps(v, default=str))),
    "nginx/default.conf": _text_for(S.soup(["server {", "}", "listen 443 ssl;", "ssl_protocols TLSv1;",
                                            "add_header ", "Strict-Transport-Security", ";", "\n", "#",
                                            "include ", "location / {", "proxy_pass http://koha:8080;"], 30)),
    ".gitattributes": _text_for(S.soup(["* ", "filter=git-crypt", "**/", "\n", "*.env", " diff", "!", "[",
                                        "secrets/**", " "], 30)),
})


def _scan(files: dict[str, str]):
    with tempfile.TemporaryDirectory(prefix="kohalint-hostile-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8", errors="surrogateescape")
        expired, report = run_with_deadline(lambda: kohalint.scan(root, today=TODAY), SCAN_BOUND)
    assert not expired, f"the scan took longer than {SCAN_BOUND} s"
    return report


@S.budget(4)
@given(REPO)
def test_generated_repositories_scan_without_internal_errors(files):
    report = _scan(files)
    crashed = [f"{f.location.path}: {f.message}" for f in report.findings if f.rule_id == "KL003"]
    assert not crashed and not report.internal_error
    for f in report.findings:
        assert f.location.line >= 1 and f.location.column >= 1 and f.fingerprint
        assert f.location.path == "." or not f.location.path.startswith(("/", "../"))
