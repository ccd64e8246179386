"""The benchmark's table, its targets (pass/fail) and docs/performance.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from measure import Series

MARK_START = "<!-- bench:results:start -->"
MARK_END = "<!-- bench:results:end -->"


def _f(v: Optional[float], fmt: str = "{:.2f}") -> str:
    return "-" if v is None else fmt.format(v)


def _row(name: str, sample: Optional[Series], big: Optional[Series], ds_big: Optional[float]) -> str:
    cells = [name]
    for s in (sample, big):
        if s is None or not s.samples:
            cells += [s.error if s is not None and s.error else "-", "-", "-"]
            continue
        cells += [f"{_f(s.median('wall'))} s", f"{_f(s.median('cpu'))} s",
                  f"{_f(s.median('max_rss_mib'), '{:.0f}')} / {_f(s.median('tree_rss_mib'), '{:.0f}')} MiB"]
    ratio = big.median("wall") / ds_big if big is not None and big.samples and ds_big else None
    cells.append(_f(ratio, "{:.3f}×"))
    return "| " + " | ".join(cells) + " |"


def targets(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, holds)."""
    out = []
    sample, big = r.get("sample", {}), r.get("big", {})
    k = sample.get("kohalint")
    ds = sample.get("detect-secrets")
    def floor(name: str) -> str:
        s = sample.get(name)
        return f"; its imports alone: {s.median('wall'):.2f} s" if s is not None and s.samples else ""

    if k is not None and k.samples:
        kw = k.median("wall")
        dsw = ds.median("wall") if ds is not None and ds.samples else None
        out.append(("every rule on the sample ≤ 0.35 s and under detect-secrets",
                    f"{kw:.2f} s (detect-secrets {_f(dsw)} s{floor('floor: full-scan imports')})",
                    kw <= 0.35 and (dsw is None or kw < dsw)))
    for name, what, fl in (("kohalint compose.prod.yaml", "needs no secret scan", "floor: pre-commit imports"),
                           ("kohalint compose.yaml", "holds a literal password: KL101 runs detect-secrets",
                            "")):
        s = sample.get(name)
        if s is not None and s.samples:
            out.append((f"pre-commit, one compose file ({what}) ≤ 0.20 s",
                        f"{s.median('wall'):.2f} s{floor(fl) if fl else ''}", s.median("wall") <= 0.20))
    kb, db = big.get("kohalint"), big.get("detect-secrets")
    if kb is not None and kb.samples:
        if db is not None and db.samples:
            ratio = kb.median("wall") / db.median("wall")
            out.append(("big tree ≤ 0.1× detect-secrets' wall time", f"{ratio:.3f}×", ratio <= 0.1))
        peak = kb.median("tree_rss_mib")
        out.append(("big tree ≤ 300 MiB peak (all processes together, PSS)", f"{peak:.0f} MiB", peak <= 300))
        par = kb.median("cpu") / kb.median("wall")
        load = kb.median("load")
        out.append(("big tree uses both cores (CPU time / wall time)",
                    f"{par:.2f} (1-minute load {load:.1f} from other work at the end of the runs)", par >= 1.3))
    scaling = r.get("scaling")
    if scaling:
        # CPU time: wall time on a shared machine moves with the others' load
        files = {int(c): r["trees"]["big" if int(c) == 200 else f"scale-{c}"][0] for c in scaling}
        per = {int(c): (s.median("cpu") / files[int(c)] * 1000, s.median("wall") / files[int(c)] * 1000)
               for c, s in scaling.items() if s.samples}
        if len(per) >= 2:
            # linear or better: the largest tree costs no more per file than the smallest (+25%);
            # a smaller tree pays the fixed start-up over fewer files
            sizes = sorted(per)
            growth = per[sizes[-1]][0] / per[sizes[0]][0]
            shown = ", ".join(f"{c} copies: {cpu:.2f} s CPU ({wall:.2f} s wall)"
                              for c, (cpu, wall) in sorted(per.items()))
            out.append(("time grows linearly with files (CPU s per 1,000 files, largest ≤ 1.25× smallest)",
                        shown, growth <= 1.25))
    ag = r.get("agreement")
    if ag:
        missed = ag["reasons"].get("MISSED", 0)
        out.append(("KL101 finds every detect-secrets secret but placeholders, encrypted values, "
                    "digests and UUIDs", f"{missed} missed", missed == 0))
    return out


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, "
             f"Python {m['python']}. 1-minute load average {r['load_before']:.1f} before, "
             f"{r['load_after']:.1f} after (the machine is shared).", ""]
    for name, (files, size) in r.get("trees", {}).items():
        lines.append(f"- tree `{name}`: {files:,} files, {size / 1e6:.1f} MB")
    lines += ["", "Medians; peak memory is the largest process (RSS) / all processes of the run together "
              "(their PSS summed: pages a forked process shares with its parent count once).", "",
              "| tool | sample wall | sample CPU | sample peak | big wall | big CPU | big peak | big vs detect-secrets |",
              "|---|---|---|---|---|---|---|---|"]
    sample, big = r.get("sample", {}), r.get("big", {})
    db = big.get("detect-secrets")
    ds_big = db.median("wall") if db is not None and db.samples else None
    for name in sample:
        lines.append(_row(name, sample.get(name), big.get(name), ds_big))
    for name, why in r.get("skipped", {}).items():
        lines.append(f"| {name} | {why} | | | | | | |")
    lines += ["", "| target | measured | holds |", "|---|---|---|"]
    for what, measured, ok in targets(r):
        lines.append(f"| {what} | {measured} | {'yes' if ok else '**no**'} |")
    ag = r.get("agreement")
    if ag:
        lines += ["", f"KL101 against `detect-secrets scan` on the big tree: detect-secrets reports "
                  f"{ag['detect_secrets']:,} secrets (Public IP results left out), KL101 {ag['kl101']:,} findings.", ""]
        for why, n in sorted(ag["reasons"].items(), key=lambda kv: -kv[1]):
            lines.append(f"- {why}: {n:,}")
        lines.append(f"- KL101 findings on lines detect-secrets does not report: {ag['kl101_only_lines']:,}")
        for miss in ag["missed"]:
            lines.append(f"  - missed: {miss}")
    for tool, p in (r.get("planted") or {}).items():
        flagged = ", ".join(f"{n} {k}" for k, n in sorted(p["not_secrets_flagged"].items())) or "none"
        lines.append(f"- planted in the generated files, {tool}: {p['secrets_found']} of {p['secrets']} "
                     f"fake credentials found; non-secrets flagged: {flagged}")
    return "\n".join(lines) + "\n"


def as_json(r: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        if isinstance(v, Series):
            return {"samples": [s.__dict__ for s in v.samples], "error": v.error}
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        return v
    return conv(r)


def update_docs(path: Path, text: str) -> None:
    doc = path.read_text() if path.exists() else "# Performance\n"
    block = f"{MARK_START}\n{text}{MARK_END}"
    if MARK_START in doc and MARK_END in doc:
        doc = re.sub(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), lambda _m: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n## Latest run of bench/run.py\n\n" + block + "\n"
    path.write_text(doc)


def load_json(path: Path) -> dict[str, Any]:
    """results.json back into what `render` takes (to re-render without re-running)."""
    import json

    from measure import Sample

    def series(d: dict) -> Series:
        return Series([Sample(**x) for x in d["samples"]], d.get("error", ""))

    r = json.loads(path.read_text())
    for key in ("sample", "big", "scaling"):
        if key in r:
            r[key] = {k: series(v) for k, v in r[key].items()}
    r["trees"] = {k: tuple(v) for k, v in r.get("trees", {}).items()}
    return r


if __name__ == "__main__":
    # python bench/report.py [--update-docs]: render bench/out/results.json again
    import sys

    here = Path(__file__).resolve().parent
    text = render(load_json(here / "out" / "results.json"))
    print(text)
    if "--update-docs" in sys.argv:
        update_docs(here.parent / "docs" / "performance.md", text)
