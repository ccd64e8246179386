"""Image build hardening in Dockerfiles (KL410-KL413).

`RUN` bodies are parsed as shell through the shared adapter, so `curl | sh`
is found as a pipeline and `echo "apt-get install x"` is not an install.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from kohalint.context import Context
from kohalint.documents.dockerfile import Dockerfile, Instruction, Stage
from kohalint.models import Finding, Severity
from kohalint.rules import check

_DOWNLOADERS = {"curl", "wget"}
_INTERPRETERS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python3", "perl", "ruby", "node"}
_ROOT = {"root", "0", "root:root", "0:0", "root:0", "0:root"}


@check("KL410", "base-image-not-pinned", target="dockerfile")
def base_image_not_pinned(doc: Dockerfile, ctx: Context) -> Iterator[Finding]:
    earlier: set[str] = set()
    for stage in doc.stages:
        base = stage.base_resolved.strip()
        if base.lower() == "scratch" or base.lower() in earlier:
            pass
        elif stage.base_unknown:
            yield ctx.finding(doc.path, stage.line, f"base image `{stage.base}` is chosen at build time "
                              "(ARG without default): pin it by digest where it is set",
                              severity=Severity.low, identity=stage.base)
        elif "@sha256:" not in base:
            tag = _tag(base)
            if tag in (None, "latest"):
                yield ctx.finding(doc.path, stage.line, f"base image `{base}` uses "
                                  f"{'no tag' if tag is None else ':latest'}: pin it by @sha256 digest",
                                  severity=Severity.critical, identity=base)
            else:
                yield ctx.finding(doc.path, stage.line, f"base image `{base}` is pinned by tag only: tags "
                                  "move; add its @sha256 digest", identity=base)
        if stage.name:
            earlier.add(stage.name.lower())


def _tag(ref: str) -> Optional[str]:
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


@check("KL411", "container-runs-as-root", target="dockerfile")
def runs_as_root(doc: Dockerfile, ctx: Context) -> Iterator[Finding]:
    final = doc.final_stage
    if final is None or final.base_resolved.lower() == "scratch" and not final.instructions:
        return
    user, stage = _effective_user(doc, final)
    if user is None:
        yield ctx.finding(doc.path, final.line, "the final stage never sets USER: the container runs as "
                          "root", identity="no-user")
    elif user.value.split()[0].strip("\"'").lower() in _ROOT:
        yield ctx.finding(doc.path, user.line, "the final stage runs as root: switch to an unprivileged "
                          "USER", identity="root-user")


def _effective_user(doc: Dockerfile, stage: Stage) -> tuple[Optional[Instruction], Stage]:
    """The last USER of `stage`, else of the earlier stage it is built FROM."""
    seen = 0
    while True:
        users = [i for i in stage.instructions if i.keyword == "USER" and i.value.strip()]
        if users:
            return users[-1], stage
        parent = next((s for s in doc.stages[: stage.index]
                       if s.name and s.name.lower() == stage.base_resolved.lower()), None)
        seen += 1
        if parent is None or seen > len(doc.stages):
            return None, stage
        stage = parent


@check("KL412", "remote-script-piped-to-shell", target="dockerfile")
def remote_script_piped(doc: Dockerfile, ctx: Context) -> Iterator[Finding]:
    for ins in doc.instructions:
        if ins.keyword == "ADD":
            srcs = ins.body.split()[:-1]
            if any(s.startswith(("http://", "https://")) for s in srcs) and "checksum" not in ins.flags:
                yield ctx.finding(doc.path, ins.line, "ADD downloads a URL without --checksum: the build "
                                  "trusts whatever the server returns", identity="add-url")
        if ins.keyword != "RUN":
            continue
        script = _run_script(ins, doc, ctx)
        if script is None:
            continue
        for pipeline in script.pipelines:
            names = [c.basename for c in pipeline]
            for i, name in enumerate(names):
                if name in _DOWNLOADERS and any(n in _INTERPRETERS for n in names[i + 1:]):
                    yield ctx.finding(doc.path, ins.line, f"RUN pipes {name} output into "
                                      f"{next(n for n in names[i + 1:] if n in _INTERPRETERS)}: a remote "
                                      "script runs unverified", identity=" ".join(names))
                    break
        for cmd in script.commands:
            if cmd.basename in _INTERPRETERS and any(("$(curl" in a or "$(wget" in a or "<(curl" in a
                                                      or "<(wget" in a) for a in cmd.args):
                yield ctx.finding(doc.path, ins.line, f"RUN runs a downloaded script through {cmd.basename}",
                                  identity=f"subst|{cmd.basename}")


def _run_script(ins: Instruction, doc: Dockerfile, ctx: Context):
    from kohalint.documents.shell import parse_shell

    body = ins.heredoc if ins.heredoc else ins.body
    if body.startswith("["):  # exec form: a JSON array, no shell involved
        return None
    # KL412 and KL413 read the same RUN: parse it once per scan.
    cache = ctx.docs.__dict__.setdefault("_dockerfile_runs", {})
    key = (doc.path, ins.line, body)
    if key not in cache:
        cache[key] = parse_shell(body, line_offset=ins.line - 1)
    return cache[key]


_PIP_SKIP = re.compile(r"^(-|\.|/|\$|git\+|https?://)|\.(whl|tar\.gz|zip)$")


@check("KL413", "unpinned-package-install", target="dockerfile")
def unpinned_packages(doc: Dockerfile, ctx: Context) -> Iterator[Finding]:
    for ins in doc.instructions:
        if ins.keyword != "RUN":
            continue
        script = _run_script(ins, doc, ctx)
        if script is None:
            continue
        for cmd in script.commands:
            pkgs = _unpinned(cmd.basename, list(cmd.args))
            if pkgs:
                shown = ", ".join(pkgs[:5]) + (" ..." if len(pkgs) > 5 else "")
                yield ctx.finding(doc.path, ins.line, f"{cmd.basename} installs without versions: {shown}; "
                                  "pin versions for reproducible builds", identity=f"{cmd.basename}|{shown}")


def _unpinned(name: str, args: list[str]) -> list[str]:
    if name in ("apt-get", "apt") and "install" in args:
        words = args[args.index("install") + 1:]
        return [w for w in words if not w.startswith("-") and "=" not in w and not w.endswith(".deb")
                and "$" not in w and "/" not in w]
    if name == "apk" and "add" in args:
        words = args[args.index("add") + 1:]
        skip_next = False
        out = []
        for w in words:
            if skip_next:
                skip_next = False
                continue
            if w in ("-t", "--virtual", "--repository", "-X"):
                skip_next = True
                continue
            if w.startswith("-") or "=" in w or "$" in w:
                continue
            out.append(w)
        return out
    if name in ("pip", "pip3") and "install" in args:
        words = args[args.index("install") + 1:]
        out = []
        skip_next = False
        for w in words:
            if skip_next:
                skip_next = False
                continue
            if w in ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                     "--extra-index-url", "-f", "--find-links", "--target", "-t", "--prefix"):
                skip_next = True
                continue
            if _PIP_SKIP.search(w) or "==" in w or "@" in w:
                continue
            out.append(w)
        return out
    return []
