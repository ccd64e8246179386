"""The secrets registry (`ops/secrets-registry.yaml`): which secrets exist, who
owns them, where they live and when they were last rotated. Never their values.

The pydantic model is the single source of the format: the JSON Schema that
editors use is generated from it (`python -m kohalint.secrets_registry
--write-schema`), and validation errors are reported at the YAML line of the
value they are about.

    version: 1
    rotation_runbook: docs/runbooks/secret-rotation.md
    secrets:
      - name: MARIADB_PASSWORD
        category: database
        owner: "@koha-ops/dba"
        rotation_period_days: 90
        last_rotated: 2026-10-01
        store: "vault:kv/koha/db"
"""

from __future__ import annotations

import datetime
import enum
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kohalint.documents.store import register_parser
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq, load_yaml
from kohalint.errors import ParseError

SCHEMA_ID = "https://kohalint.invalid/schemas/secrets-registry.schema.json"
SCHEMA_FILES = (Path("kohalint/schemas/secrets-registry.schema.json"),
                Path("docs/schemas/secrets-registry.schema.json"))
# A GitHub handle (@user), a team (@org/team) or an e-mail address.
OWNER_PATTERN = r"^(@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(/[A-Za-z0-9][A-Za-z0-9._-]*)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Category(str, enum.Enum):
    database = "database"
    rabbitmq = "rabbitmq"
    cloudflare = "cloudflare"
    smtp = "smtp"
    api_key = "api-key"
    other = "other"


class SecretEntry(BaseModel):
    """One secret, as the code references it."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, defer_build=True)

    name: str = Field(pattern=NAME_PATTERN, description="The variable name as code references it.")
    category: Category
    owner: str = Field(pattern=OWNER_PATTERN, description="A GitHub handle or team (@org/team), or an e-mail.")
    rotation_period_days: int = Field(gt=0, le=3650)
    last_rotated: datetime.date
    store: str = Field(min_length=1, description="Where the value lives (e.g. vault:kv/koha/db); never the value.")
    compromised: bool = False
    compromised_on: Optional[datetime.date] = None

    @model_validator(mode="after")
    def _compromise_dated(self) -> "SecretEntry":
        if self.compromised and self.compromised_on is None:
            raise ValueError("compromised: true needs compromised_on: DATE")
        return self


class SecretsRegistry(BaseModel):
    """`ops/secrets-registry.yaml`."""

    model_config = ConfigDict(extra="forbid", title="kohalint secrets registry", defer_build=True)

    version: Literal[1]
    rotation_runbook: Optional[str] = Field(default=None, description="Path of the rotation runbook.")
    secrets: list[SecretEntry] = Field(default_factory=list)

def json_schema() -> dict[str, Any]:
    schema = SecretsRegistry.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


@dataclass
class RegistryError:
    line: int
    column: int
    message: str


@dataclass
class Entry:
    """A registry entry that is valid on its own, and where it is written."""

    model: SecretEntry
    node: YMap

    def line_of(self, key: str) -> int:
        k = self.node.key_node(key)
        return k.line if k is not None else self.node.line


@dataclass
class LoadedRegistry:
    path: str
    node: Optional[YNode]
    model: Optional[SecretsRegistry]
    errors: list[RegistryError] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def runbook(self) -> Optional[YScalar]:
        v = self.node.get("rotation_runbook") if isinstance(self.node, YMap) else None
        return v if isinstance(v, YScalar) and v.value not in (None, "") else None

    def key_line(self, key: str) -> int:
        k = self.node.key_node(key) if isinstance(self.node, YMap) else None
        return k.line if k is not None else 1


def load_registry(text: str, path: str) -> LoadedRegistry:
    """Parse and validate; YAML errors raise ParseError, schema errors are listed."""
    node = load_yaml(text, path)
    data = node.plain() if node is not None else None
    out = LoadedRegistry(path, node, None)
    try:
        out.model = SecretsRegistry.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            line, col = _locate(node, err["loc"], err["type"])
            out.errors.append(RegistryError(line, col, _message(err)))
    out.entries = _valid_entries(node)
    out.errors.extend(_duplicates(node))
    return out


def _duplicates(node: Optional[YNode]) -> list[RegistryError]:
    """A name listed twice (JSON Schema cannot say so): at the second one."""
    seq = node.get("secrets") if isinstance(node, YMap) else None
    seen: set[str] = set()
    out = []
    for item in seq.items if isinstance(seq, YSeq) else []:
        name = item.get("name") if isinstance(item, YMap) else None
        if isinstance(name, YScalar) and isinstance(name.value, str):
            if name.value in seen:
                out.append(RegistryError(name.line, name.column, f"secret '{_safe_part(name.value)}' "
                                         "is listed twice"))
            seen.add(name.value)
    return out


def _valid_entries(node: Optional[YNode]) -> list[Entry]:
    """Entries valid on their own: one bad entry must not hide the others' dates."""
    seq = node.get("secrets") if isinstance(node, YMap) else None
    out = []
    for item in seq.items if isinstance(seq, YSeq) else []:
        if isinstance(item, YMap):
            try:
                out.append(Entry(SecretEntry.model_validate(item.plain()), item))
            except ValidationError:
                continue
    return out


def _message(err: dict) -> str:
    # Only pydantic's description and the key path: never the input, which
    # may be a value someone pasted by mistake.
    loc = ".".join(_safe_part(p) for p in err["loc"]) or "(document)"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{loc}'"
    if err["type"] == "missing":
        return f"'{loc}' is required"
    if err["type"] == "string_pattern_mismatch" and err["loc"]:
        hint = _PATTERN_HINTS.get(str(err["loc"][-1]))
        if hint:
            return f"'{loc}' must be {hint}"
    return f"'{loc}': {err['msg']}"


def _safe_part(part: Any) -> str:
    """A key path part as written only when it looks like a field name: an
    unknown key may be a value pasted in the wrong place."""
    text = str(part)
    return text if isinstance(part, int) or re.fullmatch(r"[a-z][a-z_]{0,39}", text) else "<key>"


_PATTERN_HINTS = {
    "owner": "a GitHub handle (@user), a team (@org/team) or an e-mail address",
    "name": "a variable name (letters, digits, underscores)",
}


def _locate(node: Optional[YNode], loc: Sequence[Any], kind: str) -> tuple[int, int]:
    """The line of the value an error is about (its key for unknown keys, the
    enclosing mapping for missing ones)."""
    if node is None:
        return 1, 1
    current: YNode = node
    for part in loc:
        nxt: Optional[YNode] = None
        if isinstance(current, YMap) and isinstance(part, str):
            if kind == "extra_forbidden" and part == loc[-1]:
                k = current.key_node(part)
                return (k.line, k.column) if k is not None else (current.line, current.column)
            nxt = current.get(part)
        elif isinstance(current, YSeq) and isinstance(part, int) and 0 <= part < len(current.items):
            nxt = current.items[part]
        if nxt is None:
            break
        current = nxt
    return current.line, current.column


@register_parser("secrets-registry")
def _parse(text: str, path: str, docs: Any) -> LoadedRegistry:
    try:
        return load_registry(text, path)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("document nested too deeply") from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`--write-schema` regenerates the shipped schemas; `--check` fails when stale."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(__file__).resolve().parent.parent
    text = schema_text()
    if "--write-schema" in args:
        for rel in SCHEMA_FILES:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        return 0
    if "--check" in args:
        stale = [str(rel) for rel in SCHEMA_FILES
                 if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text]
        for s in stale:
            print(f"{s} is stale: run python -m kohalint.secrets_registry --write-schema", file=sys.stderr)
        return 1 if stale else 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
