"""KL101's trigger (kohalint.secret_scanner) beyond tests/test_secrets.py: the
keyword part against KeywordDetector on lines of every shape, time linear in
the line, and placeholders that say what to put in their place.

Secret-shaped values are assembled at run time from parts, so this file
holds none itself (the project scans its own tree with KL101).
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kohalint
from kohalint.secret_scanner import candidate_lines, harmless_keyword_line, line_may_hold, machinery, \
    may_hold_secret, strong_match


def _j(*parts: str) -> str:
    return "".join(parts)


def _keyword_plugin():
    return next(p for p in machinery().plugins if type(p).__name__ == "KeywordDetector")


# Lines of the shapes KeywordDetector's expressions look for, and near
# misses: a name holding a keyword (in either case, inside a longer name),
# closing quotes or brackets, an assignment or comparison, a value in
# quotes or not, in any order, with noise around and between.
_NAMES = st.sampled_from(["password", "PASSWORD", "db_pass", "api_key", "Secret", "pwd", "contraseña",
                          "my_secret_file", "MARIADB_PASSWORD", "x", "token", "pwdpwdpwd"])
_PARTS = st.sampled_from([
    "", "=", "==", "===", "!=", "!==", ":=", ":", "::", "=>", "!", " ", "  ", "\t", '"', "'", "`", "@", ";",
    ",", "]", "[", "[25]", "(", ")", ".assign", "{", "}", "${", "$", "{{", "}}", "|", ">", "&a ", "*a",
    "!!str ", "\\", "#", "-", "."])
_VALUES = st.sampled_from(["value", "Koha-7x", "hunter2", "${X}", "$X", "{{ x }}", "-x", "", "a b", "_v"])


_WS = st.sampled_from(["", " ", "  "])
_ASSIGN = st.sampled_from(["=", "==", "===", "!=", "!==", ":=", ":", "=>", "(", ".assign(", "", " "])
_QUOTES = st.sampled_from(['"', "'", "`", "", '"', "'"])
_CLOSING = st.sampled_from(["", "", "]", '"', "'", '"]', "[25]", "[]"])


@st.composite
def _keyword_lines(draw) -> str:
    quote = draw(_QUOTES)
    value = [draw(st.sampled_from(["", "@"])), quote, draw(_VALUES), draw(st.sampled_from([quote, quote, '"']))]
    name = [draw(_NAMES), draw(_CLOSING)]
    middle = [draw(_WS), draw(_ASSIGN), draw(_WS)]
    if draw(st.booleans()):
        parts = name + middle + value + [draw(st.sampled_from(["", ";", ")", " # c", ";;"]))]
    else:  # the value first, compared with the name
        parts = value + [draw(_WS), draw(st.sampled_from(["==", "!=", "===", "="])), draw(_WS)] + name
    for _ in range(draw(st.integers(0, 2))):  # noise anywhere, or a part replaced by it
        at = draw(st.integers(0, len(parts)))
        if draw(st.booleans()) and at < len(parts):
            parts[at] = draw(_PARTS)
        else:
            parts.insert(at, draw(_PARTS))
    return "".join(parts)


_FILES = st.sampled_from(["a.py", "a.go", "a.yaml", "a.ini", "a.c", "a.cpp", "a.java", "a.tf", "a.js",
                          "Dockerfile", "a.txt", "a.cls", "a.properties", "a.toml", "a.swift", "a.m"])


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_keyword_lines(), _FILES)
def test_keyword_trigger_covers_keyword_detector(line, filename):
    if _keyword_plugin().analyze_line(filename=filename, line=line, line_number=1):
        assert line_may_hold(line), (filename, line)
        assert candidate_lines(["x = 1", line]) == [2]


@pytest.mark.parametrize("line", [
    "MARIADB_PASSWORD: ${MARIADB_PASSWORD}",
    '-H "Authorization: Bearer ${{ secrets.CF_API_TOKEN }}" \\',
    '-e "s|__DB_PASS__|${KOHA_DB_PASSWORD}|g" \\',
    'store: "github:actions secret DEPLOY_SSH_KEY"',
    "DB_PASS=$(grep '^MARIADB_PASSWORD=' /srv/koha/.env | cut -d= -f2-)",
    "secrets:",
    "--password-file /run/secrets/db",
])
def test_lines_that_only_mention_a_keyword(line):
    assert harmless_keyword_line(line) and not line_may_hold(line)


@pytest.mark.parametrize("line", [
    'password = "x"', "password: hunter2", "db_password: |", "db_password: !!str x", 'secret("x")',
    'x = "y"; password "z";', '"z" == my_password', "PASSWORD=\\x41", 'char pwd[25] = @"v"',
])
def test_lines_that_assign_a_keyword(line):
    assert not harmless_keyword_line(line)


def test_a_yaml_block_scalar_under_a_keyword_is_found(make_repo):
    value = _j("Koha-Db-", "7vQ2plan", "t")
    root = make_repo({"group_vars/koha.yml": f"koha_db_password: |\n  {value}\n"})
    report = kohalint.scan(root, select=["KL101"])
    assert [(f.location.path, f.location.line) for f in report.findings] == [("group_vars/koha.yml", 2)]


# -- time linear in the line ------------------------------------------------------------------

HIGH = _j("9xQ2", "wZ7v", "B4nL", "8tR6", "yH1m", "F3kP")


@pytest.mark.parametrize("piece", ["secret", "secret ", "pwd", "pass=", "eyJ", "key", "api_key=", "a=b ",
                                   '"', '"' + HIGH, '"' + HIGH + '" ', "://a", "-us1", "'x' == ", '"";'])
def test_the_trigger_takes_linear_time(piece):
    line = piece * (200_000 // len(piece))
    start = time.perf_counter()
    may_hold_secret("a.txt", line)
    may_hold_secret("a.yaml", line)
    candidate_lines([line, line])
    line_may_hold(line)
    # a few hundredths of a second here; quadratic would be minutes
    assert time.perf_counter() - start < 10, piece


# -- placeholders ---------------------------------------------------------------------------

PLACEHOLDERS = ["REPLACE_WITH_TOKEN", "replace-with-your-db-password", "Replace_This", "INSERT_YOUR_KEY",
                "PUT_YOUR_TOKEN_HERE", "token-goes-here", "TO_BE_REPLACED", "change_this"]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_that_say_what_to_put_there(make_repo, value):
    real = _j("Koha-Db-", "7vQ2plan", "t")
    compose = (f"services:\n  koha:\n    image: koha:1\n    environment:\n      API_TOKEN: {value}\n"
               f"      KOHA_DB_PASSWORD: {value}\n      OTHER_PASSWORD: {real}\n")
    root = make_repo({".env": f"API_TOKEN={value}\nDB_PASSWORD={value}\nSMTP_PASS={real}\n",
                      "compose.yaml": compose, "app.py": f'api_key = "{value}"\n'})
    found = {(f.location.path, f.location.line) for f in kohalint.scan(root, select=["KL101"]).findings}
    assert found == {(".env", 3), ("compose.yaml", 7)}


@pytest.mark.parametrize("value", ["replacement-" + HIGH[:10], "Replace4ever" + HIGH[:8], "here" + HIGH[:10],
                                   "insert" + HIGH[:10]])
def test_values_that_only_start_like_a_placeholder(make_repo, value):
    root = make_repo({".env": f"API_TOKEN={value}\n"})
    assert [f.location.line for f in kohalint.scan(root, select=["KL101"]).findings] == [1]


# -- the regular-expression plugins, against what the scan runs (strong_match) ----------------

def _regex_patterns():
    from detect_secrets.plugins.base import RegexBasedDetector

    return [(type(p).__name__, rx) for p in machinery().plugins if isinstance(p, RegexBasedDetector)
            for rx in p.denylist]


@pytest.mark.slow
@pytest.mark.parametrize("name,rx", _regex_patterns(), ids=lambda v: getattr(v, "pattern", v)[:30])
def test_strong_match_covers_regex_plugins(name, rx):
    # e.g. the AWS secret key needs no entropy: a quoted run of 40 zeros after `aws ... key` is one
    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(rx))
    def prop(s):
        if rx.search(s):
            assert strong_match(s) and line_may_hold(s), (name, s)

    prop()


# -- detect-secrets' indirect-reference filter, answered by kohalint's faster expression --

_REFERENCE_PIECES = st.sampled_from(["secret", "key", " ", "=", "==", "!==", ":", ":=", "!", "(", ")", "[", "]",
                                     "get_key", "a.b-c", "'x'", "\x0b", "\t", "\n", "é", "#", ","])


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_REFERENCE_PIECES, max_size=14).map("".join))
def test_the_indirect_reference_filter_answers_as_detect_secrets_does(line):
    from detect_secrets.filters.heuristic import is_indirect_reference as theirs

    from kohalint.secret_scanner import is_indirect_reference as ours

    assert ours(line) == theirs(line), repr(line)


def test_the_scan_uses_the_faster_indirect_reference_filter():
    from kohalint.secret_scanner import is_indirect_reference

    assert any(f.func is is_indirect_reference for f in machinery().line_filters)
    for length in (1000, 1001):  # detect-secrets gives up on longer lines, and so does kohalint
        line = "secret = get_key()".rjust(length, "x")
        from detect_secrets.filters.heuristic import is_indirect_reference as theirs
        assert is_indirect_reference(line) == theirs(line) == (length == 1000)
