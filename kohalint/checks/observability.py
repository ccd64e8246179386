"""Observability of a compose project: central logging and metrics (KL501, KL502).

Both rules ask what the merged project runs, by image (or by service name when
the image is only known at deploy time). What runs outside the project (a host
agent, a central Prometheus) is declared in `observability.provided`, since no
file in the repository can show it. Alerting rules and runbooks (KL503, KL504)
live in `observability_alerts.py`.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Iterable, Iterator, Optional

from kohalint.checks.compose_helpers import deep_get, label
from kohalint.context import Context
from kohalint.documents.compose import ComposeProject, Service
from kohalint.documents.yamldoc import YMap, YScalar
from kohalint.models import Finding
from kohalint.rules import check

# Drivers that keep logs on the host (or drop them): not shipping.
_LOCAL_DRIVERS = {"json-file", "local"}

_METRIC_GAPS = {
    "host": ("no host metrics", "node-exporter", "the host's disk, memory and CPU go unwatched"),
    "container": ("no container metrics", "cadvisor", "per-container memory, CPU and restarts go unwatched"),
    "scraper": ("no metrics scraper", "prometheus, victoria-metrics, grafana alloy/agent or otel collector",
                "nothing stores the exporters' metrics or evaluates alerts"),
}


def image_path(image: str) -> str:
    """`docker.io/prom/node-exporter:v1@sha256:..` -> `docker.io/prom/node-exporter`."""
    ref = image.strip().lower().split("@", 1)[0]
    head, _, last = ref.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def image_matches(path: str, patterns: Iterable[str]) -> bool:
    last = path.rsplit("/", 1)[-1]
    for pattern in patterns:
        p = pattern.lower()
        if "/" in p:
            if fnmatchcase(path, p) or fnmatchcase(path, "*/" + p):
                return True
        elif last and fnmatchcase(last, p):
            return True
    return False


def runs(svc: Service, patterns: list[str]) -> bool:
    """Does `svc` run one of the images named by `patterns`?"""
    img = svc.image
    path = image_path(img.text()) if img is not None else ""
    if path and image_matches(path, patterns):
        return True
    if img is None or img.unknown or not path:
        # the image is built here or set at deploy time: the service name is the best evidence
        name = svc.name.lower()
        return any(fnmatchcase(name, p.lower()) for p in patterns if "/" not in p)
    return False


def services_anchor(project: ComposeProject, ctx: Context) -> tuple[str, int]:
    """The `services:` key of the project's first file: where a missing service belongs."""
    base = project.files[0]
    doc = ctx.docs.yaml(base)
    key = doc.key_node("services") if isinstance(doc, YMap) else None
    return base, key.line if key is not None else 1


def daemon_log_driver(ctx: Context) -> Optional[str]:
    """The `log-driver` of a Docker daemon.json kept in the repository, if any."""
    for path in ctx.repo.named("daemon.json"):
        try:
            data = json.loads(ctx.repo.read_text(path) or "")
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            continue
        driver = data.get("log-driver") if isinstance(data, dict) else None
        if isinstance(driver, str) and driver.strip():
            return driver.strip().lower()
    return None


def _ships(driver: str, shipping: list[str]) -> bool:
    # plugin drivers are image references (`grafana/loki-docker-driver:3.0`)
    return image_matches(image_path(driver), shipping) or driver in shipping


@check("KL501", "central-logging-missing", target="compose")
def central_logging_missing(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    opts = ctx.settings.observability
    services = list(project.services.values())
    if not services or "logging" in opts.provided:
        return
    if any(runs(svc, opts.log_collectors) for svc in services):
        return
    default = daemon_log_driver(ctx) or "json-file"
    local: list[Service] = []
    for svc in services:
        node = deep_get(svc.get("logging"), "driver")
        if isinstance(node, YScalar) and node.unknown:
            continue  # chosen at deploy time: do not guess
        driver = node.text().strip().lower() if isinstance(node, YScalar) and node.text().strip() \
            else default
        if driver == "none" or _ships(driver, opts.log_drivers):
            continue
        local.append(svc)
    if not local:
        return
    path, line = services_anchor(project, ctx)
    if len(local) == len(services):
        what = "no service runs a log collector (alloy, promtail, vector, fluent-bit, ...) and no " \
               "service uses a shipping logging driver"
    else:
        names = ", ".join(f"'{s.name}'" for s in local[:6]) + (", ..." if len(local) > 6 else "")
        what = f"no service runs a log collector and {names} log{'s' if len(local) == 1 else ''} " \
               "to the host only"
    yield ctx.finding(path, line, f"no central logging in this compose project: {what}; logs die with "
                      "the host and cannot be searched across services (add a collector such as "
                      "grafana/alloy, or list `logging` under observability.provided if it runs elsewhere)",
                      identity="central-logging")


def _database_exporters(svc: Service, databases: dict[str, list[str]]) -> Optional[list[str]]:
    for db, exporters in databases.items():
        if runs(svc, [db]):
            return exporters
    return None


@check("KL502", "metrics-missing", target="compose")
def metrics_missing(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    opts = ctx.settings.observability
    services = list(project.services.values())
    if not services:
        return
    path, line = services_anchor(project, ctx)
    for kind, images in opts.metrics.items():
        if kind in opts.provided or any(runs(svc, images) for svc in services):
            continue
        what, example, why = _METRIC_GAPS.get(kind, (f"no {kind} metrics", ", ".join(images[:3]),
                                                     "that part of the stack goes unwatched"))
        yield ctx.finding(path, line, f"{what}: no {example} service in this compose project, so {why} "
                          f"(list `{kind}` under observability.provided if it runs elsewhere)",
                          identity=f"metrics|{kind}")
    if "database" in opts.provided:
        return
    for svc in services:
        exporters = _database_exporters(svc, opts.database_exporters)
        if exporters is None or any(runs(other, exporters) for other in services):
            continue
        yield ctx.finding(svc.path, svc.line, f"{label(svc)} has no metrics exporter ({exporters[0]}): "
                          "connections, slow queries and replication/binlog state go unwatched",
                          identity=f"metrics|database|{svc.name}")
