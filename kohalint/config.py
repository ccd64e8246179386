"""Settings: one pydantic model filled by `.kohalint.yaml`, `[tool.kohalint]`
in pyproject.toml, and then the CLI flags, so a key in the file behaves exactly
like the flag of the same name.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
        "CODEOWNERS"])
    # checks provided by reusable workflows from other repositories, which
    # kohalint cannot read offline: {"org/repo/.github/workflows/x.yml": [hadolint]}
    reusable_workflow_checks: dict[str, list[str]] = Field(default_factory=dict)
    default_branch: str = "main"


class ObservabilityOptions(_Section):
    alerts: dict[str, list[str]] = Field(default_factory=lambda: {
        "container-down": [r"(?i)(container|service|instance|target).*(down|unhealthy)",
                           r"(?i)\bup\s*==\s*0", r"(?i)health"],
        "http-5xx": [r"(?i)5xx", r"(?i)status=~\"?5", r"(?i)code=~\"?5"],
        "low-disk": [r"(?i)disk", r"(?i)filesystem", r"(?i)node_filesystem_avail"],
        "backup-failure": [r"(?i)backup", r"(?i)restore"],
    })
    runbooks_dir: str = "docs/runbooks"
    runbooks: dict[str, list[str]] = Field(default_factory=lambda: {
        "db-down": [r"(?i)(db|database|mariadb|mysql).*(down|outage|unavailable)"],
        "queue-backlog": [r"(?i)(queue|rabbit|backlog)"],
        "disk-full": [r"(?i)disk.*(full|space)|(full|low).*disk"],
    })


class RecoveryOptions(_Section):
    policy: str = "ops/recovery.yaml"


class GateOptions(_Section):
    # An area fails on any unsuppressed finding at or above this severity.
    fail_on: Severity = Severity.high
    max_findings: dict[str, int] = Field(default_factory=dict)


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
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML") from None
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
