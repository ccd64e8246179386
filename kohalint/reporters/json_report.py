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
        "findings": [f.model_dump(mode="json", exclude={"identity"}) for f in report.findings],
        "notes": [n.model_dump(mode="json") for n in report.notes],
    }


def render_json(report: Report, **_: object) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=True) + "\n"
