"""yaml_libyaml (libyaml's events, composed in Python) must build exactly the
trees ruamel.yaml's composer builds, or hand the document to ruamel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kohalint.documents import yaml_libyaml, yamldoc
from kohalint.errors import ParseError
from tests.hostile import strategies as S

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not yaml_libyaml.available(), reason="PyYAML without libyaml")


def _shape(node):
    if node is None:
        return None
    head = (type(node).__name__, node.line, node.column, node.tag)
    if isinstance(node, yamldoc.YScalar):
        return head + (type(node.value).__name__, repr(node.value), node.quoted)
    if isinstance(node, yamldoc.YSeq):
        return head + (tuple(_shape(i) for i in node.items),)
    return head + tuple((k, _shape(kn), _shape(v)) for k, (kn, v) in node.entries.items())


def _load(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(yaml_libyaml, "compose", lambda *a: (False, None))
        try:
            return _shape(yamldoc.load_yaml(text, "x.yaml"))
        except ParseError as exc:
            return ("error", str(exc), exc.line, exc.column)


def _same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _load(text, True, monkeypatch) == _load(text, False, monkeypatch)


def _yaml_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z", "*.yml", "*.yaml"], cwd=ROOT,
                         capture_output=True, check=True).stdout
    return [ROOT / p.decode() for p in out.split(b"\0") if p]


def test_every_yaml_file_of_this_repository_reads_the_same(monkeypatch):
    files = _yaml_files()
    assert len(files) > 50
    fast = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        _same(text, monkeypatch)
        fast += yaml_libyaml.compose(text, 200, None)[0]
    assert fast > len(files) * 0.9  # the fast path is the common one


@pytest.mark.parametrize("text", [
    "volumes:\n  db:\n  es:\n",                 # empty values: ruamel's position is the next token
    "a:\n  -\n  - x\n",                         # an empty item
    "a:\n b:\n  c:\n d: 1\ne:",                  # an empty value at the end, no final newline
    "a: {b: , c}\n",                             # empty values in flow style
    "? \n: x\n",                                 # an empty key
    "on: [push]\nx: 22:22\ny: 0o17\nz: 1_000\nw: .inf\nv: 0x1F\nu: 012\nt: yes\nn: ~\nb: True\n",
    "x: &a {k: 1}\ny: *a\nz:\n  <<: *a\n  k: 2\n",
    "x: &a 1\nx2: &a 2\ny: *a\n",               # a reused anchor
    "a: *nowhere\n",
    "a: !reset\nb: !override [1]\nc: ! 12\nd: !!str 12\ne: !!int \"3\"\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: b\n---\nc: d\n", ":---\n...\n...\n", "a: 1\n...\n",
    "---\n", "", "# only a comment\n",
    "a: |\n  x\n\n  y\n\nb: >+\n  z\n\n",
    "ñ: [é, 1]\nb: \"ü\\u00e9\"\n",
    "a: x\u2028b: y\n", "a: x\x85b: y\n", "\ufeffa: 1\n", "a: 1\n\ufeff", "\r\ufeff",
    "a: b: c\n", "a:\n\t- x\n", "a: 0\t\n", "&a \t", "a: 'x\n", "x: \x07\n",
    "- " * 5000 + "x\n", "[" * 300 + "]" * 300,
])
def test_edge_cases_read_the_same(text, monkeypatch):
    _same(text, monkeypatch)


def test_deep_block_nesting_is_refused_not_a_crash():
    # PyYAML's own C composer would overflow the C stack here
    code = ("from kohalint.documents.yamldoc import load_yaml\n"
            "from kohalint.errors import ParseError\n"
            "try:\n    load_yaml('- ' * 200000 + 'x', 'x.yaml')\n"
            "except ParseError as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-500:]
    assert "refused" in out.stdout and "nested too deeply" in out.stdout


@S.budget()
@given(st.one_of(S.soup(S.YAML_TOKENS), S.yaml_text(S.values()), S.yaml_text(S.compose_doc()),
                 S.yaml_text(S.workflow_doc())))
def test_arbitrary_yaml_reads_the_same(text):
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(text, monkeypatch)
