"""What a check receives besides its document: the repository, the shared
documents, typed settings, today's date, and a way to build findings.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Iterable, Optional

from kohalint.models import Finding, Location, Severity

if TYPE_CHECKING:
    from kohalint.config import Settings
    from kohalint.documents.store import Documents
    from kohalint.repository import Repository
    from kohalint.rules import Check


class Context:
    def __init__(self, repo: "Repository", docs: "Documents", settings: "Settings",
                 today: datetime.date) -> None:
        self.repo = repo
        self.docs = docs
        self.settings = settings
        self.today = today
        self.check: Optional["Check"] = None
        # Pre-commit mode: the files passed (root-relative); None for a full scan.
        # Findings elsewhere are dropped afterwards, so a rule may skip work
        # whose findings could only land on other files (`reports_on`).
        self.only: Optional[frozenset[str]] = None

    def reports_on(self, path: str) -> bool:
        """Whether a finding at `path` can reach the report."""
        return self.only is None or path in self.only

    def finding(self, path: str, line: int, message: str, *, column: int = 1,
                severity: Optional[Severity] = None, identity: str = "",
                related: Iterable[Location] = (), rule_id: Optional[str] = None) -> Finding:
        """A finding of the running check (or of `rule_id`), metadata filled in."""
        from kohalint.rules import registry

        chk = registry.get(rule_id) if rule_id else self.check
        assert chk is not None, "finding() outside a check needs rule_id"
        meta = chk.header  # not the whole record: its examples cost a YAML parse
        return Finding(
            rule_id=chk.id, rule_name=chk.name, area=meta.area,
            severity=severity or meta.severity, message=message,
            location=Location(path=path, line=max(1, line), column=max(1, column)),
            related=list(related), identity=identity,
        )

    def at(self, node, message: str, **kw) -> Finding:
        """A finding at a YAML node (its file, line and column)."""
        return self.finding(node.path, node.line, message, column=node.column, **kw)
