"""What a compose service built from the repository runs: its Dockerfile's
base image and the repository files its `COPY`/`ADD` put into the image.

A database is often built (`build: ./mariadb` with `FROM mariadb:11.4` and
`COPY binlog.cnf /etc/mysql/conf.d/`) rather than pulled; the recovery rules
must see that server as they see a pulled one. Only what can be read
statically counts: a `COPY --from` another stage or image, a wildcard or a
source outside the build context is an unknown file in the image.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Optional

from kohalint.context import Context
from kohalint.documents.compose import Service
from kohalint.documents.dockerfile import Dockerfile, Instruction, Stage


@dataclass
class BuiltImage:
    base: str                       # the image the final stage starts from
    dockerfile: str                 # repository path
    files: dict[str, str] = field(default_factory=dict)  # container file -> repository file
    dirs: dict[str, str] = field(default_factory=dict)   # container dir -> repository dir
    unknown: list[str] = field(default_factory=list)     # container paths of unreadable copies


def built_image(ctx: Context, svc: Service) -> Optional[BuiltImage]:
    """The image `svc` builds from a Dockerfile in the repository, when its base is known."""
    bc = svc.build_context()
    if bc is None:
        return None
    context_dir, dockerfile_path = bc
    if dockerfile_path is None or not ctx.repo.exists(dockerfile_path):
        return None
    doc = ctx.docs.get("dockerfile", dockerfile_path)
    if not isinstance(doc, Dockerfile):
        return None
    chain = _stage_chain(doc, _target(svc))
    if not chain or chain[-1].base_unknown:
        return None
    image = BuiltImage(chain[-1].base_resolved, dockerfile_path)
    for stage in reversed(chain):  # the base stage's files first: later copies win
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD"):
                _copy(ctx, ins, context_dir, image)
    return image


def _target(svc: Service) -> Optional[str]:
    build = svc.get("build")
    get_text = getattr(build, "get_text", None)
    return get_text("target") if get_text is not None else None


def _stage_chain(doc: Dockerfile, target: Optional[str]) -> list[Stage]:
    """The built stage, then the stages it is built on (`FROM base AS final`)."""
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    stage = by_name.get(target.lower()) if target else doc.final_stage
    chain: list[Stage] = []
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = by_name.get(stage.base_resolved.lower())
    return chain


def _copy(ctx: Context, ins: Instruction, context_dir: str, image: BuiltImage) -> None:
    words = _words(ins.body)
    if len(words) < 2:
        return
    *sources, dest = words
    if not dest.startswith("/"):
        return  # relative to WORKDIR: not where option files are read from
    if "from" in ins.flags or any(_opaque(s) for s in sources):
        image.unknown.append(dest)
        return
    into_dir = dest.endswith("/") or len(sources) > 1
    dest = posixpath.normpath(dest)
    for src in sources:
        repo_src = posixpath.normpath(posixpath.join(context_dir, src)) if context_dir else posixpath.normpath(src)
        if repo_src.startswith("../") or repo_src == "..":
            image.unknown.append(dest)
        elif ctx.repo.exists(repo_src):
            target = posixpath.join(dest, posixpath.basename(repo_src)) if into_dir else dest
            image.files[target] = repo_src
        elif repo_src == "." or ctx.repo.has_prefix(repo_src + "/"):
            image.dirs[dest] = "" if repo_src == "." else repo_src  # a directory's contents
        else:
            image.unknown.append(dest)


def _opaque(src: str) -> bool:
    return any(c in src for c in "*?[$") or "://" in src


def _words(body: str) -> list[str]:
    if body.startswith("["):
        try:
            value = json.loads(body)
        except ValueError:
            return []
        return [str(v) for v in value] if isinstance(value, list) else []
    return body.split()
