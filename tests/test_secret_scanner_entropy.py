"""The entropy prefilter (kohalint.secret_entropy) against the plugins it stands for.

On the lines the plugins see, the prefilter must answer exactly as
Base64HighEntropyString and HexHighEntropyString do; on the raw text of a
file that a transformer rewrites first (YAML, INI), it must say yes whenever
the plugins would report something on the rewritten lines.
"""

from __future__ import annotations

import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from kohalint import secret_entropy as E
from kohalint.secret_scanner import line_may_hold, machinery, may_hold_secret
from tests.conftest import ROOT, git_repo

FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _plugin(name: str):
    return next(p for p in machinery().plugins if type(p).__name__ == name)


B64 = _plugin("Base64HighEntropyString")
HEX = _plugin("HexHighEntropyString")


def _reported(plugin, line: str, filename: str = "a.py") -> set[str]:
    return {s.secret_value for s in plugin.analyze_line(filename=filename, line=line, line_number=1)}


def test_the_prefilter_has_the_plugins_parameters():
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString

    for cls, plugin, charset, limit in ((Base64HighEntropyString, B64, E.B64_CHARSET, E.B64_LIMIT),
                                        (HexHighEntropyString, HEX, E.HEX_CHARSET, E.HEX_LIMIT)):
        assert cls().charset == plugin.charset == charset
        assert cls().entropy_limit == plugin.entropy_limit == limit


# Strings drawn from a random part of an alphabet with random weights: their
# entropy lands all around the limits, where a rounding difference would show.
@st.composite
def _near_limit(draw, charset: str, sizes: tuple[int, int], lengths: tuple[int, int]) -> str:
    k = draw(st.integers(*sizes))
    symbols = draw(st.permutations(charset))[:k]
    weights = draw(st.lists(st.integers(1, 3), min_size=k, max_size=k))
    pool = "".join(c * w for c, w in zip(symbols, weights))
    return "".join(draw(st.lists(st.sampled_from(pool), min_size=lengths[0], max_size=lengths[1])))


@FAST
@given(_near_limit(E.B64_CHARSET, (25, 64), (25, 90)))
def test_base64_verdict_is_the_plugins(value):
    assert E.b64_high(value) == (value in _reported(B64, f'token = "{value}"'))


@FAST
@given(_near_limit(E.HEX_CHARSET, (8, 22), (9, 40)) | st.from_regex(r"[0-9]{8,24}", fullmatch=True))
def test_hex_verdict_is_the_plugins(value):
    assert E.hex_high(value) == (value in _reported(HEX, f"digest = '{value}'"))


# Lines where quotes pair up in every way: runs of either alphabet between
# quotes of either kind or none, separators that are (backslash, `=`) and
# are not in the alphabet.
_RUNS = st.one_of(_near_limit(E.B64_CHARSET, (25, 64), (20, 90)), _near_limit(E.HEX_CHARSET, (8, 16), (6, 40)),
                  st.sampled_from(["", "x", "--opt=utf8mb4", "${X}"]))
_QUOTE = st.sampled_from(['"', "'", '"', "'", "", "`"])
_SEPARATOR = st.sampled_from(["", " ", ", ", ": ", "=", "\\", "#", ";", "(", "]"])
_PIECES = st.tuples(_QUOTE, _RUNS, _QUOTE, _SEPARATOR).map("".join)


@FAST
@given(st.lists(_PIECES, max_size=6).map("".join))
def test_the_line_prefilter_is_the_plugins(line):
    reported = _reported(B64, line) | _reported(HEX, line)
    assert E.has_high_entropy(line) == bool(reported), line
    if reported:
        assert line_may_hold(line), line


def _paired_over_the_whole_text(text: str) -> set[int]:
    """The plugins' own way: every quoted run of the text paired left to right."""
    return ({m.start() for m in E._B64_QUOTED.finditer(text) if E.b64_high(m.group(2))}
            | {m.start() for m in E._HEX_QUOTED.finditer(text) if E.hex_high(m.group(2))})


@FAST
@given(st.lists(st.lists(_PIECES, max_size=5).map("".join), max_size=5).map("\n".join))
def test_pairing_only_the_lines_with_a_long_run_finds_every_span(text):
    assert set(E.high_entropy_spans(text)) == _paired_over_the_whole_text(text), text


def test_a_short_quoted_string_still_takes_the_quote_that_closes_it():
    # 'ab' pairs first and takes the quote a long run would open with; the
    # run that follows is then the plugins' only on the second line.
    run = "".join(["k9Xv2LqP", "7zT4mWc8", "Yb3NhR6s", "Jd5Fg"])
    text = f"x = 'ab'{run}'\ny = '{run}'"
    assert list(E.high_entropy_spans(text)) == [text.index("\n") + 5] == sorted(_paired_over_the_whole_text(text))


def test_a_quoted_option_is_no_candidate():
    line = '    command: ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"]'
    assert not line_may_hold(line)
    compose = "services:\n  db:\n    image: mariadb:11\n" + line + "\n"
    assert not may_hold_secret("compose.yaml", compose)
    assert not may_hold_secret("Dockerfile", 'ENTRYPOINT ["/usr/local/bin/koha-entrypoint-wrapper"]\n')
    # the same option with a random value is still one
    assert line_may_hold(line.replace("utf8mb4_unicode_ci", "".join(["r8Tz1kQm", "X4vB7nLw", "2pHs9dYc"])))


def test_pre_commit_on_such_a_compose_file_does_not_import_detect_secrets(tmp_path):
    compose = ("services:\n  db:\n    image: mariadb:11\n    command: [\"--character-set-server=utf8mb4\", "
               "\"--collation-server=utf8mb4_unicode_ci\", \"--skip-name-resolve-and-log-bin\"]\n"
               "    environment:\n      MARIADB_PASSWORD: ${MARIADB_PASSWORD}\n")
    root = git_repo(tmp_path / "r", {"compose.yaml": compose})
    code = ("import sys, kohalint; r = kohalint.scan(sys.argv[1], files=[sys.argv[1] + '/compose.yaml']); "
            "print('detect_secrets' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, cwd=ROOT,
                         check=True, env=dict(os.environ, KOHALINT_JOBS="1")).stdout
    assert out.strip() == "False"


# -- files a transformer rewrites: the raw text must let through what the rewrite shows --

def _entropy_hits_after_transform(path: str, text: str) -> bool:
    m = machinery()
    lines = m.transformed(path, text, eager=False) or text.splitlines()
    return any(_reported(p, line.rstrip(), path) for line in lines for p in (B64, HEX))


_VALUE = st.one_of(
    _near_limit(E.B64_CHARSET, (25, 64), (20, 90)), _near_limit(E.HEX_CHARSET, (8, 16), (6, 40)),
    st.sampled_from(["changeme", "${X}", "yes", "--opt=utf8mb4", "a b", "", "x\\y"]))


@st.composite
def _yaml_line(draw) -> str:
    key = draw(st.sampled_from(["token", "image", "command", "db_host", "x"]))
    value = draw(_VALUE)
    form = draw(st.sampled_from(["{v}", '"{v}"', "'{v}'", '["{v}", "{w}"]', "{v}  # \"{w}\"", "|\n  {v}",
                                 ">-\n  {v}", "\n  - {v}", '"{v}\\"{w}"', "'{v}\"{w}'"]))
    other = draw(_VALUE)
    return f"{key}: " + form.format(v=value, w=other)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_yaml_line(), min_size=1, max_size=4, unique_by=lambda s: s.split(":")[0]))
def test_yaml_prefilter_lets_through_what_the_transformer_shows(lines):
    text = "\n".join(lines) + "\n"
    if _entropy_hits_after_transform("vars.yml", text):
        assert may_hold_secret("vars.yml", text), text


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["token", "host", "pwd_file", "x"]), _VALUE,
                          st.sampled_from(["{v}", '"{v}"', "'{v}'", '{v}"{w}"', "{v} ; {w}"]), _VALUE),
                min_size=1, max_size=4, unique_by=lambda t: t[0]))
def test_ini_prefilter_lets_through_what_the_transformer_shows(entries):
    text = "[client]\n" + "".join(f"{k} = " + form.format(v=v, w=w) + "\n" for k, v, form, w in entries)
    if _entropy_hits_after_transform("koha.cnf", text):
        assert may_hold_secret("koha.cnf", text), text


@pytest.mark.parametrize("path,text", [
    ("a.yaml", "key: !!binary |\n  R0lGODlhDAAMAIQAAP\n  Rm9vYmFyYmF6cXV4\n"),   # joined by YAML
    ("a.yaml", 'key: "abcdefghijklm\\\n  nopqrstuvwxyz0123"\n'),           # escaped line break
    ("a.ini", "[s]\na = abcdefghijklm\nb = %(a)snopqrstuvwxyz0123\n"),     # interpolation
])
def test_joined_values_are_let_through(path, text):
    assert may_hold_secret(path, text)
