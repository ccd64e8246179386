"""The plain git hooks in hooks/ and `kohalint install-hooks`, with real git."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from kohalint.cli import main
from tests.conftest import ROOT, git, git_repo

GOOD = "services:\n  db:\n    image: mariadb:11.4\n    expose:\n      - \"3306\"\n"
BAD = "services:\n  db:\n    image: mariadb:11.4\n    ports:\n      - \"3306:3306\"\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def env(tmp_path):
    """PATH with a `kohalint` that runs this checkout, and a fixed rule selection."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kohalint"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH='{ROOT}' exec '{shutil.which('python3') or 'python3'}' "
                       "-m kohalint \"$@\"\n")
    wrapper.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", KOHALINT_ARGS="--select KL401",
                GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")


@pytest.fixture
def repo(tmp_path, capsys):
    root = git_repo(tmp_path / "repo", {"compose.yaml": GOOD})
    assert main(["install-hooks", str(root)]) == 0
    capsys.readouterr()
    return root


def commit(root, env, message="change") -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", message], env=env,
                          capture_output=True, text=True)


def test_hooks_are_posix_sh_and_shellcheck_clean():
    for name in ("pre-commit", "pre-push"):
        path = ROOT / "hooks" / name
        assert path.read_text().startswith("#!/bin/sh\n")
        assert path.stat().st_mode & stat.S_IXUSR, f"{name} is not executable"
        if shutil.which("shellcheck"):
            proc = subprocess.run(["shellcheck", "--shell=sh", str(path)], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stdout


def test_staged_bad_content_is_refused_even_with_a_good_working_copy(repo, env):
    (repo / "compose.yaml").write_text(BAD)
    git(repo, "add", "compose.yaml")
    (repo / "compose.yaml").write_text(GOOD)
    proc = commit(repo, env)
    assert proc.returncode != 0
    # git shows a hook's output on stderr
    assert "compose.yaml:5:9: KL401 [critical] service 'db' (mariadb) publishes 3306" in proc.stderr
    assert "commit refused" in proc.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_staged_good_content_is_accepted_with_a_bad_working_copy(repo, env):
    (repo / "compose.yaml").write_text(GOOD.replace("11.4", "11.5"))
    git(repo, "add", "compose.yaml")
    (repo / "compose.yaml").write_text(BAD)
    proc = commit(repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(repo, "show", "HEAD:compose.yaml") == GOOD.replace("11.4", "11.5")


def test_staged_env_file_counts_as_tracked(repo, env):
    (repo / ".env").write_text("APP_MODE=production\n")
    git(repo, "add", "-f", ".env")
    proc = commit(repo, dict(env, KOHALINT_ARGS="--select KL102"))
    assert proc.returncode != 0
    assert ".env:1:1: KL102" in proc.stderr


def test_commit_touching_nothing_relevant_passes(repo, env):
    (repo / "notes.txt").write_text("hello\n")
    git(repo, "add", "notes.txt")
    assert commit(repo, env).returncode == 0


def test_pre_push_runs_on_the_pushed_commit(repo, env, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    push = ["git", "-C", str(repo), "push", "-q", "origin", "main"]
    ok = subprocess.run(push, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (repo / "compose.yaml").write_text(BAD)
    git(repo, "commit", "-q", "-a", "--no-verify", "-m", "bad")
    (repo / "compose.yaml").write_text(GOOD)  # the working tree is not what is pushed
    refused = subprocess.run(push, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "KL401" in refused.stdout + refused.stderr
    assert "push refused" in refused.stderr


# -- install-hooks -------------------------------------------------------------------------

def test_install_writes_executable_hooks_and_updates_its_own(repo, capsys):
    hooks = repo / ".git" / "hooks"
    for name in ("pre-commit", "pre-push"):
        assert (hooks / name).read_bytes() == (ROOT / "hooks" / name).read_bytes()
        assert os.access(hooks / name, os.X_OK)
    assert main(["install-hooks", str(repo)]) == 0
    assert "up to date" in capsys.readouterr().err
    (hooks / "pre-commit").write_text("#!/bin/sh\n# kohalint-hook: pre-commit (old version)\n")
    assert main(["install-hooks", str(repo), "--hook", "pre-commit"]) == 0
    assert (hooks / "pre-commit").read_bytes() == (ROOT / "hooks" / "pre-commit").read_bytes()


def test_foreign_hook_is_kept_unless_forced(tmp_path, capsys):
    root = git_repo(tmp_path / "r", {"a.txt": "a\n"})
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")
    assert main(["install-hooks", str(root)]) == 1
    assert "not written by kohalint" in capsys.readouterr().err
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    assert (root / ".git" / "hooks" / "pre-push").is_file()  # the other hook still went in
    assert main(["install-hooks", str(root), "--force"]) == 0
    assert (root / ".git" / "hooks" / "pre-commit.before-kohalint").read_text() == "#!/bin/sh\necho mine\n"
    assert "kohalint-hook: pre-commit" in hook.read_text()


def test_core_hooks_path_is_respected(tmp_path, capsys):
    root = git_repo(tmp_path / "r", {"a.txt": "a\n"})
    git(root, "config", "core.hooksPath", "githooks")
    (root / "sub").mkdir()
    assert main(["install-hooks", str(root / "sub")]) == 0
    assert (root / "githooks" / "pre-commit").is_file()
    assert not (root / ".git" / "hooks" / "pre-commit").exists()


def test_outside_a_git_repository_is_exit_2(tmp_path, capsys, monkeypatch):
    (tmp_path / "plain").mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["install-hooks", str(tmp_path / "plain")]) == 2
    assert "not inside a git work tree" in capsys.readouterr().err
