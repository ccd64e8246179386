"""A hostile `.git/config` cannot make kohalint run anything, and cannot hide
the tree from it. A scanned directory may come with its own `.git` (an
unpacked artifact, a checkout made by someone else); every git setting that
names a program is set here to one that leaves a marker file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import git, git_repo
from tests.hostile.clitools import TODAY, run_cli, write

BAD_COMPOSE = "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n"


def _hostile_config(marker: Path, hooks: Path) -> str:
    def cmd(name: str) -> str:
        return f"touch {marker}.{name}"

    return f"""
[core]
\tfsmonitor = "{cmd('fsmonitor')}; false"
\thooksPath = {hooks}
\tpager = {cmd('pager')}; cat
\tsshCommand = {cmd('ssh')}
\taskPass = {cmd('askpass')}
\teditor = {cmd('editor')}
\talternateRefsCommand = {cmd('altrefs')}
\tuntrackedCache = true
\tgitProxy = {cmd('proxy')}
[diff]
\texternal = {cmd('diff-external')}
[diff "evil"]
\ttextconv = {cmd('textconv')}
\tcommand = {cmd('diff-command')}
[merge "evil"]
\tdriver = {cmd('merge-driver')}
[filter "evil"]
\tclean = {cmd('clean')}; cat
\tsmudge = {cmd('smudge')}; cat
\tprocess = {cmd('process')}
\trequired = true
[credential]
\thelper = !{cmd('credential')}
[gpg]
\tprogram = {cmd('gpg')}
[sequence]
\teditor = {cmd('sequence-editor')}
[pager]
\tls-files = {cmd('pager-ls-files')}; cat
\tcheck-ignore = {cmd('pager-check-ignore')}; cat
\trev-parse = {cmd('pager-rev-parse')}; cat
[alias]
\tls-files = !{cmd('alias')}
[uploadpack]
\tpackObjectsHook = {cmd('pack-objects-hook')}
[trace2]
\teventTarget = {marker}.trace2
[include]
\tpath = {hooks}/extra.config
"""


def test_hostile_git_config_runs_nothing(tmp_path):
    marker = tmp_path / "MARKER"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("post-index-change", "pre-commit", "post-checkout", "reference-transaction",
                 "fsmonitor-watchman", "pre-auto-gc", "post-rewrite"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {marker}.hook-{name}\n")
        hook.chmod(0o755)
    (hooks / "extra.config").write_text(f"[core]\n\tfsmonitor = {hooks}/fsmonitor-watchman\n")
    root = git_repo(tmp_path / "r", {"compose.yaml": BAD_COMPOSE, ".gitattributes": "* filter=evil diff=evil "
                                     "merge=evil\n", ".gitignore": "*.log\n", "Dockerfile": "FROM debian:latest\n"})
    write(root, {".env": "KOHA_DB_HOST=db\n", "untracked/compose.yaml": BAD_COMPOSE})
    with open(root / ".git" / "config", "a") as fh:
        fh.write(_hostile_config(marker, hooks))
    # the trap is armed: plain git would run the fsmonitor command
    os.system(f"git -C {root} ls-files --others >/dev/null 2>&1")  # noqa: S605 - fixed arguments
    armed = [p for p in tmp_path.iterdir() if p.name.startswith("MARKER")]
    assert armed, "the hostile config is not hostile"
    for p in armed:
        p.unlink()

    runs = [run_cli("check", ".", "--format", "json", "--today", TODAY, cwd=root, timeout=120),
            run_cli("check", "compose.yaml", ".env", "--format", "text", cwd=root, timeout=120),
            run_cli("gate", ".", "--today", TODAY, cwd=root, timeout=120),
            run_cli("baseline", ".", "-o", str(tmp_path / "b.json"), cwd=root, timeout=120),
            run_cli("check", ".", "--fix", "--diff", cwd=root, timeout=120)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("MARKER")) == []
    found = runs[0].rules()
    assert {("KL401", "compose.yaml"), ("KL401", "untracked/compose.yaml"), ("KL102", ".env")} <= found


def test_core_worktree_elsewhere_cannot_hide_the_tree(tmp_path):
    decoy = write(tmp_path / "decoy", {"README.md": "nothing to see\n"})
    root = git_repo(tmp_path / "r", {"README.md": "x\n"})
    write(root, {"compose.yaml": BAD_COMPOSE})
    git(root, "config", "core.worktree", str(decoy))
    run = run_cli("check", ".", "--format", "json", "--select", "KL401", cwd=root, timeout=60)
    assert ("KL401", "compose.yaml") in run.rules()
