"""Typed results: what a check yields and what reporters render.

Everything here is a pydantic model because these are the public, documented
shapes (Python API, JSON output). Checks build them through `Context.finding`,
which fills in rule metadata, so a check never repeats catalog data.
"""

from __future__ import annotations

import enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class Severity(str, enum.Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def sarif_level(self) -> str:
        return {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[self.value]

    @property
    def security_severity(self) -> str:
        return {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}[self.value]


_RANK = {Severity.critical: 4, Severity.high: 3, Severity.medium: 2, Severity.low: 1}


class Area(str, enum.Enum):
    engine = "engine"
    security = "security"
    delivery = "delivery"
    supply_chain = "supply-chain"
    runtime = "runtime"
    observability = "observability"
    recovery = "recovery"

    @property
    def title(self) -> str:
        return _AREA_TITLES[self]


_AREA_TITLES = {
    Area.engine: "Engine",
    Area.security: "Security",
    Area.delivery: "Delivery",
    Area.supply_chain: "Supply chain",
    Area.runtime: "Runtime",
    Area.observability: "Observability",
    Area.recovery: "Recovery",
}


class Location(BaseModel):
    """A place in the scanned repository; `path` is relative, posix."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int = 1
    column: int = 1
    note: str = ""  # "this job", "grants write here": for related locations


class Suppression(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # "inSource" (inline comment) or "external" (baseline, config)
    justification: str = ""
    location: Optional[Location] = None


class Finding(BaseModel):
    rule_id: str
    rule_name: str
    area: Area
    severity: Severity
    message: str
    location: Location
    related: list[Location] = Field(default_factory=list)
    # What identifies this finding apart from its line (service name, key path,
    # normalized content). Never a secret value: secret rules hash it first.
    identity: str = ""
    fingerprint: str = ""
    suppression: Optional[Suppression] = None

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.rule_id, self.message)

    def as_json(self) -> dict:
        """`model_dump(mode="json", exclude={"identity"})`, built directly:
        pydantic's serializer took half a second for a large repository's
        26,000 findings. tests/test_cli_and_reports.py holds the two equal
        for a finding with every field set."""
        sup = self.suppression
        return {"rule_id": self.rule_id, "rule_name": self.rule_name, "area": self.area.value,
                "severity": self.severity.value, "message": self.message, "location": _location(self.location),
                "related": [_location(r) for r in self.related], "fingerprint": self.fingerprint,
                "suppression": None if sup is None else {
                    "kind": sup.kind, "justification": sup.justification,
                    "location": None if sup.location is None else _location(sup.location)}}


def _location(loc: Location) -> dict:
    return {"path": loc.path, "line": loc.line, "column": loc.column, "note": loc.note}


class Note(BaseModel):
    """Something the user should know that is not a finding (file skipped, ...)."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class Report(BaseModel):
    root: str
    findings: list[Finding] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    rules_run: list[str] = Field(default_factory=list)
    files_scanned: int = 0
    internal_error: bool = False

    @property
    def active(self) -> list[Finding]:
        """Findings that count: not suppressed."""
        return [f for f in self.findings if not f.suppressed]
