"""The declarative rule catalog: one YAML record per rule in top-level `rules/`.

Records are loaded lazily, one file per rule id, because a pre-commit run that
reports two findings should not parse fifty files. In a source checkout the
records live in `rules/`; in an installed wheel setup.cfg maps them to the
`kohalint.catalog` package.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kohalint.models import Area, Severity

RULE_ID = re.compile(r"^[A-Z]{2,5}\d{3}$")
RULE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


# defer_build: the validators are built when a record is first loaded, not
# at import (a scan reads only the records' headers, see `load_header`).
class Example(BaseModel):
    """A tiny repository: files (path -> text), optional config and date.

    Lines that must be flagged carry `# expect: KL402` (several ids separated
    by commas); places that cannot hold a comment (JSON, a missing file) are
    listed in `expect` as `KL207 .github/settings.yml:1`.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    description: str = ""
    files: dict[str, str]
    config: dict[str, Any] = Field(default_factory=dict)
    expect: list[str] = Field(default_factory=list)
    today: Optional[datetime.date] = None


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    bad: list[Example] = Field(min_length=1)
    good: list[Example] = Field(min_length=1)


class RuleRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    name: str
    area: Area
    severity: Severity
    confidence: Literal["high", "medium", "low"] = "high"
    summary: str
    rationale: str
    remediation: str
    references: list[str] = Field(default_factory=list)
    options: dict[str, str] = Field(default_factory=dict)
    fixable: bool = False
    examples: Examples

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not RULE_ID.match(v):
            raise ValueError("rule id must look like KL402")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not RULE_NAME.match(v):
            raise ValueError("rule name must be a kebab-case slug")
        return v

    @property
    def doc_path(self) -> str:
        return f"docs/rules/{self.id}.md"


class RuleHeader:
    """What every finding needs from its record (id, name, area, severity,
    confidence), read without parsing the whole record: a scan that reports
    forty rules' findings should not pay for forty records' examples."""

    __slots__ = ("id", "name", "area", "severity", "confidence")

    def __init__(self, id: str, name: str, area: Area, severity: Severity, confidence: str) -> None:
        self.id = id
        self.name = name
        self.area = area
        self.severity = severity
        self.confidence = confidence

    @classmethod
    def of(cls, record: RuleRecord) -> "RuleHeader":
        return cls(record.id, record.name, record.area, record.severity, record.confidence)


_HEADER_KEYS = ("id", "name", "area", "severity", "confidence")
# A plain one-word scalar: anything else (quotes, flow, anchors, comments)
# goes through the YAML parser.
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@lru_cache(maxsize=None)
def load_header(rule_id: str) -> RuleHeader:
    """The record's header fields; the same values `load_record` gives."""
    try:
        text = (catalog_dir() / f"{rule_id}.yaml").read_text(encoding="utf-8")
    except OSError:
        return RuleHeader.of(load_record(rule_id))  # raises as load_record does
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        if not sep or key not in _HEADER_KEYS:
            continue
        rest = rest.strip()
        if key in values or not _PLAIN.match(rest):
            return RuleHeader.of(load_record(rule_id))
        values[key] = rest
    try:
        confidence = values.get("confidence", "high")
        if confidence not in ("high", "medium", "low"):
            raise ValueError(confidence)
        return RuleHeader(values["id"], values["name"], Area(values["area"]),
                          Severity(values["severity"]), confidence)
    except (KeyError, ValueError):
        return RuleHeader.of(load_record(rule_id))


def catalog_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "catalog"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"


@lru_cache(maxsize=None)
def load_record(rule_id: str) -> RuleRecord:
    path = catalog_dir() / f"{rule_id}.yaml"
    from ruamel.yaml import YAML

    data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    return RuleRecord.model_validate(data)


def catalog_ids() -> list[str]:
    return sorted(p.stem for p in catalog_dir().glob("KL*.yaml"))


def load_all() -> list[RuleRecord]:
    return [load_record(i) for i in catalog_ids()]
