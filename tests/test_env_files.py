"""KL102-KL104: dotenv files in git and in docker build contexts, with real git."""

from __future__ import annotations

import pytest

import kohalint
from tests.conftest import git, git_repo, triples

COMPOSE = "services:\n  koha:\n    image: ghcr.io/acme/koha:sha-1a2b3c4\n"


def run(root, rule):
    return triples(kohalint.scan(root, select=[rule]), rule)


@pytest.mark.parametrize("path,flagged", [
    (".env", True), (".env.production", True), ("deploy/prod.env", True), ("config/.env.local", True),
    (".env.example", False), (".env.sample", False), (".env.template", False), (".env.dist", False),
    ("deploy/prod.env.example", False), (".env.production.example", False), ("environment.md", False),
])
def test_kl102_tracked_dotenv(tmp_path, path, flagged):
    root = git_repo(tmp_path / "r", {path: "KOHA_INSTANCE=library\n", "README.md": "x\n"})
    assert run(root, "KL102") == ({("KL102", path, 1)} if flagged else set())


def test_kl102_ignored_untracked_env_is_fine_but_unignored_is_not(tmp_path):
    root = git_repo(tmp_path / "r", {".gitignore": ".env\n", "README.md": "x\n"})
    (root / ".env").write_text("A=1\n")          # ignored, never committed
    (root / "prod.env").write_text("A=1\n")      # not ignored: `git add .` would take it
    report = kohalint.scan(root, select=["KL102"])
    assert [(f.location.path, "next `git add .`" in f.message) for f in report.findings] == [("prod.env", True)]


def test_kl102_tracked_even_when_ignored_later(tmp_path):
    root = git_repo(tmp_path / "r", {".env": "A=1\n"})
    (root / ".gitignore").write_text(".env\n")
    git(root, "add", ".gitignore")
    assert run(root, "KL102") == {("KL102", ".env", 1)}


@pytest.mark.parametrize("gitignore,flagged", [
    (".env\n", False),
    (".env*\n", False),
    ("*.env\n.env\n", False),
    ("/.env\n", True),             # anchored: the compose folder's .env is not covered
    ("**/.env\n", False),
    (".env\n!deploy/.env\n", True),
    (".*\n", False),
    ("", True),
])
def test_kl103_compose_folders(tmp_path, gitignore, flagged):
    files = {"compose.yaml": COMPOSE, "deploy/compose.yaml": COMPOSE}
    if gitignore:
        files[".gitignore"] = gitignore
    root = git_repo(tmp_path / "r", files)
    assert run(root, "KL103") == ({("KL103", ".gitignore", 1)} if flagged else set())


def test_kl103_nested_gitignore_counts(tmp_path):
    root = git_repo(tmp_path / "r", {".gitignore": "/.env\n", "deploy/.gitignore": ".env\n",
                                     "deploy/compose.yaml": COMPOSE})
    assert run(root, "KL103") == set()


def test_kl103_message_says_missing(tmp_path):
    root = git_repo(tmp_path / "r", {"compose.yaml": COMPOSE})
    [f] = kohalint.scan(root, select=["KL103"]).findings
    assert f.location.path == ".gitignore" and "missing" in f.message


def test_kl103_outside_git_reads_the_trees_gitignore(make_repo):
    assert run(make_repo({".gitignore": "node_modules/\n"}), "KL103") == {("KL103", ".gitignore", 1)}
    assert run(make_repo({".gitignore": ".env\n"}, name="ok"), "KL103") == set()


DF = "FROM debian:bookworm-slim\nCOPY . /srv\n"


@pytest.mark.parametrize("files,expected", [
    ({"Dockerfile": DF}, {".dockerignore"}),
    ({"Dockerfile": DF, ".dockerignore": ".git\n.env\n.env.*\n"}, set()),
    ({"Dockerfile": DF, ".dockerignore": ".git\n**/.env*\n"}, set()),
    ({"Dockerfile": DF, ".dockerignore": ".git/\n.env\n.env.*\n!.env.production\n"}, {".dockerignore"}),
    ({"Dockerfile": DF, ".dockerignore": "*\n!src\n"}, set()),
    ({"Dockerfile": DF, ".dockerignore": "# .env\n.git\n"}, {".dockerignore"}),
    # per-Dockerfile ignore file replaces the context's
    ({"Dockerfile": DF, "Dockerfile.dockerignore": ".git\n.env\n.env.*\n", ".dockerignore": "x\n"}, set()),
    # compose builds docker/Dockerfile with the root as context: docker/ is not a context
    ({"compose.yaml": "services:\n  koha:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n",
      "docker/Dockerfile": DF, ".dockerignore": ".git\n.env\n.env.*\n"}, set()),
    ({"compose.yaml": "services:\n  koha:\n    build: ./koha\n  web:\n    build: ./koha\n",
      "koha/Dockerfile": DF}, {"koha/.dockerignore"}),
    ({"compose.yaml": "services:\n  koha:\n    build: https://github.com/acme/koha.git\n"}, set()),
    ({"kohalint/documents/dockerfile.py": "x = 1\n"}, set()),
])
def test_kl104_contexts(make_repo, files, expected):
    assert {p for _, p, _ in run(make_repo(files), "KL104")} == expected


def test_kl104_names_what_is_sent(make_repo):
    [f] = kohalint.scan(make_repo({"Dockerfile": DF, ".dockerignore": ".env\n"}), select=["KL104"]).findings
    assert "`.env.*`" in f.message and "`.git`" in f.message and "`.env`," not in f.message
