"""The compose project model: base file plus overrides, merged as compose does.

A project is the base file (compose.yaml > compose.yml > docker-compose.yaml >
docker-compose.yml) with its auto-loaded override, or the base with one other
variant (`docker-compose.prod.yml`), as `docker compose -f base -f variant`
would load it. Each file is interpolated on its own, then merged; `extends`
and `include` are followed inside the repository only.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

from kohalint.documents.compose_merge import KEYED, merge_mapping, merge_service, normalise_keyed
from kohalint.documents.interpolate import interpolate
from kohalint.documents.ports import Mount, PortBinding, parse_port, parse_volume
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq
from kohalint.errors import ParseError

BASE_ORDER = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
OVERRIDE_NAMES = ("compose.override.yaml", "compose.override.yml",
                  "docker-compose.override.yaml", "docker-compose.override.yml")
MAX_EXTENDS = 20

# Loads a repository file as a YAML node, raising ParseError; None if absent.
Loader = Callable[[str], Optional[YNode]]


@dataclass
class Service:
    name: str
    node: YMap                 # the merged definition
    defined_at: YScalar        # the service's key in the first file defining it
    project: "ComposeProject" = field(repr=False)

    @property
    def path(self) -> str:
        return self.defined_at.path

    @property
    def line(self) -> int:
        return self.defined_at.line

    def get(self, key: str) -> Optional[YNode]:
        return self.node.get(key)

    def text(self, key: str) -> Optional[str]:
        return self.node.get_text(key)

    def key_line(self, key: str) -> tuple[str, int]:
        """Where `key` is set (its key node), else where the service is defined."""
        k = self.node.key_node(key)
        if k is not None:
            return k.path, k.line
        return self.path, self.line

    @property
    def image(self) -> Optional[YScalar]:
        v = self.node.get("image")
        return v if isinstance(v, YScalar) else None

    @property
    def builds(self) -> bool:
        return "build" in self.node

    def ports(self) -> list[PortBinding]:
        v = self.node.get("ports")
        if not isinstance(v, YSeq):
            return []
        out: list[PortBinding] = []
        for item in v.items:
            out.extend(parse_port(item))
        return out

    def mounts(self) -> list[Mount]:
        v = self.node.get("volumes")
        if not isinstance(v, YSeq):
            return []
        named = set(self.project.volumes)
        return [m for m in (parse_volume(i, named) for i in v.items) if m is not None]

    def build_context(self) -> Optional[tuple[str, Optional[str]]]:
        """(context dir, dockerfile path), repository-relative, when built from the repo."""
        b = self.node.get("build")
        base_dir = posixpath.dirname(self.defined_at.path)
        if isinstance(b, YScalar):
            ctx, dockerfile = b.text(), None
        elif isinstance(b, YMap):
            ctx, dockerfile = b.get_text("context") or ".", b.get_text("dockerfile")
        else:
            return None
        if "://" in ctx or ctx.startswith("git@"):
            return None
        ctx_dir = _norm(posixpath.join(base_dir, ctx))
        df = _norm(posixpath.join(ctx_dir, dockerfile or "Dockerfile"))
        return ctx_dir, df


def _norm(path: str) -> str:
    p = posixpath.normpath(path)
    return "" if p == "." else p


@dataclass
class ComposeProject:
    files: list[str]
    services: dict[str, Service] = field(default_factory=dict)
    volumes: dict[str, YNode] = field(default_factory=dict)
    top: dict[str, YNode] = field(default_factory=dict)   # merged top-level keys

    @property
    def name(self) -> str:
        return " + ".join(self.files)

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.files[0])


def discover_projects(paths: Iterable[str], explicit: Iterable[Iterable[str]] = ()) -> list[list[str]]:
    """Group compose files into projects (lists of files in load order)."""
    projects = [list(p) for p in explicit]
    claimed = {f for p in projects for f in p}
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        if p not in claimed:
            by_dir.setdefault(posixpath.dirname(p), []).append(posixpath.basename(p))
    for d in sorted(by_dir):
        names = set(by_dir[d])
        join = (lambda n: posixpath.join(d, n) if d else n)
        base = next((n for n in BASE_ORDER if n in names), None)
        overrides = [n for n in OVERRIDE_NAMES if n in names]
        variants = sorted(n for n in names if n not in BASE_ORDER and n not in OVERRIDE_NAMES)
        shadowed = [n for n in BASE_ORDER if n in names and n != base]
        if base:
            projects.append([join(base)] + [join(o) for o in overrides[:1]])
        else:
            projects.extend([join(o)] for o in overrides[:1])
        for v in variants + shadowed:
            projects.append(([join(base)] if base else []) + [join(v)])
    return projects


class ProjectBuilder:
    """Builds one `ComposeProject` from its files through `load`."""

    def __init__(self, load: Loader, env_for: Callable[[str], dict[str, str]]) -> None:
        self.load = load
        self.env_for = env_for
        self._cache: dict[str, Optional[YMap]] = {}

    def file(self, path: str) -> Optional[YMap]:
        if path not in self._cache:
            node = self.load(path)
            if node is not None and not isinstance(node, YMap):
                raise ParseError("a compose file must be a mapping at the top level", node.line, node.column, path)
            if node is not None:
                node = _interpolate(node, self.env_for(path))
                assert isinstance(node, YMap)
            self._cache[path] = node
        return self._cache[path]

    def build(self, files: list[str], _including: tuple[str, ...] = ()) -> ComposeProject:
        project = ComposeProject(files=list(files))
        merged: dict[str, tuple[YScalar, YMap]] = {}
        for path in files:
            doc = self.file(path)
            if doc is None:
                continue
            self._merge_top(project, doc)
            services = doc.get("services")
            if not isinstance(services, YMap):
                continue
            for name, (knode, snode) in services.entries.items():
                if not isinstance(snode, YMap):
                    continue
                snode = self._resolve_extends(path, name, snode, 0)
                if name in merged:
                    first_key, current = merged[name]
                    merged[name] = (first_key, merge_service(current, snode))
                else:
                    merged[name] = (knode, snode)
            self._include(project, path, doc, merged, _including)
        for name, (knode, snode) in merged.items():
            project.services[name] = Service(name, snode, knode, project)
        vols = project.top.get("volumes")
        if isinstance(vols, YMap):
            project.volumes = dict(vols.items())
        return project

    def _merge_top(self, project: ComposeProject, doc: YMap) -> None:
        for key, value in doc.items():
            if key == "services":
                continue
            old = project.top.get(key)
            if isinstance(old, YMap) and isinstance(value, YMap) and not key.startswith("x-"):
                project.top[key] = merge_mapping(old, value)
            else:
                project.top[key] = value

    def _resolve_extends(self, path: str, name: str, snode: YMap, depth: int) -> YMap:
        ext = snode.get("extends")
        if ext is None:
            return _normalise_service(snode)
        if depth >= MAX_EXTENDS:
            raise ParseError("extends chain too long or circular", ext.line, ext.column, ext.path)
        if isinstance(ext, YScalar):
            base_name, base_file = ext.text(), None
        elif isinstance(ext, YMap):
            base_name, base_file = ext.get_text("service") or "", ext.get_text("file")
        else:
            raise ParseError("extends must name a service", ext.line, ext.column, ext.path)
        src_path = path if not base_file else _norm(posixpath.join(posixpath.dirname(path), base_file))
        src = self.file(src_path)
        services = src.get("services") if src else None
        base = services.get(base_name) if isinstance(services, YMap) else None
        if not isinstance(base, YMap):
            return _normalise_service(snode)  # outside the repository or missing: nothing to add
        if base is snode:
            raise ParseError("a service cannot extend itself", ext.line, ext.column, ext.path)
        base = self._resolve_extends(src_path, base_name, base, depth + 1)
        own = YMap({k: e for k, e in snode.entries.items() if k != "extends"},
                   snode.path, snode.line, snode.column)
        return merge_service(base, _normalise_service(own))

    def _include(self, project: ComposeProject, path: str, doc: YMap,
                 merged: dict[str, tuple[YScalar, YMap]], including: tuple[str, ...]) -> None:
        inc = doc.get("include")
        if not isinstance(inc, YSeq):
            return
        for item in inc.items:
            targets: list[str] = []
            if isinstance(item, YScalar):
                targets = [item.text()]
            elif isinstance(item, YMap):
                p = item.get("path")
                if isinstance(p, YScalar):
                    targets = [p.text()]
                elif isinstance(p, YSeq):
                    targets = [i.text() for i in p.items if isinstance(i, YScalar)]
            for t in targets:
                inc_path = _norm(posixpath.join(posixpath.dirname(path), t))
                if inc_path in project.files:
                    continue
                if inc_path in including or len(including) >= MAX_EXTENDS:
                    # compose refuses an include cycle; a chain this long is one in all but name
                    raise ParseError("include cycle (or chain too long)", item.line, item.column, item.path)
                sub = (self.build([inc_path], including + (path,))
                       if self.file(inc_path) is not None else None)
                if sub is None:
                    continue
                for name, svc in sub.services.items():
                    # compose warns on a name clash and keeps the including file's service
                    merged.setdefault(name, (svc.defined_at, svc.node))


def _normalise_service(node: YMap) -> YMap:
    entries = dict(node.entries)
    changed = False
    for key in KEYED:
        if key in entries and isinstance(entries[key][1], YSeq):
            entries[key] = (entries[key][0], normalise_keyed(entries[key][1]))
            changed = True
    return YMap(entries, node.path, node.line, node.column, node.tag) if changed else node


def _interpolate(node: YNode, env: dict[str, str]) -> YNode:
    """A copy with every scalar value interpolated (keys are left alone)."""
    if isinstance(node, YScalar):
        if isinstance(node.value, str) and "$" in node.value:
            value, unknown = interpolate(node.value, env)
            out = YScalar(value, node.path, node.line, node.column, node.tag, node.quoted)
            out.raw = node.value
            out.unknown = unknown
            return out
        return node
    if isinstance(node, YSeq):
        return YSeq([_interpolate(i, env) for i in node.items], node.path, node.line, node.column, node.tag)
    if isinstance(node, YMap):
        return YMap({k: (kn, _interpolate(v, env)) for k, (kn, v) in node.entries.items()},
                    node.path, node.line, node.column, node.tag)
    return node
