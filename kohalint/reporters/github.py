"""GitHub Actions workflow commands: annotations on the pull request diff."""

from __future__ import annotations

from kohalint.models import Report
from kohalint.reporters.text import printable

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def _data(s: str) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(s)  # what is left: escape sequences and the like


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for f in report.active:
        loc = f.location
        title = _prop(f"{f.rule_id} {f.rule_name}")
        lines.append(f"::{_LEVEL[f.severity.value]} file={_prop(loc.path)},line={loc.line},"
                     f"col={loc.column},title={title}::{_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
