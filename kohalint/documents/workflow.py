"""GitHub Actions workflows as position-keeping objects.

Built on `yamldoc` (YAML 1.2, so `on:` is the string key it looks like). The
model answers the questions the delivery and supply-chain rules ask: which
events trigger the workflow (every form of `on:`), which actions and images it
uses, and which shell commands it runs. Commands come from `run:` and from the
script inputs of well-known actions (an SSH deploy action's `script`), parsed
with the shared shell adapter at their real lines, with `env:` values put into
`$VAR` words so `docker run "$GITLEAKS_IMAGE" detect` reads as a gitleaks run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterator, Optional

from kohalint.documents.store import register_parser
from kohalint.documents.yamldoc import YMap, YNode, YScalar, YSeq, load_yaml
from kohalint.errors import ParseError

if TYPE_CHECKING:
    from kohalint.documents.shell import Command

# Action inputs that hold a shell script run somewhere (an SSH host, a retry
# wrapper). Keys are `owner/repo` in lower case.
SCRIPT_INPUTS: dict[str, tuple[str, ...]] = {
    "appleboy/ssh-action": ("script",),
    "garygrossgarten/github-action-ssh": ("command",),
    "fifsky/ssh-action": ("command",),
    "d3rhase/ssh-command-action": ("command",),
    "cross-the-world/ssh-scp-ssh-pipelines": ("first_ssh", "last_ssh"),
    "cross-the-world/ssh-pipeline": ("script",),
    "nick-fields/retry": ("command",),
    "nick-invision/retry": ("command",),
    "wandalen/wretry.action": ("command",),
}
# `shell:` values whose script is not shell: their text is not parsed as such.
_NOT_SHELL = ("python", "node", "cmd", "perl", "ruby")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_ENV_EXPR = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}")
_ASSIGN = re.compile(r"^[ \t]*(?:export[ \t]+|readonly[ \t]+|local[ \t]+|declare[ \t]+(?:-\w+[ \t]+)*)?"
                     r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|]*)", re.M)
_DEPLOY_WORD = re.compile(r"(?i)(deploy|production|(?:^|[^a-z])prod(?:$|[^a-z]))")


def env_map(node: Optional[YNode]) -> dict[str, str]:
    """An `env:` mapping as text (an expression instead of a mapping gives {})."""
    if not isinstance(node, YMap):
        return {}
    return {k: v.text() for k, v in node.items() if isinstance(v, YScalar)}


def action_name(uses: str) -> str:
    """`Actions/Checkout/sub@v4` -> `actions/checkout` (docker:// and ./ kept whole)."""
    ref = uses.strip()
    if ref.startswith(("docker://", "./", "../", "$/")):
        return ref
    base = ref.split("@", 1)[0]
    return "/".join(base.split("/")[:2]).lower()


def says_deploy(text: Optional[str]) -> bool:
    return bool(text) and bool(_DEPLOY_WORD.search(text or ""))


def substitute(word: str, env: dict[str, str]) -> str:
    """Put known `$VAR`, `${VAR}` and `${{ env.VAR }}` values into a word."""
    if "$" not in word:
        return word
    word = _ENV_EXPR.sub(lambda m: env.get(m.group(1), m.group(0)), word)
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), word)


def substitute_command(cmd: "Command", env: dict[str, str]) -> "Command":
    if not env:
        return cmd
    argv = tuple(substitute(w, env) for w in cmd.argv)
    if argv == cmd.argv:
        return cmd
    return replace(cmd, name=argv[0], argv=argv)


def shell_assignments(text: str) -> dict[str, str]:
    """Plain `NAME=value` / `export NAME=value` lines of a script (last one wins)."""
    out: dict[str, str] = {}
    for m in _ASSIGN.finditer(text):
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[m.group(1)] = value
    return out


def script_line_offset(node: YScalar, lines: list[str]) -> int:
    """`line_offset` for a script held by `node`: a block scalar starts on the
    line after its indicator, anything else on the key's own line."""
    row = lines[node.line - 1] if 0 < node.line <= len(lines) else ""
    indicator = row[node.column - 1:node.column] if node.column >= 1 else ""
    return node.line if indicator in ("|", ">") else node.line - 1


@dataclass
class Step:
    node: YMap
    line: int
    uses: Optional[YScalar]
    with_: Optional[YMap]
    run: Optional[YScalar]
    env: dict[str, str]
    name: Optional[str]
    id: Optional[str]
    index: int = 0
    shell: Optional[str] = None

    @property
    def action(self) -> str:
        """`owner/repo` of the action in lower case, or '' for a `run:` step."""
        return action_name(self.uses.text()) if self.uses is not None else ""

    def input(self, key: str) -> Optional[YScalar]:
        v = self.with_.get(key) if self.with_ is not None else None
        return v if isinstance(v, YScalar) else None

    def input_text(self, key: str) -> str:
        v = self.input(key)
        return v.text() if v is not None else ""

    def scripts(self) -> list[YScalar]:
        """`run:` plus the script inputs of well-known actions."""
        out = [self.run] if self.run is not None else []
        for key in SCRIPT_INPUTS.get(self.action, ()):
            v = self.input(key)
            if v is not None:
                out.append(v)
        return out


@dataclass
class Job:
    id: str
    key: YScalar
    node: YMap
    permissions: Optional[YNode]
    concurrency: Optional[YNode]
    environment: Optional[str]
    uses: Optional[YScalar]
    steps: list[Step]
    container_image: Optional[YScalar]
    service_images: list[YScalar]
    env: dict[str, str]
    name: Optional[str] = None
    needs: list[str] = field(default_factory=list)
    with_: Optional[YMap] = None
    shell: Optional[str] = None
    runs_on: str = ""

    @property
    def line(self) -> int:
        return self.key.line


class Workflow:
    def __init__(self, path: str, node: YMap, text: str) -> None:
        self.path = path
        self.node = node
        self.lines = text.split("\n")
        self.name: Optional[str] = node.get_text("name")
        on_key = node.key_node("on")
        self.on_line: int = on_key.line if on_key is not None else 1
        self.triggers: dict[str, Optional[YNode]] = _triggers(node.get("on"))
        self.permissions: Optional[YNode] = node.get("permissions")
        self.concurrency: Optional[YNode] = node.get("concurrency")
        self.env: dict[str, str] = env_map(node.get("env"))
        self._shell = _default_shell(node)
        self.jobs: list[Job] = _jobs(node.get("jobs"), self._shell)
        self._commands: Optional[list[tuple[Job, Step, "Command"]]] = None

    def __repr__(self) -> str:
        return f"Workflow({self.path!r})"

    def has_trigger(self, event: str) -> bool:
        return event in self.triggers

    def schedules(self) -> list[YScalar]:
        out: list[YScalar] = []
        sched = self.triggers.get("schedule")
        if isinstance(sched, YSeq):
            for item in sched.items:
                cron = item.get("cron") if isinstance(item, YMap) else None
                if isinstance(cron, YScalar):
                    out.append(cron)
        return out

    def job(self, job_id: str) -> Optional[Job]:
        return next((j for j in self.jobs if j.id == job_id), None)

    def is_deploy(self) -> bool:
        """Its name, file name or a job `environment:` says deploy / production."""
        stem = self.path.rsplit("/", 1)[-1]
        return says_deploy(self.name) or says_deploy(stem) or any(
            says_deploy(j.environment) for j in self.jobs)

    def step_env(self, job: Job, step: Step) -> dict[str, str]:
        return {**self.env, **job.env, **step.env}

    def script_offset(self, node: YScalar) -> int:
        return script_line_offset(node, self.lines)

    def commands(self) -> list[tuple[Job, Step, "Command"]]:
        if self._commands is None:
            self._commands = list(self._iter_commands())
        return self._commands

    def _iter_commands(self) -> Iterator[tuple[Job, Step, "Command"]]:
        from kohalint.documents.shell import parse_shell

        for job in self.jobs:
            for step in job.steps:
                shell = (step.shell or job.shell or "").strip().lower()
                if shell.startswith(_NOT_SHELL):
                    continue
                env = self.step_env(job, step)
                for script in step.scripts():
                    text = script.text()
                    if not text.strip():
                        continue
                    offset = self.script_offset(script)
                    parsed = parse_shell(text, line_offset=offset)
                    local = {**env, **shell_assignments(text)}
                    script_lines = text.split("\n")
                    for cmd in parsed.commands:
                        cmd = self._file_column(cmd, script, offset, script_lines)
                        yield job, step, substitute_command(cmd, local)

    def _file_column(self, cmd: "Command", node: YScalar, offset: int,
                     script_lines: list[str]) -> "Command":
        """The shell adapter counts columns in the script; findings want the file's."""
        src = self.lines[cmd.line - 1] if 0 < cmd.line <= len(self.lines) else ""
        if offset == node.line:  # block scalar: the file line adds the block's indentation
            k = cmd.line - offset - 1
            row = script_lines[k] if 0 <= k < len(script_lines) else ""
            shift = len(src) - len(row) if row and src.endswith(row) else 0
        else:
            shift = node.column - 1 + (1 if node.quoted else 0) if cmd.line == node.line else 0
        return replace(cmd, column=cmd.column + shift) if shift > 0 else cmd


def _triggers(on: Optional[YNode]) -> dict[str, Optional[YNode]]:
    if isinstance(on, YScalar):
        return {on.text(): None} if on.text() else {}
    if isinstance(on, YSeq):
        return {i.text(): None for i in on.items if isinstance(i, YScalar) and i.text()}
    if isinstance(on, YMap):
        return {k: (None if isinstance(v, YScalar) and v.value is None else v) for k, v in on.items()}
    return {}


def _default_shell(node: YMap) -> Optional[str]:
    d = node.get("defaults")
    run = d.get("run") if isinstance(d, YMap) else None
    return run.get_text("shell") if isinstance(run, YMap) else None


def _jobs(node: Optional[YNode], default_shell: Optional[str]) -> list[Job]:
    if not isinstance(node, YMap):
        return []
    out = []
    for job_id, (key, body) in node.entries.items():
        if isinstance(body, YMap):
            out.append(_job(job_id, key, body, default_shell))
    return out


def _job(job_id: str, key: YScalar, body: YMap, default_shell: Optional[str]) -> Job:
    env_node = body.get("environment")
    environment = None
    if isinstance(env_node, YScalar):
        environment = env_node.text() or None
    elif isinstance(env_node, YMap):
        environment = env_node.get_text("name")
    container = body.get("container")
    image = None
    if isinstance(container, YScalar) and container.text():
        image = container
    elif isinstance(container, YMap) and isinstance(container.get("image"), YScalar):
        image = container.get("image")
    services = []
    svc_node = body.get("services")
    if isinstance(svc_node, YMap):
        for _, svc in svc_node.items():
            img = svc.get("image") if isinstance(svc, YMap) else None
            if isinstance(img, YScalar) and img.text():
                services.append(img)
    needs_node = body.get("needs")
    needs = ([needs_node.text()] if isinstance(needs_node, YScalar) else
             [n.text() for n in needs_node.items if isinstance(n, YScalar)]
             if isinstance(needs_node, YSeq) else [])
    uses = body.get("uses")
    with_ = body.get("with")
    runs_on = body.get("runs-on")
    runs_on_text = " ".join(str(v) for v in _flat(runs_on.plain())) if runs_on is not None else ""
    shell = _default_shell(body) or default_shell
    if shell is None and "windows" in runs_on_text.lower():
        shell = "pwsh"
    steps = []
    steps_node = body.get("steps")
    if isinstance(steps_node, YSeq):
        for index, s in enumerate(steps_node.items):
            if isinstance(s, YMap):
                steps.append(_step(s, index))
    return Job(
        id=job_id, key=key, node=body, permissions=body.get("permissions"),
        concurrency=body.get("concurrency"), environment=environment,
        uses=uses if isinstance(uses, YScalar) else None, steps=steps,
        container_image=image, service_images=services, env=env_map(body.get("env")),
        name=body.get_text("name"), needs=needs, with_=with_ if isinstance(with_, YMap) else None,
        shell=shell, runs_on=runs_on_text,
    )


def _flat(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for v in value:
            yield from _flat(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flat(v)
    elif value is not None:
        yield value


def _step(node: YMap, index: int) -> Step:
    uses, run, with_ = node.get("uses"), node.get("run"), node.get("with")
    return Step(
        node=node, line=node.line, uses=uses if isinstance(uses, YScalar) else None,
        with_=with_ if isinstance(with_, YMap) else None,
        run=run if isinstance(run, YScalar) and run.value is not None else None,
        env=env_map(node.get("env")), name=node.get_text("name"), id=node.get_text("id"),
        index=index, shell=node.get_text("shell"),
    )


def parse_workflow(text: str, path: str) -> Optional[Workflow]:
    node = load_yaml(text, path)
    if node is None:
        return None
    if not isinstance(node, YMap):
        raise ParseError("a workflow must be a mapping at the top level", node.line, node.column)
    return Workflow(path, node, text)


@register_parser("workflow")
def _parse(text: str, path: str, docs: Any) -> Optional[Workflow]:
    return parse_workflow(text, path)
