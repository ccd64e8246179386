"""KL205 / KL206: CODEOWNERS as GitHub reads it, beyond the catalog examples."""

from __future__ import annotations

import pytest

import kohalint
from kohalint.checks.codeowners_rules import probes_for

CO = ".github/CODEOWNERS"
OWNED = {"README.md": "x\n"}


def scan(make_repo, files: dict[str, str], rule: str, use_git: bool = False, critical=None):
    root = make_repo(files, use_git=use_git)
    config: dict = {"select": [rule]}
    if critical is not None:
        config["delivery"] = {"critical-paths": critical}
    return kohalint.scan(root, config=config).findings


def where(findings) -> set[tuple[str, int]]:
    return {(f.location.path, f.location.line) for f in findings}


# -- KL205 -----------------------------------------------------------------------------
@pytest.mark.parametrize("files,expected", [
    ({"README.md": "x\n"}, {(CO, 1)}),
    ({"CODEOWNERS": "* @a/b\n"}, set()),                       # root file alone is fine
    ({"docs/CODEOWNERS": "* @a/b\n"}, set()),
    ({CO: "* @a/b\n", "docs/CODEOWNERS": "* @a/c\n"}, {("docs/CODEOWNERS", 1)}),
    ({"CODEOWNERS": "* @a/b\n", "docs/CODEOWNERS": "* @a/c\n"}, {("docs/CODEOWNERS", 1)}),
    ({CO: "\n# nothing yet\n", "CODEOWNERS": "* @a/b\n"}, {(CO, 1), ("CODEOWNERS", 1)}),
])
def test_kl205_locations(make_repo, files, expected):
    assert where(scan(make_repo, files, "KL205")) == expected


@pytest.mark.parametrize("line,bad", [
    ("* @acme/ops", False),
    ("* ops@acme.example", False),
    ("/docs/ @user-1 @org/team_x  # inline comment", False),
    ("* acme-ops", True),
    ("* @acme/", True),
    ("!/docs/ @acme/ops", True),
    ("/src/[ab]/ @acme/ops", True),
    ("\\#file @acme/ops", True),
    ("/ops/", False),  # no owners is valid syntax (it removes ownership: KL206's business)
])
def test_kl205_line_syntax(make_repo, line, bad):
    findings = scan(make_repo, {CO: f"# header\n{line}\n"}, "KL205")
    assert where(findings) == ({(CO, 2)} if bad else set())


def test_kl205_message_never_crashes_on_control_characters(make_repo):
    findings = scan(make_repo, {CO: "* @ok/team bad\x07owner\n"}, "KL205")
    assert len(findings) == 1 and "\x07" not in findings[0].message


# -- KL206 -----------------------------------------------------------------------------
def cov(make_repo, codeowners: str, files: dict[str, str], **kw) -> set[int]:
    findings = scan(make_repo, {CO: codeowners, **files}, "KL206", **kw)
    return {f.location.line for f in findings}


WORKFLOW = {".github/workflows/ci.yml": "on: push\n"}


@pytest.mark.parametrize("codeowners,expected", [
    ("* @a/ops\n", set()),
    ("/.github/ @a/ops\n", set()),
    (".github/workflows/ @a/ops\n", set()),
    ("/.github/workflows/** @a/ops\n", set()),
    ("*.yml @a/ops\n", set()),
    ("* @a/ops\n/.github/workflows/\n", {2}),                     # later ownerless line wins
    ("/.github/workflows/\n* @a/ops\n", set()),                   # ... but not when earlier
    ("* @a/ops\n*.yml\n", {2}),
    ("/.github/* @a/ops\n", {1}),                                 # direct children only
    ("/.github/workflows/ci.yml @a/ops\n", {1}),                  # today's file only: a new one is unowned
    ("* @a/ops\n/.github/workflows/ci.yml\n", {2}),
    ("* ops\n", {1}),                                             # invalid line is skipped by GitHub
])
def test_kl206_workflows(make_repo, codeowners, expected):
    assert cov(make_repo, codeowners, WORKFLOW, critical=[".github/workflows/**"]) == expected


def test_kl206_docs_star_does_not_own_nested_files(make_repo):
    files = {"docs/Dockerfile": "FROM scratch\n", "docs/build/Dockerfile": "FROM scratch\n"}
    findings = scan(make_repo, {CO: "* @a/ops\ndocs/*\n/.github/CODEOWNERS @a/sec\n", **files}, "KL206")
    # `docs/*` removes ownership of docs/Dockerfile (a direct child), not of docs/build/Dockerfile
    assert where(findings) == {(CO, 2)}
    assert "docs/Dockerfile" in findings[0].message and "docs/build/Dockerfile" not in findings[0].message


def test_kl206_codeowners_file_itself_and_setup_scripts(make_repo):
    files = {"setup.sh": "#!/bin/sh\n", "scripts/setup-host.sh": "#!/bin/sh\n", "install.sh": "#!/bin/sh\n"}
    findings = scan(make_repo, {CO: "/scripts/ @a/ops\n", **files}, "KL206")
    text = " ".join(f.message for f in findings)
    for path in (".github/CODEOWNERS", "setup.sh", "install.sh"):
        assert f"`{path}`" in text
    assert "scripts/setup-host.sh" not in text


def test_kl206_new_files_at_the_root_count_too(make_repo):
    # no setup script exists, but one added at the root would have no owner
    findings = scan(make_repo, {CO: "/.github/ @a/ops\n"}, "KL206", critical=["setup*.sh"])
    assert where(findings) == {(CO, 1)} and "setup-new.sh" in findings[0].message


def test_kl206_ignored_files_do_not_count_in_git(make_repo):
    files = {CO: "/.github/ @a/ops\n/Dockerfile @a/ops\n", "Dockerfile": "FROM scratch\n",
             ".gitignore": "vendor/\n"}
    root = make_repo(files, use_git=True)
    (root / "vendor").mkdir()
    (root / "vendor" / "Dockerfile.old").write_text("FROM scratch\n")  # ignored: never committed
    report = kohalint.scan(root, config={"select": ["KL206"], "delivery": {"critical-paths": ["**/Dockerfile*"]}})
    assert ["vendor" in f.message for f in report.findings] == [False]  # only the new-file probe


def test_kl206_critical_paths_are_configurable(make_repo):
    root = make_repo({CO: "* @a/ops\n/ops/\n", "ops/recovery.yaml": "x: 1\n"})
    report = kohalint.scan(root, config={"select": ["KL206"], "delivery": {"critical-paths": ["ops/**"]}})
    assert where(report.findings) == {(CO, 2)}


def test_kl206_silent_without_codeowners(make_repo):
    assert scan(make_repo, dict(WORKFLOW), "KL206") == []


@pytest.mark.parametrize("glob,matches,expected", [
    (".github/workflows/**", [".github/workflows/a.yaml"], [".github/workflows/new-file.yaml"]),
    (".github/workflows/**", [], []),
    ("**/Dockerfile*", ["docker/Dockerfile.tools"], ["Dockerfile-new", "docker/Dockerfile-new"]),
    ("setup*.sh", [], ["setup-new.sh"]),
    ("scripts/setup*", ["scripts/setup-db"], ["scripts/setup-new"]),
    ("CODEOWNERS", [".github/CODEOWNERS"], []),
])
def test_probes_for_new_files(glob, matches, expected):
    assert probes_for(glob, matches, matches) == expected


def test_kl206_kohalint_configuration_and_baseline_are_critical_by_default(make_repo):
    # they decide what kohalint reports: a pull request editing them needs an owner's review
    files = {CO: "/.github/ @a/ops\n/CODEOWNERS @a/ops\n", ".kohalint.yaml": "select: [ALL]\n",
             ".kohalint-baseline.json": "{}\n"}
    text = " ".join(f.message for f in scan(make_repo, files, "KL206"))
    assert "`.kohalint.yaml`" in text and "`.kohalint-baseline.json`" in text
    owned = {**files, CO: files[CO] + "/.kohalint.yaml @a/ops\n/.kohalint-baseline.json @a/ops\n"}
    assert ".kohalint" not in " ".join(f.message for f in scan(make_repo, owned, "KL206"))
