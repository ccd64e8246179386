"""The recovery policy (`ops/recovery.yaml`) and the restore-test log it names.

Both are pydantic models, so the JSON Schemas shipped for editors come from the
same definitions the rules validate with. Validation errors are mapped back to
the YAML node they are about, so every schema error has its own line.

    python -m kohalint.recovery_policy --write-schemas   # after editing the models
"""

from __future__ import annotations

import datetime
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Sequence

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer,
                      TypeAdapter, ValidationError, WithJsonSchema)

from kohalint.documents.store import register_parser
from kohalint.documents.yamldoc import YMap, YNode, YSeq
from kohalint.schedule import format_duration, longest_gap, parse_cron, parse_duration

DEFAULT_POLICY_PATH = "ops/recovery.yaml"
DEFAULT_LOG_PATH = "ops/restore-tests.yaml"
DEFAULT_MAX_INTERVAL_DAYS = 31
DURATION_PATTERN = r"^(0|(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$"


def _duration(value: Any) -> datetime.timedelta:
    if isinstance(value, datetime.timedelta):
        return value
    if value == 0 and not isinstance(value, bool):
        return datetime.timedelta(0)  # `rpo: 0` is as clear as `rpo: "0"`
    # parse_duration's messages never echo the value: it could be anything.
    return parse_duration(value)


Duration = Annotated[
    datetime.timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, {"const": 0}],
                    "description": "A duration in d, h, m, s, largest unit first: 15m, 1h10m, 4h, 2d."}),
]


def _date(value: Any) -> Any:
    # YAML 1.2 keeps dates as strings; a bare number would be read by pydantic
    # as a Unix timestamp, which nobody means in a hand-written log.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("use a date such as 2026-11-03")
    return value


Date = Annotated[datetime.date, BeforeValidator(_date)]
DateTime = Annotated[datetime.datetime, BeforeValidator(_date)]


def _schedule(value: str) -> str:
    try:
        parse_cron(value)
        return value
    except ValueError as cron_error:
        try:
            parse_duration(value)
            return value
        except ValueError:
            raise ValueError(f"not a cron expression ({cron_error}) nor a duration such as 24h") from None


Schedule = Annotated[
    str, AfterValidator(_schedule),
    WithJsonSchema({"type": "string",
                    "description": "A 5-field cron expression (or @daily ...) or a duration such as 24h."}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class BackupPolicy(_Strict):
    schedule: Optional[Schedule] = Field(
        default=None, description="When full backups run: a cron expression or an interval such as 24h.")
    retention_days: Optional[int] = Field(default=None, ge=1, description="How long backups are kept.")
    script: Optional[str] = Field(
        default=None, description="Repository path of the backup script (default: found from the "
                                  "schedules or *backup*.sh).")

    def interval(self) -> Optional[datetime.timedelta]:
        """The longest time between two full backups, when the schedule says."""
        if self.schedule is None:
            return None
        try:
            return longest_gap(self.schedule)
        except ValueError:
            return parse_duration(self.schedule)


class RestoreTestPolicy(_Strict):
    max_interval_days: int = Field(default=DEFAULT_MAX_INTERVAL_DAYS, ge=1,
                                   description="A passing PITR restore test at least this often.")
    log: str = Field(default=DEFAULT_LOG_PATH, description="Repository path of the restore-test log.")
    script: Optional[str] = Field(default=None, description="Repository path of the restore script.")


class RecoveryPolicy(_Strict):
    """Recovery objectives and how they are met (kohalint KL6xx)."""

    model_config = ConfigDict(extra="forbid", title="kohalint recovery policy", defer_build=True)

    version: Literal[1]
    rpo: Optional[Duration] = Field(default=None, description="Recovery point objective.")
    rto: Optional[Duration] = Field(default=None, description="Recovery time objective.")
    backup: Optional[BackupPolicy] = None
    restore_test: Optional[RestoreTestPolicy] = None

    @property
    def restore(self) -> RestoreTestPolicy:
        return self.restore_test or RestoreTestPolicy()


class RestoreRun(_Strict):
    """One restore test, as the team recorded it."""

    date: Date
    kind: Literal["full", "pitr"]
    target_time: Optional[DateTime] = Field(default=None, description="The point in time restored to.")
    measured_rto: Optional[Duration] = None
    measured_rpo: Optional[Duration] = None
    result: Literal["pass", "fail"]
    evidence: Optional[str] = Field(default=None, description="Free text or a link.")


# Built on first use, like the models above (defer_build): most scans never read the log.
RESTORE_LOG = TypeAdapter(list[RestoreRun], config=ConfigDict(defer_build=True))


# -- loading with positions -----------------------------------------------------------
@dataclass(frozen=True)
class Issue:
    line: int
    column: int
    message: str
    key: str  # the dotted location, stable across edits


@dataclass
class Loaded:
    """A policy or log file: its nodes, the model when valid, and every error."""

    path: str
    node: Optional[YNode]
    model: Any = None
    issues: list[Issue] = field(default_factory=list)
    run_nodes: list[YNode] = field(default_factory=list)  # the restore log: a node per valid run

    def line_of(self, *keys: str) -> int:
        """Line of the deepest existing key of `keys` (1 when none)."""
        node, line = self.node, 1
        for key in keys:
            if not isinstance(node, YMap) or key not in node:
                break
            key_node = node.key_node(key)
            line = key_node.line if key_node is not None else line
            node = node.get(key)
        return line


def _locate(root: Optional[YNode], loc: Sequence[Any]) -> tuple[int, int]:
    node, where = root, (root.line, root.column) if root is not None else (1, 1)
    for part in loc:
        if isinstance(node, YMap) and str(part) in node:
            key = node.key_node(str(part))
            node = node.get(str(part))
            if key is not None:
                where = (key.line, key.column)
        elif isinstance(node, YSeq) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
            where = (node.line, node.column)
        else:
            break  # a missing key: report it at its parent
    return where


def _issues(exc: ValidationError, root: Optional[YNode]) -> list[Issue]:
    out: list[Issue] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        dotted = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key missing"
        line, column = _locate(root, loc)
        out.append(Issue(line, column, f"{dotted}: {msg}", dotted))
    return out


def validate(node: Optional[YNode], path: str, schema: Any) -> Loaded:
    """Validate a YAML node tree against a model (or TypeAdapter)."""
    loaded = Loaded(path, node)
    if node is None:
        loaded.issues.append(Issue(1, 1, "the file is empty", "(top level)"))
        return loaded
    data = node.plain()
    try:
        if isinstance(schema, TypeAdapter):
            loaded.model = schema.validate_python(data)
        else:
            loaded.model = schema.model_validate(data)
    except ValidationError as exc:
        loaded.issues = _issues(exc, node)
    return loaded


def _load(text: str, path: str, docs: Any, schema: Any) -> Loaded:
    node = docs.yaml(path)
    error = docs.errors.get(path)
    if error is not None:
        loaded = Loaded(path, None)
        loaded.issues.append(Issue(error.line, error.column, "not valid YAML (see KL001)", "(yaml)"))
        return loaded
    return validate(node, path, schema)


@register_parser("recovery-policy")
def _parse_policy(text: str, path: str, docs: Any) -> Loaded:
    return _load(text, path, docs, RecoveryPolicy)


def validate_log(node: Optional[YNode], path: str) -> Loaded:
    """The log's valid runs (in file order, their nodes in `run_nodes`) and an
    issue per invalid one: one bad row must not hide the good ones."""
    if node is None:
        return Loaded(path, None, [])  # an empty log: no runs yet
    if not isinstance(node, YSeq):
        return validate(node, path, RESTORE_LOG)
    loaded = Loaded(path, node, [])
    for index, item in enumerate(node.items):
        try:
            loaded.model.append(RestoreRun.model_validate(item.plain()))
            loaded.run_nodes.append(item)
        except ValidationError as exc:
            for issue in _issues(exc, item):
                key = f"[{index}]" + ("" if issue.key == "(top level)" else f".{issue.key}")
                message = issue.message.split(": ", 1)[-1]
                loaded.issues.append(Issue(issue.line, issue.column, f"{key}: {message}", key))
    return loaded


@register_parser("restore-tests")
def _parse_log(text: str, path: str, docs: Any) -> Loaded:
    node = docs.yaml(path)
    error = docs.errors.get(path)
    if error is not None:
        return _load(text, path, docs, RESTORE_LOG)
    return validate_log(node, path)


def policy_path(ctx: Any) -> str:
    return ctx.settings.recovery.policy or DEFAULT_POLICY_PATH


def load_policy(ctx: Any) -> Optional[Loaded]:
    """The configured policy file, or None when the repository has none."""
    path = policy_path(ctx)
    return ctx.docs.get("recovery-policy", path) if ctx.repo.exists(path) else None


def valid_policy(ctx: Any) -> Optional[RecoveryPolicy]:
    loaded = load_policy(ctx)
    return loaded.model if loaded is not None else None


def load_restore_log(ctx: Any, policy: RecoveryPolicy) -> Optional[Loaded]:
    path = policy.restore.log
    return ctx.docs.get("restore-tests", path) if ctx.repo.exists(path) else None


# -- JSON Schemas -----------------------------------------------------------------------
SCHEMA_FILES = {
    "recovery-policy.schema.json": lambda: RecoveryPolicy.model_json_schema(),
    "restore-tests.schema.json": lambda: RESTORE_LOG.json_schema(),
}
_SCHEMA_META = {
    "recovery-policy.schema.json": "kohalint recovery policy (ops/recovery.yaml)",
    "restore-tests.schema.json": "kohalint restore-test log (a list of runs)",
}


def schema_text(name: str) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"https://kohalint.invalid/schemas/{name}"}
    body = SCHEMA_FILES[name]()
    body.setdefault("title", _SCHEMA_META[name])
    schema.update(body)
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def schema_targets(root: Optional[Path] = None) -> list[Path]:
    package = Path(__file__).resolve().parent
    repo = root or package.parent
    return [package / "schemas", repo / "docs" / "schemas"]


def write_schemas(root: Optional[Path] = None) -> list[Path]:
    written = []
    for directory in schema_targets(root):
        directory.mkdir(parents=True, exist_ok=True)
        for name in SCHEMA_FILES:
            target = directory / name
            text = schema_text(name)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
                written.append(target)
    return written


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["--write-schemas"]:
        print("usage: python -m kohalint.recovery_policy --write-schemas", file=sys.stderr)
        return 2
    for path in write_schemas():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
