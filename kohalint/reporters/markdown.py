"""A Markdown table of findings, for job summaries and pull request comments."""

from __future__ import annotations

from kohalint.models import Report
from kohalint.reporters.text import printable, summary_line


def _cell(s: str) -> str:
    return printable(s.replace("\n", " ")).replace("|", "\\|")


def _code(s: str) -> str:
    """A cell inside a `code span`, which a backtick would end."""
    return _cell(s).replace("`", "'")


def render_markdown(report: Report) -> str:
    out = ["## kohalint", "", summary_line(report), ""]
    if report.active:
        out += ["| Severity | Rule | Location | Message |", "|---|---|---|---|"]
        for f in report.active:
            loc = f.location
            out.append(f"| {f.severity.value} | [{f.rule_id}](docs/rules/{f.rule_id}.md) {f.rule_name} | "
                       f"`{_code(loc.path)}:{loc.line}` | {_cell(f.message)} |")
    return "\n".join(out) + "\n"
