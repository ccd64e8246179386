"""Registries, every registered document parser, committed baselines and
path globs, on arbitrary input: a model or the documented error, in bounded
time. (Parsers of the file kinds themselves: test_properties.py.)"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile import strategies as S
from tests.hostile.clitools import bounded, parse_or_error

pytestmark = pytest.mark.slow


# -- registries and every registered document parser ----------------------------------------

@S.budget(2)
@given(st.sampled_from(["recovery-policy", "restore-tests", "secrets-registry", "alert-rules", "workflow",
                        "yaml", "dockerfile", "shell"]),
       S.yaml_text(S.policy_doc()) | S.yaml_text(S.restore_log_doc()) | S.yaml_text(S.registry_doc())
       | S.soup(S.YAML_TOKENS + ["groups:", "alert:", "rules:", "version: 1\n", "secrets:"]))
def test_every_registered_parser_through_the_store(kind, text):
    """`Documents.get` is what checks call: it must return a model or None."""
    from tests.hostile.memrepo import documents_for

    docs = documents_for({"ops/x.yaml": text})
    bounded(docs.get, kind, "ops/x.yaml")
    for err in docs.errors.values():
        assert err.line >= 1 and err.column >= 1


@S.budget()
@given(S.yaml_text(S.registry_doc()) | S.soup(S.YAML_TOKENS + ["secrets:", "version: 1\n"]))
def test_secrets_registry_loads_or_is_a_parse_error(text):
    from kohalint.secrets_registry import load_registry

    loaded = parse_or_error(load_registry, text, "ops/secrets-registry.yaml")
    if loaded is not None:
        _ = loaded.runbook, loaded.key_line("secrets")
        for entry in loaded.entries:
            entry.line_of("owner")
        assert all(e.line >= 1 for e in loaded.errors)


@S.budget()
@given(S.yaml_text(S.policy_doc()))
def test_a_valid_recovery_policy_answers_its_questions(text):
    from kohalint.documents.yamldoc import load_yaml
    from kohalint.recovery_policy import RecoveryPolicy, validate

    loaded = bounded(validate, parse_or_error(load_yaml, text, "ops/recovery.yaml"), "ops/recovery.yaml",
                     RecoveryPolicy)
    if loaded.model is not None:
        _ = loaded.model.restore
        if loaded.model.backup is not None:
            bounded(loaded.model.backup.interval)
    for issue in loaded.issues:
        assert issue.line >= 1


# -- a committed baseline is repository input too ------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=15)
ENTRY = st.fixed_dictionaries({"fingerprint": st.sampled_from(["a" * 32, "b" * 32, ""])},
                               optional={"count": st.integers(1, 3), "reason": JSON, "rule": JSON})
BASELINE = st.fixed_dictionaries({"version": st.just(1) | JSON,
                                  "findings": st.lists(ENTRY, max_size=3) | st.lists(ENTRY | JSON, max_size=3)},
                                 optional={"settings": JSON | st.fixed_dictionaries({}, optional={
                                     "select": st.lists(st.sampled_from(["KL4", "ALL", "nope"]) | JSON, max_size=3)
                                     | JSON, "extend-select": JSON, "ignore": JSON})})


@S.budget()
@given(BASELINE | JSON)
def test_baseline_files_apply_or_are_a_config_error(doc):
    import json
    import tempfile

    from kohalint.baseline import apply_baseline
    from kohalint.errors import ConfigError
    from kohalint.models import Area, Finding, Location, Report, Severity

    report = Report(root=".", rules_run=["KL401", "KL402"], findings=[Finding(
        rule_id="KL401", rule_name="x", area=Area.runtime, severity=Severity.high, message="m",
        location=Location(path="compose.yaml"), fingerprint="a" * 32)])
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(doc, fh)
    try:
        bounded(apply_baseline, report, fh.name)
    except ConfigError:
        pass


def test_a_baseline_nested_too_deeply_is_a_config_error(tmp_path):
    from kohalint.baseline import load_baseline
    from kohalint.errors import ConfigError

    path = tmp_path / "b.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError):
        load_baseline(path)


# -- path globs: repository files supply some (`.gitattributes`) ------------------------------

GLOB_PATTERN = st.lists(st.sampled_from(["a", "b", "/", "*", "**", "**/", "?", ".", "./", "\n"]), max_size=8).map("".join)
GLOB_PATH = st.lists(st.sampled_from(["a", "b", "/", ".", "\n", "ab/"]), max_size=12).map("".join)


@S.budget()
@given(GLOB_PATTERN.filter(str.strip), GLOB_PATH)
def test_linear_glob_matcher_agrees_with_the_regex_one(pattern, path):
    from kohalint.globs import _nfa_match, compile_glob

    assert _nfa_match(pattern, path) == (compile_glob(pattern).match(path) is not None)


@S.budget()
@given(st.integers(3, 12), st.integers(50, 600))
def test_globs_match_deep_paths_in_bounded_time(stars, depth):
    from kohalint.globs import GlobSet, glob_match

    pattern = "/".join(["**"] * stars) + "/x"
    path = "/".join(["a"] * depth) + "/y.txt"
    assert bounded(glob_match, pattern, path) is False
    assert bounded(GlobSet([pattern, "*" * stars + "x"]).match, path) is False
