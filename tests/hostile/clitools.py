"""Running kohalint on hostile trees: in a subprocess (what CI does; a hang
cannot take the test run with it) or in-process under a deadline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from kohalint.errors import ParseError
from kohalint.limits import run_with_deadline
from tests.conftest import ROOT

TODAY = "2026-11-27"


class Run:
    def __init__(self, rc: int, out: str, err: str, seconds: float) -> None:
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    @property
    def json(self) -> dict:
        return json.loads(self.out)

    def rules(self) -> set[tuple[str, str]]:
        """(rule, path) of every active finding, from JSON output."""
        return {(f["rule_id"], f["location"]["path"]) for f in self.json["findings"] if not f.get("suppression")}


def run_cli(*args: str, cwd: Optional[Path] = None, timeout: float = 120.0,
            env: Optional[dict[str, str]] = None) -> Run:
    """`python -m kohalint ARGS` in a subprocess; never a traceback on stderr."""
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **(env or {}))
    full_env.pop("KOHALINT_DEBUG", None)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kohalint", *args], cwd=cwd, capture_output=True,
                          timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)
    run = Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
              time.monotonic() - start)
    assert "Traceback" not in run.err, run.err
    return run


def run_main(capsys, *args: str, timeout: float = 120.0) -> Run:
    """`kohalint.cli.main(ARGS)` in this process, stopped after `timeout` seconds."""
    from kohalint.cli import main

    start = time.monotonic()
    expired, rc = run_with_deadline(lambda: main(list(args)), timeout)
    seconds = time.monotonic() - start
    out = capsys.readouterr()
    assert not expired, f"kohalint {' '.join(args)} ran longer than {timeout} s"
    assert "Traceback" not in out.err, out.err
    return Run(rc, out.out, out.err, seconds)


def write(root: Path, files: dict[str, "str | bytes"]) -> Path:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data, encoding="utf-8")
    return root


# Seconds one call may take on a busy 2-core CI machine; inputs here are small,
# so a call this slow means a loop that grows with the input, not bad luck.
BOUND = 10.0


def bounded(fn, *args, **kw):
    """fn(*args, **kw) within BOUND seconds; its exceptions propagate."""
    expired, value = run_with_deadline(lambda: fn(*args, **kw), BOUND)
    assert not expired, f"{getattr(fn, '__name__', fn)} took longer than {BOUND} s"
    return value


def parse_or_error(fn, *args, error=ParseError, **kw):
    try:
        return bounded(fn, *args, **kw)
    except error as exc:
        if isinstance(exc, ParseError):
            assert exc.line >= 1 and exc.column >= 1
        return None
