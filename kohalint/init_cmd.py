"""`kohalint init`: a starting `.kohalint.yaml` and skeleton registries.

It writes what it can see (compose projects, env templates, where the
registries are) and leaves what only a person knows (owners, rotation dates,
recovery objectives) as `TODO` values, which the registry rules (KL107, KL601)
keep flagging until someone fills them in. It never overwrites a file: it
says which ones it skipped.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

TODO = "TODO"
_CATEGORY_HINTS = (
    ("other", r"SSH|GPG|PGP|TLS|CERT"),
    ("database", r"DB|MARIA\w*|MYSQL|POSTGRES\w*|PG|DATABASE|SQL"),
    ("rabbitmq", r"RABBIT\w*|AMQP|MQ|MB"),
    ("cloudflare", r"CLOUDFLARE|CF"),
    ("smtp", r"SMTP|MAIL\w*"),
    ("api-key", r"API\w*|TOKEN|KEY"),
)
_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl")


def _q(value: str) -> str:
    """A YAML-safe scalar (JSON strings are valid YAML)."""
    return value if re.fullmatch(r"[A-Za-z0-9_./@-]+", value) and value[0] not in "@-" else json.dumps(value)


def guess_category(name: str) -> str:
    words = set(re.split(r"[_\-.]+", name.upper()))
    for category, pattern in _CATEGORY_HINTS:
        if any(re.fullmatch(pattern, w) for w in words):
            return category
    return "other"


def _scan_context(root: Path, settings: Any) -> Any:
    import datetime

    from kohalint.context import Context
    from kohalint.documents.store import Documents
    from kohalint.repository import Repository

    repo = Repository(root, exclude=settings.exclude, max_file_bytes=settings.max_file_bytes)
    return Context(repo, Documents(repo, settings), settings, datetime.date.today())


def secret_names(ctx: Any) -> list[str]:
    """Secret-looking variables the repository references, as KL108 counts them."""
    try:
        from kohalint.checks.secrets_registry_rules import _references  # one definition of "referenced"
    except ImportError:  # the secrets family is not installed: the same sources, simply read
        _references = _simple_references
    names: dict[str, None] = {}
    for name, *_ in _references(ctx):
        names.setdefault(name, None)
    return sorted(names, key=str.upper)


def _simple_references(ctx: Any) -> Iterator[tuple[str, str, int, str]]:
    pattern = re.compile(ctx.settings.secrets.name_pattern)
    for path in ctx.repo.files_of_kind("compose"):
        for m in re.finditer(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", ctx.repo.read_text(path) or ""):
            if pattern.search(m.group(1)):
                yield m.group(1), path, 1, "compose"
    for path in env_templates(ctx):
        for line in (ctx.repo.read_text(path) or "").splitlines():
            key = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if "=" in line and not line.lstrip().startswith("#") and pattern.search(key):
                yield key, path, 1, "template"
    for path in ctx.repo.files_of_kind("workflow"):
        for m in re.finditer(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", ctx.repo.read_text(path) or ""):
            if m.group(1).upper() != "GITHUB_TOKEN":
                yield m.group(1), path, 1, "workflow"


def env_templates(ctx: Any) -> list[str]:
    names = set(ctx.settings.env_templates)
    out = []
    for path in ctx.repo.files:
        base = posixpath.basename(path)
        if base in names or path in names or (base.startswith(".env") or base.endswith(".env")
                                              or base.startswith("env")) and base.endswith(_TEMPLATE_SUFFIXES):
            out.append(path)
    return out


def _find(ctx: Any, names: tuple[str, ...], default: str) -> str:
    if ctx.repo.exists(default):
        return default
    found = [p for p in ctx.repo.files if posixpath.basename(p) in names]
    return found[0] if found else default


def config_text(ctx: Any, registry: str, policy: str) -> str:
    from kohalint.documents.compose import discover_projects

    projects = discover_projects(ctx.repo.files_of_kind("compose"))
    templates = env_templates(ctx)
    out = ["# kohalint configuration, written by `kohalint init`. Every key is described in",
           "# docs/configuration.md and behaves exactly like the command-line flag of that name.",
           "",
           "# Rules to run and to skip: codes (KL402), prefixes (KL4), names, or ALL.",
           "select: [ALL]",
           "ignore: []",
           "",
           "# Findings at or above this severity fail `kohalint check` (exit 1).",
           "severity-threshold: low",
           ""]
    if projects:
        out += ["# The compose projects found (base file, then its override): kohalint finds",
                "# them again on every run. Uncomment to pin the list instead.",
                "# compose-projects:"]
        out += ["#   - [" + ", ".join(_q(f) for f in group) + "]" for group in projects]
    else:
        out += ["# No compose file found: this looks like a build repository. Runtime,",
                "# observability and recovery rules about missing things stay silent without",
                "# a compose project; name the areas that apply to be explicit:",
                "# areas: [security, delivery, supply-chain]"]
    out.append("")
    if templates:
        out += ["# Env templates that give `${VAR}` their example values.", "env-templates:"]
        out += [f"  - {_q(t)}" for t in templates]
        out.append("")
    out += ["secrets:",
            "  # Who owns each secret and when it was rotated (KL107-KL110).",
            f"  registry: {_q(registry)}",
            "recovery:",
            "  # RPO/RTO, backup schedule and restore tests (KL601-KL607).",
            f"  policy: {_q(policy)}",
            ""]
    return "\n".join(out)


def registry_text(names: list[str]) -> str:
    out = ["# Secrets registry: every secret the deployment uses, who owns it, where the",
           "# value lives and when it was last rotated. Never the value itself.",
           "# Written by `kohalint init` from the variables the repository references.",
           "# For every entry fill in: owner (@user, @org/team or an e-mail), last_rotated",
           "# (YYYY-MM-DD) and store (where the value lives, e.g. vault:kv/koha/db), and",
           "# check the category guessed from the name (database, rabbitmq, cloudflare,",
           "# smtp, api-key or other). kohalint (KL107) flags every TODO until then.",
           "version: 1",
           "rotation_runbook: docs/runbooks/secret-rotation.md   # write it, or point at yours",
           "secrets:"]
    if not names:
        out.append("  []   # no secret-looking variable found; add entries as `- name: ...`")
    for name in names:
        out += [f"  - name: {_q(name)}",
                f"    category: {guess_category(name)}   # guessed from the name",
                f"    owner: {TODO}",
                "    rotation_period_days: 90",
                f"    last_rotated: {TODO}",
                f"    store: {TODO}"]
    return "\n".join(out) + "\n"


def recovery_text(ctx: Any) -> str:
    backup = next((p for p in ctx.repo.files_of_kind("shell") if "backup" in posixpath.basename(p)), None)
    restore = next((p for p in ctx.repo.files_of_kind("shell") if "restore" in posixpath.basename(p)), None)
    out = ["# Recovery policy: the objectives the backups must meet and how restores are",
           "# tested. Written by `kohalint init`; kohalint (KL601) flags every TODO until",
           "# a person fills it in.",
           "version: 1",
           f"rpo: {TODO}   # most data you may lose, e.g. 15m",
           f"rto: {TODO}   # longest outage you may have, e.g. 4h",
           "backup:",
           f"  schedule: {TODO}   # cron, e.g. \"0 2 * * *\", or an interval such as 24h",
           "  retention_days: 35"]
    if backup:
        out.append(f"  script: {_q(backup)}")
    out += ["restore_test:",
            "  max_interval_days: 31",
            "  log: ops/restore-tests.yaml"]
    if restore:
        out.append(f"  script: {_q(restore)}")
    return "\n".join(out) + "\n"


def init(root: Path, *, out=None) -> list[tuple[str, bool]]:
    """Write the starting files under `root`; (path, written) for each."""
    out = out or sys.stderr
    from kohalint.config import CONFIG_FILES, find_config, load_settings

    existing_config = find_config(root)
    settings = load_settings(root)
    ctx = _scan_context(root, settings)
    registry = _find(ctx, ("secrets-registry.yaml", "secrets-registry.yml"), settings.secrets.registry)
    policy = _find(ctx, ("recovery.yaml", "recovery.yml"), settings.recovery.policy)
    plan: list[tuple[str, Optional[str]]] = [
        (existing_config.name if existing_config else CONFIG_FILES[0],
         None if existing_config else config_text(ctx, registry, policy)),
        (registry, registry_text(secret_names(ctx))),
        (policy, recovery_text(ctx)),
    ]
    done = []
    for rel, text in plan:
        target = root / rel
        if text is None or target.exists() or target.is_symlink():
            print(f"kohalint: skipped {rel} (it exists; nothing overwritten)", file=out)
            done.append((rel, False))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            fh.write(text)
        print(f"kohalint: wrote {rel}", file=out)
        done.append((rel, True))
    return done


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", default=".", type=Path, help="the repository (default: .)")


def run(args: argparse.Namespace) -> int:
    """Write .kohalint.yaml and skeleton registries for this repository (never overwrites)."""
    from kohalint.errors import ConfigError

    if not args.path.is_dir():
        raise ConfigError(f"not a directory: {args.path}")
    init(args.path)
    return 0


def _register() -> None:
    from kohalint.cli import EXTRA_COMMANDS

    EXTRA_COMMANDS["init"] = (configure, run)


_register()
