"""User documentation stays true: generated pages are current, examples run, links resolve."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from kohalint import config_docs
from tests.conftest import ROOT

USER_DOCS = ["getting-started.md", "configuration.md", "suppressions-and-baseline.md", "api.md",
             "hooks.md", "github.md"]


def test_configuration_page_is_current():
    committed = (ROOT / config_docs.OUTPUT).read_text()
    assert committed == config_docs.render(), "stale: run python -m kohalint.config_docs"


def test_every_setting_is_described():
    keys = [key for key, _, _ in config_docs.fields()]
    missing = [k for k in keys if k not in config_docs.DESCRIPTIONS]
    assert not missing, f"describe {missing} in kohalint/config_docs.py DESCRIPTIONS"
    assert not set(config_docs.DESCRIPTIONS) - set(keys), "descriptions of keys that no longer exist"


def test_api_example_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "api_example.py")], cwd=ROOT / "docs",
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr  # exits like `kohalint check`: there are findings
    assert "compose.yaml:20: ACME001 service 'db' runs `mariadb:10.11`" in proc.stdout
    assert re.search(r"^SARIF: \d+ results, rules ACME001\.\.KL\d{3}$", proc.stdout, re.M)


@pytest.mark.parametrize("doc", USER_DOCS)
def test_relative_links_resolve(doc):
    text = (ROOT / "docs" / doc).read_text()
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (ROOT / "docs" / target).exists(), f"{doc} links to missing {target}"


def _workflow_from_doc() -> dict:
    block = re.search(r"```yaml\n(name: kohalint\n.*?)```", (ROOT / "docs" / "github.md").read_text(), re.S)
    return YAML(typ="safe").load(block.group(1))


def test_github_workflow_in_docs_matches_the_dogfood_one():
    doc = _workflow_from_doc()
    own = YAML(typ="safe").load((ROOT / ".github" / "workflows" / "kohalint.yml").read_text())
    assert doc["permissions"] == own["permissions"] == {"contents": "read"}
    for wf in (doc, own):
        job = wf["jobs"]["kohalint"]
        assert job["permissions"] == {"contents": "read", "security-events": "write"}
        uses = [s["uses"] for s in job["steps"] if "uses" in s]
        assert [u.split("@")[0] for u in uses] == ["actions/checkout", "actions/setup-python",
                                                   "github/codeql-action/upload-sarif"]
        assert all(re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", u) for u in uses)
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert "kohalint check --format sarif -o kohalint.sarif --exit-zero" in runs
        assert 'kohalint gate --format markdown >> "$GITHUB_STEP_SUMMARY"' in runs
    # the tag stays next to each SHA, as a comment
    for path in (ROOT / "docs" / "github.md", ROOT / ".github" / "workflows" / "kohalint.yml"):
        for line in path.read_text().splitlines():
            if re.search(r"uses: \S+@[0-9a-f]{40}", line):
                assert re.search(r"@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line
