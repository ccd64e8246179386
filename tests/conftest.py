"""Shared test helpers: tiny repositories on disk, real git when asked."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"


def write_files(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def git_repo(root: Path, files: dict[str, str], *, commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_files(root, files)
    git(root, "add", "-A", "-f")
    if commit:
        git(root, "commit", "-q", "-m", "fixture")
    return root


@pytest.fixture
def make_repo(tmp_path):
    def _make(files: dict[str, str], *, use_git: bool = False, name: str = "repo") -> Path:
        root = tmp_path / name
        if use_git:
            return git_repo(root, files)
        root.mkdir(parents=True, exist_ok=True)
        return write_files(root, files)
    return _make


def triples(report, rule: str | None = None) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.location.path, f.location.line) for f in report.findings
            if not f.suppressed and (rule is None or f.rule_id == rule)}
