"""What both parsers (bashlex and the fallback) hand to `shell.py`.

Keeping one neutral shape means the rest of the adapter cannot tell which
parser read a chunk, so results only differ where the parsers disagree on
grammar, never in how words, lines or pipelines are reported.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from kohalint.documents.shell_lex import Heredoc, Token


@dataclass
class RawRedirect:
    op: str
    target: Token | None

    @property
    def heredoc(self) -> Heredoc | None:
        return self.target.heredoc if self.target is not None else None


@dataclass
class RawCommand:
    words: list[Token]  # assignments included; offsets relative to the parsed text
    redirects: list[RawRedirect]
    pipeline: int  # local id, unique within one parse
    stage: int
    func: str  # innermost enclosing function defined in this text, or ""
    chunk: int = 0

    @property
    def start(self) -> int:
        if self.words:
            return self.words[0].start
        return self.redirects[0].target.start if self.redirects and self.redirects[0].target else 0


@dataclass
class RawCase:
    subject: Token | None
    patterns: list[Token]
    func: str
    chunk: int = 0


@dataclass
class RawResult:
    commands: list[RawCommand] = field(default_factory=list)
    cases: list[RawCase] = field(default_factory=list)
    # Words outside simple commands (for lists, case subjects, arithmetic,
    # compound redirects) that may still hold `$(...)`: (word, func, chunk).
    extra: list[tuple[Token, str, int]] = field(default_factory=list)
    functions: list[tuple[str, int]] = field(default_factory=list)  # (name, chunk)
    chunks: list[tuple[int, int]] = field(default_factory=list)  # top-level spans
    error: tuple[int, str] | None = None  # lexical error (offset, message)
    hazards: list[int] = field(default_factory=list)  # offsets bashlex must not see
    # Chunks using syntax bashlex 0.18 rejects anyway (case, [[, $((, time,
    # quoted heredoc delimiters ...): not offered to it, which saves time.
    hopeless: set[int] = field(default_factory=set)
    # Chunks holding anything but simple commands in pipelines and lists
    # (compound commands, functions, subshells): the others are "plain".
    compound: set[int] = field(default_factory=set)
    # Heredoc bodies (start, end), in order: text that is never a command.
    heredocs: list[tuple[int, int]] = field(default_factory=list)

    def in_heredoc(self, offset: int) -> bool:
        i = bisect.bisect_right(self.heredocs, (offset, float("inf"))) - 1
        return i >= 0 and self.heredocs[i][0] <= offset < self.heredocs[i][1]

    def only_chunks(self, keep: set[int]) -> RawResult:
        """The part of this result that came from the chunks in `keep`."""
        return RawResult(
            commands=[c for c in self.commands if c.chunk in keep],
            cases=[c for c in self.cases if c.chunk in keep],
            extra=[e for e in self.extra if e[2] in keep],
            functions=[f for f in self.functions if f[1] in keep],
        )
