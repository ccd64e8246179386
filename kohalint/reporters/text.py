"""`path:line:col: KL402 [high] message`, one per line, then a summary."""

from __future__ import annotations

import re
from collections import Counter

from kohalint.models import Report, Severity

# Control characters, line separators and bidirectional overrides: a file name
# or a YAML value may carry them, and printed raw they would rewrite the
# terminal, split a line of a CI log (where a line such as `::error::` is a
# command) or reorder what the reader sees. Lone surrogates stand for the bytes
# of a file name that is not UTF-8: a strict stdout cannot encode them.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every unprintable character written as a visible escape (`\\x1b`)."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"
                            if ord(m.group()) > 0xff else f"\\x{ord(m.group()):02x}"), text)


_COLOURS = {Severity.critical: "\033[1;31m", Severity.high: "\033[31m",
            Severity.medium: "\033[33m", Severity.low: "\033[36m"}
_RESET = "\033[0m"
_BOLD = "\033[1m"


def render_text(report: Report, *, color: bool = False, statistics: bool = False,
                quiet: bool = False, **_: object) -> str:
    out: list[str] = []
    active = report.active
    last_path = None
    for f in active:
        loc = f.location
        if last_path is not None and loc.path != last_path:
            out.append("")  # a blank line between files keeps long reports readable
        last_path = loc.path
        sev = f"[{f.severity.value}]"
        rid = f.rule_id
        where = f"{printable(loc.path)}:{loc.line}:{loc.column}:"
        if color:
            where = f"{_BOLD}{where}{_RESET}"
            sev = f"{_COLOURS[f.severity]}{sev}{_RESET}"
        out.append(f"{where} {rid} {sev} {printable(f.message)}")
    if statistics and active:
        out.append("")
        counts = Counter((f.rule_id, f.rule_name) for f in active)
        for (rid, name), n in sorted(counts.items()):
            out.append(f"{n:5d}  {rid}  {name}")
    if not quiet:
        if active:
            out.append("")
        out.append(summary_line(report))
    return "\n".join(out) + "\n"


def summary_line(report: Report) -> str:
    active = report.active
    by_sev = Counter(f.severity for f in active)
    parts = [f"{by_sev[s]} {s.value}" for s in Severity if by_sev[s]]
    files = len({f.location.path for f in active})
    suppressed = len(report.findings) - len(active)
    if active:
        text = f"{len(active)} finding{'s' if len(active) != 1 else ''} ({', '.join(parts)}) in {files} file{'s' if files != 1 else ''}"
    else:
        text = "no findings"
    extras = [f"{report.files_scanned} files scanned"]
    if suppressed:
        extras.append(f"{suppressed} suppressed")
    if report.notes:
        extras.append(f"{len(report.notes)} skipped or not read")
    return f"{text}; {', '.join(extras)}."
