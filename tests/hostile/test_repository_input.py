"""Hostile and broken input at the repository level: kohalint reads what it
should, skips what it must, and never crashes or leaves the scanned root."""

from __future__ import annotations

import os
import time

import pytest

import kohalint
from kohalint.cli import main
from tests.conftest import git, git_repo, triples

BAD = "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n"


def scan(root, **kw):
    return kohalint.scan(root, select=["KL001", "KL401"], **kw)


def test_not_a_git_repository_scans_every_regular_file(make_repo):
    root = make_repo({"compose.yaml": BAD, "sub/docker-compose.yml": BAD})
    assert triples(scan(root)) == {("KL401", "compose.yaml", 4), ("KL401", "sub/docker-compose.yml", 4)}


def test_git_repository_lists_tracked_and_untracked_but_not_ignored(tmp_path):
    root = git_repo(tmp_path / "r", {"compose.yaml": BAD, ".gitignore": "ignored/\n"})
    (root / "new").mkdir()
    (root / "new" / "compose.yaml").write_text(BAD)
    (root / "ignored").mkdir()
    (root / "ignored" / "compose.yaml").write_text(BAD)
    assert {p for _, p, _ in triples(scan(root))} == {"compose.yaml", "new/compose.yaml"}


def test_subfolder_of_a_git_work_tree(tmp_path):
    root = git_repo(tmp_path / "r", {"examples/a/compose.yaml": BAD, "compose.yaml": BAD})
    assert triples(scan(root / "examples" / "a")) == {("KL401", "compose.yaml", 4)}


def test_empty_git_repository(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q")
    report = scan(root)
    assert report.findings == [] and report.files_scanned == 0


def test_symlink_out_of_root_is_never_read(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(BAD)
    root = tmp_path / "r"
    root.mkdir()
    (root / "compose.yaml").symlink_to(outside)
    report = scan(root)
    assert report.findings == []
    assert any("outside the scanned root" in n.message for n in report.notes)


def test_symlinks_within_the_root_are_read_through_and_directories_out_of_it_are_not(tmp_path):
    # Directories are resolved once for all their files: a file under a
    # symlinked directory, a symlinked file, and a directory that leads out
    # of the root must each still be judged on its own real path.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "compose.yaml").write_text(BAD)
    root = tmp_path / "r"
    (root / "real").mkdir(parents=True)
    (root / "real" / "compose.yaml").write_text(BAD)
    (root / "alias").symlink_to(root / "real")            # a directory inside the root
    (root / "compose.yaml").symlink_to(root / "real" / "compose.yaml")
    (root / "away").symlink_to(outside)                   # a directory outside it
    from kohalint.repository import Repository

    repo = Repository(root)
    for path in ("real/compose.yaml", "compose.yaml", "alias/compose.yaml", "away/compose.yaml"):
        repo._fileset |= {path}  # as a hostile index could list them
    assert repo.read_text("alias/compose.yaml") == BAD
    assert repo.read_text("compose.yaml") == BAD
    assert repo.read_text("real/compose.yaml") == BAD
    assert repo.read_text("away/compose.yaml") is None
    assert [n.path for n in repo.notes if "outside the scanned root" in n.message] == ["away/compose.yaml"]


def test_symlink_loop_and_fifo_do_not_hang(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "loop.yml").symlink_to(root / "loop.yml")
    os.mkfifo(root / "compose.override.yaml")
    (root / "compose.yaml").write_text(BAD)
    start = time.monotonic()
    report = scan(root)
    assert time.monotonic() - start < 10
    assert triples(report) == {("KL401", "compose.yaml", 4)}


def test_tracked_fifo_and_dangling_symlink_in_git(tmp_path):
    root = git_repo(tmp_path / "r", {"compose.yaml": BAD})
    (root / "dangling.yml").symlink_to(root / "nowhere")
    git(root, "add", "dangling.yml")
    assert triples(scan(root)) == {("KL401", "compose.yaml", 4)}


@pytest.mark.parametrize("data,expected", [
    (b"\x00\x01\x02binary", set()),                                    # binary named .yml: skipped
    (BAD.encode("utf-16"), {("KL401", "compose.yaml", 4)}),            # UTF-16 with BOM
    (b"\xef\xbb\xbf" + BAD.encode(), {("KL401", "compose.yaml", 4)}),  # UTF-8 BOM
    (BAD.replace("\n", "\r\n").encode(), {("KL401", "compose.yaml", 4)}),  # CRLF
    (BAD.encode().replace(b"mariadb:11", b"mariadb:11\xff\xfe"), {("KL401", "compose.yaml", 4)}),
])
def test_encodings(make_repo, tmp_path, data, expected):
    root = tmp_path / "r"
    root.mkdir()
    (root / "compose.yaml").write_bytes(data)
    assert triples(scan(root)) == expected


def test_tabs_are_a_parse_error_at_their_line(make_repo):
    root = make_repo({"compose.yaml": "services:\n  db:\n\timage: x\n"})
    assert triples(scan(root)) == {("KL001", "compose.yaml", 3)}


def test_oversized_file_is_skipped_with_a_note(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    with open(root / "compose.yaml", "w") as fh:
        fh.write(BAD)
        fh.write("# " + "x" * 1000 + "\n" * 1)
        fh.write(("#" + "y" * 1023 + "\n") * (50 * 1024))  # ~50 MB
    start = time.monotonic()
    report = scan(root)
    assert time.monotonic() - start < 10
    assert report.findings == []
    assert [n.path for n in report.notes] == ["compose.yaml"]


def test_deeply_nested_yaml_is_kl001_not_a_crash(make_repo):
    root = make_repo({"compose.yaml": "services: " + "[" * 5000 + "]" * 5000 + "\n"})
    (f,) = scan(root).findings
    assert f.rule_id == "KL001"


@pytest.mark.parametrize("name", ["with space/compose.yaml", "ünïcode/compose.yaml", "-dash/compose.yaml",
                                  "new\nline/compose.yaml"])
def test_odd_file_names(tmp_path, name):
    root = git_repo(tmp_path / "r", {name: BAD})
    assert triples(scan(root)) == {("KL401", name, 4)}


def test_leading_dash_paths_on_the_command_line(tmp_path, capsys, monkeypatch):
    root = tmp_path / "r"
    (root / "-dir").mkdir(parents=True)
    (root / "-dir" / "compose.yaml").write_text(BAD)
    monkeypatch.chdir(root)
    assert main(["check", "--select", "KL401", "--", "-dir"]) == 1
    assert "compose.yaml:4:" in capsys.readouterr().out
    monkeypatch.chdir(root / "-dir")
    assert main(["check", "--select", "KL401", "--", "compose.yaml"]) == 1


def test_repository_with_submodule(tmp_path):
    sub = git_repo(tmp_path / "sub", {"compose.yaml": BAD})
    root = git_repo(tmp_path / "r", {"compose.yaml": BAD})
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/sub")
    report = scan(root)
    assert triples(report) == {("KL401", "compose.yaml", 4)}
