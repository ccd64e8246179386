"""Very long lines (kohalint.secret_windows): KL101's cost grows linearly with
a line, and what is in a long line is still found, at its line.

Secret-shaped values are assembled at run time from parts, so this file
holds none itself (the project scans its own tree with KL101).
"""

from __future__ import annotations

import random
import time

import pytest

import kohalint
from kohalint.secret_scanner import KEYWORD_TRIGGER, machinery, scan_text
from kohalint.secret_values import identity
from kohalint.secret_windows import BACK, OVERLAP, WINDOW, keeps, thin_keyword_runs, windows


def _j(*parts: str) -> str:
    return "".join(parts)


AWS_ID = _j("AKIA", "Q3ZTN7XW", "BL4RUV2M")
HIGH = _j("r8Tz1kQm", "X4vB7nLw", "2pHs9dYc", "3fJg6aUe")
DB_P = _j("Koha-Db-", "7vQ2plan", "t")
HE = _j("9xQ2", "wZ7v", "B4nL", "8tR6", "yH1m", "F3kP")

SIZE = 200_000


# -- the windows ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, WINDOW - 1, WINDOW, WINDOW + 1, 3 * WINDOW + 17, SIZE])
def test_windows_share_the_line_out_once(n):
    rng = random.Random(n)
    line = "".join(rng.choice("ab =\"'") for _ in range(n))
    parts = windows(line)
    if n <= WINDOW:
        assert [(p.start, p.text) for p in parts] == [(0, line)]  # short lines are left alone
        return
    assert parts[0].lo == 0 and parts[-1].hi > n
    for a, b in zip(parts, parts[1:]):
        assert a.hi == b.lo  # consecutive shares, each position in exactly one
        assert a.start + len(a.text) >= a.hi + OVERLAP - BACK  # a share's window reaches past it
    for p in parts:
        assert len(p.text) <= WINDOW and p.lo - BACK <= p.start <= p.lo and line[p.start:].startswith(p.text)
    assert parts[-1].start + len(parts[-1].text) == n


def test_a_value_is_kept_by_the_window_whose_share_it_starts_in():
    line = ("x " * SIZE)[:SIZE]
    parts = windows(line)
    value = "v" * 40
    for at in (0, parts[1].lo - 1, parts[1].lo, parts[1].hi - 1, parts[2].lo + 5, SIZE - 40):
        planted = line[:at] + value + line[at + 40:]
        keepers = [p for p in windows(planted) if value in p.text and keeps(p, value)]
        assert len(keepers) == 1 and keepers[0].lo <= at < keepers[0].hi, at


@pytest.mark.parametrize("filler", ["a=b ", "x = 1; ", "secret ", "ab", '"q" ', "pwd"])
def test_planted_values_are_found_wherever_they_are(filler):
    """At random places, and right at the edges of the windows' shares."""
    m = machinery()
    size = 40_000
    base = (filler * (size // len(filler) + 1))[:size]
    stride = WINDOW - OVERLAP
    rng = random.Random(filler)
    places = [k * stride + d for k in (1, 2, 9) for d in (-41, -40, -2, 0, 1, 63, 64, 65)]
    places += [rng.randrange(size - 100) for _ in range(6)]
    token = f' "{HIGH}" ' if filler != "pwd" else f" {AWS_ID} "
    for at in places:
        line = base[:at] + token + base[at:]
        hits = {(h.line, h.value) for h in scan_text("tools/x.py", "x = 1\n" + line + "\n")}
        expected = HIGH if filler != "pwd" else AWS_ID
        assert (2, expected) in hits, (filler, at)
    assert m is machinery()


def test_thin_keyword_runs():
    assert thin_keyword_runs('password = "v"', KEYWORD_TRIGGER) == 'password = "v"'
    dense = "PWD" + "pwd" * 2000 + "_conf"
    assert thin_keyword_runs(f'x.{dense} = "v"; y', KEYWORD_TRIGGER) == 'x.pwd_conf = "v"; y'
    assert thin_keyword_runs("SECRET" * 100 + " = 1", KEYWORD_TRIGGER) == "SECRET = 1"


@pytest.mark.parametrize("line,filename", [
    ("pwd" * 400 + ' = "' + DB_P + '"', "a.py"),
    ("x.secretsecretsecretsecretsecretsecretsecretsecret_value: " + DB_P, "a.yaml"),
    ('"' + DB_P + '" == my_' + "pwd" * 300, "a.py"),
    ("PWD" * 300 + "pwd" + '("' + DB_P + '")', "a.cpp"),
], ids=["assigned", "yaml", "compared", "c++"])
def test_thinning_keeps_what_keyword_detector_finds(line, filename):
    plugin = next(p for p in machinery().plugins if type(p).__name__ == "KeywordDetector")

    def found(text):
        return {s.secret_value for s in plugin.analyze_line(filename=filename, line=text, line_number=1)}

    start = time.perf_counter()
    thin = found(thin_keyword_runs(line, KEYWORD_TRIGGER))
    assert time.perf_counter() - start < 1  # the whole line: a second or more
    assert thin == found(line) == {DB_P}


# -- hostile long lines through the whole rule -------------------------------------------------

# piece -> where it goes. Measured 0.02 to 1.2 s each (2 shared cores); the
# bound is ten times the slowest. Before the windows, `pass=` took 25 s at a
# tenth of this length, and grew with its square.
PIECES = [
    ("secret ", "tools/x.py"), ("pass=", "config/app.ini"), ("a=b ", ".env"),
    ('"' + HE + '" ', "tools/quoted.py"), ('"' + HE, "tools/open.py"), ("'" + HE + "'" + HE, "tools/pairs.js"),
    ("pwd", "tools/dense.txt"), ("pwd" * 2 + " = 'x' ", "tools/assign.js"), ("k: " + HE + " ", "conf/values.yaml"),
    ("eyJ", "tools/jwt.txt"),
]
BOUND = 12.0


@pytest.mark.slow
@pytest.mark.parametrize("piece,path", PIECES)
def test_a_long_line_of_a_pathological_piece(make_repo, piece, path):
    root = make_repo({path: "x = 1\n" + piece * (SIZE // len(piece)) + "\n"})
    start = time.perf_counter()
    kohalint.scan(root, select=["KL101"])
    assert time.perf_counter() - start < BOUND, piece


@pytest.mark.slow
@pytest.mark.parametrize("filler,path", [("a=b ", "tools/x.py"), ("secret ", "config/app.ini"),
                                         ("x " , "conf/values.yaml"), ("a=b ", ".env")])
def test_a_secret_in_the_middle_of_a_long_line(make_repo, filler, path):
    half = filler * (SIZE // 2 // len(filler))
    line = f"{half}{AWS_ID} {half}"
    root = make_repo({path: f"first: line\n{line}\nlast: line\n"})
    start = time.perf_counter()
    report = kohalint.scan(root, select=["KL101"])
    assert time.perf_counter() - start < BOUND
    found = [(f.location.path, f.location.line, f.location.column, f.identity) for f in report.findings]
    assert (path, 2, len(half) + 1, identity(AWS_ID)) in found
