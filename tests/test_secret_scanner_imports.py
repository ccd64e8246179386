"""detect-secrets without `requests`: kohalint.lazy_imports.

KL101 imports detect-secrets with `requests` deferred: a scan that finds
secrets never runs `requests` (nor urllib3, charset_normalizer), and reports
exactly what it reports with `requests` imported beforehand. Those runs are
subprocesses, since this process may have imported both already.

Secret-shaped values are assembled at run time from parts, so this file
holds none itself (the project scans its own tree with KL101).
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import types

import pytest

from kohalint import lazy_imports
from tests.conftest import ROOT


def _j(*parts: str) -> str:
    return "".join(parts)


AWS_ID = _j("AKIA", "Q3ZTN7XW", "BL4RUV2M")
SLACK = _j("xo", "xb-", "20486137", "25-10948", "57362-", "mF3kP9xQ", "2wZ7vB4n", "L8tR6yH1")
DB_P = _j("Koha-Db-", "7vQ2plan", "t")
HIGH = _j("r8Tz1kQm", "X4vB7nLw", "2pHs9dYc", "3fJg6aUe")

FILES = {
    ".env": f"MARIADB_PASSWORD={DB_P}\nAWS_ACCESS_KEY_ID={AWS_ID}\n",
    "scripts/notify.py": f'SLACK = "{SLACK}"\nTOKEN = "{HIGH}"\n',
    "group_vars/koha.yml": f"koha_db_password: {DB_P}\nother: {HIGH}\n",
    "mariadb/koha.cnf": f"[client]\nuser=koha\npassword={DB_P}\n",
}

PROBE = """
import json, sys
if sys.argv[2] == "eager":
    import requests  # imported first: detect-secrets binds the real module
import kohalint
from kohalint.lazy_imports import is_loaded
report = kohalint.scan(sys.argv[1], select=["KL101"])
print(json.dumps({
    "findings": [[f.location.path, f.location.line, f.location.column, f.message, f.identity]
                 for f in report.findings],
    "detect_secrets": "detect_secrets" in sys.modules,
    "requests_ran": is_loaded("requests"),
    "dependencies": sorted({"urllib3", "charset_normalizer", "idna", "requests.models"} & set(sys.modules)),
}))
"""


def _probe(root, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(root), mode], capture_output=True, text=True,
                         cwd=ROOT, check=True, env=dict(os.environ, KOHALINT_JOBS="1")).stdout
    return json.loads(out)


def test_a_scan_that_finds_secrets_never_runs_requests(make_repo):
    root = make_repo(FILES)
    lazy = _probe(root, "lazy")
    assert lazy["detect_secrets"] and len(lazy["findings"]) >= 6, lazy
    assert not lazy["requests_ran"] and lazy["dependencies"] == [], lazy
    eager = _probe(root, "eager")
    assert eager["requests_ran"] and "urllib3" in eager["dependencies"]  # the probe can see it
    assert lazy["findings"] == eager["findings"]


# -- the placeholder module itself, on throwaway packages -----------------------------------

def _package(tmp_path, monkeypatch, name: str, init: str, sub: str = "X = 1\n") -> None:
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text(init)
    (pkg / "sub.py").write_text(sub)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)


RUNS = "import sys\nsys.lazy_runs = getattr(sys, 'lazy_runs', 0) + 1\nfrom . import sub\nVALUE = 42\n"


@pytest.fixture(autouse=True)
def _clean_counter():
    yield
    if hasattr(sys, "lazy_runs"):
        del sys.lazy_runs
    for name in [n for n in sys.modules if n.startswith("kl_lazy_")]:
        del sys.modules[name]


def test_the_module_runs_on_first_use_only(tmp_path, monkeypatch):
    _package(tmp_path, monkeypatch, "kl_lazy_a", RUNS)
    module = lazy_imports.defer("kl_lazy_a")
    import kl_lazy_a  # what detect-secrets' `import requests` does

    assert kl_lazy_a is module and not lazy_imports.is_loaded("kl_lazy_a")
    # what the import system and detect-secrets' plugin discovery look at
    assert not inspect.isclass(kl_lazy_a) and not isinstance(kl_lazy_a, type)
    assert kl_lazy_a.__name__ == "kl_lazy_a" and kl_lazy_a.__spec__.name == "kl_lazy_a"
    assert kl_lazy_a.__file__.endswith("__init__.py")
    assert getattr(sys, "lazy_runs", 0) == 0
    assert kl_lazy_a.VALUE == 42 and kl_lazy_a.sub.X == 1  # a use: it runs, once, into the same object
    assert sys.lazy_runs == 1 and type(kl_lazy_a) is types.ModuleType
    assert lazy_imports.is_loaded("kl_lazy_a") and sys.modules["kl_lazy_a"] is module
    assert lazy_imports.defer("kl_lazy_a") is module


def test_importing_a_submodule_runs_the_package_first(tmp_path, monkeypatch):
    _package(tmp_path, monkeypatch, "kl_lazy_b", RUNS, sub="import kl_lazy_b\nX = kl_lazy_b.__name__\n")
    lazy_imports.defer("kl_lazy_b")
    import kl_lazy_b.sub

    assert sys.lazy_runs == 1 and kl_lazy_b.sub.X == "kl_lazy_b" and kl_lazy_b.VALUE == 42
    _package(tmp_path, monkeypatch, "kl_lazy_c", RUNS)
    lazy_imports.defer("kl_lazy_c")
    from kl_lazy_c import VALUE

    assert VALUE == 42 and sys.lazy_runs == 2


def test_a_module_that_fails_fails_where_it_is_used(tmp_path, monkeypatch):
    _package(tmp_path, monkeypatch, "kl_lazy_d", "raise ImportError('no luck')\n")
    lazy_imports.defer("kl_lazy_d")
    import kl_lazy_d

    with pytest.raises(ImportError, match="no luck"):
        kl_lazy_d.anything  # noqa: B018


def test_nothing_to_defer():
    assert lazy_imports.defer("kl_lazy_not_there") is None
    assert lazy_imports.defer("json") is sys.modules["json"]  # already imported: left alone
    assert lazy_imports.is_loaded("json") and not lazy_imports.is_loaded("kl_lazy_not_there")


def test_postponed_annotations(tmp_path, monkeypatch):
    pkg = tmp_path / "kl_lazy_ann"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    # evaluated at definition time, these annotations would fail: nothing defines `remote`
    (pkg / "late.py").write_text("def f(x: int) -> remote.Response:\n    return x\n")
    (pkg / "plain.py").write_text("def g(x: int) -> int:\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    lazy_imports.postpone_annotations("kl_lazy_ann.", r"->\s*remote\.")
    try:
        from kl_lazy_ann import late, plain

        assert late.f.__annotations__ == {"x": "int", "return": "remote.Response"}
        assert late.f(3) == 3
        assert plain.g.__annotations__ == {"x": int, "return": int}  # not matched: imported as usual
    finally:
        sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "prefix", None) != "kl_lazy_ann."]
