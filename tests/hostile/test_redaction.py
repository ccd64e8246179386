"""Redaction as a property: a secret of any type detect-secrets knows, placed
in any file kind kohalint reads, never appears in any output format, log
line, fingerprint, identity, baseline file or exception message.

Every secret-looking string is assembled at run time from parts, so this
file holds none (kohalint scans itself)."""

from __future__ import annotations

import datetime
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kohalint
from tests.conftest import ROOT
from tests.hostile import strategies as S
from tests.hostile.clitools import TODAY, run_main, write

HAS_KL101 = (ROOT / "rules" / "KL101.yaml").is_file()
FORMATS = ("text", "json", "sarif", "github", "markdown")

UPPER_DIGITS = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


def _run(rng, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


BEGIN, END, PK = "-----" + "BEGIN ", "-----" + "END ", "PRIVATE" + " KEY-----"

# type name -> a function of a random.Random giving a secret of that type
MAKERS = {
    "aws-access-key-id": lambda r: "AK" + "IA" + _run(r, UPPER_DIGITS, 16),
    "aws-secret-key": lambda r: _run(r, B64, 40),
    "github-token": lambda r: "gh" + "p_" + _run(r, ALNUM, 36),
    "gitlab-token": lambda r: "glp" + "at-" + _run(r, ALNUM, 20),
    "slack-token": lambda r: "xo" + "xb-" + _run(r, string.digits, 11) + "-" + _run(r, string.digits, 12)
                             + "-" + _run(r, ALNUM, 24),
    "stripe-key": lambda r: "sk" + "_live_" + _run(r, ALNUM, 24),
    "sendgrid-key": lambda r: "S" + "G." + _run(r, ALNUM + "-_", 22) + "." + _run(r, ALNUM + "-_", 43),
    "npm-token": lambda r: "npm" + "_" + _run(r, ALNUM, 36),
    "twilio-key": lambda r: "S" + "K" + _run(r, HEX, 32),
    "jwt": lambda r: ("ey" + "JhbGciOiJIUzI1NiJ9" + _run(r, ALNUM, 24) + "." + "ey" + "J" + _run(r, ALNUM, 30)
                      + "." + _run(r, ALNUM + "-_", 43)),
    "basic-auth-url": lambda r: f"https://{_run(r, string.ascii_lowercase, 6)}:{_run(r, ALNUM, 14)}"
                                "@db.internal.invalid/koha",
    "base64-high-entropy": lambda r: _run(r, B64, 44),
    "hex-high-entropy": lambda r: _run(r, HEX, 40),
    "keyword-password": lambda r: _run(r, string.ascii_letters, 8) + _run(r, string.digits, 4)
                                  + _run(r, string.ascii_letters, 6),
    "private-key": lambda r: (BEGIN + "RSA " + PK + "\n" + "\n".join(_run(r, B64, 64) for _ in range(4))
                              + "\n" + END + "RSA " + PK),
}
SECRETS = {kind: st.randoms(use_true_random=False).map(make) for kind, make in MAKERS.items()}

# file -> template; {s} is the secret (single-line types), {k} a key block
PLACES = {
    "compose.yaml": ("services:\n  koha:\n    image: koha/koha:24.05\n    environment:\n"
                     "      KOHA_DB_PASSWORD: \"{s}\"\n      SMTP_URL: '{s}'\n"),
    ".env": "KOHA_API_TOKEN={s}\nexport DB_PASS='{s}'\n",
    "Dockerfile": "FROM debian:12\nENV API_TOKEN={s}\nARG DB_PASSWORD=\"{s}\"\nRUN echo '{s}' > /etc/koha\n",
    ".github/workflows/deploy.yml": ("on: push\nenv:\n  DEPLOY_TOKEN: \"{s}\"\njobs:\n  d:\n    runs-on: x\n"
                                     "    steps:\n      - run: curl -H 'Authorization: {s}' https://x\n"),
    "scripts/backup.sh": "#!/bin/sh\nexport SECRET_KEY='{s}'\nmysqldump -p\"{s}\" koha\n",
    "mariadb/conf.d/client.cnf": "[client]\npassword = {s}\n",
    "config/app.json": "{{\"apiKey\": \"{s}\", \"password\": \"{s}\"}}\n",
    "ops/secrets-registry.yaml": ("version: 1\nsecrets:\n  - name: KOHA_DB_PASSWORD\n    category: database\n"
                                  "    owner: '@org/ops'\n    rotation_period_days: 90\n"
                                  "    last_rotated: 2026-01-01\n    store: \"{s}\"\n    value: \"{s}\"\n"),
    "deploy/id_rsa": "{k}\n",
    "deploy/values.yaml": "tls:\n  key: |\n{ki}\n",
}


def _fill(template: str, secret: str) -> str:
    one_line = secret.splitlines()[1] if "\n" in secret else secret
    block = secret if "\n" in secret else ""
    return template.format(s=one_line, k=block, ki="\n".join("    " + x for x in block.splitlines()))


def _pieces(secret: str) -> list[str]:
    """What must never be shown: the value, and each long line of a key block."""
    return [secret] + [x for x in secret.splitlines() if len(x) >= 16 and "-----" not in x]


def _everything_printed(root: Path, report) -> list[str]:
    from kohalint.baseline import build_baseline, dump_baseline
    from kohalint.config import Settings
    from kohalint.reporters import render

    texts = [render(report, fmt) for fmt in FORMATS]
    texts += [f.identity for f in report.findings] + [f.fingerprint for f in report.findings]
    texts += [f"{n.path}: {n.message}" for n in report.notes]
    texts.append(dump_baseline(build_baseline(report, Settings())))
    return texts


NOT_LEAKY = ("--ignore", "KL995")  # the module-wide leaky rule, when a test wants a clean run


@pytest.fixture(scope="module")
def leaky_rule():
    """A rule that raises with the file's text as its message, on every file."""
    from kohalint.rule_catalog import load_record
    from kohalint.rules import check, registry

    record = load_record("KL003").model_copy(update={"id": "KL995", "name": "raises-with-content"})

    @check("KL995", "raises-with-content", target="text", record=record)
    def leaky(path, ctx):
        raise RuntimeError(ctx.repo.read_text(path) or "")

    yield
    registry.remove("KL995")


@S.budget(10)
@given(st.sampled_from(sorted(SECRETS)).flatmap(lambda kind: st.tuples(st.just(kind), SECRETS[kind])))
def test_no_output_ever_holds_a_secret(leaky_rule, kind_and_secret):
    kind, secret = kind_and_secret
    with tempfile.TemporaryDirectory(prefix="kohalint-redaction-") as tmp:
        root = write(Path(tmp), {path: _fill(t, secret) for path, t in PLACES.items()})
        report = kohalint.scan(root, today=datetime.date(2026, 11, 27))
        printed = _everything_printed(root, report)
    assert any(f.rule_id == "KL003" for f in report.findings)  # the leaky rule did raise
    for text in printed:
        for piece in _pieces(secret):
            assert piece not in text, f"{kind} value shown"


@pytest.mark.skipif(not HAS_KL101, reason="KL101 (secret-in-tracked-file) is not there yet")
@S.budget(10)
@given(st.sampled_from(["aws-access-key-id", "github-token", "slack-token", "stripe-key", "private-key",
                        "jwt"]).flatmap(lambda kind: st.tuples(st.just(kind), SECRETS[kind])))
def test_kl101_reports_strong_secrets_redacted(kind_and_secret):
    kind, secret = kind_and_secret
    with tempfile.TemporaryDirectory(prefix="kohalint-redaction-") as tmp:
        root = write(Path(tmp), {path: _fill(t, secret) for path, t in PLACES.items()})
        report = kohalint.scan(root, select=["KL101"])
        printed = _everything_printed(root, report)
    assert [f for f in report.findings if f.rule_id == "KL101"], f"{kind} not detected"
    for text in printed:
        for piece in _pieces(secret):
            assert piece not in text


def test_logs_and_the_baseline_command_hold_no_secret(tmp_path, capsys):
    """The CLI end to end, once: stdout, stderr (notes, errors) and `kohalint
    baseline`'s file, for one secret of each type in every file kind."""
    import random

    rng = random.Random(20261127)
    secrets = {kind: make(rng) for kind, make in MAKERS.items()}
    files: dict[str, str] = {}
    for i, (kind, secret) in enumerate(sorted(secrets.items())):
        for path, template in PLACES.items():
            files[f"s{i}/{path}"] = _fill(template, secret)
    root = write(tmp_path / "r", files)
    outputs = []
    for fmt in FORMATS:
        run = run_main(capsys, "check", str(root), "--format", fmt, "--today", TODAY, *NOT_LEAKY, timeout=180)
        assert run.rc == 1
        outputs += [run.out, run.err]
        if fmt == "json":
            detected = {f["location"]["path"].split("/")[0] for f in run.json["findings"] if f["rule_id"] == "KL101"}
            assert not HAS_KL101 or len(detected) >= len(secrets) - 2  # nearly every type is seen
    base = tmp_path / "baseline.json"
    outputs.append(run_main(capsys, "baseline", str(root), "-o", str(base), *NOT_LEAKY, timeout=180).err)
    outputs.append(base.read_text())
    outputs.append(run_main(capsys, "gate", str(root), "--format", "markdown", *NOT_LEAKY, timeout=180).out)
    for kind, secret in secrets.items():
        for text in outputs:
            for piece in _pieces(secret):
                assert piece not in text, f"{kind} value shown"
