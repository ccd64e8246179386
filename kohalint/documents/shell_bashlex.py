"""Turn a bashlex AST into the neutral `shell_raw` shape.

bashlex is imported lazily, its parse tables read from a cache when possible
(`bashlex_tables`; building them is ~125 ms), and any surprise in its output
is treated like a parse failure, so the caller falls back to `shell_fallback`
for that chunk instead of trusting a half-understood tree.

bashlex 0.18 can also loop forever: a word holding `${` with no `}` after it
(`x'${'`) sends its word expansion back to index 0. Texts where that could
happen are screened out before bashlex sees them (`bashlex_hazards`), and
every call runs under a deadline in a worker thread as a backstop for loops
not yet known.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kohalint.documents.shell_lex import Heredoc, Token
from kohalint.documents.shell_raw import RawCommand, RawRedirect, RawResult

_LOOPS = frozenset({"if", "for", "while", "until"})


def _letters(text: str) -> str:
    # Compare words without quoting, which bashlex and we may treat apart.
    return text.translate(_QUOTING)


_QUOTING = str.maketrans("", "", "'\"\\$")


class _Reject(Exception):
    """The tree holds something we do not map faithfully."""


class _Walker:
    def __init__(
        self, src: str, base: int, ids: Iterator[int], chunk_of: Callable[[int], int]
    ) -> None:
        self.src = src
        self.base = base
        self.ids = ids
        self.chunk_of = chunk_of
        self.res = RawResult()

    def word(self, node: Any) -> Token:
        start, end = node.pos
        raw = self.src[start:end]
        value = getattr(node, "word", None)
        if isinstance(value, str) and _letters(raw) != _letters(value):
            raise _Reject("offsets")  # the node does not point at its own text
        return Token("word", raw, start + self.base, end + self.base)

    def walk(self, node: Any, func: str) -> None:
        kind = node.kind
        if kind == "list":
            for part in node.parts:
                if part.kind != "operator":
                    self.walk(part, func)
        elif kind == "pipeline":
            self.pipeline(node, func)
        elif kind == "command":
            self.command(node, next(self.ids), 0, func)
        elif kind == "compound":
            self.compound(node, func)
        elif kind in _LOOPS:
            self.parts(node.parts, func)
        elif kind == "function":
            name = node.name.word
            self.res.functions.append((name, self.chunk_of(node.pos[0] + self.base)))
            self.walk(node.body, name)
        else:
            raise _Reject(kind)

    def parts(self, parts: list[Any], func: str) -> None:
        for part in parts:
            if part.kind == "word":  # for-list words may hold $(...)
                self.extra(self.word(part), func)
            elif part.kind == "reservedword" and isinstance(part.word, list):
                # bashlex nests a second `elif ... else ...` in a reserved
                # word holding a node list whose offsets are not absolute.
                raise _Reject("nested elif")
            elif part.kind not in ("reservedword", "operator"):
                self.walk(part, func)

    def pipeline(self, node: Any, func: str) -> None:
        pid, stage = next(self.ids), 0
        for part in node.parts:
            if part.kind == "pipe":
                stage += 1
            elif part.kind == "command":
                self.command(part, pid, stage, func)
            elif part.kind != "reservedword":  # `!` negation
                self.walk(part, func)

    def compound(self, node: Any, func: str) -> None:
        start = node.pos[0]
        if self.src.startswith("((", start):
            # bashlex reads `(( i++ ))` as two subshells around a command
            # `i++`; the fallback knows it is arithmetic.
            raise _Reject("arithmetic")
        for part in node.list:
            if part.kind != "reservedword":
                self.walk(part, func)
        for redirect in getattr(node, "redirects", None) or []:
            target = self.redirect(redirect).target
            if target is not None:
                self.extra(target, func)

    def command(self, node: Any, pid: int, stage: int, func: str) -> None:
        words: list[Token] = []
        redirects: list[RawRedirect] = []
        for part in node.parts:
            if part.kind in ("word", "assignment"):
                words.append(self.word(part))
            elif part.kind == "redirect":
                redirects.append(self.redirect(part))
            else:
                raise _Reject(part.kind)
        if not words and not redirects:
            return
        start = (words[0].start if words else node.pos[0] + self.base)
        self.res.commands.append(
            RawCommand(words, redirects, pid, stage, func, self.chunk_of(start))
        )

    def redirect(self, node: Any) -> RawRedirect:
        fd = getattr(node, "input", None)
        op = f"{fd if isinstance(fd, int) else ''}{node.type}"
        output = getattr(node, "output", None)
        if output is None:
            return RawRedirect(op, None)
        if not hasattr(output, "pos"):
            end = node.pos[1] + self.base
            return RawRedirect(op, Token("word", str(output), end, end))
        target = self.word(output)
        heredoc = getattr(node, "heredoc", None)
        if heredoc is not None:
            target.heredoc = self.heredoc(heredoc, target.text)
        return RawRedirect(op, target)

    def heredoc(self, node: Any, delimiter_raw: str) -> Heredoc:
        start, end = node.pos
        text = self.src[start:end]
        # The node's span ends with the delimiter line; the fallback lexer
        # reports the body without it, so drop it here too.
        cut = text.rfind("\n")
        body = text[: cut + 1] if cut >= 0 else ""
        quoted = any(q in delimiter_raw for q in "'\"\\")
        return Heredoc(body, start + self.base, not quoted)

    def extra(self, tok: Token, func: str) -> None:
        self.res.extra.append((tok, func, self.chunk_of(tok.start)))


# Characters that may end a bashlex word. Quotes never end a word, so a `${`
# whose `}` does not come before one of these may lack it in bashlex's word.
_WORD_STOP = re.compile(r"[}\s|&;()<>`]")


def bashlex_hazards(text: str) -> list[int]:
    """Offsets of `${` that might make bashlex 0.18 spin (see module docstring).

    Deliberately coarse (`"${x:-a b}"` is flagged too): a flagged chunk is
    only read by the fallback instead, which reports the same commands.
    """
    found: list[int] = []
    stop, closes = -1, False  # the first word stop at or after the last search start
    i = text.find("${")
    while i >= 0:
        # That stop is still the first one after i+2 until i+2 passes it;
        # searching again for every `${` rescanned the same run each time
        # (quadratic on a line of `${${${...`).
        if stop < i + 2:
            m = _WORD_STOP.search(text, i + 2)
            stop, closes = (m.start(), m.group() == "}") if m else (len(text), False)
        if not closes:
            found.append(i)
        i = text.find("${", i + 2)
    return found


_loaded: list[Any] = []  # [module or None] once the import was tried


def _bashlex() -> Any:
    """The bashlex module, imported on first use (None if not installed)."""
    if not _loaded:
        try:
            # Imported here too: json and hashlib are not needed before this.
            from kohalint.documents.bashlex_tables import import_bashlex  # noqa: PLC0415

            _loaded.append(import_bashlex())
        except Exception:  # no bashlex: the fallback reads everything
            _loaded.append(None)
    return _loaded[0]


class TimedOut(Exception):
    """bashlex exceeded its deadline."""


class _Deadline(BaseException):
    """Injected into a runaway bashlex thread; BaseException so that no
    `except Exception` inside bashlex can swallow it."""


def _with_deadline(fn: Callable[[], Any], seconds: float) -> Any:
    """Run `fn` in a worker thread; raise TimedOut if it overruns.

    A Python thread cannot be killed, but CPython can raise an exception in
    it at its next bytecode, which is enough for bashlex (pure Python).
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=target, name="kohalint-bashlex", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(_Deadline)
        )
        worker.join(1.0)
        raise TimedOut
    error = box.get("error")
    if error is not None:
        raise error if isinstance(error, Exception) else RuntimeError("bashlex stopped")
    return box.get("value")


def deadline_for(size: int) -> float:
    # bashlex reads roughly 10 us per character; allow a wide margin.
    return 1.0 + size * 5e-5


def bashlex_parse(
    src: str, base: int, ids: Iterator[int], chunk_of: Callable[[int], int]
) -> RawResult | None:
    """Parse `src` (a slice starting at offset `base`); None if bashlex cannot.

    Raises TimedOut when bashlex had to be stopped, so the caller can stop
    offering it more text.
    """
    bashlex = _bashlex()
    if bashlex is None:
        return None

    def parse() -> RawResult:
        walker = _Walker(src, base, ids, chunk_of)
        for tree in bashlex.parse(src):
            walker.walk(tree, "")
        return walker.res

    try:
        return _with_deadline(parse, deadline_for(len(src)))
    except TimedOut:
        raise
    except Exception:  # bashlex raises many types, RecursionError included
        return None


def bashlex_reads(src: str) -> bool | None:
    """Whether bashlex can read `src` at all: True, False when it reports an
    unterminated quote or bracket, None when it cannot tell."""
    bashlex = _bashlex()
    if bashlex is None:
        return None
    try:
        _with_deadline(lambda: bashlex.parse(src), deadline_for(len(src)))
    except TimedOut:
        return None
    except Exception as exc:  # noqa: BLE001 - only the type matters here
        return False if type(exc).__name__ == "MatchedPairError" else None
    return True
