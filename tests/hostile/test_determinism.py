"""Same repository, same bytes out: whatever the hash seed, the order in which
the files were created, or how the work is spread over processes."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.clitools import TODAY

EXAMPLE = ROOT / "examples" / "noncompliant"
FORMATS = ("text", "json", "sarif")


def _copy(dest: Path, order_seed: int) -> None:
    """Copy the example, creating directories and files in a shuffled order
    (directory listings follow creation order on most file systems)."""
    files = sorted(p for p in EXAMPLE.rglob("*") if p.is_file())
    random.Random(order_seed).shuffle(files)
    for src in files:
        target = dest / src.relative_to(EXAMPLE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


# One process renders every format (three CLI runs in it), to keep the suite quick.
_DRIVER = """
import sys
from kohalint.cli import main
codes = {main(["check", ".", "--format", fmt, "--today", sys.argv[1], "-o", f"../out.{fmt}"])
         for fmt in sys.argv[2:]}
sys.exit(codes.pop() if len(codes) == 1 else 99)
"""


def _outputs(tmp_path: Path, order_seed: int, env: dict[str, str]) -> dict[str, str]:
    # the same path each time: the copies differ only in how they were made
    root = tmp_path / "repo"
    if root.exists():
        shutil.rmtree(root)
    _copy(root, order_seed)
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1", **env)
    proc = subprocess.run([sys.executable, "-c", _DRIVER, TODAY, *FORMATS], cwd=root, env=full_env,
                          capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr, proc.stderr
    return {fmt: (tmp_path / f"out.{fmt}").read_text(encoding="utf-8") for fmt in FORMATS}


@pytest.mark.skipif(not EXAMPLE.is_dir(), reason="examples/noncompliant is not there yet")
def test_outputs_are_byte_identical_across_seeds_creation_order_and_workers(tmp_path):
    first = _outputs(tmp_path, 1, {"PYTHONHASHSEED": "1", "KOHALINT_JOBS": "1"})
    assert "KL4" in first["text"]  # the example is scanned, not skipped
    for seed, order, jobs in (("4242", 2, "1"), ("8", 3, "3")):
        other = _outputs(tmp_path, order, {"PYTHONHASHSEED": seed, "KOHALINT_JOBS": jobs})
        for fmt in FORMATS:
            assert first[fmt] == other[fmt], f"{fmt} differs (hash seed {seed}, order {order}, {jobs} jobs)"
