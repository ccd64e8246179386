"""Shared shell adapter: Dockerfile `RUN`, workflow `run:` and `*.sh` files.

`parse_shell` never raises. bashlex reads what it can, one top-level chunk at
a time, and `shell_fallback` reads the rest (then `degraded` is True), so an
odd construct such as `[[ ... ]]` or `case` does not hide the commands around
it. `error` is only set for text no parser can read (an unterminated quote
the lexer finds and bashlex does not read either).

Commands are flattened in source order and include what runs indirectly,
marked by `via`:
  ""               written directly in the script
  "function:NAME"  in the body of script function NAME, listed once where the
                   function is defined (calls are not expanded again: that
                   would double findings; `func` names the function)
  "subst"          `$(...)`, backticks, `<(...)`
  "sh -c"          the string of `sh|bash|dash|... -c`, `su -c`, `runuser -c`
  "eval", "trap"   the strings given to `eval` and `trap`
  "heredoc"        a heredoc fed to a shell (`bash <<EOF`); `cat <<EOF` is data
  "wrapper:NAME"   `run mariadb-dump` when `run() { ...; "$@"; }`
  "xargs", "find -exec", "container" (`docker exec CTR CMD`, `docker run IMG
                   CMD`, `docker compose exec SVC CMD`, `kubectl exec -- CMD`)
Strings (`sh -c`, `eval`, `trap`) report at the line and column of the
command holding them. A command that starts another (wrapper, xargs,
container) shares its pipeline and stage, and is listed first.

Transparent prefixes are peeled off before naming a command and kept in
`Command.prefix`: sudo/doas [options] [NAME=value], env [options]
[NAME=value] (`env -S` split), exec, time, nohup, command (not `-v`/`-V`),
builtin, nice, ionice, timeout DURATION, stdbuf, setsid, chronic, unbuffer,
chroot DIR, runuser -u USER. `xargs` is not a prefix: `xargs rm` stays an
`xargs` command and also yields an `rm` command via "xargs".
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field, replace

from kohalint.documents import shell_facts
from kohalint.documents.shell_chunks import ChunkReader, confirmed_error
from kohalint.documents.shell_lex import Heredoc, Token
from kohalint.documents.shell_raw import RawCase, RawCommand, RawResult
from kohalint.documents.shell_resolve import (
    basename,
    inline_script,
    launched,
    normalize,
    reads_script_from_stdin,
    strip_prefixes,
)
from kohalint.documents.shell_words import find_substitutions, split_words, unquote

__all__ = ["Command", "ShellScript", "parse_shell", "split_words"]

MAX_CHARS = 1_000_000
MAX_LINES = 20_000
# Nesting of scripts inside scripts (sh -c inside $(...) inside eval ...).
MAX_DEPTH = 5


@dataclass(frozen=True)
class Command:
    """One command as run, with its position in the script."""

    name: str  # after assignments and transparent prefixes (sudo, env, ...)
    argv: tuple[str, ...]  # quotes removed, expansions kept as written
    line: int  # 1-based, line_offset included
    column: int  # 1-based
    pipeline: int
    stage: int
    via: str = ""
    func: str = ""  # innermost script function whose body holds the command
    assignments: tuple[str, ...] = ()  # leading NAME=value words
    prefix: tuple[str, ...] = ()  # stripped transparent prefix words
    redirects: tuple[tuple[str, str], ...] = ()  # (operator, target)

    @property
    def basename(self) -> str:
        return basename(self.name)

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]


@dataclass
class ShellScript:
    """A parsed script. `pipelines[c.pipeline]` is the pipeline of command `c`."""

    commands: list[Command] = field(default_factory=list)
    pipelines: list[list[Command]] = field(default_factory=list)
    functions: dict[str, list[Command]] = field(default_factory=dict)
    set_flags: set[str] = field(default_factory=set)
    options: set[str] = field(default_factory=set)
    degraded: bool = False
    error: tuple[int, str] | None = None

    def calls(self, name: str) -> list[Command]:
        """Commands running program `name` (a path matches the name as written)."""
        if "/" in name:
            return [c for c in self.commands if c.name == name]
        return [c for c in self.commands if c.basename == name]

    def has_call(self, name: str) -> bool:
        return bool(self.calls(name))


def parse_shell(text: str, *, line_offset: int = 0) -> ShellScript:
    """Parse shell `text`; never raises."""
    try:
        return _Builder(text, line_offset).run()
    except Exception:  # last resort: a scanner must survive any input
        return ShellScript(degraded=True)


@dataclass(frozen=True)
class _Ctx:
    """Where a parsed text sits: its base offset, or a fixed report anchor."""

    base: int = 0
    anchor: tuple[int, int, int] | None = None  # (sort key, line, column)
    via: str = ""
    func: str = ""
    depth: int = 0
    # Substitutions the enclosing shell already ran: `sh -c "x $(date)"`
    # must not report `date` a second time when the string is parsed. One set
    # per enclosing level (at most MAX_DEPTH): merging them into one set for
    # every command copied all the outer bodies each time, quadratic on a
    # long `sh -c` string full of `$(...)`.
    expanded: tuple[frozenset[str], ...] = ()


_Heredocs = list[tuple[Heredoc, int]]  # (heredoc, base of its offsets)


@dataclass
class _Entry:
    key: int  # offset in the top-level text, for source order
    seq: int
    cmd: Command
    heredocs: _Heredocs
    ctx: _Ctx


class _Builder:
    def __init__(self, text: str, line_offset: int) -> None:
        # CRLF -> LF keeps every line and column (the \r is at a line end).
        text = text.replace("\r\n", "\n")
        self.truncated = False
        if len(text) > MAX_CHARS or text.count("\n") > MAX_LINES:
            text = _truncate(text)
            self.truncated = True
        self.text = text
        self.line_offset = line_offset
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.seq = itertools.count()
        self.entries: list[_Entry] = []
        self.function_names: list[str] = []
        self.cases: list[RawCase] = []
        self.degraded = self.truncated
        self.reader = ChunkReader()

    # -- driver ---------------------------------------------------------------------
    def run(self) -> ShellScript:
        raw, degraded = self.reader.read(self.text)
        self.degraded |= degraded
        self.cases = raw.cases
        self._emit_result(raw, _Ctx())
        self._resolve_wrappers()
        script = self._assemble()
        error = confirmed_error(self.text, raw)
        if error is not None:
            line, _ = self._locate(error[0])
            script.error = (line, error[1])
        return script

    # -- emitting ---------------------------------------------------------------------
    def _emit_result(self, raw: RawResult, ctx: _Ctx) -> None:
        for name, _ in raw.functions:
            if ctx.depth == 0 and name not in self.function_names:
                self.function_names.append(name)
        for rc in raw.commands:
            self._emit_raw(rc, ctx)
        for tok, func, _ in raw.extra:
            self._scan_word(tok, ctx, func or ctx.func)

    def _emit_raw(self, rc: RawCommand, ctx: _Ctx) -> None:
        func = rc.func or ctx.func
        key, line, col = self._where(ctx.base + rc.start, ctx)
        targets = [r.target for r in rc.redirects if r.target is not None]
        heredocs = [(t.heredoc, ctx.base) for t in targets if t.heredoc is not None]
        assignments, prefix, argv = normalize([(t.text, unquote(t.text)) for t in rc.words])
        cmd = None
        if argv:
            cmd = Command(
                name=argv[0], argv=argv, line=line, column=col, pipeline=rc.pipeline,
                stage=rc.stage, via=f"function:{rc.func}" if rc.func else ctx.via,
                func=func, assignments=assignments, prefix=prefix,
                redirects=tuple((r.op, unquote(r.target.text) if r.target else "")
                                for r in rc.redirects),
            )  # fmt: skip
        ran: set[str] = set()
        for tok in rc.words + targets:
            ran.update(self._scan_word(tok, ctx, func))
        if cmd is not None:
            ctx = replace(ctx, expanded=(*ctx.expanded, frozenset(ran))) if ran else ctx
            self._add(cmd, key, heredocs, ctx)
            self._expand(cmd, key, heredocs, ctx)

    def _add(self, cmd: Command, key: int, heredocs: _Heredocs, ctx: _Ctx) -> None:
        self.entries.append(_Entry(key, next(self.seq), cmd, heredocs, ctx))

    def _scan_word(self, tok: Token, ctx: _Ctx, func: str) -> list[str]:
        """Parse `$(...)`, backticks and `<(...)` in a word (and an open heredoc);
        return the bodies found."""
        found = [(body, tok.start + rel) for body, rel in find_substitutions(tok.text)]
        heredoc = tok.heredoc
        if heredoc is not None and heredoc.expand:
            found += [(body, heredoc.start + rel)
                      for body, rel in find_substitutions(heredoc.body, heredoc=True)]  # fmt: skip
        for body, rel in found:
            if not any(body in ran for ran in ctx.expanded):
                self._nested(body, replace(ctx, base=ctx.base + rel), "subst", func)
        return [body for body, _ in found]

    def _nested(self, text: str, ctx: _Ctx, via: str, func: str) -> None:
        if ctx.depth >= MAX_DEPTH:
            self.degraded = True
            return
        raw, degraded = self.reader.read(text)
        self.degraded |= degraded
        self._emit_result(raw, replace(ctx, via=via, func=func, depth=ctx.depth + 1))

    def _expand(self, cmd: Command, key: int, heredocs: _Heredocs, ctx: _Ctx) -> None:
        """Commands that `cmd` runs: script strings, stdin scripts, launched programs."""
        if ctx.depth >= MAX_DEPTH:
            self.degraded = True
            return
        script = inline_script(cmd.argv)
        if script is not None:
            anchored = replace(ctx, anchor=ctx.anchor or (key, cmd.line, cmd.column))
            self._nested(script[0], anchored, script[1], cmd.func)
        elif heredocs and reads_script_from_stdin(cmd.argv):
            for heredoc, base in heredocs:
                self._nested(heredoc.body, replace(ctx, base=base + heredoc.start), "heredoc",
                             cmd.func)  # fmt: skip
        for argv, via in launched(cmd.argv):
            self._synthesize(cmd, argv, via, key, heredocs, ctx)

    def _synthesize(self, origin: Command, words: list[str], via: str, key: int,
                    heredocs: _Heredocs, ctx: _Ctx) -> None:  # fmt: skip
        prefix, argv = strip_prefixes(list(words))
        if not argv:
            return
        cmd = replace(origin, name=argv[0], argv=argv, via=via, prefix=prefix, assignments=())
        deeper = replace(ctx, depth=ctx.depth + 1)
        self._add(cmd, key, heredocs, deeper)
        self._expand(cmd, key, heredocs, deeper)

    def _resolve_wrappers(self) -> None:
        """Turn `run mariadb-dump ...` into a mariadb-dump command when `run`
        is a function that executes its arguments; repeat for wrappers of
        wrappers, which only show up once the first round has run."""
        done: set[int] = set()
        for _ in range(MAX_DEPTH):
            found = shell_facts.wrappers(self._functions())
            todo = [e for e in self.entries if e.seq not in done and e.cmd.name in found]
            if not todo:
                return
            for entry in todo:
                done.add(entry.seq)
                skip = found[entry.cmd.name]
                words = list(entry.cmd.argv[1 + skip :])
                if entry.ctx.depth < MAX_DEPTH:
                    self._synthesize(entry.cmd, words, f"wrapper:{entry.cmd.name}",
                                     entry.key, entry.heredocs, entry.ctx)  # fmt: skip

    # -- positions and assembly ------------------------------------------------------
    def _locate(self, offset: int) -> tuple[int, int]:
        idx = bisect.bisect_left(self.newlines, offset)
        line_start = self.newlines[idx - 1] + 1 if idx > 0 else 0
        return idx + 1 + self.line_offset, offset - line_start + 1

    def _where(self, offset: int, ctx: _Ctx) -> tuple[int, int, int]:
        if ctx.anchor is not None:
            return ctx.anchor
        line, col = self._locate(offset)
        return offset, line, col

    def _functions(self) -> dict[str, list[Command]]:
        out: dict[str, list[Command]] = {name: [] for name in self.function_names}
        for entry in sorted(self.entries, key=lambda e: (e.key, e.seq)):
            if entry.cmd.func:
                out.setdefault(entry.cmd.func, []).append(entry.cmd)
        return out

    def _assemble(self) -> ShellScript:
        ordered = sorted(self.entries, key=lambda e: (e.key, e.seq))
        renumber: dict[int, int] = {}
        commands: list[Command] = []
        for entry in ordered:
            c = entry.cmd
            pid = renumber.setdefault(c.pipeline, len(renumber))
            # positional: dataclasses.replace is slow on thousands of commands
            commands.append(Command(c.name, c.argv, c.line, c.column, pid, c.stage, c.via,
                                    c.func, c.assignments, c.prefix, c.redirects))  # fmt: skip
        pipelines: list[list[Command]] = [[] for _ in renumber]
        for cmd in commands:
            pipelines[cmd.pipeline].append(cmd)
        for group in pipelines:
            group.sort(key=lambda c: c.stage)  # stable: source order within a stage
        functions = {name: [] for name in self.function_names}
        for cmd in commands:
            if cmd.func:
                functions.setdefault(cmd.func, []).append(cmd)
        return ShellScript(
            commands=commands,
            pipelines=pipelines,
            functions=functions,
            set_flags=shell_facts.set_flags(commands, self.text),
            options=shell_facts.options(commands, self.cases),
            degraded=self.degraded,
        )


def _truncate(text: str) -> str:
    """First MAX_LINES lines within MAX_CHARS, cut at a line end."""
    head = text[:MAX_CHARS]
    cut = head.rfind("\n")
    head = head[: cut + 1] if cut > 0 else head
    lines = head.split("\n")
    return "\n".join(lines[:MAX_LINES]) + ("\n" if len(lines) > MAX_LINES else "")
