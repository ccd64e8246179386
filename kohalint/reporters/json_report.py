"""Machine-readable findings: stable keys, sorted, no absolute paths."""

from __future__ import annotations

import json
from collections import Counter

from kohalint import __version__
from kohalint.models import Report


def report_dict(report: Report) -> dict:
    return {
        "version": 1,
        "tool": {"name": "kohalint", "version": __version__},
        "summary": {
            "findings": len(report.active),
            "suppressed": len(report.findings) - len(report.active),
            "by_severity": dict(sorted(Counter(f.severity.value for f in report.active).items())),
            "files_scanned": report.files_scanned,
            "internal_error": report.internal_error,
        },
        "findings": [f.as_json() for f in report.findings],
        "notes": [n.model_dump(mode="json") for n in report.notes],
    }


def render_json(report: Report, **_: object) -> str:
    """Keys sorted and indented as `json.dumps(indent=2)` would, except that
    each finding and note takes one line: as readable, easier to grep, and on
    a large repository several times faster to write (the json module's C
    encoder does not indent; its Python one took a second for 26,000
    findings)."""
    data = report_dict(report)
    encode = json.JSONEncoder(sort_keys=True).encode  # one encoder: json.dumps builds one per call
    parts = []
    for key in _LISTS:  # "findings" and "notes" sort before the other keys
        items = ",\n".join("    " + encode(item) for item in data.pop(key))
        parts.append(f'  "{key}": [\n{items}\n  ]' if items else f'  "{key}": []')
    rest = json.dumps(data, indent=2, sort_keys=True)[2:-2]  # the other keys, without "{\n" and "\n}"
    return "{\n" + ",\n".join(parts + [rest]) + "\n}\n"


_LISTS = ("findings", "notes")
