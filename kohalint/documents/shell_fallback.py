"""Tolerant recursive-descent reader over `shell_lex` tokens.

It understands the bash grammar only as far as rules need: pipelines,
`&&`/`||` lists, compound commands, functions and `case` arms. Anything it
does not expect is skipped rather than treated as fatal, because a compliance
scan must still see the `curl | sh` after an odd construct. It also splits
the script into top-level chunks so `shell.py` can give bashlex one chunk at
a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kohalint.documents.shell_bashlex import bashlex_hazards
from kohalint.documents.shell_lex import BASHLEX_NESTING, Token, tokenize
from kohalint.documents.shell_raw import RawCase, RawCommand, RawRedirect, RawResult

# Deeper compound nesting is read flat: keywords become plain words, which
# keeps the Python stack bounded on hostile input.
MAX_COMPOUND_DEPTH = 60

_TERMINATORS = frozenset({"fi", "done", "esac", "then", "do", "else", "elif", "}"})
_CASE_ENDS = frozenset({";;", ";&", ";;&"})
_COMPOUND_START = frozenset({"{", "if", "while", "until", "for", "select", "case"})
_FUNC_NAME = re.compile(r"^[^\s'\"$`=|&;<>(){}]+$")
_BASHLEX_UNSUPPORTED = frozenset({"case", "select", "coproc", "time"})


class _Parser:
    def __init__(self, tokens: list[Token], ids: Iterator[int]) -> None:
        self.toks = tokens
        self.n = len(tokens)
        self.i = 0
        self.ids = ids
        self.res = RawResult()
        self.func = ""
        self.chunk = 0
        self.depth = 0

    # -- token helpers ------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < self.n else None

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text in words

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "op" and tok.text in ops

    def expect(self, word: str) -> None:
        # A missing closer is tolerated: the commands read so far still count.
        if self.at_word(word):
            self.i += 1

    def skip_newlines(self) -> None:
        while self.i < self.n and self.toks[self.i].kind == "nl":
            self.i += 1

    def skip_separators(self) -> None:
        while self.i < self.n and (
            self.toks[self.i].kind == "nl" or self.at_op(";", "&")
        ):
            self.i += 1

    def is_stop(self, tok: Token, stops: frozenset[str]) -> bool:
        return tok.kind in ("word", "op") and tok.text in stops

    @staticmethod
    def is_stray(tok: Token) -> bool:
        if tok.kind == "word":
            return tok.text in _TERMINATORS
        return tok.kind == "op" and tok.text in (")", ";;", ";&", ";;&", "|", "|&", "&&", "||")

    # -- top level ---------------------------------------------------------------
    def parse_top(self) -> RawResult:
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None:
                break
            if self.is_stray(tok):
                self.i += 1
                continue
            self.chunk = len(self.res.chunks)
            start = tok.start
            self.parse_and_or()
            while self.at_op(";", "&"):
                self.i += 1
                nxt = self.peek()
                if nxt is None or nxt.kind == "nl" or self.is_stray(nxt):
                    break
                self.parse_and_or()
            end = self.toks[self.i - 1].end if self.i > 0 else start
            nxt = self.peek()
            if nxt is not None and nxt.kind == "nl":
                end = nxt.end  # includes heredoc bodies read after the line
                self.i += 1
            self.res.chunks.append((start, max(end, start)))
        return self.res

    def parse_list(self, stops: frozenset[str]) -> None:
        while True:
            self.skip_separators()
            tok = self.peek()
            if tok is None or self.is_stop(tok, stops):
                return
            if self.is_stray(tok):
                self.i += 1
                continue
            self.parse_and_or()

    def parse_and_or(self) -> None:
        self.parse_pipeline()
        while self.at_op("&&", "||"):
            self.i += 1
            self.skip_newlines()
            tok = self.peek()
            if tok is None or self.is_stray(tok):
                return
            self.parse_pipeline()

    def parse_pipeline(self) -> None:
        pid, stage = next(self.ids), 0
        while True:
            start = self.i
            while self.at_word("!"):
                self.i += 1
            if self.at_word("time") and self._time_keyword():
                self.i += 2 if self.peek(1) and self.peek(1).text == "-p" else 1
            self.parse_command(pid, stage)
            if self.i == start:
                self.i += 1  # always make progress on input we do not understand
            if not self.at_op("|", "|&"):
                return
            self.i += 1
            self.skip_newlines()
            tok = self.peek()
            if tok is None or self.is_stray(tok):
                return
            stage += 1

    def _time_keyword(self) -> bool:
        # `time { ...; }` times a compound; `time cmd` is left to the prefix
        # stripping in shell_resolve so both parsers report it the same way.
        nxt = self.peek(2) if self.peek(1) and self.peek(1).text == "-p" else self.peek(1)
        return nxt is not None and (
            (nxt.kind == "word" and nxt.text in _COMPOUND_START)
            or (nxt.kind == "op" and nxt.text == "(")
        )

    # -- commands ----------------------------------------------------------------
    def parse_command(self, pid: int, stage: int) -> None:
        tok = self.peek()
        if tok is None:
            return
        if tok.kind in ("test", "arith") or tok.text in _BASHLEX_UNSUPPORTED:
            self.res.hopeless.add(self.chunk)
        if tok.kind == "test":
            self.i += 1
            self._add(list(tok.parts), [], pid, stage)
            return
        if tok.kind == "arith":
            self.i += 1
            self.res.extra.append((tok, self.func, self.chunk))
            return
        compound = self.depth < MAX_COMPOUND_DEPTH
        if compound and tok.kind == "op" and tok.text == "(":
            self.res.compound.add(self.chunk)
            self._nested(self._subshell)
            return
        if tok.kind != "word" and tok.kind != "redir":
            self.res.compound.add(self.chunk)
            return
        handler = self._compound_handler(tok) if compound else None
        if handler is not None:
            self.res.compound.add(self.chunk)
            self._nested(handler)
        elif compound and self._is_funcdef():
            self.res.compound.add(self.chunk)
            self._nested(self._funcdef)
        else:
            if not compound:
                self.res.compound.add(self.chunk)
            self._simple(pid, stage)

    def _compound_handler(self, tok: Token) -> Callable[[], None] | None:
        if tok.kind != "word":
            return None
        return {
            "{": self._group,
            "if": self._if,
            "while": self._loop,
            "until": self._loop,
            "for": self._for,
            "select": self._for,
            "case": self._case,
            "function": self._function,
            "coproc": self._coproc,
        }.get(tok.text)

    def _nested(self, handler: Callable[[], None]) -> None:
        if self.depth == BASHLEX_NESTING:
            self.res.hopeless.add(self.chunk)
        self.depth += 1
        try:
            handler()
        finally:
            self.depth -= 1
        self._trailing_redirects()

    def _simple(self, pid: int, stage: int) -> None:
        words: list[Token] = []
        redirects: list[RawRedirect] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "word":
                words.append(tok)
                self.i += 1
                if "$((" in tok.text or "=(" in tok.text or "$[" in tok.text:
                    self.res.hopeless.add(self.chunk)
            elif tok.kind == "redir":
                redirects.append(self._redirect())
            else:
                break
        if words or redirects:
            self._add(words, redirects, pid, stage)

    def _redirect(self) -> RawRedirect:
        op = self.peek()
        self.i += 1
        target = self.peek()
        # The lexer always emits a redirect's target right after it.
        if target is not None and target.kind == "word" and target.start >= op.end:
            self.i += 1
            if target.heredoc is not None and not target.heredoc.expand:
                self.res.hopeless.add(self.chunk)
            return RawRedirect(op.text, target)
        return RawRedirect(op.text, None)

    def _trailing_redirects(self) -> None:
        while (tok := self.peek()) is not None and tok.kind == "redir":
            redirect = self._redirect()
            if redirect.target is not None:
                self.res.extra.append((redirect.target, self.func, self.chunk))

    def _add(self, words: list[Token], redirects: list[RawRedirect], pid: int, stage: int) -> None:
        self.res.commands.append(
            RawCommand(words, redirects, pid, stage, self.func, self.chunk)
        )

    def _is_funcdef(self) -> bool:
        tok, lp, rp = self.peek(), self.peek(1), self.peek(2)
        return (
            tok is not None
            and tok.kind == "word"
            and bool(_FUNC_NAME.match(tok.text))
            and lp is not None
            and lp.kind == "op"
            and lp.text == "("
            and rp is not None
            and rp.kind == "op"
            and rp.text == ")"
        )

    # -- compound commands ---------------------------------------------------------
    def _group(self) -> None:
        self.i += 1
        self.parse_list(frozenset({"}"}))
        self.expect("}")

    def _subshell(self) -> None:
        self.i += 1
        self.parse_list(frozenset({")"}))
        if self.at_op(")"):
            self.i += 1

    def _if(self) -> None:
        self.i += 1
        self.parse_list(frozenset({"then"}))
        self.expect("then")
        self.parse_list(frozenset({"elif", "else", "fi"}))
        while self.at_word("elif"):
            self.i += 1
            self.parse_list(frozenset({"then"}))
            self.expect("then")
            self.parse_list(frozenset({"elif", "else", "fi"}))
        if self.at_word("else"):
            self.i += 1
            self.parse_list(frozenset({"fi"}))
        self.expect("fi")

    def _loop(self) -> None:
        self.i += 1
        self.parse_list(frozenset({"do"}))
        self._do_done()

    def _do_done(self) -> None:
        if self.at_word("{"):  # the old `for x in y; { ...; }` form
            self._group()
            return
        self.expect("do")
        self.parse_list(frozenset({"done"}))
        self.expect("done")

    def _for(self) -> None:
        self.i += 1
        tok = self.peek()
        if tok is not None and tok.kind in ("arith", "word"):
            if tok.kind == "arith":
                self.res.extra.append((tok, self.func, self.chunk))
                self.res.hopeless.add(self.chunk)
            self.i += 1
        self.skip_newlines()
        if self.at_word("in"):
            self.i += 1
            while (tok := self.peek()) is not None and tok.kind == "word":
                self.res.extra.append((tok, self.func, self.chunk))
                self.i += 1
        self.skip_separators()
        self._do_done()

    def _case(self) -> None:
        self.i += 1
        subject = self.peek() if self.peek() and self.peek().kind == "word" else None
        if subject is not None:
            self.res.extra.append((subject, self.func, self.chunk))
            self.i += 1
        self.skip_newlines()
        self.expect("in")
        while True:
            self.skip_newlines()
            if self.peek() is None or self.at_word("esac"):
                self.expect("esac")
                return
            if not self._case_arm(subject):
                return

    def _case_arm(self, subject: Token | None) -> bool:
        """Read `pat|pat) body ;;`; False when the arm is too odd to go on."""
        if self.at_op("("):
            self.i += 1
        patterns: list[Token] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "word":
                patterns.append(tok)
            elif not (tok.kind == "op" and tok.text == "|"):
                break
            self.i += 1
        if not self.at_op(")"):
            return False
        self.i += 1
        self.res.cases.append(RawCase(subject, patterns, self.func, self.chunk))
        self.parse_list(frozenset({"esac"}) | _CASE_ENDS)
        if self.at_op(*_CASE_ENDS):
            self.i += 1
        return True

    def _coproc(self) -> None:
        # `coproc NAME { ...; }` names the coprocess only before a compound.
        self.i += 1
        name, body = self.peek(), self.peek(1)
        if name is not None and name.kind == "word" and body is not None and (
            body.text in _COMPOUND_START or (body.kind == "op" and body.text == "(")
        ):
            self.i += 1
        self.parse_command(next(self.ids), 0)

    def _function(self) -> None:
        self.i += 1
        tok = self.peek()
        if tok is None or tok.kind != "word":
            return
        self.i += 1
        if self.at_op("(") and self.peek(1) and self.peek(1).text == ")":
            self.i += 2
        self._body(tok.text)

    def _funcdef(self) -> None:
        name = self.peek().text
        self.i += 3
        self._body(name)

    def _body(self, name: str) -> None:
        self.res.functions.append((name, self.chunk))
        self.skip_newlines()
        outer, self.func = self.func, name
        try:
            self.parse_command(next(self.ids), 0)
        finally:
            self.func = outer


def fallback_parse(text: str, ids: Iterator[int]) -> RawResult:
    """Commands, case arms and top-level chunks of `text` (offsets relative)."""
    tokens, lexer = tokenize(text)
    result = _Parser(tokens, ids).parse_top()
    result.error = lexer.error
    result.hazards = bashlex_hazards(text) + lexer.deep
    result.heredocs = sorted(
        (t.heredoc.start, t.heredoc.start + len(t.heredoc.body)) for t in tokens if t.heredoc
    )
    return result
