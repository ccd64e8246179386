"""`kohalint init`: a valid config, skeleton registries a person must finish, no overwrites."""

from __future__ import annotations

import datetime

import pytest

import kohalint
from kohalint.cli import main
from kohalint.config import load_settings
from kohalint.init_cmd import guess_category
from kohalint.rules import registry

FILES = {
    "compose.yaml": ("services:\n  db:\n    image: mariadb:11.4\n    environment:\n"
                     "      MARIADB_PASSWORD: ${MARIADB_PASSWORD}\n      MARIADB_USER: koha\n"
                     "  mq:\n    image: rabbitmq:3.13\n    environment:\n"
                     "      RABBITMQ_DEFAULT_PASS: ${RABBITMQ_DEFAULT_PASS}\n"),
    "compose.prod.yaml": "services:\n  db:\n    restart: always\n",
    ".env.example": "MARIADB_PASSWORD=change_me\nSMTP_PASSWORD=\nKOHA_INSTANCE=library\n",
    ".github/workflows/deploy.yml": ("on: push\njobs:\n  d:\n    runs-on: ubuntu-latest\n    steps:\n"
                                     "      - run: deploy\n        env:\n"
                                     "          CF: ${{ secrets.CF_API_TOKEN }}\n"
                                     "          GH: ${{ secrets.GITHUB_TOKEN }}\n"),
    "scripts/backup.sh": "#!/bin/sh\nset -eu\n",
}


@pytest.fixture
def initialised(make_repo, capsys):
    root = make_repo(FILES, use_git=True)
    assert main(["init", str(root)]) == 0
    return root, capsys.readouterr().err


def test_writes_config_and_skeletons(initialised):
    root, err = initialised
    for rel in (".kohalint.yaml", "ops/secrets-registry.yaml", "ops/recovery.yaml"):
        assert f"wrote {rel}" in err
    config = (root / ".kohalint.yaml").read_text()
    assert "#   - [compose.yaml, compose.prod.yaml]" in config
    assert "env-templates:\n  - .env.example\n" in config
    settings = load_settings(root)  # the written config validates
    assert settings.secrets.registry == "ops/secrets-registry.yaml"
    assert settings.env_templates == [".env.example"]
    registry_text = (root / "ops/secrets-registry.yaml").read_text()
    names = [line.split(": ", 1)[1] for line in registry_text.splitlines() if line.startswith("  - name: ")]
    assert names == ["CF_API_TOKEN", "MARIADB_PASSWORD", "RABBITMQ_DEFAULT_PASS", "SMTP_PASSWORD"]
    assert "    category: cloudflare   # guessed from the name\n    owner: TODO\n" in registry_text
    assert "change_me" not in registry_text and "GITHUB_TOKEN" not in registry_text
    recovery = (root / "ops/recovery.yaml").read_text()
    assert "rpo: TODO" in recovery and "  script: scripts/backup.sh\n" in recovery


@pytest.mark.skipif(registry.get("KL107") is None or registry.get("KL601") is None,
                    reason="registry rules not registered yet")
def test_todo_values_are_flagged_until_a_person_fills_them(initialised):
    root, _ = initialised
    report = kohalint.scan(root, select=["KL107", "KL601"])
    found = {(f.rule_id, f.location.path) for f in report.active}
    assert found == {("KL107", "ops/secrets-registry.yaml"), ("KL601", "ops/recovery.yaml")}
    path = root / "ops/secrets-registry.yaml"
    path.write_text(path.read_text().replace("owner: TODO", 'owner: "@koha-ops"')
                    .replace("last_rotated: TODO", "last_rotated: 2026-10-01")
                    .replace("store: TODO", "store: vault:kv/koha"))
    report = kohalint.scan(root, select=["KL107", "KL108"], today=datetime.date(2026, 11, 1))
    assert [f.identity for f in report.active if f.rule_id == "KL107" or f.identity.startswith("drift|")] == []


def test_never_overwrites(initialised, capsys):
    root, _ = initialised
    before = {p: (root / p).read_text() for p in (".kohalint.yaml", "ops/secrets-registry.yaml",
                                                  "ops/recovery.yaml")}
    (root / ".kohalint.yaml").write_text("select: [KL4]\n")
    before[".kohalint.yaml"] = "select: [KL4]\n"
    assert main(["init", str(root)]) == 0
    err = capsys.readouterr().err
    assert err.count("skipped") == 3 and "wrote" not in err
    assert {p: (root / p).read_text() for p in before} == before


def test_build_only_repository(make_repo, capsys):
    root = make_repo({"Dockerfile": "FROM scratch\n"})
    assert main(["init", str(root)]) == 0
    assert "# areas: [security, delivery, supply-chain]" in (root / ".kohalint.yaml").read_text()
    assert "secrets:\n  []" in (root / "ops/secrets-registry.yaml").read_text()
    load_settings(root)


def test_existing_registry_elsewhere_is_used(make_repo, capsys):
    root = make_repo({"compose.yaml": "services: {}\n", "deploy/secrets-registry.yaml": "version: 1\n"})
    assert main(["init", str(root)]) == 0
    assert load_settings(root).secrets.registry == "deploy/secrets-registry.yaml"
    assert not (root / "ops/secrets-registry.yaml").exists()
    assert "skipped deploy/secrets-registry.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("name, category", [
    ("MARIADB_PASSWORD", "database"), ("KOHA_DB_PASS", "database"), ("RABBITMQ_DEFAULT_PASS", "rabbitmq"),
    ("MB_PASS", "rabbitmq"), ("CF_API_TOKEN", "cloudflare"), ("SMTP_PASSWORD", "smtp"),
    ("SMS_API_KEY", "api-key"), ("DEPLOY_SSH_KEY", "other"), ("KOHA_ADMIN_PASSWORD", "other"),
])
def test_category_guess(name, category):
    assert guess_category(name) == category
