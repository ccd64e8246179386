"""Renderers: a Report in, a string out. Deterministic: same report, same bytes."""

from __future__ import annotations

from typing import Callable

from kohalint.models import Report


def render(report: Report, fmt: str, **options) -> str:
    return FORMATS[fmt](report, **options)


def _text(report: Report, **o) -> str:
    from kohalint.reporters.text import render_text
    return render_text(report, **o)


def _json(report: Report, **o) -> str:
    from kohalint.reporters.json_report import render_json
    return render_json(report, **o)


def _sarif(report: Report, **o) -> str:
    import json

    from kohalint.reporters.sarif import to_sarif
    return json.dumps(to_sarif(report, automation_id=o.get("automation_id")), indent=2, sort_keys=False) + "\n"


def _github(report: Report, **o) -> str:
    from kohalint.reporters.github import render_github
    return render_github(report)


def _markdown(report: Report, **o) -> str:
    from kohalint.reporters.markdown import render_markdown
    return render_markdown(report)


FORMATS: dict[str, Callable[..., str]] = {
    "text": _text, "json": _json, "sarif": _sarif, "github": _github, "markdown": _markdown,
}
