"""Every rule's catalog record: valid, registered, and its examples hold.

Each bad/good example is a tiny repository scanned with only that rule
enabled; the findings must be exactly the `# expect:` marks (plus the
record's explicit `expect` entries for places that cannot hold a comment).
"""

from __future__ import annotations

import re

import pytest

import kohalint
from kohalint.rule_catalog import catalog_ids, load_record
from kohalint.rules import check, registry
from tests.conftest import triples, write_files

_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]{2,5}\d{3}(?:\s*,\s*[A-Z]{2,5}\d{3})*)")

CASES = [(rid, kind, i) for rid in catalog_ids() for kind in ("bad", "good")
         for i in range(len(getattr(load_record(rid).examples, kind)))]


def expected_marks(example) -> set[tuple[str, str, int]]:
    out = set()
    for path, text in example.files.items():
        for no, line in enumerate(text.splitlines(), start=1):
            m = _EXPECT.search(line)
            if m:
                out.update((rid.strip(), path, no) for rid in m.group(1).split(","))
    for item in example.expect:
        rid, _, where = item.partition(" ")
        path, _, line = where.rpartition(":")
        out.add((rid, path, int(line)))
    return out


def test_catalog_and_registry_agree():
    registered = {c.id for c in registry if c.record is None}
    assert registered == set(catalog_ids())
    for c in registry:
        assert c.name == c.meta.name, c.id


@pytest.mark.parametrize("rule_id", catalog_ids())
def test_record_is_complete(rule_id):
    rec = load_record(rule_id)
    assert rec.id == rule_id
    assert rec.summary.strip() and rec.rationale.strip() and rec.remediation.strip()
    assert any(expected_marks(ex) for ex in rec.examples.bad), "a bad example must expect a finding"


@pytest.fixture
def failing_rule():
    @check("KL999", "always-fails", target="compose",
           record=load_record("KL003").model_copy(update={"id": "KL999", "name": "always-fails"}))
    def boom(project, ctx):
        raise RuntimeError("boom")

    yield "KL999"
    registry.remove("KL999")


@pytest.mark.parametrize("rule_id,kind,index", CASES, ids=[f"{r}-{k}{i}" for r, k, i in CASES])
def test_example(rule_id, kind, index, tmp_path, request):
    rec = load_record(rule_id)
    example = getattr(rec.examples, kind)[index]
    root = write_files(tmp_path / "repo", example.files)
    config = dict(example.config)
    config.setdefault("select", [rule_id])
    if rule_id == "KL003":
        request.getfixturevalue("failing_rule")
        config["select"] = ["KL003", "KL999"] if kind == "bad" else ["KL003"]
    report = kohalint.scan(root, config=config, today=example.today)
    got = triples(report, rule_id)
    want = expected_marks(example) if kind == "bad" else set()
    assert got == want, "\n".join(f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}"
                                  for f in report.findings)
