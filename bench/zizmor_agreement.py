#!/usr/bin/env python3
"""How far kohalint's workflow rules agree with zizmor's (a script, not a test).

Runs zizmor (`pip install zizmor`) and kohalint over the bundled example
repositories (`examples/*`) and over every bad/good example of the catalog
records that contain workflows, maps zizmor's audits onto kohalint's rules

    unpinned-uses, unpinned-images   -> KL201 action-not-pinned
    excessive-permissions            -> KL202 workflow-permissions
    dangerous-triggers, template-injection -> KL209 dangerous-workflow

and prints, per rule, how many (workflow file, rule) pairs both tools flag,
only kohalint flags, only zizmor flags, then the same at line level for the
audits whose locations are comparable (unpinned-uses, template-injection).
`--details` lists every disagreement. Exit 0 when both ran; 2 when zizmor is
not installed.

    python bench/zizmor_agreement.py [--details] [--persona regular|pedantic|auditor]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import kohalint  # noqa: E402
from kohalint.rule_catalog import catalog_ids, load_record  # noqa: E402

MAPPING = {
    "unpinned-uses": "KL201",
    "unpinned-images": "KL201",
    "excessive-permissions": "KL202",
    "dangerous-triggers": "KL209",
    "template-injection": "KL209",
}
RULES = ("KL201", "KL202", "KL209")
# Audits whose primary location is the same construct kohalint flags, so the
# lines can be compared: the `uses:` value, the image, the `${{ }}` expression.
LINE_LEVEL = {"unpinned-uses": "uses", "unpinned-images": "image", "template-injection": "injection"}

Pair = tuple[str, str, str]            # (corpus item, workflow path, rule)
Spot = tuple[str, str, str, int]       # (corpus item, workflow path, kind, line)


def corpus(tmp: Path) -> list[tuple[str, Path]]:
    """(name, repository root) for each example repository holding workflows."""
    items = [(f"examples/{p.name}", p) for p in sorted((ROOT / "examples").iterdir())
             if p.is_dir() and (p / ".github" / "workflows").is_dir()]
    for rid in catalog_ids():
        rec = load_record(rid)
        for kind in ("bad", "good"):
            for i, ex in enumerate(getattr(rec.examples, kind)):
                if not any(k.startswith(".github/workflows/") for k in ex.files):
                    continue
                root = tmp / f"{rid}-{kind}{i}"
                for rel, text in ex.files.items():
                    p = root / rel
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text(text, encoding="utf-8")
                items.append((f"rules/{rid} {kind}[{i}]", root))
    return items


def run_zizmor(root: Path, persona: str) -> tuple[set[Pair], set[Spot], list[str]]:
    proc = subprocess.run(["zizmor", "--offline", "--no-progress", "--format", "json", "--persona", persona,
                           str(root / ".github" / "workflows")],
                          capture_output=True, text=True, cwd=root)
    try:
        results = json.loads(proc.stdout or "[]")
    except ValueError:
        return set(), set(), [f"zizmor failed: {proc.stderr.strip()[:200]}"]
    pairs: set[Pair] = set()
    spots: set[Spot] = set()
    other: list[str] = []
    for r in results:
        ident = r.get("ident", "")
        rule = MAPPING.get(ident)
        for loc in r.get("locations", []):
            if loc.get("symbolic", {}).get("kind") != "Primary":
                continue
            key = loc["symbolic"]["key"]
            path = next(iter(key.values())).get("verbatim_path", "") if isinstance(key, dict) else ""
            rel = _rel(root, path)
            line = loc["concrete"]["location"]["start_point"]["row"] + 1
            if rule is None:
                other.append(f"{rel}:{line} {ident}")
                continue
            pairs.add(("", rel, rule))
            if ident in LINE_LEVEL:
                spots.add(("", rel, LINE_LEVEL[ident], line))
    return pairs, spots, other


def _rel(root: Path, path: str) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = (root / p) if (root / p).exists() else (root / ".github" / "workflows" / p.name)
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def run_kohalint(root: Path) -> tuple[set[Pair], set[Spot]]:
    report = kohalint.scan(root, config={"select": list(RULES)})
    pairs: set[Pair] = set()
    spots: set[Spot] = set()
    for f in report.findings:
        if not f.location.path.startswith(".github/workflows/"):
            continue
        pairs.add(("", f.location.path, f.rule_id))
        kind = _kind(f)
        if kind:
            spots.add(("", f.location.path, kind, f.location.line))
    return pairs, spots


def _kind(f) -> str:  # noqa: ANN001
    if f.rule_id == "KL201":
        return "image" if f.message.startswith("image `") else "uses"
    if f.rule_id == "KL209" and f.identity.startswith("inject|"):
        return "injection"
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--details", action="store_true", help="list every disagreement")
    ap.add_argument("--persona", default="regular", choices=("regular", "pedantic", "auditor"))
    args = ap.parse_args(argv)
    if shutil.which("zizmor") is None:
        print("zizmor is not installed (pip install zizmor); nothing to compare", file=sys.stderr)
        return 2
    version = subprocess.run(["zizmor", "--version"], capture_output=True, text=True).stdout.strip()
    z_pairs: set[Pair] = set()
    k_pairs: set[Pair] = set()
    z_spots: set[Spot] = set()
    k_spots: set[Spot] = set()
    unmapped: dict[str, list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        items = corpus(Path(tmp))
        for name, root in items:
            zp, zs, other = run_zizmor(root, args.persona)
            kp, ks = run_kohalint(root)
            z_pairs |= {(name, p, r) for _, p, r in zp}
            k_pairs |= {(name, p, r) for _, p, r in kp}
            z_spots |= {(name, p, r, n) for _, p, r, n in zs}
            k_spots |= {(name, p, r, n) for _, p, r, n in ks}
            unmapped[name] += other
    print(f"{version} (--persona {args.persona}) vs kohalint {kohalint.__version__}: "
          f"{len(items)} example repositories")
    print("\nWorkflow files flagged per rule (file level):")
    print(f"  {'rule':9} {'both':>5} {'kohalint only':>14} {'zizmor only':>12} {'agreement':>10}")
    for rule in RULES:
        z = {x for x in z_pairs if x[2] == rule}
        k = {x for x in k_pairs if x[2] == rule}
        _row(rule, z, k)
    print("\nLine level (the same construct flagged at the same line):")
    print(f"  {'kind':9} {'both':>5} {'kohalint only':>14} {'zizmor only':>12} {'agreement':>10}")
    for kind in ("uses", "image", "injection"):
        _row(kind, {x for x in z_spots if x[2] == kind}, {x for x in k_spots if x[2] == kind})
    if args.details:
        print("\nkohalint only (file level):")
        for x in sorted(k_pairs - z_pairs):
            print(f"  {x[2]} {x[0]}: {x[1]}")
        print("zizmor only (file level):")
        for x in sorted(z_pairs - k_pairs):
            print(f"  {x[2]} {x[0]}: {x[1]}")
        print("line level, kohalint only:")
        for x in sorted(k_spots - z_spots):
            print(f"  {x[2]} {x[0]}: {x[1]}:{x[3]}")
        print("line level, zizmor only:")
        for x in sorted(z_spots - k_spots):
            print(f"  {x[2]} {x[0]}: {x[1]}:{x[3]}")
        print("zizmor audits with no kohalint counterpart:")
        counts: dict[str, int] = defaultdict(int)
        for lines in unmapped.values():
            for entry in lines:
                counts[entry.split(" ")[-1]] += 1
        for ident, n in sorted(counts.items()):
            print(f"  {ident}: {n}")
    return 0


def _row(label: str, z: set, k: set) -> None:
    both, only_k, only_z = len(z & k), len(k - z), len(z - k)
    total = both + only_k + only_z
    share = f"{100 * both / total:.0f}%" if total else "-"
    print(f"  {label:9} {both:>5} {only_k:>14} {only_z:>12} {share:>10}")


if __name__ == "__main__":
    sys.exit(main())
