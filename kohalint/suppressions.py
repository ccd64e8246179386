"""Inline suppressions: `# kohalint: ignore[KL409,host-escape] reason`.

A suppression applies to a finding on its own line (trailing comment) or on
the next line when the comment stands alone on the line above. It works in
every file kind kohalint reads that has `#` or `;` comments. Suppressed
findings are kept (SARIF reports them with `suppressions`); a suppression
that matched nothing is KL002.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from kohalint.models import Finding, Location, Suppression

_COMMENT = re.compile(r"(?:^|\s)[#;]\s*kohalint:\s*ignore\[([^\]]*)\]\s*(.*)$")


@dataclass
class InlineSuppression:
    path: str
    line: int           # the comment's own line
    column: int
    targets: list[str]  # codes or names as written
    reason: str
    standalone: bool    # the comment is the whole line: it covers the next line
    used: bool = field(default=False)

    def covers(self, line: int) -> bool:
        return line == self.line or (self.standalone and line == self.line + 1)


def find_suppressions(path: str, text: str) -> list[InlineSuppression]:
    if "kohalint:" not in text:
        return []
    out = []
    for no, raw in enumerate(text.splitlines(), start=1):
        if "kohalint:" not in raw:
            continue
        m = _COMMENT.search(raw)
        if not m:
            continue
        targets = [t.strip() for t in m.group(1).split(",") if t.strip()]
        reason = m.group(2).strip()
        reason = re.sub(r"\s*(-->|\*/)\s*$", "", reason)
        standalone = raw[: m.start()].strip() == ""
        out.append(InlineSuppression(path, no, m.start(1) - len("kohalint: ignore["), targets,
                                     reason, standalone))
    return out


def apply_suppressions(findings: list[Finding], read_text: Callable[[str], Optional[str]],
                       resolve: Callable[[str], Optional[str]], *, require_reason: bool,
                       scanned_paths: Iterable[str]) -> list[InlineSuppression]:
    """Mark suppressed findings in place; return every suppression seen."""
    by_path: dict[str, list[InlineSuppression]] = {}

    def sups(path: str) -> list[InlineSuppression]:
        if path not in by_path:
            text = read_text(path)
            by_path[path] = find_suppressions(path, text) if text else []
        return by_path[path]

    for path in scanned_paths:
        sups(path)
    for f in findings:
        if f.suppression is not None:
            continue
        for s in sups(f.location.path):
            if not s.covers(f.location.line):
                continue
            ids = {resolve(t) for t in s.targets}
            if f.rule_id not in ids:
                continue
            if require_reason and not s.reason:
                continue
            s.used = True
            f.suppression = Suppression(kind="inSource", justification=s.reason,
                                        location=Location(path=s.path, line=s.line))
            break
    return [s for lst in by_path.values() for s in lst]
