"""Packaging agrees with itself: hook ids, console script, docs, sub-commands."""

from __future__ import annotations

import configparser
import os
import re
import shlex

import pytest
from ruamel.yaml import YAML

from kohalint.cli import build_parser, main
from kohalint.repository import classify
from kohalint.rules import registry
from tests.conftest import ROOT


def manifest() -> list[dict]:
    return YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())


HOOK_IDS = [h["id"] for h in manifest()]


def test_manifest_is_valid_for_pre_commit():
    clientlib = pytest.importorskip("pre_commit.clientlib")
    hooks = clientlib.load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))
    assert [h["id"] for h in hooks] == HOOK_IDS


def test_offers_the_hooks_the_interface_promises():
    assert HOOK_IDS == ["kohalint", "kohalint-secrets", "kohalint-compose", "kohalint-dockerfile",
                        "kohalint-workflows", "kohalint-codeowners", "kohalint-mariadb", "kohalint-gate"]
    gate = manifest()[-1]
    assert gate["stages"] == ["pre-push"] and gate["pass_filenames"] is False


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_every_hook_id_is_in_the_readme_and_hooks_doc(hook_id):
    for doc in ("README.md", "docs/hooks.md"):
        assert f"`{hook_id}`" in (ROOT / doc).read_text(), f"{hook_id} missing from {doc}"


@pytest.mark.parametrize("hook", manifest(), ids=HOOK_IDS)
def test_hook_entries_run_the_console_script_with_known_rules(hook):
    argv = shlex.split(hook["entry"])
    assert argv[0] == "kohalint" and argv[1] in ("check", "gate")
    assert hook.get("require_serial") is True  # one process sees every file: projects merge once
    assert "types" in hook or "files" in hook or hook.get("pass_filenames") is False
    if "--select" in argv:
        for token in argv[argv.index("--select") + 1].split(","):
            family = token[:3]
            if not any(c.id.startswith(family) for c in registry):
                pytest.skip(f"rule family {family} not registered yet")
            assert registry.resolve([token]), token
    build_parser().parse_args(argv[1:] + ["x.yaml"] if hook.get("pass_filenames", True) else argv[1:])


SAMPLE_PATHS = ["compose.yaml", "docker-compose.yml", "deploy/compose.override.yaml",
                "docker-compose.prod.yml", "Dockerfile", "docker/Dockerfile.prod", "app.dockerfile",
                "Containerfile", ".dockerignore", "Dockerfile.dockerignore", ".github/workflows/ci.yml",
                ".github/workflows/deploy.yaml", "CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS",
                "mariadb/conf.d/koha.cnf", "my.cnf", "README.md", "composer.json", "scripts/backup.sh"]
KIND_HOOKS = {"compose": ["kohalint-compose", "kohalint-mariadb"], "dockerfile": ["kohalint-dockerfile"],
              "dockerignore": ["kohalint-dockerfile"], "workflow": ["kohalint-workflows"],
              "codeowners": ["kohalint-codeowners"], "optionfile": ["kohalint-mariadb"]}


@pytest.mark.parametrize("path", SAMPLE_PATHS)
def test_files_patterns_agree_with_the_engines_file_kinds(path):
    patterns = {h["id"]: re.compile(h["files"]) for h in manifest() if "files" in h}
    wanted = {hook for kind in classify(path) for hook in KIND_HOOKS.get(kind, [])}
    matched = {hook for hook, rx in patterns.items() if rx.search(path)}
    assert matched == wanted, path


def test_console_script_and_hook_scripts_ship():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    scripts = cfg["options.entry_points"]["console_scripts"]
    assert re.search(r"^\s*kohalint\s*=\s*kohalint\.cli:main\s*$", scripts, re.M)
    for name in ("pre-commit", "pre-push"):
        assert os.access(ROOT / "hooks" / name, os.X_OK)


def test_docs_rules_has_a_page_per_rule():
    pages = {p.stem for p in (ROOT / "docs" / "rules").glob("KL*.md")}
    rules = {c.id for c in registry if c.id.startswith("KL")}
    assert rules <= pages, f"no page for {sorted(rules - pages)}: run python -m kohalint.docs_gen"
    assert pages <= rules, f"pages for unknown rules {sorted(pages - rules)}"


@pytest.mark.parametrize("command", ["baseline", "fix", "install-hooks", "init"])
def test_user_commands_are_registered(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: kohalint " + command in capsys.readouterr().out
