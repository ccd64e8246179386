"""Baselines: accept today's findings, report only new ones.

`kohalint baseline [PATH] -o .kohalint-baseline.json` records the fingerprint
of every active finding; `kohalint check --baseline FILE` then marks findings
whose fingerprint is recorded as suppressed (kind `external`), so they stay in
SARIF with `suppressions` and GitHub closes their alerts instead of reopening
them.

Fingerprints come from the engine: rule, path and the flagged construct (the
check's `identity`, or the normalized flagged line plus the message, hashed),
never the line number, so inserting lines above a finding keeps it baselined.
Identical findings share a fingerprint, so an entry carries a `count`: a
third copy of a line that was baselined twice is a new finding.

The file holds hashes, rule ids and paths only, never a message or a flagged
line: either could quote a secret. It records the settings it was made with
(like detect-secrets' baseline) so a reader can tell why a rule is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

from kohalint import __version__
from kohalint.errors import ConfigError
from kohalint.models import Note, Report, Suppression

FORMAT_VERSION = 1
DEFAULT_FILE = ".kohalint-baseline.json"
# Internal errors must fail every run (fail closed): never accepted.
NEVER_BASELINED = frozenset({"KL003"})


def build_baseline(report: Report, settings: Any, previous: Optional[dict] = None) -> dict:
    """The baseline document for `report` (a JSON-ready dict, deterministic)."""
    reasons = {e["fingerprint"]: e["reason"] for e in (previous or {}).get("findings", [])
               if isinstance(e, dict) and e.get("reason") and isinstance(e.get("fingerprint"), str)}
    counts: Counter[tuple[str, str, str]] = Counter(
        (f.location.path, f.rule_id, f.fingerprint) for f in report.active
        if f.rule_id not in NEVER_BASELINED and f.fingerprint)
    entries = []
    for (path, rule, fp), n in sorted(counts.items()):
        entry: dict[str, Any] = {"rule": rule, "path": path, "fingerprint": fp}
        if n > 1:
            entry["count"] = n
        if fp in reasons:
            entry["reason"] = reasons[fp]  # a person wrote it: keep it across regenerations
        entries.append(entry)
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "kohalint", "version": __version__},
        "settings": _settings_record(settings),
        "findings": entries,
    }


def dump_baseline(doc: dict) -> str:
    """JSON with one finding per line, so a baseline change reads well in a diff."""
    head = {k: v for k, v in doc.items() if k != "findings"}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()] + ['  "findings": [']
    entries = doc.get("findings", [])
    lines += [f"    {json.dumps(e)}" + ("," if i < len(entries) - 1 else "") for i, e in enumerate(entries)]
    return "\n".join(lines + ["  ]", "}"]) + "\n"


def _settings_record(settings: Any) -> dict:
    if settings is None:
        return {}
    return {
        "select": list(settings.select),
        "extend-select": list(settings.extend_select),
        "ignore": list(settings.ignore),
        "no-inline-suppressions": bool(settings.no_inline_suppressions),
    }


def load_baseline(path: Path) -> dict:
    """Read and validate a baseline file; ConfigError (exit 2) when unusable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline file not found (create it with `kohalint baseline`)") from None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        raise ConfigError(f"{path}: not a readable kohalint baseline ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ConfigError(f"{path}: not a kohalint baseline (no 'findings' list)")
    version = data.get("version")
    if version != FORMAT_VERSION:
        raise ConfigError(f"{path}: baseline format version {version!r} is not supported "
                          f"(this kohalint reads version {FORMAT_VERSION}); regenerate it")
    for i, e in enumerate(data["findings"]):
        if not isinstance(e, dict) or not isinstance(e.get("fingerprint"), str):
            raise ConfigError(f"{path}: findings[{i}] has no fingerprint")
        count = e.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"{path}: findings[{i}].count must be a positive integer")
    return data


def apply_baseline(report: Report, path: Path | str) -> int:
    """Mark findings recorded in the baseline as suppressed (kind `external`).

    Returns how many findings the baseline accepted. Findings already
    suppressed inline keep their inline suppression and use no baseline entry.
    """
    path = Path(path)
    data = load_baseline(path)
    budget: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for e in data["findings"]:
        budget[e["fingerprint"]] += e.get("count", 1)
        if isinstance(e.get("reason"), str) and e["reason"].strip():
            reasons[e["fingerprint"]] = e["reason"].strip()
    accepted = 0
    for f in sorted(report.findings, key=lambda x: x.sort_key()):
        if f.suppressed or f.rule_id in NEVER_BASELINED or budget[f.fingerprint] <= 0:
            continue
        budget[f.fingerprint] -= 1
        accepted += 1
        f.suppression = Suppression(kind="external",
                                    justification=reasons.get(f.fingerprint, f"accepted in baseline {path.name}"))
    recorded = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    made_with = recorded.get("select")
    if isinstance(made_with, list) and report.rules_run and _rules_missing(made_with, recorded, report):
        report.notes.append(Note(path=path.as_posix(), message=(
            "the baseline was made with a narrower rule selection than this run: findings of "
            "the other rules are all reported as new")))
    return accepted


def _rules_missing(select: list, recorded: dict, report: Report) -> bool:
    from kohalint.rules import registry

    try:
        made = registry.resolve(list(select) + list(recorded.get("extend-select") or []))
        made -= registry.resolve(list(recorded.get("ignore") or []))
    except (ConfigError, TypeError, AttributeError):  # hand-edited: not lists of rule names
        return True  # it names rules this version does not know
    return bool(set(report.rules_run) - made - {"KL001", "KL002", "KL003"})


# -- `kohalint baseline` ------------------------------------------------------------

def configure(p: argparse.ArgumentParser) -> None:
    from kohalint.cli import add_scan_options

    add_scan_options(p)


def run(args: argparse.Namespace) -> int:
    """Record the current findings so later runs report only new ones."""
    from kohalint.cli import scan_from_args

    out = args.output
    if out is None:
        roots = [p for p in (args.paths or ["."]) if Path(p).is_dir()]
        out = Path(roots[0] if roots else ".") / DEFAULT_FILE
    previous = None
    if out.is_file():
        try:
            previous = load_baseline(out)
        except ConfigError:
            previous = None  # an unreadable old baseline is replaced, not merged
    args.output = None
    args.baseline = None  # a baseline records everything; reasons carry over from `out`
    report, settings = scan_from_args(args)
    if report.internal_error:
        print("kohalint: error: a rule failed (KL003); not writing a baseline that would hide it",
              file=sys.stderr)
        return 2
    doc = build_baseline(report, settings, previous)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_baseline(doc), encoding="utf-8")
    n = sum(e.get("count", 1) for e in doc["findings"])
    if not args.quiet:
        print(f"kohalint: baseline of {n} finding{'s' if n != 1 else ''} written to {out}", file=sys.stderr)
    return 0


def _register() -> None:
    from kohalint.cli import EXTRA_COMMANDS

    EXTRA_COMMANDS["baseline"] = (configure, run)


_register()
