"""Runtime hardening and isolation of compose services (KL401-KL409).

Every check reads the merged project, so an override that adds hardening
clears a finding and one that removes it (`!reset`) brings it back. Absent
keys are reported at the service's key in the file that defines it.
"""

from __future__ import annotations

import re
from typing import Iterator

from kohalint.checks.compose_helpers import (deep_get, is_critical, is_edge, is_internal, is_set,
                                             label, text_items, truthy)
from kohalint.context import Context
from kohalint.documents.compose import ComposeProject, Service
from kohalint.documents.yamldoc import YMap, YScalar
from kohalint.models import Finding, Severity
from kohalint.rules import check

_NNP = re.compile(r"^no-new-privileges(?:[:=](?:true|1))?$", re.I)
_SHIPPING_DRIVERS = {"fluentd", "gelf", "loki", "syslog", "journald", "awslogs", "splunk",
                     "gcplogs", "logentries", "etwlogs", "local", "none"}
_SOCKET_PATHS = ("/var/run/docker.sock", "/run/docker.sock")
TLS_PORTS = {"443", "8443"}


def _where(svc: Service, key: str) -> tuple[str, int]:
    return svc.key_line(key)


@check("KL401", "internal-port-published", target="compose")
def internal_port_published(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        if not is_internal(svc, ctx.settings):
            continue
        for b in svc.ports():
            where = "loopback only" if b.loopback else (b.host_ip or "all interfaces")
            sev = Severity.medium if b.loopback else None
            shown = b.published or "an ephemeral port"
            yield ctx.at(b.node, f"{label(svc)} publishes {shown}->{b.target} on {where}; internal "
                         "services must not be reachable from outside: use `expose:` or an internal network",
                         severity=sev, identity=f"{svc.name}|{b.host_ip}|{b.published}|{b.target}")
        nm = svc.get("network_mode")
        if isinstance(nm, YScalar) and nm.text() == "host":
            yield ctx.at(nm, f"{label(svc)} uses network_mode: host, so every port it listens on is "
                         "reachable from outside", identity=f"{svc.name}|host")


@check("KL402", "no-new-privileges-missing", target="compose")
def no_new_privileges(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        opts = text_items(svc.get("security_opt"))
        if any(_NNP.match(o.text().strip()) for o in opts):
            continue
        path, line = _where(svc, "security_opt")
        yield ctx.finding(path, line, f"{label(svc)} lacks `security_opt: [no-new-privileges:true]`; "
                          "setuid binaries could raise privileges", identity=svc.name)


@check("KL403", "capabilities-not-dropped", target="compose")
def capabilities_not_dropped(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        priv = svc.get("privileged")
        if truthy(priv):
            yield ctx.at(priv, f"{label(svc)} runs privileged: it has every capability and all host "
                         "devices", severity=Severity.critical, identity=f"{svc.name}|privileged")
        drops = [d.text().strip().upper() for d in text_items(svc.get("cap_drop"))]
        if "ALL" in drops or any(d.upper().endswith("ALL") for d in drops):
            continue
        path, line = _where(svc, "cap_drop")
        yield ctx.finding(path, line, f"{label(svc)} does not drop all capabilities: add `cap_drop: [ALL]` "
                          "and `cap_add` only what it needs", identity=svc.name)


@check("KL404", "resource-limits-missing", target="compose")
def resource_limits(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        limits = deep_get(svc.node, "deploy", "resources", "limits")
        missing = []
        if not (is_set(svc.get("mem_limit")) or is_set(deep_get(limits, "memory"))):
            missing.append("memory (mem_limit)")
        if not (is_set(svc.get("cpus")) or is_set(deep_get(limits, "cpus"))):
            missing.append("CPU (cpus)")
        if not (is_set(svc.get("pids_limit")) or is_set(deep_get(limits, "pids"))):
            missing.append("process (pids_limit)")
        if missing:
            yield ctx.finding(svc.path, svc.line, f"{label(svc)} has no {', '.join(missing)} limit; one "
                              "runaway container can starve the host", identity=svc.name)


@check("KL405", "restart-policy-missing", target="compose")
def restart_policy(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        if deep_get(svc.node, "deploy", "restart_policy") is not None:
            continue
        restart = svc.get("restart")
        if isinstance(restart, YScalar):
            value = restart.text().strip().lower()
            if restart.unknown or value not in ("no", "false", ""):
                continue
            yield ctx.at(restart, f"{label(svc)} has `restart: \"no\"`: it stays down after a crash or "
                         "reboot", identity=svc.name)
            continue
        yield ctx.finding(svc.path, svc.line, f"{label(svc)} has no restart policy: add "
                          "`restart: unless-stopped`", identity=svc.name)


@check("KL406", "log-rotation-missing", target="compose")
def log_rotation(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        logging = svc.get("logging")
        driver_node = deep_get(logging, "driver")
        if isinstance(driver_node, YScalar) and driver_node.unknown:
            continue
        driver = driver_node.text().strip().lower() if isinstance(driver_node, YScalar) else "json-file"
        if driver != "json-file":
            if driver in _SHIPPING_DRIVERS or driver:
                continue
        opts = deep_get(logging, "options")
        has = set(opts.keys()) if isinstance(opts, YMap) else set()
        missing = [k for k in ("max-size", "max-file") if k not in has]
        if not missing:
            continue
        path, line = _where(svc, "logging")
        yield ctx.finding(path, line, f"{label(svc)} logs to json-file without {' and '.join(missing)}: "
                          "the log grows until the disk is full", identity=svc.name)


@check("KL407", "healthcheck-missing", target="compose")
def healthcheck(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        hc = svc.get("healthcheck")
        sev = None if is_critical(svc, ctx.settings) else Severity.medium
        if isinstance(hc, YMap):
            disabled = truthy(hc.get("disable"))
            test = text_items(hc.get("test"))
            if test and test[0].text().strip().upper() == "NONE":
                disabled = True
            if not disabled:
                continue
            path, line = _where(svc, "healthcheck")
            yield ctx.finding(path, line, f"{label(svc)} disables its healthcheck: failures go unnoticed "
                              "and dependants start too early", severity=sev, identity=svc.name)
            continue
        if _dockerfile_healthcheck(svc, ctx):
            continue
        yield ctx.finding(svc.path, svc.line, f"{label(svc)} has no healthcheck (none in compose, none in "
                          "the Dockerfile it builds)", severity=sev, identity=svc.name)


def _dockerfile_healthcheck(svc: Service, ctx: Context) -> bool:
    built = svc.build_context()
    if built is None:
        return False
    doc = ctx.docs.dockerfile(built[1])
    if doc is None or doc.final_stage is None:
        return False
    for ins in reversed(doc.final_stage.instructions):
        if ins.keyword == "HEALTHCHECK":
            return ins.body.strip().upper() != "NONE"
    return False


@check("KL408", "ingress-not-via-tls-edge", target="compose")
def ingress_via_tls_edge(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    from kohalint.checks.tls_edge import edge_tls_findings

    for svc in project.services.values():
        if is_internal(svc, ctx.settings):
            continue  # KL401 covers internal services
        public = [b for b in svc.ports() if not b.loopback]
        if not is_edge(svc, ctx.settings):
            for b in public:
                yield ctx.at(b.node, f"{label(svc)} publishes {b.published or 'a port'}->{b.target} "
                             "directly: route ingress through the TLS edge proxy",
                             identity=f"{svc.name}|{b.published}|{b.target}")
            continue
        yield from edge_tls_findings(svc, public, ctx)


@check("KL409", "host-escape", target="compose")
def host_escape(project: ComposeProject, ctx: Context) -> Iterator[Finding]:
    for svc in project.services.values():
        for m in svc.mounts():
            if m.kind != "bind" and not m.source.startswith("/"):
                continue
            src = m.source.rstrip("/") or "/"
            if any(s == src or s.startswith(src + "/") or src == "/" for s in _SOCKET_PATHS):
                what = "the docker socket" if src in _SOCKET_PATHS else f"{src}, which holds the docker socket"
                node = m.node.get("source") if isinstance(m.node, YMap) else m.node
                yield ctx.at(node or m.node, f"{label(svc)} mounts {what}: full control of the host",
                             identity=f"{svc.name}|{src}")
        if truthy(svc.get("use_api_socket")):
            node = svc.get("use_api_socket")
            yield ctx.at(node, f"{label(svc)} sets use_api_socket: true: it can drive the docker engine",
                         identity=f"{svc.name}|api")
        for key in ("pid", "ipc", "uts", "userns_mode"):
            node = svc.get(key)
            if isinstance(node, YScalar) and node.text().strip() == "host":
                yield ctx.at(node, f"{label(svc)} shares the host's {key.replace('_mode', '')} namespace",
                             identity=f"{svc.name}|{key}")
        nm = svc.get("network_mode")
        if isinstance(nm, YScalar) and nm.text().strip() == "host" and not is_internal(svc, ctx.settings):
            yield ctx.at(nm, f"{label(svc)} uses the host's network namespace", identity=f"{svc.name}|net")
