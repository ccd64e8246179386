"""Dotenv files and where they can leak: git (KL102, KL103) and docker build
contexts (KL104).

Git answers the git questions (`ls-files`, `check-ignore`; for a tree that is
not a work tree, through a throwaway empty repository), and Docker's own
.dockerignore semantics (kohalint.documents.dockerignore) answer the build
context ones: a gitignore-style reading would get `*.env` and re-includes wrong.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.models import Finding
from kohalint.rules import check

_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist")


def is_dotenv(path: str) -> bool:
    name = posixpath.basename(path).lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def is_template(path: str, templates: list[str]) -> bool:
    """`.env.example`, `prod.env.sample`, `.env.production.example`: example values, fine to commit."""
    name = posixpath.basename(path)
    return name in templates or path in templates or name.lower().endswith(_TEMPLATE_SUFFIXES)


@check("KL102", "env-file-tracked", target="repository", reads={"dotenv"})
def env_file_tracked(ctx: Context) -> Iterator[Finding]:
    repo = ctx.repo
    for path in repo.files_of_kind("dotenv"):
        if not is_dotenv(path) or is_template(path, ctx.settings.env_templates):
            continue
        if not repo.is_git:
            # an exported tree: what is here is what the repository holds
            why = "is part of the scanned tree (not a git work tree: it came with the repository)"
        elif repo.is_tracked(path):
            why = "is tracked by git"
        else:
            why = "is not ignored: the next `git add .` commits it"
        untrack = f"run `git rm --cached {path}`" if repo.is_git else "remove it from the repository"
        yield ctx.finding(path, 1, f"dotenv file `{path}` {why}: {untrack}, ignore it, rotate what it "
                          "holds, and commit a template such as `.env.example` instead", identity=path)


@check("KL103", "env-not-gitignored", target="repository", reads={"gitignore", "compose", "dotenv"})
def env_not_gitignored(ctx: Context) -> Iterator[Finding]:
    repo = ctx.repo
    folders = {""} | {posixpath.dirname(p) for p in repo.files_of_kind("compose")}
    probes = {d: posixpath.join(d, ".env") if d else ".env" for d in sorted(folders)}
    if repo.is_git:
        ignored = repo.check_ignore(probes.values())
    else:
        ignored = _check_ignore_outside_git(repo.root, list(probes.values()))
        if ignored is None:
            return  # no git on this machine: nothing can answer the question
    target = ".gitignore"
    exists = repo.exists(target)
    for folder, probe in probes.items():
        if probe in ignored:
            continue
        where = "the repository root" if not folder else f"`{folder}/` (it holds a compose file)"
        state = "" if exists else " (missing: create it)"
        yield ctx.finding(target, 1, f"`{probe}` is not ignored by git in {where}: add `.env` and `.env.*` "
                          f"(with `!.env.example`) to {target}{state}", identity=probe)


@check("KL104", "env-in-build-context", target="repository", reads={"dockerfile", "compose", "dockerignore"})
def env_in_build_context(ctx: Context) -> Iterator[Finding]:
    from kohalint.documents.dockerignore import excludes_sensitive, ignore_file_for, parse_dockerignore

    repo = ctx.repo
    seen: set[str] = set()
    for context_dir, dockerfile, origin in _build_contexts(ctx):
        ignore = ignore_file_for(context_dir or ".", dockerfile, repo.exists)
        label = f"`{context_dir}/`" if context_dir else "`.`"
        if ignore is None:
            target = posixpath.join(context_dir, ".dockerignore") if context_dir else ".dockerignore"
            if target in seen:
                continue
            seen.add(target)
            yield ctx.finding(target, 1, f"build context {label} ({origin}) has no .dockerignore (missing: "
                              "create it): the build sends .env, .env.* and .git to the builder, and "
                              "`COPY . .` bakes them into the image", identity=target)
            continue
        if ignore in seen:
            continue
        seen.add(ignore)
        parsed = parse_dockerignore(repo.read_text(ignore) or "")
        missing = excludes_sensitive(parsed)
        if missing:
            names = ", ".join(f"`{m}`" for m in missing)
            yield ctx.finding(ignore, 1, f"{ignore} leaves {names} in build context {label} "
                              f"({origin}): exclude them (Docker matches `*.env` at the context root only; "
                              "use `**/.env` for depth)", identity=f"{ignore}|{'|'.join(missing)}")


def _check_ignore_outside_git(root: Path, paths: list[str]) -> Optional[set[str]]:
    """Ask git about a tree that is not a work tree (an export, a tarball):
    an empty throwaway repository lends git its matcher, so the tree's own
    .gitignore files decide, with git's rules. Nothing is written into the tree."""
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    try:
        with tempfile.TemporaryDirectory(prefix="kohalint-git-") as tmp:
            subprocess.run(["git", "init", "-q", "--bare", tmp], check=True, capture_output=True,
                           timeout=30, env=env)
            proc = subprocess.run(
                ["git", "-c", "core.excludesFile=" + os.devnull, "-c", "core.fsmonitor=false",
                 f"--git-dir={tmp}", "--work-tree=.", "check-ignore", "--no-index", "-z", "--stdin"],
                cwd=root, input=b"\0".join(p.encode() for p in paths) + b"\0",
                capture_output=True, timeout=30, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode not in (0, 1):
        return None
    return {p.decode("utf-8", "replace") for p in proc.stdout.split(b"\0") if p}


# `dockerfile.py` is a Python module that happens to be named like a Dockerfile variant.
_NOT_DOCKERFILE_EXT = {"py", "pyc", "md", "rst", "txt", "json", "yml", "yaml", "toml", "cfg", "ini", "sh",
                       "lock", "bak", "orig", "swp", "html", "go", "js", "ts", "rb"}


def _is_dockerfile_name(path: str) -> bool:
    name = posixpath.basename(path).lower()
    if name.endswith(".dockerfile") or "." not in name:
        return True
    return name.rsplit(".", 1)[1] not in _NOT_DOCKERFILE_EXT


def _build_contexts(ctx: Context) -> list[tuple[str, Optional[str], str]]:
    """(context dir, dockerfile, why) for compose builds, then for other Dockerfiles."""
    out: list[tuple[str, Optional[str], str]] = []
    used: set[str] = set()
    for project in ctx.docs.compose_projects():
        for svc in project.services.values():
            bc = svc.build_context()
            if bc is None or bc[0].startswith(".."):
                continue
            context_dir, dockerfile = bc
            used.add(dockerfile or posixpath.join(context_dir, "Dockerfile"))
            out.append((context_dir, dockerfile, f"compose service '{svc.name}'"))
    for path in ctx.repo.files_of_kind("dockerfile"):
        if path not in used and _is_dockerfile_name(path):
            out.append((posixpath.dirname(path), path, f"`{posixpath.basename(path)}`"))
    return out
