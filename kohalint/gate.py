"""`kohalint gate [PATH]`: the go-live gate, one PASS/FAIL line per area.

The gate is a view of an ordinary scan: it groups the unsuppressed findings by
area and fails an area on any finding at or above `gate.fail-on` (per area:
`gate.area-fail-on`), or on more findings than `gate.max-findings` allows.
An area the repository does not play (see `kohalint.roles`) shows as "n/a"
unless something in it was found anyway. Engine trouble (a file that does not
parse, a rule that crashed) gets its own "Engine" line, shown only when it
blocks: a gate that could not read everything must not pass.
Exit 0 when every line passes, 1 when one fails, 2 on errors (fail closed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kohalint.cli import EXTRA_COMMANDS, SEVERITIES, _write, add_scan_options, scan_from_args
from kohalint.config import Settings
from kohalint.errors import ConfigError
from kohalint.models import Area, Finding, Report, Severity

GATE_AREAS = (Area.security, Area.delivery, Area.supply_chain, Area.runtime, Area.observability,
              Area.recovery)
GATE_FORMATS = ("text", "markdown", "json")
PASS, FAIL, NA = "pass", "fail", "n/a"
UNJUDGED = ("KL001", "KL003")  # engine findings that always block


@dataclass
class AreaResult:
    area: Area
    status: str
    fail_on: Severity
    blocking: list[Finding] = field(default_factory=list)
    other: list[Finding] = field(default_factory=list)   # unsuppressed, below fail-on
    suppressed: int = 0
    max_findings: Optional[int] = None
    reason: str = ""  # why n/a, or why a count made it fail

    @property
    def title(self) -> str:
        return self.area.title

    @property
    def over_limit(self) -> bool:
        return self.max_findings is not None and len(self.blocking) + len(self.other) > self.max_findings

    @property
    def listed(self) -> list[Finding]:
        """The findings shown under a failed line."""
        return sorted(self.blocking + self.other, key=Finding.sort_key) if self.over_limit else self.blocking

    def counts(self) -> str:
        if self.status == NA:
            return self.reason
        parts = [f"{len(self.blocking)} blocking" + _by_severity(self.blocking)]
        if self.other:
            parts.append(f"{len(self.other)} below {self.fail_on.value}")
        if self.suppressed:
            parts.append(f"{self.suppressed} suppressed")
        if self.reason:
            parts.append(self.reason)
        return ", ".join(parts)


@dataclass
class GateResult:
    root: str
    areas: list[AreaResult]
    engine: Optional[AreaResult]
    internal_error: bool
    fail_on: Severity

    @property
    def lines(self) -> list[AreaResult]:
        return self.areas + ([self.engine] if self.engine is not None else [])

    @property
    def failed(self) -> list[AreaResult]:
        return [a for a in self.lines if a.status == FAIL]

    @property
    def passed(self) -> bool:
        return not self.failed and not self.internal_error

    @property
    def exit_code(self) -> int:
        if self.internal_error:
            return 2
        return 0 if self.passed else 1


def _by_severity(findings: list[Finding]) -> str:
    if not findings:
        return ""
    counts = Counter(f.severity for f in findings)
    return " (" + ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s]) + ")"


def evaluate(report: Report, settings: Settings, files: list[str]) -> GateResult:
    """Judge each area of `report`; `files` (the repository's) decide which areas apply."""
    from kohalint.roles import area_applies
    from kohalint.rules import registry

    selected_areas = set()
    for rid in report.rules_run:
        chk = registry.get(rid)
        if chk is not None:
            selected_areas.add(chk.area)
    opts = settings.gate
    results = []
    for area in GATE_AREAS:
        fail_on = opts.area_fail_on.get(area, opts.fail_on)
        res = _judge(area, report, fail_on, opts.max_findings.get(area))
        applies, why = area_applies(area, files, settings)
        if applies and area not in selected_areas:
            applies, why = False, "no rule of this area selected"
        if not applies and not res.blocking and not res.other:
            res.status, res.reason = NA, why
        results.append(res)
    engine = _judge(Area.engine, report, opts.fail_on, None)
    # an unparsable file or a crashed rule blocks whatever its severity: part of
    # the repository was not judged
    engine.blocking += [f for f in engine.other if f.rule_id in UNJUDGED]
    engine.other = [f for f in engine.other if f.rule_id not in UNJUDGED]
    engine.blocking.sort(key=Finding.sort_key)
    if engine.blocking or report.internal_error:
        engine.status = FAIL
    shown = engine if engine.status == FAIL else None
    return GateResult(report.root, results, shown, report.internal_error, opts.fail_on)


def _judge(area: Area, report: Report, fail_on: Severity, limit: Optional[int]) -> AreaResult:
    mine = [f for f in report.findings if f.area == area]
    active = [f for f in mine if not f.suppressed]
    res = AreaResult(area, PASS, fail_on, max_findings=limit, suppressed=len(mine) - len(active),
                     blocking=[f for f in active if f.severity.rank >= fail_on.rank],
                     other=[f for f in active if f.severity.rank < fail_on.rank])
    if res.over_limit:
        res.reason = f"more than the {limit} allowed (gate.max-findings)"
    if res.blocking or res.over_limit:
        res.status = FAIL
    return res


# -- rendering -------------------------------------------------------------------
_GREEN, _RED, _DIM, _BOLD, _RESET = "\033[32m", "\033[1;31m", "\033[2m", "\033[1m", "\033[0m"


def _where(f: Finding) -> str:
    from kohalint.reporters.text import printable

    loc = f.location
    return f"{printable(loc.path)}:{loc.line}:{loc.column}"


def render_text(gate: GateResult, *, color: bool = False, quiet: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    width = max(len(a.title) for a in gate.lines)
    out = [f"kohalint gate: an area fails on unsuppressed findings at {gate.fail_on.value} or above", ""]
    for a in gate.lines:
        label = {PASS: paint("PASS", _GREEN), FAIL: paint("FAIL", _RED), NA: paint("n/a ", _DIM)}[a.status]
        out.append(f"{label}  {a.title.ljust(width)}  {a.counts()}")
        if a.status == FAIL and not quiet:
            for f in a.listed:
                out.append(f"        {_where(f)}: {f.rule_id} [{f.severity.value}] {_printable(f.message)}")
    out.append("")
    out.append(_verdict(gate, paint))
    return "\n".join(out) + "\n"


def _verdict(gate: GateResult, paint=lambda t, _c: t) -> str:
    if gate.passed:
        judged = sum(1 for a in gate.areas if a.status == PASS)
        return paint("Gate: PASS", _GREEN) + f" ({judged} of {len(gate.areas)} areas judged, all pass)"
    names = ", ".join(a.title for a in gate.failed)
    extra = "; a rule failed, so the scan is incomplete (exit 2)" if gate.internal_error else ""
    return paint("Gate: FAIL", _RED) + f" ({names}){extra}"


def _printable(text: str) -> str:
    from kohalint.reporters.text import printable

    return printable(text)


def _cell(text: str) -> str:
    return _printable(text.replace("\n", " ")).replace("|", "\\|")


def render_markdown(gate: GateResult) -> str:
    mark = {PASS: "✅ PASS", FAIL: "❌ FAIL", NA: "➖ n/a"}
    verdict = "✅ PASS" if gate.passed else "❌ FAIL"
    out = [f"## kohalint gate: {verdict}", "",
           f"An area fails on unsuppressed findings at **{gate.fail_on.value}** or above.", "",
           "| Area | Result | Blocking | Below threshold | Suppressed | Note |",
           "|---|---|---|---|---|---|"]
    for a in gate.lines:
        if a.status == NA:
            out.append(f"| {a.title} | {mark[NA]} | | | | {_cell(a.reason)} |")
            continue
        out.append(f"| {a.title} | {mark[a.status]} | {len(a.blocking)}{_by_severity(a.blocking)} | "
                   f"{len(a.other)} | {a.suppressed} | {_cell(a.reason)} |")
    for a in gate.failed:
        out += ["", f"### {a.title}: {len(a.listed)} finding{'s' if len(a.listed) != 1 else ''} to fix", "",
                "| Severity | Rule | Location | Message |", "|---|---|---|---|"]
        for f in a.listed:
            out.append(f"| {f.severity.value} | [{f.rule_id}](docs/rules/{f.rule_id}.md) {f.rule_name} | "
                       f"`{_cell(f.location.path).replace(chr(96), chr(39))}:{f.location.line}` | {_cell(f.message)} |")
    if gate.internal_error:
        out += ["", "A rule failed on some file (KL003): the scan is incomplete, so the gate fails closed."]
    return "\n".join(out) + "\n"


def gate_dict(gate: GateResult) -> dict:
    from kohalint import __version__

    def finding(f: Finding) -> dict:
        return f.as_json()

    def area(a: AreaResult) -> dict:
        return {
            "area": a.area.value, "title": a.title, "status": a.status, "fail_on": a.fail_on.value,
            "reason": a.reason, "max_findings": a.max_findings,
            "counts": {"blocking": len(a.blocking), "below_threshold": len(a.other),
                       "suppressed": a.suppressed,
                       "by_severity": dict(sorted(Counter(f.severity.value
                                                          for f in a.blocking + a.other).items()))},
            "findings": [finding(f) for f in a.listed] if a.status == FAIL else [],
        }

    return {
        "version": 1,
        "tool": {"name": "kohalint", "version": __version__},
        "passed": gate.passed,
        "exit_code": gate.exit_code,
        "fail_on": gate.fail_on.value,
        "internal_error": gate.internal_error,
        "areas": [area(a) for a in gate.areas],
        "engine": area(gate.engine) if gate.engine is not None else None,
    }


def render(gate: GateResult, fmt: str, *, color: bool = False, quiet: bool = False) -> str:
    if fmt == "markdown":
        return render_markdown(gate)
    if fmt == "json":
        return json.dumps(gate_dict(gate), indent=2, sort_keys=True) + "\n"
    return render_text(gate, color=color, quiet=quiet)


# -- command -----------------------------------------------------------------------
def configure_parser(p: argparse.ArgumentParser) -> None:
    add_scan_options(p)
    p.add_argument("--format", choices=GATE_FORMATS, default="text",
                   help="text, markdown (for $GITHUB_STEP_SUMMARY) or json")
    p.add_argument("--fail-on", choices=SEVERITIES,
                   help="lowest severity that fails an area (default: gate.fail-on, high)")


def run(args: argparse.Namespace) -> int:
    """Print the go-live gate: one PASS/FAIL line per area (exit 0 only when all pass)."""
    from kohalint.repository import Repository

    paths = args.paths or ["."]
    if len(paths) != 1 or not Path(paths[0]).is_dir():
        raise ConfigError("the gate judges a whole repository: give one directory")
    report, settings = scan_from_args(args)
    if args.fail_on:
        settings = settings.model_copy(update={
            "gate": settings.gate.model_copy(update={"fail_on": Severity(args.fail_on)})})
    files = Repository(Path(report.root), exclude=settings.exclude,
                       max_file_bytes=settings.max_file_bytes).files
    gate = evaluate(report, settings, files)
    color = (args.output is None and args.format == "text" and sys.stdout.isatty()
             and not args.no_color and not os.environ.get("NO_COLOR"))
    _write(render(gate, args.format, color=color, quiet=args.quiet), args.output)
    return gate.exit_code


EXTRA_COMMANDS["gate"] = (configure_parser, run)
