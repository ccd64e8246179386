"""SARIF 2.1.0 for GitHub code scanning.

GitHub keys alerts on `partialFingerprints`, so ours ignore line numbers; a
suppressed finding stays in the log with `suppressions`, so GitHub closes the
alert instead of reopening it on the next upload.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from kohalint import __version__
from kohalint.models import Finding, Report

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/kohalint/kohalint"


def rule_descriptor(rule_id: str) -> dict:
    from kohalint.rules import registry

    chk = registry.get(rule_id)
    assert chk is not None
    meta = chk.meta
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": meta.rationale.strip()},
        "help": {"text": _help_text(meta), "markdown": _help_markdown(meta)},
        "helpUri": f"{INFORMATION_URI}/blob/main/docs/rules/{meta.id}.md",
        "defaultConfiguration": {"level": meta.severity.sarif_level},
        "properties": {
            "tags": list(dict.fromkeys(["security", meta.area.value])),
            "precision": {"high": "high", "medium": "medium", "low": "low"}[meta.confidence],
            "security-severity": meta.severity.security_severity,
        },
    }


def _help_text(meta) -> str:
    return f"{meta.summary}\n\nWhy: {meta.rationale.strip()}\n\nFix: {meta.remediation.strip()}"


def _help_markdown(meta) -> str:
    refs = "".join(f"\n- {r}" for r in meta.references)
    return (f"**{meta.id} {meta.name}** ({meta.severity.value})\n\n{meta.summary}\n\n"
            f"### Why\n{meta.rationale.strip()}\n\n### How to fix\n{meta.remediation.strip()}"
            + (f"\n\n### References{refs}" if refs else ""))


def _result(f: Finding, index: dict[str, int]) -> dict:
    loc = f.location
    region = {"startLine": loc.line}
    if loc.column > 0:
        region["startColumn"] = loc.column
    result = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": f.severity.sarif_level,
        "message": {"text": f.message},
        "locations": [_location(loc.path, region)],
        "partialFingerprints": {"kohalintFingerprint/v1": f.fingerprint},
        "properties": {"severity": f.severity.value, "area": f.area.value},
    }
    if f.related:
        result["relatedLocations"] = [
            dict(_location(r.path, {"startLine": r.line}), id=i, message={"text": r.note or "related"})
            for i, r in enumerate(f.related)]
    if f.suppression is not None:
        sup = {"kind": f.suppression.kind, "status": "accepted"}
        if f.suppression.justification:
            sup["justification"] = f.suppression.justification
        result["suppressions"] = [sup]
    return result


def _location(path: str, region: dict) -> dict:
    # surrogateescape: a file name that is not UTF-8 keeps its own bytes (%FF)
    return {"physicalLocation": {"artifactLocation": {"uri": quote(path, errors="surrogateescape"),
                                                      "uriBaseId": "%SRCROOT%"},
                                 "region": region}}


def to_sarif(report: Report, automation_id: Optional[str] = None) -> dict:
    rule_ids = sorted(set(report.rules_run) | {f.rule_id for f in report.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    run: dict = {
        "tool": {"driver": {
            "name": "kohalint",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [rule_descriptor(r) for r in rule_ids],
        }},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in report.findings],
    }
    if automation_id:
        run["automationDetails"] = {"id": automation_id}
    if report.notes:
        run["invocations"] = [{
            "executionSuccessful": not report.internal_error,
            "toolExecutionNotifications": [
                {"level": "note", "message": {"text": n.message},
                 "locations": [_location(n.path, {"startLine": 1})]} for n in report.notes],
        }]
    else:
        run["invocations"] = [{"executionSuccessful": not report.internal_error}]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
