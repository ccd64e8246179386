"""A hostile-input corpus, generated at test time: each case asserts the exit
code, the findings and a time bound. Bounds are generous (a shared 2-core CI
machine): measured locally each case takes well under a tenth of its bound.
Repository-level cases the lead wrote live in test_repository_input.py."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import git, git_repo
from tests.hostile.clitools import TODAY, run_cli, run_main, write

BAD_COMPOSE = "services:\n  db:\n    image: mariadb:11\n    ports: ['3306:3306']\n"
WORKFLOW = ("on: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - uses: actions/checkout@v4\n      - run: make\n")
BOMB_BOUND = 30.0  # seconds: parse refused at the node budget, not after expanding
NEST_BOUND = 15.0


def _seq_bomb(levels: int = 10, width: int = 10) -> str:
    lines = ['lol0: &l0 ["lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _map_bomb(levels: int = 10, width: int = 10) -> str:
    lines = ["x-b0: &b0 {k: v}"]
    for i in range(1, levels):
        lines.append(f"x-b{i}: &b{i} {{" + ", ".join(f"k{j}: *b{i - 1}" for j in range(width)) + "}")
    return "\n".join(lines) + "\n"


def _merge_bomb(levels: int = 12) -> str:
    """Merge keys of merge keys: each level doubles what a walk of it visits."""
    out = ["x-m0: &m0 {a: [1, 2, 3]}"]
    for i in range(1, levels):
        out.append(f"x-m{i}: &m{i}\n  <<: [*m{i - 1}]\n  k{i}: [*m{i - 1}, *m{i - 1}]")
    return "\n".join(out) + "\n"


BOMBS = {"sequences": _seq_bomb, "mappings": _map_bomb, "merge-keys": _merge_bomb}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
@pytest.mark.parametrize("path,prefix", [
    ("compose.yaml", "services:\n  koha:\n    image: koha/koha\n"),
    (".github/workflows/ci.yml", "on: push\njobs: {}\n"),
])
def test_alias_bombs_are_kl001_in_bounded_time(tmp_path, capsys, bomb, path, prefix):
    root = write(tmp_path / "r", {path: prefix + BOMBS[bomb]()})
    run = run_main(capsys, "check", str(root), "--format", "json", "--today", TODAY, timeout=BOMB_BOUND)
    assert run.rc == 1 and run.seconds < BOMB_BOUND
    kl001 = [f for f in run.json["findings"] if f["rule_id"] == "KL001"]
    assert [f["location"]["path"] for f in kl001] == [path]
    assert "node limit" in kl001[0]["message"]
    assert not run.json["summary"]["internal_error"]


NESTINGS = {
    "flow-sequences": lambda n: "x: " + "[" * n + "]" * n + "\n",
    "flow-mappings": lambda n: "x: " + "{a: " * n + "}" * n + "\n",
    "unclosed-flow": lambda n: "x: " + "[a, " * n + "\n",
    "block-mappings": lambda n: "".join(" " * i + f"k{i}:\n" for i in range(n)),
    "block-sequences": lambda n: "".join(" " * i + "-\n" for i in range(n)),
}


@pytest.mark.parametrize("shape", sorted(NESTINGS))
@pytest.mark.parametrize("path", ["compose.yaml", ".github/workflows/deploy.yml", "ops/recovery.yaml"])
def test_deep_nesting_is_kl001_in_bounded_time(tmp_path, capsys, shape, path):
    depth = 400 if shape.startswith("block") else 20_000
    root = write(tmp_path / "r", {path: NESTINGS[shape](depth)})
    run = run_main(capsys, "check", str(root), "--format", "json", "--select", "KL0,KL4,KL2,KL6",
                   "--today", TODAY, timeout=NEST_BOUND)
    assert run.rc == 1 and run.seconds < NEST_BOUND
    kl001 = [f for f in run.json["findings"] if f["rule_id"] == "KL001"]
    assert [(f["location"]["path"], f["message"]) for f in kl001] == [(path, "cannot parse: document nested "
                                                                        "too deeply")]


# -- every file kind, every encoding accident ------------------------------------------------

KINDS = {
    "compose.yaml": BAD_COMPOSE,
    ".github/workflows/ci.yml": WORKFLOW,
    "Dockerfile": "FROM debian:latest\nRUN apt-get update\n",
    "scripts/backup.sh": "#!/bin/sh\nset -e\nmysqldump koha > /backup/koha.sql\n",
    "mariadb/conf.d/my.cnf": "[mysqld]\nlog_bin = mysql-bin\n",
    ".github/CODEOWNERS": "* @org/ops\n",
    ".dockerignore": ".git\n.env\n",
    ".env": "KOHA_DB_HOST=db\n",
    "ops/crontab": "0 3 * * * root /opt/backup.sh\n",
    "ops/backup.timer": "[Timer]\nOnCalendar=daily\n",
    "ops/recovery.yaml": "version: 1\nrpo: 15m\nrto: 4h\n",
    "ops/secrets-registry.yaml": "version: 1\nsecrets: []\n",
    "monitoring/alerts.yml": "groups:\n  - name: x\n    rules:\n      - alert: KohaDown\n        expr: up == 0\n",
    "renovate.json": "{\"extends\": [\"config:base\"]}\n",
}


def _mangle(text: str, how: str) -> bytes:
    if how == "invalid-utf8":
        return text.encode().replace(b"\n", b"\xff\xfe\x80\n", 1) + b"\xc3\x28\xed\xa0\x80"
    if how == "utf16-bom":
        return text.encode("utf-16")
    if how == "crlf":
        return text.replace("\n", "\r\n").encode()
    if how == "tabs":
        return text.replace("  ", "\t").encode()
    if how == "nul":
        return text.encode().replace(b"\n", b"\x00\n", 1)
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["invalid-utf8", "utf16-bom", "crlf", "tabs", "nul"])
def test_every_file_kind_survives_encoding_accidents(tmp_path, capsys, how):
    root = write(tmp_path / "r", {p: _mangle(t, how) for p, t in KINDS.items()})
    run = run_main(capsys, "check", str(root), "--format", "json", "--today", TODAY, timeout=60)
    assert run.rc in (0, 1) and run.seconds < 60
    assert not run.json["summary"]["internal_error"]
    assert not {r for r, _ in run.rules()} & {"KL003"}
    notes = {n["path"] for n in run.json["notes"]}
    if how == "nul":
        assert notes == set(KINDS)  # binary: skipped with a note, never parsed
    else:
        assert not notes and ("KL410", "Dockerfile") in run.rules()  # FROM debian:latest still seen


def test_binary_files_with_yaml_names(tmp_path, capsys):
    blob = bytes(range(256)) * 64
    root = write(tmp_path / "r", {"compose.yaml": blob, ".github/workflows/ci.yml": blob,
                                  "ops/secrets-registry.yaml": blob, "Dockerfile": blob,
                                  "docker-compose.prod.yml": b"\x00" + BAD_COMPOSE.encode()})
    run = run_main(capsys, "check", str(root), "--format", "json", "--today", TODAY, timeout=60)
    assert run.rc in (0, 1) and not run.json["summary"]["internal_error"]
    assert not {p for r, p in run.rules() if r in ("KL001", "KL003", "KL401")}
    assert {n["path"] for n in run.json["notes"]} == {"compose.yaml", ".github/workflows/ci.yml",
                                                      "ops/secrets-registry.yaml", "Dockerfile",
                                                      "docker-compose.prod.yml"}


def test_compose_include_cycle_is_kl001_not_a_crash(tmp_path, capsys):
    root = write(tmp_path / "r", {"compose.yaml": "include: [other.yaml]\n" + BAD_COMPOSE,
                                  "other.yaml": "include: [compose.yaml]\nservices:\n  b:\n    image: x\n"})
    run = run_main(capsys, "check", str(root), "--format", "json", "--select", "KL001,KL401", timeout=30)
    assert run.rc == 1 and run.rules() == {("KL001", "other.yaml")}


def test_deeply_nested_json_wherever_kohalint_reads_json(tmp_path, capsys):
    deep, deepish = "[" * 100_000 + "]" * 100_000, "[" * 900 + "]" * 900
    root = write(tmp_path / "r", {
        "compose.yaml": "services:\n  koha:\n    image: koha/koha\n", "daemon.json": deep,
        "docker/daemon.json": deepish, ".github/rulesets/main.json": deep, ".github/rulesets/b.json": deepish,
        ".secrets.baseline": deep, "renovate.json": deep, "config/app.json": deepish,
        ".kohalint.yaml": "secrets:\n  detect-secrets-baseline: .secrets.baseline\n"})
    run = run_main(capsys, "check", str(root), "--format", "json", "--today", TODAY, timeout=60)
    assert run.rc in (0, 1) and not run.json["summary"]["internal_error"]
    assert not {r for r, _ in run.rules()} & {"KL003"}


def test_hostile_gitattributes_patterns_match_in_bounded_time(tmp_path, capsys):
    """git-crypt patterns come from the repository's .gitattributes; with
    Python's backtracking `re`, `**/**/**/…` against a deep path never ended."""
    deep = "/".join(["a"] * 300)
    root = write(tmp_path / "r", {".gitattributes": "**/**/**/**/**/**/**/x filter=git-crypt\n",
                                  f"{deep}/y.env": "KOHA_DB_PASSWORD=" + "Zq8v" + "R2mNx7Lp\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL101,KL102", "--format", "json", timeout=30)
    assert run.rc == 1 and run.seconds < 30
    assert ("KL101", f"{deep}/y.env") in run.rules()


# -- symlinks, devices, FIFOs -------------------------------------------------------------

def test_tracked_env_symlink_outside_is_reported_but_never_read(tmp_path):
    leaked = "koha-" + "db-" + "Zq8" + "vR2mN" + "x7Lp"  # built here: this repository stays clean
    outside = tmp_path / "elsewhere" / "prod.env"
    outside.parent.mkdir()
    outside.write_text(f"KOHA_DB_PASSWORD={leaked}\nOUTSIDE_MARKER_VALUE=1\n")
    root = git_repo(tmp_path / "r", {"compose.yaml": BAD_COMPOSE, ".gitignore": "*.log\n"})
    (root / ".env").symlink_to(outside)
    git(root, "add", "-f", ".env")
    outputs = []
    for fmt in ("text", "json", "sarif", "github", "markdown"):
        run = run_cli("check", ".", "--format", fmt, "--today", TODAY, cwd=root, timeout=120)
        assert run.rc == 1
        outputs += [run.out, run.err]
        if fmt == "json":
            assert ("KL102", ".env") in run.rules()
            assert any(n["path"] == ".env" and "outside" in n["message"] for n in run.json["notes"])
    outputs.append(run_cli("gate", ".", "--today", TODAY, cwd=root).out)
    run_cli("baseline", ".", "-o", str(tmp_path / "baseline.json"), "--today", TODAY, cwd=root)
    outputs.append((tmp_path / "baseline.json").read_text())
    for text in outputs:
        assert leaked not in text and "OUTSIDE_MARKER" not in text


DEVICES = {"compose.yaml": "/dev/zero", "Dockerfile": "/dev/urandom", ".env": "/dev/zero",
           "scripts/backup.sh": "/dev/random", ".github/workflows/ci.yml": "/dev/stdin",
           "mariadb/my.cnf": "/dev/tty"}


def test_symlinks_to_devices_never_hang_or_read(tmp_path):
    root = git_repo(tmp_path / "r", {"README.md": "x\n"})
    for rel, target in DEVICES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(target)
        git(root, "add", "-f", rel)
    os.mkfifo(root / "pipe")
    (root / "docker-compose.override.yml").symlink_to(root / "pipe")  # inside the root, a FIFO
    git(root, "add", "-f", "docker-compose.override.yml")
    run = run_cli("check", ".", "--format", "json", "--today", TODAY, cwd=root, timeout=120)
    assert run.rc in (0, 1) and run.seconds < 60
    notes = {n["path"]: n["message"] for n in run.json["notes"]}
    assert set(notes) >= set(DEVICES) | {"docker-compose.override.yml"}
    assert not {r for r, _ in run.rules()} & {"KL001", "KL003"}


def test_device_node_inside_the_root(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    try:
        os.mknod(root / "null-device", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError):
        pytest.skip("no permission to create a device node here")
    (root / "compose.yaml").symlink_to(root / "null-device")
    run = run_cli("check", ".", "--format", "json", cwd=root, timeout=60)
    assert run.rc in (0, 1) and run.seconds < 30
    assert "compose.yaml" in {n["path"] for n in run.json["notes"]}


def test_files_under_a_symlinked_directory_in_the_index_are_not_read(tmp_path):
    """A hostile index can list `d/compose.yaml` where `d` is a symlink out of
    the root; only the last path component used to be checked."""
    outside = write(tmp_path / "outside" / "d", {"compose.yaml": BAD_COMPOSE})
    root = git_repo(tmp_path / "r", {"d/compose.yaml": "services: {}\n", "README.md": "x\n"})
    (root / "d" / "compose.yaml").unlink()
    (root / "d").rmdir()
    (root / "d").symlink_to(outside)
    run = run_cli("check", ".", "--format", "json", "--select", "KL401,KL001", cwd=root, timeout=60)
    assert ("KL401", "d/compose.yaml") not in run.rules(), "read a file outside the scanned root"


# -- not a git repository, odd names -------------------------------------------------------

@pytest.mark.parametrize("dotgit", ["file", "empty-dir", "none"])
def test_directories_that_are_not_git_work_trees(tmp_path, capsys, dotgit):
    root = write(tmp_path / "r", {"compose.yaml": BAD_COMPOSE, "Dockerfile": "FROM debian:latest\n"})
    if dotgit == "file":
        (root / ".git").write_text("gitdir: /nonexistent/kohalint-hostile\n")
    elif dotgit == "empty-dir":
        (root / ".git").mkdir()
    run = run_main(capsys, "check", str(root), "--format", "json", "--select", "KL401,KL410,KL102", timeout=60)
    assert run.rc == 1 and run.rules() == {("KL401", "compose.yaml"), ("KL410", "Dockerfile")}
    gate = run_main(capsys, "gate", str(root), "--select", "KL401,KL410", timeout=60)
    assert gate.rc == 1 and "FAIL" in gate.out


def test_paths_that_do_not_exist_or_are_not_directories(tmp_path, capsys):
    missing = run_main(capsys, "check", str(tmp_path / "nope"))
    assert missing.rc == 2 and "no such file" in missing.err
    (tmp_path / "f.txt").write_text("x")
    gate = run_main(capsys, "gate", str(tmp_path / "f.txt"))
    assert gate.rc == 2 and "error" in gate.err


ODD = ["with space/compose.yaml", ".github/workflows/dé ploy.yml", "-x/Dockerfile", "scripts/new\nline.sh",
       "\x1b[2Jevil/compose.yaml", "tab\there/docker-compose.yml", "\u202eevil/compose.yaml"]


def test_odd_names_in_every_output_format(tmp_path, capsys):
    import json
    import re

    import jsonschema

    from tests.conftest import SARIF_SCHEMA

    files = {n: (WORKFLOW if "workflows" in n else "FROM debian:latest\n" if "Dockerfile" in n
                 else "#!/bin/sh\ncurl http://x | sh\n" if n.endswith(".sh") else BAD_COMPOSE) for n in ODD}
    root = git_repo(tmp_path / "r", files)
    runs = {fmt: run_main(capsys, "check", str(root), "--format", fmt, "--today", TODAY, timeout=60)
            for fmt in ("json", "text", "github", "markdown", "sarif")}
    assert {run.rc for run in runs.values()} == {1}
    paths = {p for _, p in runs["json"].rules()}
    assert {"with space/compose.yaml", "\x1b[2Jevil/compose.yaml", "-x/Dockerfile", "tab\there/docker-compose.yml",
            "\u202eevil/compose.yaml"} <= paths
    count = len(runs["json"].json["findings"])
    # one line per finding, whatever the names hold; nothing that drives a terminal
    finding_line = re.compile(r":\d+:\d+: KL\d{3} \[")
    assert sum(1 for line in runs["text"].out.splitlines() if finding_line.search(line)) == count
    github = [line for line in runs["github"].out.splitlines() if line]
    assert len(github) == count and all(line.startswith("::") for line in github)
    for run in runs.values():
        assert "\x1b" not in run.out and "\u202e" not in run.out
    markdown_rows = [line for line in runs["markdown"].out.splitlines() if line.startswith("| ")][1:]
    assert len(markdown_rows) == count
    jsonschema.validate(json.loads(runs["sarif"].out), json.loads(Path(SARIF_SCHEMA).read_text()))


def test_file_names_that_are_not_utf8(tmp_path):
    """git lists them as bytes; they reach the reports as lone surrogates,
    which a strict stdout cannot encode and a SARIF URI must percent-encode."""
    root = git_repo(tmp_path / "r", {"README.md": "x\n"})
    bad = os.fsdecode(b"d\xff")
    write(root, {f"{bad}/compose.yaml": BAD_COMPOSE})
    git(root, "add", "-A")
    strict = {"PYTHONIOENCODING": "utf-8:strict"}
    for fmt in ("text", "sarif"):  # github and markdown print through the same escaping as text
        run = run_cli("check", ".", "--format", fmt, "--select", "KL401", cwd=root, env=strict, timeout=60)
        assert run.rc == 1, run.err
        if fmt == "text":
            assert run.out.startswith("d\\udcff/compose.yaml:4:13: KL401")
        if fmt == "sarif":
            assert '"uri": "d%FF/compose.yaml"' in run.out
    assert run_cli("gate", ".", "--select", "KL401", cwd=root, env=strict, timeout=60).rc == 1


# -- long lines: costs that grow with the line, not the file ---------------------------------

def test_many_findings_on_one_long_line(tmp_path, capsys):
    root = write(tmp_path / "r", {".github/CODEOWNERS": "* " + "a: " * 30_000 + "\n"})
    run = run_main(capsys, "check", str(root), "--select", "KL2", "--format", "json", timeout=60)
    assert run.rc == 1 and run.seconds < 30


LONG_LINE_PIECES = {"compose.yaml": "a: ", ".github/workflows/ci.yml": "${", "Dockerfile": "${",
                    "scripts/backup.sh": "${", ".env": "a=b ", "config/app.ini": "pass=", "tools/x.py": "secret ",
                    ".github/CODEOWNERS": "a: ", "mariadb/my.cnf": "[", "nginx/default.conf": "x|"}


# A megabyte per line in the nightly run (47 s on this machine); 200 KB in CI.
LONG_LINE_BYTES = 1_000_000 if os.environ.get("HYPOTHESIS_PROFILE") == "nightly" else 200_000


def test_long_lines_in_every_file_kind_cost_linear_time(tmp_path):
    """Every cost that grew with the square of one line (the bashlex hazard
    scan, detect-secrets' keyword patterns, fingerprints) is linear now."""
    files = {path: piece * (LONG_LINE_BYTES // len(piece)) + "\n" for path, piece in LONG_LINE_PIECES.items()}
    root = write(tmp_path / "r", files)
    run = run_cli("check", ".", "--format", "json", cwd=root, timeout=300)
    assert run.rc in (0, 1) and run.seconds < (300 if LONG_LINE_BYTES > 200_000 else 90)
