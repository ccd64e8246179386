"""Which parser reads which part of a script.

The fallback reads every text first: it is fast, never fails, and splits the
text into top-level chunks. bashlex then gets the chunks it has a chance
with, whole runs at once and halving on failure, within a character budget
(bashlex is pure Python, about 10 us per character). Its tree is used where
it succeeds; the fallback's reading elsewhere.

Plain chunks (simple commands joined by pipes, `&&`, `||`, `;`, with no
substitution, process substitution or heredoc) are the fallback's alone:
there the two readings are the same (tests/unit/test_shell_plain.py checks
it on every script of the test suite and on generated ones), and bashlex
cost 1.7 ms a call, a third of a large repository's scan.
"""

from __future__ import annotations

import bisect
import itertools
import re

from kohalint.documents.shell_bashlex import TimedOut, bashlex_parse, bashlex_reads
from kohalint.documents.shell_fallback import fallback_parse
from kohalint.documents.shell_raw import RawResult

# Larger slices go to the fallback directly; the budget caps one parse_shell.
BASHLEX_MAX_SLICE = 16_000
BASHLEX_BUDGET = 40_000
# What one bashlex call costs besides its characters (its deadline thread and
# parser setup, ~0.3 ms), in characters. Without it a line of thousands of
# tiny `$(a)` spent seconds on calls that each looked nearly free.
BASHLEX_CALL_COST = 32
# Plain chunks go to the fallback alone (tests that exercise bashlex itself
# on simple commands turn this off).
PLAIN_TO_FALLBACK = True
# What keeps a chunk from being plain, besides compound commands ...
_NOT_PLAIN = re.compile(r"\$\(|`|<\(|>\(|<<")
# ... and a text with none: control characters (the two lexers split words
# at a lone CR differently, and chunks do not hold what lies between them),
# or a backslash that ends the text.
_ODD_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\\\s*\Z")


class _Job:
    """One text being read: the fallback's result and what bashlex took."""

    def __init__(self, text: str, fb: RawResult) -> None:
        self.text = text
        self.fb = fb
        self.starts = [start for start, _ in fb.chunks]
        self.accepted: list[RawResult] = []
        self.rejected: set[int] = {self.chunk_of(offset) for offset in fb.hazards}
        self.rejected |= fb.hopeless
        if fb.error is not None:
            self.rejected.add(self.chunk_of(fb.error[0]))
        self.plain: set[int] = set()
        if PLAIN_TO_FALLBACK and not _ODD_TEXT.search(text):
            self.plain = {i for i, (start, end) in enumerate(fb.chunks)
                          if i not in fb.compound and i not in self.rejected
                          and not _NOT_PLAIN.search(text, start, end)}

    def chunk_of(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.starts, offset) - 1)

    def merged(self) -> RawResult:
        fb = self.fb
        merged = fb.only_chunks(self.rejected | self.plain)
        for part in self.accepted:
            merged.commands += part.commands
            merged.extra += part.extra
            merged.functions += part.functions
        merged.commands.sort(key=lambda c: c.start)
        merged.cases = fb.cases  # bashlex has no `case` support; keep one source
        merged.chunks, merged.hazards, merged.error = fb.chunks, fb.hazards, fb.error
        return merged


class ChunkReader:
    """Reads texts for one `parse_shell` call, sharing ids and the budget."""

    def __init__(self) -> None:
        self.ids = itertools.count()  # pipeline ids, unique across all texts
        self.budget = BASHLEX_BUDGET

    def read(self, text: str) -> tuple[RawResult, bool]:
        """The merged reading of `text`, and whether the fallback read any of it."""
        job = _Job(text, fallback_parse(text, self.ids))
        for lo, hi in _runs(len(job.fb.chunks), job.rejected | job.plain):
            self._offer(job, lo, hi)
        return job.merged(), bool(job.rejected) or job.fb.error is not None

    def _offer(self, job: _Job, lo: int, hi: int) -> None:
        """Offer chunks [lo, hi) to bashlex; halve on failure."""
        start, end = job.fb.chunks[lo][0], job.fb.chunks[hi - 1][1]
        size = end - start
        cost = size + BASHLEX_CALL_COST
        if self.budget <= 0 or (size <= BASHLEX_MAX_SLICE and cost > self.budget):
            job.rejected.update(range(lo, hi))  # out of bashlex time: no point splitting
            return
        if size <= BASHLEX_MAX_SLICE:
            self.budget -= cost
            try:
                result = bashlex_parse(job.text[start:end], start, self.ids, job.chunk_of)
            except TimedOut:
                self.budget = 0  # one runaway is enough: read the rest ourselves
                result = None
            # bashlex 0.18 reads a heredoc inside `{ }` as commands; the
            # fallback knows where bodies are, so such a tree is refused.
            if result is not None and not any(job.fb.in_heredoc(c.start) for c in result.commands):
                job.accepted.append(result)
                return
        if hi - lo == 1:
            job.rejected.add(lo)
            return
        # Halving isolates the chunk bashlex chokes on in O(log n) re-parses.
        mid = (lo + hi) // 2
        self._offer(job, lo, mid)
        self._offer(job, mid, hi)


def confirmed_error(text: str, raw: RawResult) -> tuple[int, str] | None:
    """The lexer's error, unless bashlex reads the same text after all."""
    if raw.error is None or not raw.chunks:
        return raw.error
    starts = [start for start, _ in raw.chunks]
    start = starts[max(0, bisect.bisect_right(starts, raw.error[0]) - 1)]
    tail = text[start:]
    if len(tail) > BASHLEX_MAX_SLICE or any(h >= start for h in raw.hazards):
        return raw.error  # cannot ask bashlex safely: trust the lexer
    return None if bashlex_reads(tail) else raw.error


def _runs(count: int, skip: set[int]) -> list[tuple[int, int]]:
    """Maximal [lo, hi) ranges of chunk indexes not in `skip`."""
    runs: list[tuple[int, int]] = []
    lo = 0
    for i in range(count + 1):
        if i == count or i in skip:
            if lo < i:
                runs.append((lo, i))
            lo = i + 1
    return runs
