"""`docs/configuration.md`, generated from the `Settings` model.

Names, types and defaults come from the model itself, so they cannot drift;
the prose lives in DESCRIPTIONS below (keyed by the dotted kebab-case key, as
written in `.kohalint.yaml`). A test fails when the committed page differs
from what this writes, or when a key has no description.

    python -m kohalint.config_docs          # rewrite docs/configuration.md
"""

from __future__ import annotations

import enum
import io
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

OUTPUT = Path("docs/configuration.md")

SECTIONS = dict([
    ("", "Top level"),
    ("runtime", "runtime: compose hardening and isolation (KL4xx)"),
    ("secrets", "secrets: credentials and their registry (KL1xx)"),
    ("delivery", "delivery: CI/CD and CODEOWNERS (KL2xx)"),
    ("observability", "observability: logs, metrics, alerts, runbooks (KL5xx)"),
    ("recovery", "recovery: backups and point-in-time recovery (KL6xx)"),
    ("gate", "gate: the go-live gate (`kohalint gate`)"),
    ("limits", "limits: what one hostile input may cost (see docs/security.md)"),
])

DESCRIPTIONS = {
    "select": "Rules to run: codes (`KL402`), prefixes (`KL4`), names (`no-new-privileges-missing`) or "
              "`ALL`. Same as `--select`.",
    "ignore": "Rules to skip, in the same forms as `select`. Same as `--ignore`.",
    "extend-select": "Rules added to `select` (useful when `select` comes from a shared file). Same as "
                     "`--extend-select`.",
    "per-file-ignores": "Glob -> rules to skip in the files it matches, e.g. `{\"tests/**\": [KL1]}`.",
    "severity": "Rule -> severity override (`critical`, `high`, `medium`, `low`), e.g. `{KL404: low}`.",
    "severity-threshold": "Lowest severity that makes `kohalint check` exit 1. Same as "
                          "`--severity-threshold`.",
    "exclude": "Globs of paths never scanned (fixtures, vendored code). Git-ignored files are never "
               "scanned anyway.",
    "areas": "The go-live areas this repository is judged on. Unset: detected (rules about something "
             "missing in runtime, observability and recovery need a compose project). A build-only "
             "repository may say `[security, delivery, supply-chain]`.",
    "no-inline-suppressions": "Ignore every `# kohalint: ignore[...]` comment (audit mode). Same as "
                              "`--no-inline-suppressions`.",
    "require-suppression-reason": "An inline suppression without a reason after the `]` suppresses "
                                  "nothing and is reported (KL002).",
    "env-templates": "File names (or repository paths) of env templates whose values resolve "
                     "`${VAR}` in compose files.",
    "compose-projects": "Compose projects as lists of files in load order, when discovery (base file "
                        "plus override, or base plus one variant) is not what you deploy.",
    "max-file-bytes": "Files larger than this are skipped with a note.",
    "runtime.internal-images": "Image names of services that must never publish ports (KL401) and "
                               "count as critical for healthchecks (KL407).",
    "runtime.internal-services": "Service names treated as internal when their image does not say.",
    "runtime.edge-proxies": "Images or service names of the TLS edge proxy, the one service that may "
                            "publish ports (KL408).",
    "runtime.critical-services": "Extra service names whose missing healthcheck is high (KL407).",
    "runtime.immutable-tag-pattern": "Regular expression of image tags that never move, besides "
                                     "`@sha256:` digests (KL208).",
    "secrets.registry": "Path of the secrets registry (KL107-KL110).",
    "secrets.name-pattern": "Regular expression of variable names that hold secrets (KL105, KL106, "
                            "KL108).",
    "secrets.required-categories": "Categories the registry must have at least one entry for (KL108).",
    "secrets.detect-secrets-baseline": "A detect-secrets baseline whose accepted findings KL101 honours.",
    "secrets.due-soon-days": "A rotation due within this many days is a medium finding (KL109).",
    "delivery.required-checks": "Checks some pull_request workflow must run (KL204): hadolint, "
                                "shellcheck, trivy-config, trivy-image, secret-scan.",
    "delivery.critical-paths": "Globs that must have a code owner (KL206).",
    "delivery.reusable-workflow-checks": "Reusable workflow (`org/repo/.github/workflows/x.yml`) -> the "
                                         "required checks it runs, since kohalint cannot read it offline.",
    "delivery.default-branch": "The branch whose protection and push workflows are judged.",
    "observability.log-collectors": "Images that ship logs (KL501); a name with a slash matches the end "
                                    "of the repository path, `*` globs.",
    "observability.log-drivers": "Docker logging drivers that ship logs off the host (KL501).",
    "observability.metrics": "Kind of metrics (host, container, scraper) -> images that provide it "
                             "(KL502).",
    "observability.database-exporters": "Database image -> exporter images that give its metrics "
                                        "(KL502).",
    "observability.provided": "What runs outside this compose project (on the host, in a central "
                              "stack): `logging`, the keys of `metrics`, or `database`.",
    "observability.alerts": "Situation -> regular expressions searched in each alert's name, expr and "
                            "labels; a situation is covered when one matches (KL503).",
    "observability.alert-rules-file": "Where the missing-alerts finding points when there is no "
                                      "Prometheus rule file.",
    "observability.runbooks-dir": "Directory holding the runbooks (KL504).",
    "observability.runbooks": "Scenario -> regular expressions matched against each runbook's file name "
                              "and first heading (KL504).",
    "observability.repository-url": "This repository's web address, so a `runbook_url` under it is "
                                    "checked as a repository file.",
    "recovery.policy": "Path of the recovery policy (KL601-KL607).",
    "gate.fail-on": "An area fails the gate on any unsuppressed finding at or above this severity.",
    "gate.area-fail-on": "Area -> its own `fail-on`.",
    "gate.max-findings": "Area -> how many findings at or above `fail-on` it may still pass with.",
    "limits.yaml-max-nodes": "Nodes a YAML document may have after alias expansion; more is KL001 "
                             "(stops alias bombs).",
    "limits.yaml-max-depth": "How deeply a YAML document may nest (block and flow); deeper is KL001.",
    "limits.parse-timeout": "Seconds one YAML document may take to read; longer is KL001. 0: no limit.",
    "limits.rule-timeout": "Seconds one rule may spend on one file (a repository-level rule: on the "
                           "repository); a rule stopped at this limit is KL003 for that file and the run "
                           "exits 2 (fail closed). 0: no limit.",
}


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def fields(model: type[BaseModel] = None, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, annotation, default) for every setting, sections expanded."""
    from kohalint.config import Settings

    model = model or Settings
    out = []
    for name, info in model.model_fields.items():
        key = prefix + _kebab(name)
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(fields(ann, key + "."))
        else:
            out.append((key, ann, info.get_default(call_default_factory=True)))
    return out


def type_text(ann: Any) -> str:
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return " or ".join(type_text(a) for a in inner) + (" or null" if len(inner) < len(args) else "")
    if origin is list:
        return f"list of {_plural(type_text(args[0]))}"
    if origin is dict:
        return f"mapping of {type_text(args[0])} to {type_text(args[1])}"
    if isinstance(ann, type) and issubclass(ann, enum.Enum):
        return "(" + " | ".join(f"`{m.value}`" for m in ann) + ")"
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(ann, getattr(ann, "__name__", str(ann)))


def _plural(text: str) -> str:
    if text.startswith("list of"):
        return text.replace("list of", "lists of", 1)
    return text if text.startswith(("mapping of", "(")) else text + "s"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def default_text(value: Any) -> tuple[str, str]:
    """(inline form, or "" when it needs a block; block YAML)."""
    from ruamel.yaml import YAML

    value = _plain(value)
    if value is None:
        return "unset", ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`", ""
    if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40 and "`" not in value):
        return f"`{value}`", ""
    if value in ([], {}):
        return f"`{value}`", ""
    if isinstance(value, list) and all(isinstance(v, str) and v.replace("-", "").isalnum() for v in value) \
            and len(", ".join(value)) <= 60:
        return "`[" + ", ".join(value) + "]`", ""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(value, buf)
    return "", buf.getvalue()


def render() -> str:
    out = ["# Configuration", "",
           "<!-- Generated by `python -m kohalint.config_docs` from kohalint/config.py: do not edit. -->",
           "",
           "kohalint reads `.kohalint.yaml` (or `.kohalint.yml`) at the scanned root, `--config FILE`, "
           "or `[tool.kohalint]` in `pyproject.toml`. Keys are kebab-case; an unknown key is an error "
           "with a did-you-mean. A key behaves exactly like the command-line flag of the same name, "
           "and the flag wins when both are given. `kohalint init` writes a starting file.", "",
           "```yaml", "select: [ALL]", "ignore: [KL413]", "per-file-ignores:", "  \"scripts/dev/**\": [KL604]",
           "severity:", "  KL404: low", "runtime:", "  edge-proxies: [nginx, traefik]",
           "secrets:", "  registry: ops/secrets-registry.yaml", "```", ""]
    by_section: dict[str, list] = {}
    for key, ann, default in fields():
        section = key.split(".", 1)[0] if "." in key else ""
        by_section.setdefault(section, []).append((key, ann, default))
    for section, items in by_section.items():
        out += [f"## {SECTIONS.get(section, section)}", ""]
        for key, ann, default in items:
            inline, block = default_text(default)
            out += [f"### `{key}`", "",
                    f"{DESCRIPTIONS.get(key, '(not described yet)')}", "",
                    f"- Type: {type_text(ann)}",
                    f"- Default: {inline}" if inline else "- Default:", ""]
            if block:
                out += ["  ```yaml"] + ["  " + line for line in block.rstrip("\n").splitlines()] + ["  ```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    target = root / OUTPUT
    text = render()
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
