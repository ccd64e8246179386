"""Compose port and volume syntax, short and long forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from kohalint.documents.yamldoc import YMap, YNode, YScalar

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class PortBinding:
    host_ip: str       # "" means every interface
    published: str     # "" means an ephemeral host port (still published)
    target: str
    protocol: str
    node: YNode

    @property
    def loopback(self) -> bool:
        ip = self.host_ip.strip("[]")
        return ip in LOOPBACK or ip.startswith("127.")

    @property
    def host_ports(self) -> list[int]:
        """Host ports this binding opens, when known (ranges expanded, capped)."""
        text = self.published or ""
        lo, _, hi = text.partition("-")
        try:
            a = int(lo)
            b = int(hi) if hi else a
        except ValueError:
            return []
        return list(range(a, min(b, a + 1000) + 1))

    @property
    def line(self) -> int:
        return self.node.line


def parse_port(node: YNode) -> list[PortBinding]:
    if isinstance(node, YMap):
        return [PortBinding(
            host_ip=(node.get_text("host_ip") or "").strip(),
            published=(node.get_text("published") or "").strip(),
            target=(node.get_text("target") or "").strip(),
            protocol=(node.get_text("protocol") or "tcp").strip().lower(),
            node=node)]
    if not isinstance(node, YScalar):
        return []
    text = node.text().strip()
    if not text:
        return []
    proto = "tcp"
    if "/" in text:
        text, _, proto = text.rpartition("/")
    ip = ""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return []
        ip = text[: close + 1]
        text = text[close + 2:] if text[close + 1: close + 2] == ":" else text[close + 1:]
        parts = text.split(":") if text else []
        host, target = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0] if parts else "")
    else:
        parts = text.split(":")
        if len(parts) == 1:
            host, target = "", parts[0]
        elif len(parts) == 2:
            host, target = parts
        else:
            # IPv4 `ip:host:target`, or unbracketed IPv6 `::1:6000:6000`
            ip, host, target = ":".join(parts[:-2]), parts[-2], parts[-1]
    return [PortBinding(host_ip=ip, published=host, target=target, protocol=proto.lower(), node=node)]


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    kind: str          # "bind", "volume", "tmpfs", "npipe", ...
    read_only: bool
    node: YNode


def parse_volume(node: YNode, named_volumes: Optional[set[str]] = None) -> Optional[Mount]:
    if isinstance(node, YMap):
        kind = node.get_text("type") or "volume"
        ro = node.get("read_only")
        return Mount(source=node.get_text("source") or "", target=node.get_text("target") or "",
                     kind=kind, read_only=bool(ro.plain()) if ro is not None else False, node=node)
    if not isinstance(node, YScalar):
        return None
    text = node.text().strip()
    parts = text.split(":")
    if len(parts) == 1:
        return Mount(source="", target=parts[0], kind="volume", read_only=False, node=node)
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    is_bind = source.startswith(("/", ".", "~", "$")) or "/" in source
    if named_volumes is not None and source in named_volumes:
        is_bind = False
    return Mount(source=source, target=target, kind="bind" if is_bind else "volume",
                 read_only="ro" in mode.split(","), node=node)
