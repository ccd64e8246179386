"""Questions several compose checks ask about a service."""

from __future__ import annotations

from typing import Optional

from kohalint.config import Settings
from kohalint.documents.compose import Service
from kohalint.documents.yamldoc import YMap, YNode, YScalar


def image_repo_name(image: str) -> str:
    """`docker.io/bitnami/mariadb:11@sha256:..` -> `mariadb`."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def _matches(name: str, candidates: list[str]) -> bool:
    return any(name == c or name.startswith(c + "-") for c in candidates)


def service_kind_name(svc: Service) -> str:
    img = svc.image
    return image_repo_name(img.text()) if img is not None and not img.unknown else ""


def is_internal(svc: Service, settings: Settings) -> bool:
    opts = settings.runtime
    kind = service_kind_name(svc)
    if kind and _matches(kind, opts.internal_images):
        return True
    return svc.name.lower() in opts.internal_services


def is_edge(svc: Service, settings: Settings) -> bool:
    kind = service_kind_name(svc)
    if kind and _matches(kind, settings.runtime.edge_proxies):
        return True
    return svc.name.lower() in settings.runtime.edge_proxies


def is_critical(svc: Service, settings: Settings) -> bool:
    return (is_internal(svc, settings) or is_edge(svc, settings) or svc.builds
            or svc.name in settings.runtime.critical_services)


def label(svc: Service) -> str:
    kind = service_kind_name(svc)
    return f"service '{svc.name}'" + (f" ({kind})" if kind and kind != svc.name else "")


def deep_get(node: Optional[YNode], *keys: str) -> Optional[YNode]:
    for k in keys:
        if not isinstance(node, YMap):
            return None
        node = node.get(k)
    return node


def is_set(node: Optional[YNode]) -> bool:
    """A limit is set when present and not 0/-1; a deploy-time variable counts as set."""
    if node is None:
        return False
    if isinstance(node, YScalar):
        if node.unknown:
            return True
        text = node.text().strip().lower()
        return text not in ("", "0", "-1", "none", "null", "0b", "0m", "0g")
    return True


def truthy(node: Optional[YNode]) -> bool:
    if not isinstance(node, YScalar):
        return False
    v = node.value
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("true", "yes", "1", "on")


def text_items(node: Optional[YNode]) -> list[YScalar]:
    from kohalint.documents.yamldoc import YSeq

    if isinstance(node, YSeq):
        return [i for i in node.items if isinstance(i, YScalar)]
    if isinstance(node, YScalar):
        return [node]
    return []
