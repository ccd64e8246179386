"""The secrets registry (KL107-KL110), its schema, and KL111 (secret scan in CI)."""

from __future__ import annotations

import datetime
import json

import jsonschema
import pytest

import kohalint
from kohalint.secrets_registry import SCHEMA_FILES, json_schema, load_registry, schema_text
from tests.conftest import ROOT, triples

TODAY = datetime.date(2026, 11, 27)
REG = "ops/secrets-registry.yaml"


def entry(name="MARIADB_PASSWORD", category="database", last="2026-10-01", period=90, extra=""):
    return (f"  - name: {name}\n    category: {category}\n    owner: \"@koha-ops/dba\"\n"
            f"    rotation_period_days: {period}\n    last_rotated: {last}\n    store: \"vault:kv/koha\"\n{extra}")


def registry(*entries, runbook="docs/rotate.md"):
    head = "version: 1\n" + (f"rotation_runbook: {runbook}\n" if runbook else "") + "secrets:\n"
    return head + "".join(entries)


def scan(make_repo, files, rule, **kw):
    root = make_repo({"docs/rotate.md": "# Rotation\n", **files})
    return kohalint.scan(root, select=[rule], today=TODAY, **kw)


def test_shipped_schemas_are_current():
    for rel in SCHEMA_FILES:
        assert (ROOT / rel).read_text(encoding="utf-8") == schema_text(), (
            f"{rel} is stale: python -m kohalint.secrets_registry --write-schema")


def test_schema_accepts_the_documented_example_and_rejects_bad_entries():
    import yaml

    good = yaml.safe_load(registry(entry(), entry("SMTP_PASSWORD", "smtp", extra="    compromised: false\n")))
    good = json.loads(json.dumps(good, default=str))
    jsonschema.Draft202012Validator(json_schema()).validate(good)
    bad = dict(good, secrets=[dict(good["secrets"][0], category="ldap")])
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(bad))


@pytest.mark.parametrize("text,lines", [
    (registry(entry()), set()),
    (registry(entry(category="ldap")), {5}),
    (registry(entry(extra="    compromised: true\n")), {4}),            # compromised needs compromised_on
    (registry(entry(), entry()), {10}),                                    # duplicate names
    ("version: 2\nsecrets: []\n", {1}),
    ("version: 1\nsecrets: [{name: 'bad name'}]\n", {2}),
    ("version: 1\nsecretz: []\n", {2}),
    (registry(entry(extra="    owner2: x\n").replace('"@koha-ops/dba"', "ops team")), {6, 10}),
    ("- just\n- a list\n", {1}),
])
def test_kl107_schema_errors_at_their_lines(make_repo, text, lines):
    got = {line for _, _, line in triples(scan(make_repo, {REG: text}, "KL107"), "KL107")}
    assert got == lines


def test_kl107_yaml_error_and_missing_registry(make_repo):
    report = scan(make_repo, {REG: "version: 1\nsecrets: [\n"}, "KL107")
    assert [f.location.path for f in report.findings] == [REG]
    compose = {"compose.yaml": "services:\n  koha:\n    image: koha\n"}
    root = make_repo({**compose}, name="a")
    assert triples(kohalint.scan(root, select=["KL107"])) == {("KL107", REG, 1)}
    assert triples(kohalint.scan(make_repo({"Dockerfile": "FROM x\n"}, name="b"), select=["KL107"])) == set()
    areas = {"select": ["KL107"], "areas": ["security", "recovery"]}
    assert triples(kohalint.scan(make_repo({"README.md": "x\n"}, name="c"), config=areas)) == {
        ("KL107", REG, 1)}


def test_kl107_messages_never_quote_pasted_values(make_repo):
    pasted = "hunt" + "er2-Zx81" + "kLm0"
    report = scan(make_repo, {REG: registry(entry(extra=f"    {pasted}: x\n"))}, "KL107")
    assert report.findings and all(pasted not in f.message for f in report.findings)


def test_load_registry_keeps_valid_entries_next_to_invalid_ones():
    reg = load_registry(registry(entry(), entry("X", category="nope")), REG)
    assert reg.model is None and [e.model.name for e in reg.entries] == ["MARIADB_PASSWORD"]


def test_kl108_categories_and_drift(make_repo):
    files = {
        REG: registry(entry(), entry("smtp_password", "smtp")),
        "compose.yaml": "services:\n  koha:\n    image: koha\n    environment:\n"
                        "      KOHA_DB_PASS: ${MARIADB_PASSWORD}\n      SMTP: ${SMTP_PASSWORD}\n"
                        "      MEMCACHED: ${MEMCACHED_SERVERS}\n"
                        "    command: [\"--x=$${LOCAL_TOKEN}\"]\n  mq:\n    image: rabbitmq\n"
                        "    environment:\n      - RABBIT=${RABBITMQ_PASS}\n",
        ".env.example": "RABBITMQ_PASS=changeme\nKOHA_INSTANCE=library\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
                                    "      - run: x\n        env:\n          A: ${{ secrets.GITHUB_TOKEN }}\n"
                                    "          B: ${{ secrets['CF_API_TOKEN'] }}\n",
    }
    got = triples(scan(make_repo, files, "KL108", config={
        "select": ["KL108"], "secrets": {"required-categories": ["database", "smtp", "cloudflare"]}}), "KL108")
    assert got == {("KL108", REG, 3), ("KL108", "compose.yaml", 12), ("KL108", ".env.example", 1),
                   ("KL108", ".github/workflows/ci.yml", 9)}


def test_kl108_silent_without_registry(make_repo):
    files = {".env.example": "RABBITMQ_PASS=changeme\n"}
    assert triples(scan(make_repo, files, "KL108")) == set()


@pytest.mark.parametrize("last,period,extra,expected", [
    ("2026-10-01", 90, "", set()),
    ("2026-08-01", 90, "", {(8, "high")}),
    ("2026-09-05", 90, "", {(8, "medium")}),                 # due 2026-12-04, within 14 days
    ("2026-08-29", 90, "", {(8, "medium")}),                 # due today
    ("2026-03-01", 365, "    compromised: true\n    compromised_on: 2026-06-01\n", {(8, "high")}),
    ("2026-06-02", 365, "    compromised: true\n    compromised_on: 2026-06-01\n", set()),
])
def test_kl109_rotation(make_repo, last, period, extra, expected):
    report = scan(make_repo, {REG: registry(entry(last=last, period=period, extra=extra))}, "KL109")
    assert {(f.location.line, f.severity.value) for f in report.findings} == expected


def test_kl109_due_soon_days_is_configurable(make_repo):
    report = scan(make_repo, {REG: registry(entry(last="2026-09-20", period=90))}, "KL109",
                  config={"select": ["KL109"], "secrets": {"due-soon-days": 30}})
    assert [f.severity.value for f in report.findings] == ["medium"]


@pytest.mark.parametrize("runbook,files,line", [
    ("docs/rotate.md", {}, None),
    (None, {}, 1),
    ("docs/missing.md", {}, 2),
    ("docs/empty.md", {"docs/empty.md": "  \n"}, 2),
    ("https://wiki.example.org/koha/rotation", {}, None),
])
def test_kl110_runbook(make_repo, runbook, files, line):
    report = scan(make_repo, {REG: registry(entry(), runbook=runbook), **files}, "KL110")
    assert [f.location.line for f in report.findings] == ([] if line is None else [line])


# -- KL111 ------------------------------------------------------------------------------

def wf(on: str, steps: str) -> str:
    return f"on: {on}\njobs:\n  scan:\n    runs-on: ubuntu-24.04\n    steps:\n{steps}"


GITLEAKS = "      - uses: gitleaks/gitleaks-action@v2\n"


@pytest.mark.parametrize("files,expected", [
    ({}, {(".github/workflows/secret-scan.yml", "high")}),
    ({"ci.yml": wf("[pull_request, push]", GITLEAKS)}, set()),
    ({"ci.yml": wf("{pull_request: {}, push: {branches: [main]}}", GITLEAKS)}, set()),
    ({"ci.yml": wf("{pull_request: {}, push: {branches: [develop]}}", GITLEAKS)},
     {(".github/workflows/ci.yml", "medium")}),
    ({"ci.yml": wf("{pull_request: {}, push: {branches-ignore: [main]}}", GITLEAKS)},
     {(".github/workflows/ci.yml", "medium")}),
    ({"ci.yml": wf("{pull_request: {}, push: {branches: ['**', '!main']}}", GITLEAKS)},
     {(".github/workflows/ci.yml", "medium")}),
    ({"ci.yml": wf("[push]", GITLEAKS)}, {(".github/workflows/secret-scan.yml", "high")}),
    ({"ci.yml": wf("[pull_request, push]", "      - run: trufflehog git file://. --only-verified\n")}, set()),
    ({"ci.yml": wf("[pull_request, push]", "      - run: detect-secrets-hook --baseline .secrets.baseline\n")},
     set()),
    ({"ci.yml": wf("[pull_request, push]", "      - run: uvx kohalint check --select KL101 .\n")}, set()),
    ({"ci.yml": wf("[pull_request, push]", "      - run: kohalint check --select KL4 .\n")},
     {(".github/workflows/ci.yml", "high")}),
    ({"ci.yml": wf("[pull_request, push]",
                   "      - run: docker run --rm -v $PWD:/r zricethezav/gitleaks:v8.21.2 detect -s /r\n")}, set()),
    ({"ci.yml": wf("[pull_request, push]", "      - uses: pre-commit/action@v3.0.1\n"),
      "../../.pre-commit-config.yaml": "repos:\n  - repo: https://github.com/gitleaks/gitleaks\n"
                                       "    rev: v8.21.2\n    hooks:\n      - id: gitleaks\n"}, set()),
    ({"ci.yml": wf("[pull_request, push]", "      - uses: pre-commit/action@v3.0.1\n")},
     {(".github/workflows/ci.yml", "high")}),
])
def test_kl111(make_repo, files, expected):
    tree = {f".github/workflows/{k}" if not k.startswith("../") else k[6:]: v for k, v in files.items()}
    tree.setdefault("README.md", "x\n")
    report = kohalint.scan(make_repo(tree), select=["KL111"])
    assert {(f.location.path, f.severity.value) for f in report.findings} == expected
    assert all(f.location.line == 1 for f in report.findings)
