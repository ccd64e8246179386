"""The bundled example repositories: every implemented rule fires on the
non-compliant twin exactly where `examples/noncompliant.expected` says, and
the compliant twin is clean.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict

import pytest

import kohalint
from kohalint.rules import registry
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"
TODAY = datetime.date(2026, 11, 27)
_LINE = re.compile(r"^(KL\d{3})\s+(\S+):(\d+)\b")


def manifest() -> dict[str, set[tuple[str, int]]]:
    out: dict[str, set[tuple[str, int]]] = defaultdict(set)
    path = EXAMPLES / "noncompliant.expected"
    for raw in path.read_text(encoding="utf-8").splitlines():
        m = _LINE.match(raw.strip())
        if m:
            out[m.group(1)].add((m.group(2), int(m.group(3))))
    return out


pytestmark = pytest.mark.skipif(not (EXAMPLES / "noncompliant.expected").exists(),
                                reason="examples not bundled yet")


@pytest.fixture(scope="module")
def noncompliant():
    return kohalint.scan(EXAMPLES / "noncompliant", today=TODAY)


@pytest.fixture(scope="module")
def compliant():
    return kohalint.scan(EXAMPLES / "compliant", today=TODAY)


IMPLEMENTED = sorted(c.id for c in registry if c.target != "engine")


@pytest.mark.parametrize("rule_id", IMPLEMENTED)
def test_noncompliant_findings_match_manifest(noncompliant, rule_id):
    got = {(f.location.path, f.location.line) for f in noncompliant.active if f.rule_id == rule_id}
    assert got == manifest().get(rule_id, set()), [
        f"{f.location.path}:{f.location.line} {f.message}" for f in noncompliant.active
        if f.rule_id == rule_id]


def test_every_implemented_rule_fires_on_noncompliant(noncompliant):
    fired = {f.rule_id for f in noncompliant.active}
    assert set(IMPLEMENTED) <= fired


def test_noncompliant_has_no_engine_errors(noncompliant, compliant):
    for report in (noncompliant, compliant):
        assert not [f for f in report.findings if f.rule_id in ("KL001", "KL003")], [
            f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}" for f in report.findings
            if f.rule_id in ("KL001", "KL003")]


def test_compliant_twin_is_clean(compliant):
    assert [f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}" for f in compliant.active] == []
