"""The pre-commit framework driving kohalint's `.pre-commit-hooks.yaml`.

One real `pre-commit try-repo` run (pre-commit builds a virtualenv and
pip-installs this repository: slow, so marked `slow`), and real commits
through `pre-commit install` with the manifest's own hooks turned into local
`language: system` hooks (same ids, entries and `files:` patterns, no
install). PRE_COMMIT_HOME is one temporary directory for the whole module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT, git

BAD = "services:\n  db:\n    image: mariadb:11.4\n    ports:\n      - \"3306:3306\"\n"
GOOD = ("services:\n  db:\n    image: mariadb:11.4\n"
        "    command: [\"--log-bin=mysql-bin\", \"--binlog-format=ROW\", \"--server-id=1\", \"--sync-binlog=1\"]\n"
        "    volumes:\n      - db-data:/var/lib/mysql\n"
        "    # reachable by the other services only\n    expose:\n      - \"3306\"\n"
        "volumes:\n  db-data:\n")
# The all-rules and broader hooks would (rightly) flag much more in this tiny stack.
ONLY_MARIADB = {"SKIP": "kohalint,kohalint-secrets,kohalint-compose"}
# What the hook source repository needs for `pip install .`.
SOURCE_PATHS = ("setup.cfg", "pyproject.toml", "README.md", "kohalint", "rules", "hooks",
                ".pre-commit-hooks.yaml")

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None,
                                reason="needs pre-commit and git")


def manifest() -> list[dict]:
    return YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("precommit")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kohalint"  # `language: system` hooks find this checkout's kohalint
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT}' exec '{shutil.which('python3')}' -m kohalint \"$@\"\n")
    wrapper.chmod(0o755)
    return dict(os.environ, PRE_COMMIT_HOME=str(base / "home"), PRE_COMMIT_COLOR="never",
                PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def new_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    return path


@pytest.mark.slow
def test_try_repo_refuses_a_published_mariadb_port(tmp_path, env):
    src = tmp_path / "kohalint-src"
    src.mkdir()
    for rel in SOURCE_PATHS:
        if (ROOT / rel).is_dir():
            shutil.copytree(ROOT / rel, src / rel, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif (ROOT / rel).exists():
            shutil.copy2(ROOT / rel, src / rel)
    git(src, "init", "-q", "-b", "main")
    git(src, "add", "-A")
    git(src, "commit", "-q", "-m", "kohalint under test")
    work = new_repo(tmp_path / "deploy", {"compose.yaml": BAD})
    git(work, "add", "compose.yaml")
    proc = run(["pre-commit", "try-repo", str(src), "kohalint-mariadb", "--files", "compose.yaml"], work, env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "compose.yaml:5:9: KL401 [critical] service 'db' (mariadb) publishes 3306->3306" in proc.stdout


@pytest.fixture(scope="module")
def local_repo(tmp_path_factory, env) -> Path:
    """A repository whose config holds the manifest's hooks as local system hooks."""
    hooks = []
    for hook in manifest():
        local = dict(hook, language="system")
        local.pop("minimum_pre_commit_version", None)
        hooks.append(local)
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    root = new_repo(tmp_path_factory.mktemp("local") / "deploy", {"README.md": "deploy\n"})
    yaml = YAML()
    with open(root / ".pre-commit-config.yaml", "w") as fh:
        yaml.dump(config, fh)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    proc = run(["pre-commit", "install"], root, env)
    assert proc.returncode == 0, proc.stderr
    return root


def commit(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["git", "commit", "-q", "-m", "change"], root, dict(env, **ONLY_MARIADB))


def test_commit_with_a_published_mariadb_port_is_refused_and_its_fix_accepted(local_repo, env):
    (local_repo / "compose.yaml").write_text(BAD)
    git(local_repo, "add", "compose.yaml")
    refused = commit(local_repo, env)
    assert refused.returncode != 0
    out = refused.stdout + refused.stderr
    assert "kohalint MariaDB" in out and "compose.yaml:5:9: KL401 [critical]" in out
    assert git(local_repo, "rev-list", "--count", "HEAD").strip() == "1"
    (local_repo / "compose.yaml").write_text(GOOD)
    git(local_repo, "add", "compose.yaml")
    accepted = commit(local_repo, env)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert git(local_repo, "rev-list", "--count", "HEAD").strip() == "2"


def test_focused_hooks_skip_commits_that_touch_nothing_of_theirs(local_repo, env):
    (local_repo / "notes.txt").write_text("nothing to see\n")
    git(local_repo, "add", "notes.txt")
    proc = run(["pre-commit", "run", "--files", "notes.txt"], local_repo, env)
    lines = {line.split(".", 1)[0]: line for line in proc.stdout.splitlines() if "..." in line}
    skipped = [name for name, line in lines.items() if "Skipped" in line]
    for name in ("kohalint compose (runtime hardening)", "kohalint Dockerfile", "kohalint MariaDB",
                 "kohalint CODEOWNERS"):
        assert name in skipped, proc.stdout
