"""Settings: one pydantic model filled by `.kohalint.yaml`, `[tool.kohalint]`
in pyproject.toml, and then the CLI flags, so a key in the file behaves exactly
like the flag of the same name.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kohalint.errors import ConfigError
from kohalint.models import Area, Severity

CONFIG_FILES = (".kohalint.yaml", ".kohalint.yml")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True)


class RuntimeOptions(_Section):
    internal_images: list[str] = Field(default_factory=lambda: [
        "mariadb", "mysql", "percona", "postgres", "elasticsearch", "opensearch", "memcached",
        "rabbitmq", "redis", "valkey", "mongo"])
    internal_services: list[str] = Field(default_factory=lambda: [
        "db", "database", "mariadb", "mysql", "postgres", "es", "elasticsearch", "opensearch",
        "memcached", "rabbitmq", "redis", "mq", "cache"])
    edge_proxies: list[str] = Field(default_factory=lambda: [
        "nginx", "traefik", "caddy", "haproxy", "envoy"])
    critical_services: list[str] = Field(default_factory=list)
    immutable_tag_pattern: str = r"sha-[0-9a-f]{7,40}"


class SecretsOptions(_Section):
    registry: str = "ops/secrets-registry.yaml"
    name_pattern: str = (r"(?i)(^|_|-)(PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|APIKEY|"
                         r"PRIVATE_KEY|ACCESS_KEY|CREDENTIALS?)($|_|-)")
    required_categories: list[str] = Field(default_factory=lambda: [
        "database", "rabbitmq", "cloudflare", "smtp", "api-key"])
    detect_secrets_baseline: Optional[str] = None
    due_soon_days: int = 14


class DeliveryOptions(_Section):
    required_checks: list[str] = Field(default_factory=lambda: [
        "hadolint", "shellcheck", "trivy-config", "trivy-image", "secret-scan"])
    critical_paths: list[str] = Field(default_factory=lambda: [
        ".github/workflows/**", "**/Dockerfile*", "setup*.sh", "scripts/setup*", "install*.sh",
        "CODEOWNERS", ".kohalint.yaml", ".kohalint-baseline.json"])
    # checks provided by reusable workflows from other repositories, which
    # kohalint cannot read offline: {"org/repo/.github/workflows/x.yml": [hadolint]}
    reusable_workflow_checks: dict[str, list[str]] = Field(default_factory=dict)
    default_branch: str = "main"


class ObservabilityOptions(_Section):
    # Image names: a plain name matches the image's last path component
    # (`prom/node-exporter:v1` -> `node-exporter`), a name with a slash the end of
    # its repository path (`grafana/agent`); `*` globs. The service name counts
    # when the image is only known at deploy time or built from the repository.
    log_collectors: list[str] = Field(default_factory=lambda: [
        "loki", "promtail", "alloy", "grafana/agent", "vector", "fluent-bit", "fluentd*",
        "filebeat", "logstash", "opentelemetry-collector*", "otelcol*", "splunk-otel-collector",
        "datadog/agent", "datadoghq/agent", "syslog-ng", "rsyslog", "logspout"])
    log_drivers: list[str] = Field(default_factory=lambda: [
        "fluentd", "gelf", "loki", "loki-docker-driver", "syslog", "journald", "awslogs", "splunk",
        "gcplogs", "logentries", "etwlogs"])
    metrics: dict[str, list[str]] = Field(default_factory=lambda: {
        "host": ["node-exporter", "node_exporter", "windows-exporter"],
        "container": ["cadvisor"],
        "scraper": ["prometheus", "victoria-metrics", "vmagent", "alloy", "grafana/agent",
                    "opentelemetry-collector*", "otelcol*"],
    })
    # database image -> the exporters that give its metrics
    database_exporters: dict[str, list[str]] = Field(default_factory=lambda: {
        "mariadb": ["mysqld-exporter", "mysqld_exporter"],
        "mysql": ["mysqld-exporter", "mysqld_exporter"],
        "percona*": ["mysqld-exporter", "mysqld_exporter"],
        "postgres": ["postgres-exporter", "postgres_exporter"],
    })
    # What runs outside the compose project (on the host, in a central stack):
    # `logging` and the keys of `metrics`, plus `database`.
    provided: list[str] = Field(default_factory=list)
    # Regular expressions searched in each alerting rule's name, its expr and
    # each label written `key=value`, separately (anchor with ^...$ to aim at
    # the name). A situation is covered when any pattern matches any alert.
    alerts: dict[str, list[str]] = Field(default_factory=lambda: {
        "container-down": [
            # the word ends a CamelCase or snake_case part: KohaDown, koha_down_5m, not Downloads
            r"^\w*?(?i:down|unhealthy|unreachable|absent|not_?running|not_?responding|crash\w*?)"
            r"(?![a-z])\w*$",
            r"(?i)\b(\w+_)?up\s*(\{[^}]*\})?(\[[^\]]*\])?\)*\s*(==\s*0|<\s*1|!=\s*1)\b",
            r"(?i)\babsent(_over_time)?\s*\(\s*(\w+_)?(up|container_\w+)\b",
            r"(?i)container_last_seen|container_health|health_?status|healthcheck",
            r"(?i)\bprobe_success\b",
        ],
        "http-5xx": [
            r"(?i)5xx",
            r"(?i)^\w*(5\d\d|server_?errors?|http_?errors?|error_?rate|errors?_?ratio)\w*$",
            r"(?i)\b(status|code|status_?code|response_?code|http_?status)\s*=~?\s*[\"'`]\^?\(?5",
        ],
        "low-disk": [
            r"(?i)^\w*(disk|filesystem|fs|volume|storage)_?\w*"
            r"(full|space|low|usage|almost|filling|free|avail|left|runningout)\w*$",
            r"(?i)^\w*(low|outof|no|free)_?(disk|space|storage|inodes?)\w*$",
            r"(?i)node_filesystem_(avail|free)|filesystem_(avail|free)|container_fs_(usage|limit)"
            r"|kubelet_volume_stats_avail|logical_disk_free|disk_(free|avail|used_percent)",
        ],
        "backup-failure": [
            r"(?i)back_?up", r"(?i)restore", r"(?i)\bpitr\b|binlog_?(ship|archiv|upload)",
            r"(?i)restic|borg|pgbackrest|wal_?g\b",
        ],
    })
    # Where the absent-alerts finding points when the repository has no rule file.
    alert_rules_file: str = "monitoring/alerts.yml"
    runbooks_dir: str = "docs/runbooks"
    # Matched against each runbook's file name (without extension) and its first
    # Markdown heading.
    runbooks: dict[str, list[str]] = Field(default_factory=lambda: {
        "db-down": [
            r"(?i)(db|database|maria|mysql|postgres)\w*[\s_-]+(is[\s_-]+)?(down|outage|unavailable"
            r"|unreachable|crash\w*|not[\s_-]+(respond|start)\w*|fail\w*)",
            r"(?i)(down|outage)[\s_-]+(of[\s_-]+)?(the[\s_-]+)?(db|database|maria|mysql|postgres)"],
        "queue-backlog": [r"(?i)queue|backlog|rabbit|background[\s_-]+jobs?"],
        "disk-full": [
            r"(?i)(disk|filesystem|volume|storage)\w*?[\s_-]*(is[\s_-]+)?(full|space|almost|filling|low)",
            r"(?i)(full|low|out[\s_-]+of)[\s_-]+(disk|space|storage)|no[\s_-]+space"],
    })
    # This repository's web address (`https://github.com/org/repo`): a
    # `runbook_url` under it names a repository file. Without it, a GitHub or
    # GitLab file URL is taken as this repository's when its path lies under
    # `runbooks-dir`.
    repository_url: Optional[str] = None

    @field_validator("alerts", "runbooks")
    @classmethod
    def _patterns_compile(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{key}: invalid regular expression {pattern!r}: {exc}") from None
        return value


class RecoveryOptions(_Section):
    policy: str = "ops/recovery.yaml"


class GateOptions(_Section):
    # An area fails on any unsuppressed finding at or above this severity
    # (`area-fail-on` sets it per area) ...
    fail_on: Severity = Severity.high
    area_fail_on: dict[Area, Severity] = Field(default_factory=dict)
    # ... and on more unsuppressed findings of any severity than its limit here.
    max_findings: dict[Area, int] = Field(default_factory=dict)


class LimitsOptions(_Section):
    # What one input may cost before kohalint stops reading it (kohalint/limits.py).
    # Reaching a limit is reported (KL001 for a document, KL003 for a rule), never a hang.
    yaml_max_nodes: int = Field(default=200_000, ge=1)
    yaml_max_depth: int = Field(default=200, ge=1, le=1_000)
    parse_timeout: float = Field(default=30.0, ge=0)   # seconds per document; 0: no limit
    rule_timeout: float = Field(default=120.0, ge=0)   # seconds a rule may spend on one file; 0: no limit


class Settings(_Section):
    select: list[str] = Field(default_factory=lambda: ["ALL"])
    ignore: list[str] = Field(default_factory=list)
    extend_select: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict)
    severity: dict[str, Severity] = Field(default_factory=dict)
    severity_threshold: Severity = Severity.low
    exclude: list[str] = Field(default_factory=list)
    areas: Optional[list[Area]] = None
    no_inline_suppressions: bool = False
    require_suppression_reason: bool = False
    env_templates: list[str] = Field(default_factory=lambda: [
        ".env.example", ".env.sample", ".env.template", ".env.dist"])
    compose_projects: list[list[str]] = Field(default_factory=list)
    max_file_bytes: int = 2 * 1024 * 1024
    runtime: RuntimeOptions = Field(default_factory=RuntimeOptions)
    secrets: SecretsOptions = Field(default_factory=SecretsOptions)
    delivery: DeliveryOptions = Field(default_factory=DeliveryOptions)
    observability: ObservabilityOptions = Field(default_factory=ObservabilityOptions)
    recovery: RecoveryOptions = Field(default_factory=RecoveryOptions)
    gate: GateOptions = Field(default_factory=GateOptions)
    limits: LimitsOptions = Field(default_factory=LimitsOptions)


def settings_from_mapping(data: Any, source: str = "configuration") -> Settings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source)) from None


def _explain(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            known = _known_keys(err["loc"][:-1])
            hint = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            msg = f"unknown key '{loc}'" + (f" (did you mean '{hint[0]}'?)" if hint else "")
        else:
            msg = f"'{loc}': {err['msg']}"
        lines.append(f"  - {msg}")
    return "\n".join(lines)


def _known_keys(parent: tuple) -> list[str]:
    model: Any = Settings
    for part in parent:
        field = model.model_fields.get(str(part).replace("-", "_"))
        if field is None or not isinstance(field.annotation, type) \
                or not issubclass(field.annotation, BaseModel):
            return []
        model = field.annotation
    return [_kebab(n) for n in model.model_fields]


def find_config(root: Path) -> Optional[Path]:
    for name in CONFIG_FILES:
        p = root / name
        if p.is_file():
            return p
    return None


def load_settings(root: Path, config_file: Optional[Path] = None,
                  overrides: Optional[dict[str, Any]] = None) -> Settings:
    """Settings for a scan of `root`: the config file, then CLI overrides."""
    data: dict[str, Any] = {}
    source = "defaults"
    path = config_file or find_config(root)
    if path is not None:
        data, source = _read_yaml_config(path), str(path)
    elif (root / "pyproject.toml").is_file():
        data, source = _read_pyproject(root / "pyproject.toml"), "pyproject.toml [tool.kohalint]"
    merged = dict(data)
    for key, value in (overrides or {}).items():
        merged[_kebab(key)] = value
        merged.pop(key.replace("-", "_"), None) if key != key.replace("-", "_") else None
    return settings_from_mapping(merged, source)


def _read_yaml_config(path: Path) -> dict[str, Any]:
    # The documents' YAML reader (YAML 1.2, duplicate keys refused), so a
    # scan does not import a second YAML library for its configuration.
    from kohalint.documents.yamldoc import load_yaml
    from kohalint.errors import ParseError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or 'not UTF-8'})") from None
    try:
        node = load_yaml(text, str(path))
    except ParseError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ConfigError(f"{path}{where}: invalid YAML") from None
    data = node.plain() if node is not None else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _read_pyproject(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({type(exc).__name__})") from None
    section = data.get("tool", {}).get("kohalint", {})
    return section if isinstance(section, dict) else {}
