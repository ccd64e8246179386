"""KL101 against `detect-secrets scan` on the same tree (same default plugins).

A detect-secrets result counts as found when KL101 reports the same value
(its identity is the value's SHA-256) in the same file. The ones KL101 does
not report are sorted by why, with kohalint's own classifiers: placeholders
and references, encrypted values, hex digests and UUIDs the line names as
such (detect-secrets' usual false positives); whatever is left is a miss.
On the generated files the truth is known (`trees.generated_file` plants
each line), so both tools also get a recall and a false-positive count.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kohalint.secret_values import (  # noqa: E402
    identity,
    is_checksum,
    is_encrypted_value,
    is_interpolation,
    is_placeholder,
    is_uuid,
)

# Not a credential; kohalint leaves this plugin out on purpose.
IGNORED_TYPES = {"Public IP (ipv4)"}


def detect_secrets_values(python: Path, tree: Path, out: Path, stamp: Path) -> list[dict[str, Any]]:
    """Run bench/ds_values.py with detect-secrets' own interpreter; its output is
    kept next to the tree and reused while the tree (its stamp) is unchanged."""
    if not (out.is_file() and stamp.is_file() and out.stat().st_mtime > stamp.stat().st_mtime):
        with open(out.with_suffix(".tmp"), "wb") as fh:
            subprocess.run([str(python), str(ROOT / "bench" / "ds_values.py")], cwd=tree, stdout=fh,
                           check=True, timeout=7200)
        out.with_suffix(".tmp").replace(out)
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def kl101_findings(report: Path) -> list[dict[str, Any]]:
    data = json.loads(report.read_text())
    return [f for f in data["findings"] if f["rule_id"] == "KL101"]


def _why_not(value: str, line: str) -> str:
    if is_placeholder(value) or is_interpolation(value):
        return "placeholder or reference"
    if is_encrypted_value(value):
        return "encrypted value"
    if is_checksum(value, line):
        return "hex digest named as such"
    if is_uuid(value, line):
        return "UUID"
    return "MISSED"


def _fingerprint(path: str, value: str) -> str:
    # what kohalint.engine.fingerprint gives a KL101 finding: its identity is
    # the value's SHA-256, and the report carries only the fingerprint
    return hashlib.sha256(f"KL101|{path}|{identity(value)}".encode("utf-8", "replace")).hexdigest()[:32]


def compare(tree: Path, ds: list[dict[str, Any]], kl: list[dict[str, Any]]) -> dict[str, Any]:
    kl_keys = {f["fingerprint"] for f in kl}
    kl_lines = {(f["location"]["path"], f["location"]["line"]) for f in kl}
    reasons: Counter[str] = Counter()
    missed: list[str] = []
    lines_cache: dict[str, list[str]] = {}
    counted = 0
    for hit in ds:
        if hit["type"] in IGNORED_TYPES or hit.get("value") is None:
            continue
        counted += 1
        if _fingerprint(hit["file"], hit["value"]) in kl_keys:
            reasons["found"] += 1
            continue
        lines = lines_cache.get(hit["file"])
        if lines is None:
            try:
                lines = (tree / hit["file"]).read_text(errors="replace").splitlines()
            except OSError:
                lines = []
            lines_cache[hit["file"]] = lines
        line = lines[hit["line"] - 1] if 0 < hit["line"] <= len(lines) else ""
        why = _why_not(hit["value"], line)
        reasons[why] += 1
        if why == "MISSED":
            missed.append(f"{hit['file']}:{hit['line']} ({hit['type']})")
    ds_lines = {(h["file"], h["line"]) for h in ds}
    only_kl = sum(1 for key in kl_lines if key not in ds_lines)
    return {"detect_secrets": counted, "kl101": len(kl), "reasons": dict(reasons),
            "missed": missed[:20], "missed_total": len(missed), "kl101_only_lines": only_kl}


def planted(tree: Path, ds: list[dict[str, Any]], kl: list[dict[str, Any]], generated: int) -> dict[str, Any]:
    """Recall and false positives on the generated files, whose every special line is known."""
    sys.path.insert(0, str(ROOT / "bench"))
    from trees import generated_file

    truth: dict[tuple[str, int], str] = {}
    for i in range(generated):
        rel, _, specials = generated_file(i)
        for line, kind in specials:
            truth[(rel, line)] = kind
    ds_at = {(h["file"], h["line"]) for h in ds if h["type"] not in IGNORED_TYPES}
    kl_at = {(f["location"]["path"], f["location"]["line"]) for f in kl}
    out: dict[str, Any] = {}
    for name, found in (("kohalint KL101", kl_at), ("detect-secrets", ds_at)):
        secrets = [k for k, v in truth.items() if v == "secret"]
        flagged = Counter(v for k, v in truth.items() if k in found and v != "secret")
        out[name] = {"secrets_found": sum(1 for k in secrets if k in found), "secrets": len(secrets),
                     "not_secrets_flagged": dict(flagged)}
    return out
