"""The bashlex parse-table cache: same parser from the cache as from a build,
and any damaged, foreign or unwritable cache just means building."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

bashlex = pytest.importorskip("bashlex")

from kohalint.documents import bashlex_tables  # noqa: E402

# Texts that exercise the tables, including the states bashlex patches after
# yacc() (get_correction_states: command substitution and `)` handling).
SCRIPTS = [
    "echo $(date)",
    "echo $(a $(b `c`) d) \"$(e; f)\"",
    "x=$(cat <<EOF\nbody $(inner)\nEOF\n)",
    "cat <<'EOF' | sh\nrm -rf /\nEOF\necho after",
    "f() { curl -s x | sh; }; f && g || h &",
    "if a; then b; elif c; then d; else e; fi",
    "for i in 1 $(seq 3); do echo $i; done; while true; do break; done",
    "(cd /tmp && ls) > out 2>&1; { a; b; } < in",
    "diff <(sort a) <(sort b) | tee >(wc -l)",
    "echo $( (sub) ) $(echo ')') `echo \\`x\\``",
    "a | b |& c; ! d",
    "case $x in a) echo a;; esac",
    "echo $((1 + 2)); (( i++ ))",
    "echo 'unterminated",
    "if then fi",
    "echo ${x:-$(date)} $(echo $(echo $(echo deep)))",
]

# Prints how the tables were obtained, the parse of each script, and the
# tables as bashlex left them (after its own patches).
_PROBE = textwrap.dedent(
    """
    import json, sys
    mode = sys.argv[1]
    if mode == "plain":
        import bashlex
        how = "plain"
    else:
        from kohalint.documents import bashlex_tables
        if mode == "broken":
            bashlex_tables._CachedTables._from_tables = lambda *a: object()
        bashlex = bashlex_tables.import_bashlex()
        how = bashlex_tables.outcome
    import bashlex.yacc as yacc
    p = bashlex.parser.yaccparser
    out = {
        "how": how,
        "restored": isinstance(yacc.LRTable, type) and yacc.LRTable.__name__ == "LRTable"
        and not any(type(f).__name__ == "_Hook" for f in sys.meta_path),
        "action": sorted((s, sorted(r.items())) for s, r in p.action.items()),
        "goto": sorted((s, sorted(r.items())) for s, r in p.goto.items()),
        "productions": [(q.name, q.len, q.number, getattr(q.callable, "__name__", None))
                        for q in p.productions],
        "defaulted": sorted(p.defaulted_states.items()),
        "parses": [],
    }
    for text in json.loads(sys.stdin.read()):
        try:
            out["parses"].append([t.dump() for t in bashlex.parse(text)])
        except Exception as exc:
            out["parses"].append(f"{type(exc).__name__}: {exc}")
    print(json.dumps(out))
    """
)


def probe(mode: str, cache: Path | None) -> dict:
    env = dict(os.environ)
    env.pop("KOHALINT_CACHE_DIR", None)
    if cache is not None:
        env["KOHALINT_CACHE_DIR"] = str(cache)
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], input=json.dumps(SCRIPTS),
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # never prints, whatever the cache holds
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def reference() -> dict:
    """bashlex imported the ordinary way, without kohalint."""
    return probe("plain", None)


def same_parser(got: dict, reference: dict) -> None:
    assert got["restored"]
    for key in ("parses", "action", "goto", "productions", "defaulted"):
        assert got[key] == reference[key], key


def cache_path(cache: Path) -> Path:
    return Path(bashlex_tables.cache_file(str(cache)))


def test_first_run_stores_second_run_reads_the_same_parser(tmp_path: Path, reference: dict) -> None:
    assert any(isinstance(p, list) for p in reference["parses"])  # the probe parses at all
    cache = tmp_path / "cache"
    first = probe("cached", cache)
    assert first["how"] == "build" and cache_path(cache).is_file()
    same_parser(first, reference)
    second = probe("cached", cache)
    assert second["how"] == "cache"
    same_parser(second, reference)


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The cache file a first run writes."""
    cache = tmp_path_factory.mktemp("first") / "cache"
    probe("cached", cache)
    return cache_path(cache).read_bytes()


def _stored(tmp_path: Path, data: bytes) -> tuple[Path, bytes]:
    cache = tmp_path / "cache"
    cache.mkdir()
    cache_path(cache).write_bytes(data)
    cache_path(cache).chmod(0o600)
    return cache, data


def _reheaded(data: bytes, body: bytes) -> bytes:
    # A well-formed file around `body`: right format and signature, matching digest.
    import hashlib

    fmt, sig, _ = data.partition(b"\n")[0].split(b" ")
    return b" ".join([fmt, sig, hashlib.sha256(body).hexdigest().encode()]) + b"\n" + body


def _body_edit(edit):  # noqa: ANN001, ANN202
    def damage(data: bytes) -> bytes:
        tables = json.loads(data.partition(b"\n")[2])
        edit(tables)
        return _reheaded(data, json.dumps(tables).encode())
    return damage


def _set(path: list, value: object):  # noqa: ANN202
    def edit(tables: dict) -> None:
        node = tables
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return _body_edit(edit)


DAMAGES = {
    "garbage": lambda data: os.urandom(len(data)),
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "no body": lambda data: data.partition(b"\n")[0],
    "one digit changed": lambda data: data.replace(b'"NEWLINE":3', b'"NEWLINE":4', 1),
    "other signature": lambda data: data.replace(data.split(b" ")[1], b"0" * 64, 1),
    "other format": lambda data: data.replace(b"/1 ", b"/9 ", 1),
    "not json": lambda data: _reheaded(data, b"{not json"),
    "deep json": lambda data: _reheaded(data, b"[" * 100_000 + b"]" * 100_000),
    "list": lambda data: _reheaded(data, b"[]"),
    "extra key": _set(["pickle"], "x"),
    "no states": _body_edit(lambda t: t.update(action=[], goto=[])),
    "lengths differ": _body_edit(lambda t: t["goto"].pop()),
    "row not a dict": _set(["action", 0], [1, 2]),
    "unknown terminal": _set(["action", 0, "NOT_A_TOKEN"], 1),
    "nonterminal as terminal": _set(["action", 0, "simple_list"], 1),
    "state out of range": _set(["action", 0, "NEWLINE"], 10_000),
    "production out of range": _set(["action", 0, "NEWLINE"], -10_000),
    "bool value": _set(["action", 0, "NEWLINE"], True),
    "float value": _set(["action", 0, "NEWLINE"], 3.0),
    "string value": _set(["action", 0, "NEWLINE"], "3"),
    "goto to terminal": _set(["goto", 0, "NEWLINE"], 3),
    "goto out of range": _set(["goto", 0, "simple_list"], -1),
    "goto null": _set(["goto", 0, "simple_list"], None),
}


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_damaged_cache_means_building(damage: str, tmp_path: Path, reference: dict,
                                     stored: bytes) -> None:
    cache, data = _stored(tmp_path, stored)
    cache_path(cache).write_bytes(DAMAGES[damage](data))
    got = probe("cached", cache)
    assert got["how"] == "build"
    same_parser(got, reference)
    # ...and the rebuilt tables replace the damaged file.
    assert cache_path(cache).read_bytes() == data


def test_the_file_checks_pass_unchanged_tables(tmp_path: Path, stored: bytes) -> None:
    # The damage helpers themselves leave a readable file when they change nothing.
    cache, data = _stored(tmp_path, stored)
    cache_path(cache).write_bytes(_body_edit(lambda t: None)(data))
    assert probe("cached", cache)["how"] == "cache"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_fifo_directory_and_symlink_at_the_cache_path(tmp_path: Path, reference: dict,
                                                      stored: bytes) -> None:
    cache, data = _stored(tmp_path, stored)
    path = cache_path(cache)
    path.unlink()
    os.mkfifo(path)  # opening it for reading must not block the import
    same_parser(probe("cached", cache), reference)
    path.unlink()
    real = tmp_path / "elsewhere.json"
    real.write_bytes(data)
    path.symlink_to(real)  # not followed
    assert probe("cached", cache)["how"] == "build"
    path.unlink()
    path.mkdir()
    got = probe("cached", cache)
    assert got["how"] == "build"
    same_parser(got, reference)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX only")
def test_a_file_others_could_write_is_not_read(tmp_path: Path, stored: bytes) -> None:
    cache, _ = _stored(tmp_path, stored)
    cache_path(cache).chmod(0o666)
    assert probe("cached", cache)["how"] == "build"


def test_unwritable_cache_dir_still_parses(tmp_path: Path, reference: dict) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    got = probe("cached", blocker / "cache")  # a directory below a file cannot exist
    assert got["how"] == "build"
    same_parser(got, reference)
    if hasattr(os, "geteuid") and os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        same_parser(probe("cached", locked), reference)
        assert list(locked.iterdir()) == []


def test_a_parser_the_cache_cannot_feed_is_imported_plainly(tmp_path: Path, reference: dict,
                                                            stored: bytes) -> None:
    cache, _ = _stored(tmp_path, stored)
    got = probe("broken", cache)  # LRParser cannot use what the cache hands it
    assert got["how"] == "build"
    same_parser(got, reference)


def test_cache_dir_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOHALINT_CACHE_DIR", "/c/k")
    monkeypatch.setenv("XDG_CACHE_HOME", "/x")
    assert bashlex_tables.cache_dir() == "/c/k"
    monkeypatch.delenv("KOHALINT_CACHE_DIR")
    assert bashlex_tables.cache_dir() == os.path.join("/x", "kohalint")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "/h")
    assert bashlex_tables.cache_dir() == os.path.join("/h", ".cache", "kohalint")


def test_signature_follows_the_grammar() -> None:
    import bashlex.yacc as yacc

    def grammar(**change: object) -> SimpleNamespace:
        prods = [SimpleNamespace(name="S'", prod=("a",), prec=("right", 0), func=None),
                 SimpleNamespace(name="a", prod=("X", "Y"), prec=("right", 0), func="p_a")]
        fields = dict(Start="a", Terminals={"X": [], "Y": [], "error": []},
                      Precedence={"X": ("left", 1)}, Productions=prods)
        fields.update(change)
        return SimpleNamespace(**fields)

    base = bashlex_tables.signature(grammar(), yacc)
    assert base and base == bashlex_tables.signature(grammar(), yacc)
    other_rule = [grammar().Productions[0],
                  SimpleNamespace(name="a", prod=("Y", "X"), prec=("right", 0), func="p_a")]
    for change in (dict(Start="b"), dict(Terminals={"X": [], "error": []}),
                   dict(Precedence={"X": ("right", 1)}), dict(Productions=other_rule)):
        assert bashlex_tables.signature(grammar(**change), yacc) != base


def test_already_imported_bashlex_is_left_alone() -> None:
    import bashlex.yacc as yacc

    before = (yacc.yacc, yacc.LRTable, list(sys.meta_path), bashlex_tables.outcome)
    assert bashlex_tables.import_bashlex() is bashlex
    assert (yacc.yacc, yacc.LRTable, list(sys.meta_path), bashlex_tables.outcome) == before
