"""KL101 (secret scanning) and KL105/KL106 (literal secrets) beyond the catalog.

Secret-shaped values are assembled at run time from parts, so this file
holds none itself (the project scans its own tree with KL101).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kohalint
from kohalint.reporters import FORMATS, render
from kohalint.secret_scanner import line_may_hold, machinery
from tests.conftest import ROOT, git_repo

# Real-shaped values, built from pieces of at most 8 characters (nothing here
# looks like a secret to a scanner reading this file).
def _j(*parts: str) -> str:
    return "".join(parts)


AWS_ID = _j("AKIA", "Q3ZTN7XW", "BL4RUV2M")
AWS_SK = _j("r8Tz1kQm", "X4vB7nLw", "2pHs9dYc", "3fJg6aUe", "5oKi0tRq")
HEX_P = _j("9c4e1f7a", "2b8d3e6f", "0a5c7b9d", "1e3f4a6b")
DB_P = _j("Koha-Db-", "7vQ2plan", "t")
SLACK = _j("xo", "xb-", "20486137", "25-10948", "57362-", "mF3kP9xQ", "2wZ7vB4n", "L8tR6yH1")
TOK = _j("mF3kP9xQ", "2wZ7vB4n", "L8tR6yH1", "Zk0Wq5Ue")
KEY_HEAD = _j("-----", "BEGIN ", "RSA PRIV", "ATE KEY", "-----")
KEY_BODY = _j("MIIEowIB", "AAKCAQEA", "u1SU1LfV", "LPHCozMx", "H2Mo4lgO", "EePzNm0t", "RgeLezV6")
KEY_TAIL = _j("-----", "END ", "RSA PRIV", "ATE KEY", "-----")
MQ_P = _j("mq-", "Jh47sPz2", "Lq")
DOCKER_T = _j("tok-", "4f1c9a7e", "2b6d")


def scan(make_repo, files: dict[str, str], select=("KL101",), **kw):
    root = make_repo(files, **kw)
    return kohalint.scan(root, select=list(select))


def lines_of(report, rule="KL101"):
    return {(f.location.path, f.location.line) for f in report.findings if f.rule_id == rule}


@pytest.mark.parametrize("name,text,expected", [
    (".env", f"AWS_SECRET_ACCESS_KEY={AWS_SK}\n", {1}),
    (".env", f"SMTP_PASS={HEX_P}\n", {1}),                     # _PASS and unquoted hex
    (".env", f"export DB_PASSWORD='{DB_P}'\n", {1}),
    (".env", f"KOHA_INSTANCE=library\nAPI_TOKEN={TOK}  # prod\n", {2}),
    ("prod.env", f"MARIADB_PASSWORD={DB_P}\nAWS_ACCESS_KEY_ID={AWS_ID}\n", {1, 2}),
    ("notify.py", f'SLACK = "{SLACK}"\n', {1}),
    ("deploy/id_rsa", f"{KEY_HEAD}\n{KEY_BODY}\n{KEY_TAIL}\n", {1}),
    ("vars.yml", f"koha_db_password: {DB_P}\nother: {TOK}\n", {1, 2}),
    ("koha.cnf", f"[client]\nuser=koha\npassword={DB_P}\n", {3}),
    ("vars.yml", f"config: |\n  plain: text\n  db_password: {DB_P}\n", {3}),  # inside a block scalar
])
def test_kl101_finds(make_repo, name, text, expected):
    assert {line for _, line in lines_of(scan(make_repo, {name: text}))} == expected


@pytest.mark.parametrize("name,text", [
    (".env.example", "MARIADB_PASSWORD=changeme\nSMTP_PASS=change_me_please\nAPI_TOKEN=<token>\n"),
    (".env", "DB_PASSWORD=\nDB_PASSWORD2=${DB_PASSWORD}\nX_SECRET=xxxxxxxx\nY_TOKEN=example-token\n"),
    (".env", f"SMTP_PASS={HEX_P}  # pragma: allowlist secret\n"),
    ("a.py", f'# pragma: allowlist nextline secret\nTOKEN = "{TOK}"\n'),
    ("a.py", 'api_key = "api-key"\nSHA = "' + "0123456789abcdef" * 2 + '01234567"\n'),
    ("a.yaml", "plugin_sha256: " + "9f86d081884c7d659a2feaa0c55ad015" * 2 + "\n"),
    ("a.yaml", "rev: " + "b4ffde65f46336ab88eb53be808477a3936bae11" + "\n"),
    ("a.py", 'instance_uuid = "' + "550e8400e29b41d4a716446655440000" + '"\n'),
    ("a.py", 'TEXT = "MARIADB_PASSWORD=change_me\\nSMTP_PASSWORD=\\nKOHA_INSTANCE=library\\n"\n'),
    ("a.yaml", "mariadb_password: ENC[AES256_GCM,data:" + TOK + ",iv:" + AWS_SK + ",type:str]\n"
     "sops:\n    mac: ENC[AES256_GCM,data:" + AWS_SK + ",type:str]\n    lastmodified: '2026-10-01'\n"),
    (".env", "DB_PASSWORD=ENC[AES256_GCM,data:" + TOK + ",type:str]\nsops_mac=" + AWS_SK + "\n"),
    ("vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n" + "6231336539666234" * 5 + "\n"),
    ("msg.asc", "-----BEGIN PGP MESSAGE-----\n\n" + KEY_BODY + "\n-----END PGP MESSAGE-----\n"),
    ("README.md", "Set `MARIADB_PASSWORD: ${MARIADB_PASSWORD}` in compose.\n"),
    ("logo.lock", f'password = "{DB_P}"\n'),                  # detect-secrets' own file filter
    ("nginx.conf", "set_real_ip_from 198.41.128.0/17;\n"),          # addresses are not credentials
])
def test_kl101_ignores(make_repo, name, text):
    assert lines_of(scan(make_repo, {name: text})) == set()


def test_kl101_git_crypt_paths_are_skipped(make_repo):
    files = {".gitattributes": "secrets/** filter=git-crypt diff=git-crypt\n",
             "secrets/prod.env": f"DB_PASSWORD={DB_P}\n", "other.env": f"DB_PASSWORD={DB_P}\n"}
    assert lines_of(scan(make_repo, files)) == {("other.env", 1)}


def test_kl101_detect_secrets_baseline(make_repo):
    import hashlib

    sha1 = hashlib.sha1(TOK.encode()).hexdigest()
    other = hashlib.sha1(DB_P.encode()).hexdigest()
    baseline = {"results": {"a.py": [{"type": "Base64 High Entropy String", "hashed_secret": sha1,
                                      "line_number": 1}],
                            "b.py": [{"type": "Secret Keyword", "hashed_secret": other, "is_secret": True,
                                      "line_number": 1}]}}
    root = make_repo({"a.py": f'T = "{TOK}"\n', "b.py": f'password = "{DB_P}"\n',
                      ".secrets.baseline": json.dumps(baseline)})
    report = kohalint.scan(root, config={"select": ["KL101"],
                                         "secrets": {"detect-secrets-baseline": ".secrets.baseline"}})
    assert lines_of(report) == {("b.py", 1)}  # audited as a real secret: still reported
    assert "confirmed" in report.findings[0].message


def test_kl101_untracked_file_in_git_repo(tmp_path):
    root = git_repo(tmp_path / "r", {"README.md": "x\n"})
    (root / "notify.py").write_text(f'SLACK = "{SLACK}"\n')
    report = kohalint.scan(root, select=["KL101"])
    assert "would commit" in report.findings[0].message


def test_kl101_pre_commit_on_a_compose_file_does_not_import_detect_secrets(make_repo):
    root = make_repo({"compose.yaml": "services:\n  db:\n    image: mariadb@sha256:" + "4c0ffee0" * 8 +
                      "\n    environment:\n      MARIADB_PASSWORD: ${MARIADB_PASSWORD}\n"})
    code = ("import sys, kohalint; r = kohalint.scan(sys.argv[1], files=[sys.argv[1] + '/compose.yaml']); "
            "print(sorted({f.rule_id for f in r.findings}), 'detect_secrets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip().endswith("False"), out


def _detect_secrets_finds(filename: str, line: str) -> bool:
    from detect_secrets.util.code_snippet import get_code_snippet

    m = machinery()
    context = get_code_snippet([line], 1)
    if any(f(filename=filename, line=line, context=context) for f in m.line_filters):
        return False
    for plugin in m.plugins:
        for s in plugin.analyze_line(filename=filename, line=line, line_number=1, context=context):
            kw = {"filename": filename, "secret": s.secret_value, "plugin": plugin, "line": line}
            if not any(f(**kw) for f in m.secret_filters) and \
                    not any(f(**kw, context=context) for f in m.context_filters):
                return True
    return False


_KEYS = st.sampled_from(["password", "DB_PASSWORD", "api_key", "my_secret", "pwd", "token", "user",
                         "MARIADB_PASSWORD_FILE", "db_pass", "secret_key"])
_DELIMS = st.sampled_from([": ", "=", " = ", ":=", " == ", " => ", "]: ", '"]="', "("])
_QUOTES = st.sampled_from(["", "'", '"', "`"])
_VALUES = st.one_of(
    st.sampled_from(["${DB_PASSWORD}", "$DB_PASSWORD", "{{ vault_pw }}", "${X:-dflt}", "/run/secrets/x",
                     "", "changeme", "hunter2"]),
    st.from_regex(r"[A-Za-z0-9+/=_\-]{1,40}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{6,40}", fullmatch=True))


@pytest.mark.slow
@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(key=_KEYS, delim=_DELIMS, quote=_QUOTES, value=_VALUES, tail=st.sampled_from(["", ";", " # c", ")"]),
       filename=st.sampled_from(["a.yaml", "a.py", ".env", "a.go", "a.cnf", "Dockerfile", "a.js"]))
def test_trigger_covers_keyword_and_entropy_plugins(key, delim, quote, value, tail, filename):
    line = f"  {key}{delim}{quote}{value}{quote}{tail}"
    if _detect_secrets_finds(filename, line):
        assert line_may_hold(line), line


# -- KL105 / KL106 ------------------------------------------------------------------------

@pytest.mark.parametrize("env,flagged", [
    (f"MARIADB_PASSWORD: {MQ_P}", True),
    (f"- MARIADB_PASSWORD={MQ_P}", True),
    ("MARIADB_PASSWORD: ${DB_PW:-" + MQ_P + "}", True),   # a literal default
    ("MARIADB_PASSWORD: ${DB_PW:-${OTHER}}", False),
    ("MARIADB_PASSWORD: ${DB_PW:?required}", False),
    ("- MARIADB_PASSWORD=${MARIADB_PASSWORD}", False),           # the template's value does not count
    ("MARIADB_PASSWORD_FILE: /run/secrets/db", False),
    ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: 'yes'", False),
    ("MARIADB_PASSWORD: ''", False),
    ("- MARIADB_PASSWORD", False),
    ("MARIADB_PASSWORD: changeme", False),
    ("MARIADB_PASSWORD: REPLACE_WITH_DB_PASSWORD", False),   # says what goes there: a placeholder
    ("MARIADB_PASSWORD: replacement-" + MQ_P, True),         # starts like one, is not one
    ("KOHA_PASSWORD_MIN_LENGTH: 12", False),
    (f"KOHA_USER: {MQ_P}", False),
])
def test_kl105_values(make_repo, env, flagged):
    body = env if env.startswith("-") else env
    text = f"services:\n  db:\n    image: mariadb:11\n    environment:\n      {body}\n"
    files = {"compose.yaml": text, ".env.example": f"MARIADB_PASSWORD={MQ_P}\n"}
    assert lines_of(scan(make_repo, files, select=["KL105"]), "KL105") == ({("compose.yaml", 5)} if flagged else set())


def test_kl105_reported_once_across_projects(make_repo):
    files = {"compose.yaml": f"services:\n  mq:\n    image: rabbitmq:3\n    environment:\n"
                             f"      RABBITMQ_DEFAULT_PASS: {MQ_P}\n",
             "compose.prod.yaml": "services:\n  mq:\n    restart: always\n"}
    report = scan(make_repo, files, select=["KL105"])
    assert [(f.location.path, f.location.line) for f in report.findings] == [("compose.yaml", 5)]


@pytest.mark.parametrize("line,flagged", [
    (f"ARG KOHA_API_TOKEN={DOCKER_T}", True),
    (f"ENV SMTP_PASSWORD {DOCKER_T}", True),
    (f'ENV A=1 SMTP_PASSWORD="{DOCKER_T}"', True),
    ("ARG KOHA_API_TOKEN", False),
    ("ARG KOHA_API_TOKEN=", False),
    ("ENV KOHA_API_TOKEN=${KOHA_API_TOKEN_FROM_RUNTIME}", False),
    ("ENV KOHA_DB_PASSWORD_FILE=/run/secrets/db", False),
    ("ENV KOHA_VERSION=24.05", False),
])
def test_kl106_values(make_repo, line, flagged):
    text = f"FROM debian:bookworm-slim\n{line}\nUSER koha\n"
    assert lines_of(scan(make_repo, {"Dockerfile": text}, select=["KL106"]), "KL106") == (
        {("Dockerfile", 2)} if flagged else set())


# -- no secret value in any output ------------------------------------------------------

SECRETS = [AWS_ID, AWS_SK, HEX_P, DB_P, SLACK, TOK, KEY_BODY, MQ_P, DOCKER_T]


def test_no_secret_value_in_any_output(tmp_path):
    files = {
        ".env": f"AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SK}\nSMTP_PASS={HEX_P}\n"
                f"MARIADB_PASSWORD={DB_P}\n",
        "scripts/notify.py": f'SLACK = "{SLACK}"\nAPI = "{TOK}"\n',
        "deploy/id_rsa": f"{KEY_HEAD}\n{KEY_BODY}\n{KEY_TAIL}\n",
        "compose.yaml": f"services:\n  mq:\n    image: rabbitmq:3\n    environment:\n"
                        f"      RABBITMQ_DEFAULT_PASS: {MQ_P}\n",
        ".github/workflows/broken.yml": f"on: push\njobs: {{ {TOK}: [\n",
        "compose.override.yaml": f"services:\n  mq:\n    environment:\n      - MQ_TOKEN={TOK}\n",
        "Dockerfile": f"FROM debian:bookworm-slim\nARG KOHA_API_TOKEN={DOCKER_T}\n"
                      f'ENV SMTP_PASSWORD="{DB_P}"\nUSER koha\n',
        "ops/secrets-registry.yaml": f"version: 1\nsecrets:\n  - name: X\n    store: {DB_P}\n"
                                     f"    owner: {TOK}\n    {AWS_SK}: 1\n",
    }
    root = git_repo(tmp_path / "r", files)
    report = kohalint.scan(root, select=["KL0", "KL1"], today=None)
    rules = {f.rule_id for f in report.findings}
    assert {"KL001", "KL101", "KL102", "KL105", "KL106", "KL107"} <= rules
    outputs = [render(report, fmt) for fmt in FORMATS]
    outputs.append(report.model_dump_json())
    outputs.append(" ".join(f.fingerprint + f.identity for f in report.findings))
    for value in SECRETS:
        for out in outputs:
            assert value not in out
            assert value[:12] not in out
    cli = subprocess.run([sys.executable, "-m", "kohalint", "check", "--select", "KL1", "--debug", str(root)],
                         capture_output=True, text=True, cwd=ROOT)
    for value in SECRETS:
        assert value not in cli.stdout + cli.stderr
