"""KL408's edge-proxy half: does the proxy publish TLS, and is TLS configured
in the proxy configuration the repository mounts into it?"""

from __future__ import annotations

import re
from typing import Iterator

from kohalint.checks.compose_helpers import label, service_kind_name, text_items
from kohalint.context import Context
from kohalint.documents.compose import Service
from kohalint.documents.ports import PortBinding
from kohalint.documents.yamldoc import YMap, YScalar
from kohalint.models import Finding

TLS_PORTS = {"443", "8443"}
_NGINX_TLS = re.compile(r"^\s*(listen\s+[^;#]*\bssl\b|ssl_certificate\s)", re.M)
_NGINX_LISTEN = re.compile(r"^\s*listen\s", re.M)
_TRAEFIK_TLS = re.compile(r"(websecure|\btls\b|certresolver)", re.I)


def edge_tls_findings(svc: Service, public: list[PortBinding], ctx: Context) -> Iterator[Finding]:
    tls = [b for b in public if b.target.split("-")[0] in TLS_PORTS or b.published in TLS_PORTS]
    if public and not tls:
        for b in public:
            yield ctx.at(b.node, f"edge proxy {label(svc)} publishes plaintext {b.published or b.target} "
                         "with no TLS port: publish 443 and redirect 80 to it",
                         identity=f"{svc.name}|{b.published}|{b.target}")
    if public:
        yield from _config_findings(svc, ctx)


def _config_findings(svc: Service, ctx: Context) -> Iterator[Finding]:
    kind = service_kind_name(svc) or svc.name
    files = _mounted_repo_files(svc, ctx)
    if kind.startswith("traefik"):
        blob = " ".join(i.text() for key in ("command", "labels") for i in _texts(svc.get(key)))
        blob += " ".join(ctx.repo.read_text(f) or "" for f in files)
        if not _TRAEFIK_TLS.search(blob):
            yield ctx.finding(svc.path, svc.line, f"edge proxy {label(svc)}: no TLS entrypoint or router "
                              "(websecure/tls) configured", identity=f"{svc.name}|tls-config")
        return
    confs = [(f, ctx.repo.read_text(f) or "") for f in files]
    confs = [(f, t) for f, t in confs if _NGINX_LISTEN.search(t)]
    if not confs:
        return  # nothing in the repository to judge
    if any(_NGINX_TLS.search(t) for _, t in confs):
        return
    path, text = confs[0]
    m = _NGINX_LISTEN.search(text)
    line = text.count("\n", 0, m.start()) + 1 if m else 1
    yield ctx.finding(path, line, f"proxy configuration mounted into {label(svc)} has no TLS listener "
                      "(`listen 443 ssl`)", identity=f"{svc.name}|tls-config")


def _texts(node):
    if isinstance(node, YMap):
        return [YScalar(f"{k}={v.text() if isinstance(v, YScalar) else ''}", node.path, node.line, 1)
                for k, v in node.items()]
    return text_items(node)


def _mounted_repo_files(svc: Service, ctx: Context) -> list[str]:
    import posixpath

    base = posixpath.dirname(svc.path)
    out: list[str] = []
    for m in svc.mounts():
        if m.kind != "bind" or not m.source.startswith("."):
            continue
        src = posixpath.normpath(posixpath.join(base, m.source))
        if src in ctx.repo:
            out.append(src)
        else:
            out.extend(ctx.repo.in_dir(src))
    return sorted(set(out))
