"""kohalint passes its own scan, with the committed .kohalint.yaml that
excludes only fixtures and the bundled examples."""

from __future__ import annotations

import kohalint
from kohalint.config import load_settings
from tests.conftest import ROOT


def test_committed_config_excludes_only_fixtures_and_examples():
    settings = load_settings(ROOT)
    assert set(settings.exclude) == {"examples/", "tests/fixtures/", "tests/data/"}
    assert all(path.startswith(("rules/", "docs/rules/")) for path in settings.per_file_ignores)


def test_kohalint_passes_its_own_scan():
    report = kohalint.scan(ROOT)
    assert [f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}" for f in report.active] == []


def test_kl002_obeys_per_file_ignores(make_repo):
    root = make_repo({"compose.yaml": "services:\n  a:\n    image: x  # kohalint: ignore[KL401] old\n"})
    assert [f.rule_id for f in kohalint.scan(root, select=["KL401", "KL002"]).active] == ["KL002"]
    report = kohalint.scan(root, config={"select": ["KL401", "KL002"],
                                         "per-file-ignores": {"compose.yaml": ["KL002"]}})
    assert report.active == []
