"""Dockerfiles through dockerfile-parse, with stages, ARG resolution, heredocs.

dockerfile-parse joins continuation lines and gives 0-based start lines; it
does not know BuildKit heredocs (`RUN <<EOF`), which we re-attach here so a
heredoc body is never mistaken for instructions.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Optional

from kohalint.documents.interpolate import interpolate
from kohalint.errors import ParseError

KNOWN = {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
         "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")
_FLAG = re.compile(r"--([a-zA-Z-]+)(?:=(\S*))?")


@dataclass
class Instruction:
    keyword: str
    value: str           # continuation lines joined, flags included
    line: int            # 1-based first line
    end_line: int
    heredoc: str = ""    # body of `<<EOF` heredocs, if any

    @property
    def flags(self) -> dict[str, str]:
        """Leading `--name=value` flags (RUN --mount, ADD --checksum, COPY --from)."""
        out: dict[str, str] = {}
        for tok in self.value.split():
            m = _FLAG.fullmatch(tok)
            if not m:
                break
            out.setdefault(m.group(1), m.group(2) or "")
            if m.group(1) == "mount":
                out["mount:" + (m.group(2) or "")] = m.group(2) or ""
        return out

    @property
    def body(self) -> str:
        """The value without leading flags."""
        toks = self.value.split(None)
        i = 0
        while i < len(toks) and _FLAG.fullmatch(toks[i]):
            i += 1
        rest = self.value
        for t in toks[:i]:
            rest = rest.split(t, 1)[1]
        return rest.strip()


@dataclass
class Stage:
    index: int
    base: str                    # as written
    base_resolved: str           # ARG defaults substituted
    base_unknown: bool           # an ARG without default decides the base
    name: Optional[str]
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    path: str
    instructions: list[Instruction]
    stages: list[Stage]
    global_args: dict[str, str]

    @property
    def final_stage(self) -> Optional[Stage]:
        return self.stages[-1] if self.stages else None

    def stage_names(self) -> set[str]:
        return {s.name.lower() for s in self.stages if s.name}


def parse_dockerfile(text: str, path: str) -> Dockerfile:
    from dockerfile_parse import DockerfileParser

    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8", "replace")), env_replace=False)
        structure = parser.structure
    except Exception as exc:  # the library raises assorted errors on odd input
        raise ParseError(f"invalid Dockerfile ({type(exc).__name__})") from None
    instructions = _instructions(structure, text.splitlines())
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "ARG" and not stages:
            for name, default in _arg_pairs(ins.value):
                if default is not None:
                    global_args[name] = default
        elif ins.keyword == "FROM":
            stages.append(_stage(ins, len(stages), global_args))
        elif stages:
            stages[-1].instructions.append(ins)
        elif ins.keyword not in ("ARG",):
            raise ParseError(f"{ins.keyword} before the first FROM", ins.line)
    return Dockerfile(path, instructions, stages, global_args)


def _instructions(structure: list[dict], lines: list[str]) -> list[Instruction]:
    out: list[Instruction] = []
    skip_until: Optional[int] = None
    for item in structure:
        kw = str(item.get("instruction", "")).upper()
        start = int(item.get("startline", 0)) + 1
        end = int(item.get("endline", start - 1)) + 1
        if skip_until is not None and start <= skip_until:
            continue
        if kw == "COMMENT":
            continue
        if kw not in KNOWN:
            raise ParseError(f"unknown instruction '{kw[:20]}'", start)
        ins = Instruction(kw, str(item.get("value", "")), start, end)
        m = _HEREDOC.search(ins.value)
        if m and kw in ("RUN", "COPY", "ADD"):
            word = m.group(2)
            body: list[str] = []
            i = end  # 0-based index of the line after the instruction
            while i < len(lines) and lines[i].strip() != word:
                body.append(lines[i])
                i += 1
            ins.heredoc = "\n".join(body)
            ins.end_line = i + 1
            skip_until = i + 1
        out.append(ins)
    return out


def _arg_pairs(value: str) -> list[tuple[str, Optional[str]]]:
    out = []
    for tok in value.split():
        name, sep, default = tok.partition("=")
        if len(default) >= 2 and default[0] == default[-1] and default[0] in "'\"":
            default = default[1:-1]
        out.append((name, default if sep else None))
    return out


def _stage(ins: Instruction, index: int, args: dict[str, str]) -> Stage:
    toks = [t for t in ins.value.split() if not t.startswith("--")]
    base = toks[0] if toks else ""
    name = toks[2] if len(toks) >= 3 and toks[1].lower() == "as" else None
    resolved, unknown = interpolate(base, args)
    return Stage(index, base, resolved, unknown, name, ins.line)
