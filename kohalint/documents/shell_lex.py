"""Tolerant shell tokenizer: the fallback when bashlex cannot read a script.

It only needs to be good enough to find command boundaries and words with
their offsets; it never evaluates anything. Offsets are relative to the text
it was given. It never raises: an unterminated quote or substitution is
recorded in `Lexer.error` and the scan recovers at the end of that line, so
the rest of the script can still be inspected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Recursion through nested $( " ${ is bounded so hostile input cannot blow
# the Python stack; deeper levels are skipped by plain bracket counting.
MAX_NESTING = 48
# bashlex recurses (slowly, then RecursionError) on deep nesting; deeper than
# this is left to the fallback.
BASHLEX_NESTING = 12

_OPS = ("||", "|&", "|", "&&", ";;&", ";;", ";&", ";", "&", "(", ")")
_REDIR = re.compile(
    r"(?:\d+|\{[A-Za-z_][A-Za-z0-9_]*\})?(?:<<<|<<-|<<|<>|<&|>>|>&|>\||<|>)|&>>|&>"
)
_ASSIGN_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=$")
# Words after which the next word is again in command position.
_KEEP_CMD_POS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
)
_WORD_END = frozenset(" \t\n|&;<>()")
# Runs of characters with no meaning inside a word, skipped in one step.
_PLAIN = re.compile(r"[^\s|&;<>()\\'\"`$]+")
_PLAIN_BLANKS = re.compile(r"[^\s\\'\"`$]+")


@dataclass
class Heredoc:
    body: str
    start: int  # offset of the first body character
    expand: bool  # unquoted delimiter: the body undergoes $(...) expansion


@dataclass
class Token:
    kind: str  # word | op | redir | nl | test | arith
    text: str
    start: int
    end: int
    parts: list[Token] = field(default_factory=list)  # words of a [[ ]] test
    heredoc: Heredoc | None = None  # set on the delimiter word of << / <<-


class Lexer:
    """One pass over `text`; `tokens()` may be re-entered for `$( ... )`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.depth = 0
        self.error: tuple[int, str] | None = None
        self.deep: list[int] = []  # offsets nested deeper than BASHLEX_NESTING
        self._pending: list[tuple[Token, str, bool]] = []

    # -- errors -------------------------------------------------------------
    def _fail(self, start: int, what: str) -> int:
        """Record the first lexical error; resume at the end of its line."""
        if self.error is None:
            self.error = (start, f"unterminated {what}")
        end = self.text.find("\n", start)
        return self.n if end < 0 else end

    # -- token stream ---------------------------------------------------------
    def tokens(self, i: int = 0, until_paren: bool = False) -> tuple[list[Token], int]:
        """Tokenize from `i`; with `until_paren`, stop after the `)` closing `$(`."""
        text, n = self.text, self.n
        out: list[Token] = []
        cmd_pos, after_for = True, False
        parens = cases = 0
        while i < n:
            c = text[i]
            if c in " \t\r":
                i += 1
                continue
            if c == "\\" and text.startswith("\\\n", i):
                i += 2
                continue
            if c == "#":
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if c == "\n":
                tok = Token("nl", "\n", i, i + 1)
                i = self._heredoc_bodies(i + 1)
                tok.end = i
                out.append(tok)
                cmd_pos, after_for = True, False
                continue
            if (cmd_pos or after_for) and text.startswith("((", i):
                end = self._skip_parens(i)
                out.append(Token("arith", text[i:end], i, end))
                i, cmd_pos, after_for = end, False, False
                continue
            m = None
            if (c in "<>&{" or c.isdigit()) and not text.startswith(("<(", ">("), i):
                m = _REDIR.match(text, i)
            if m:
                out.append(Token("redir", m.group(), i, m.end()))
                i = m.end()
                i = self._redirect_target(i, m.group(), out)
                cmd_pos = False
                continue
            op = _match_op(text, i)
            if op:
                if until_paren and op == "(":
                    parens += 1
                elif until_paren and op == ")":
                    if parens == 0 and cases == 0:
                        return out, i + 1
                    parens = max(0, parens - 1)
                out.append(Token("op", op, i, i + len(op)))
                i += len(op)
                cmd_pos, after_for = True, False
                continue
            end = self.word(i)
            raw = text[i:end]
            if cmd_pos and raw == "[[":
                tok = self._test(i, end)
                out.append(tok)
                i, cmd_pos = tok.end, False
                continue
            out.append(Token("word", raw, i, end))
            i = max(end, i + 1)
            if until_paren and cmd_pos and raw == "case":
                cases += 1
            elif until_paren and raw == "esac":
                cases = max(0, cases - 1)
            after_for = cmd_pos and raw in ("for", "select")
            cmd_pos = cmd_pos and (raw in _KEEP_CMD_POS or raw == "}")
        # -1 tells `subst` that its `)` never came.
        return out, (-1 if until_paren else n)

    def _redirect_target(self, i: int, op: str, out: list[Token]) -> int:
        """Read a redirect's target word now, so `<<EOF` can register a heredoc."""
        text, n = self.text, self.n
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] in "\n|&;()<>":
            return i
        end = self.word(i)
        tok = Token("word", text[i:end], i, end)
        out.append(tok)
        if op.endswith("<<-") or (op.endswith("<<") and not op.endswith("<<<")):
            self._pending.append((tok, op, any(q in tok.text for q in "'\"\\")))
        return max(end, i + 1)

    def _heredoc_bodies(self, i: int) -> int:
        """Consume the bodies of heredocs opened on the line that just ended."""
        pending, self._pending = self._pending, []
        for tok, op, quoted in pending:
            delim = _plain(tok.text)
            start = i
            while i < self.n:
                j = self.text.find("\n", i)
                line_end = self.n if j < 0 else j
                line = self.text[i:line_end].rstrip("\r")
                if op.endswith("-"):
                    line = line.lstrip("\t")
                nxt = line_end + 1 if j >= 0 else self.n
                if line == delim:
                    tok.heredoc = Heredoc(self.text[start:i], start, not quoted)
                    i = nxt
                    break
                i = nxt
            else:
                # bash only warns about a missing delimiter: the body runs to EOF.
                tok.heredoc = Heredoc(self.text[start:i], start, not quoted)
        return i

    def _test(self, start: int, i: int) -> Token:
        """`[[ ... ]]`: operators inside are plain words, so split on blanks only."""
        text, n = self.text, self.n
        parts = [Token("word", "[[", start, i)]
        while i < n:
            while i < n and (text[i] in " \t\r" or text.startswith("\\\n", i)):
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                break
            if text[i] == "\n":
                if parts[-1].text in ("&&", "||", "!", "(", "[["):
                    i += 1
                    continue
                break
            end = self.word(i, blanks_only=True)
            if text.startswith("]]", i) and end > i + 2 and text[i + 2] in ";&|)":
                end = i + 2  # `]];` ends the test and the command
            parts.append(Token("word", text[i:end], i, end))
            i = max(end, i + 1)
            if parts[-1].text == "]]":
                break
        return Token("test", text[start:i], start, i, parts=parts)

    # -- words ------------------------------------------------------------------
    def word(self, i: int, blanks_only: bool = False) -> int:
        """Return the end of the word starting at `i`."""
        text, n = self.text, self.n
        start = i
        plain = _PLAIN_BLANKS if blanks_only else _PLAIN
        while i < n:
            m = plain.match(text, i)
            if m:
                i = m.end()
                if i >= n:
                    break
            c = text[i]
            if blanks_only:
                if c in " \t\r\n":
                    break
            elif c in _WORD_END:
                if c == "(" and self._word_takes_paren(text[start:i]):
                    i = self._skip_parens(i)
                    continue
                if c in "<>" and i == start and text.startswith("(", i + 1):
                    i = self.subst(i + 1)
                    continue
                break
            i = self._step(i)
        return i

    @staticmethod
    def _word_takes_paren(prefix: str) -> bool:
        # extglob `@(a|b)` and array assignment `a=(1 2)` keep `(` in the word.
        return prefix[-1:] in ("@", "!", "?", "*", "+") or bool(
            _ASSIGN_PREFIX.match(prefix)
        )

    def _step(self, i: int) -> int:
        """Advance over one unit of word text (a char, quote or expansion)."""
        c = self.text[i]
        if c == "\\":
            return min(i + 2, self.n)
        if c == "'":
            return self.single(i)
        if c == '"':
            return self._double(i)
        if c == "`":
            return self.backtick(i)
        if c == "$":
            return self.dollar(i)
        return i + 1

    def single(self, i: int) -> int:
        j = self.text.find("'", i + 1)
        return j + 1 if j >= 0 else self._fail(i, "single quote")

    def ansi(self, i: int) -> int:
        """`$'...'` where backslash escapes the quote."""
        j = i + 2
        while j < self.n:
            if self.text[j] == "\\":
                j += 2
            elif self.text[j] == "'":
                return j + 1
            else:
                j += 1
        return self._fail(i, "quote")

    def _double(self, i: int) -> int:
        text, n = self.text, self.n
        j = i + 1
        while j < n:
            c = text[j]
            if c == '"':
                return j + 1
            if c == "\\":
                j += 2
            elif c == "$" and text[j + 1 : j + 2] not in ("'", '"'):
                j = self.dollar(j)  # `$"` and `$'` are literal inside quotes
            elif c == "`":
                j = self.backtick(j)
            else:
                j += 1
        return self._fail(i, "double quote")

    def backtick(self, i: int) -> int:
        j = i + 1
        while j < self.n:
            if self.text[j] == "\\":
                j += 2
            elif self.text[j] == "`":
                return j + 1
            else:
                j += 1
        return self._fail(i, "backquote")

    def dollar(self, i: int) -> int:
        """Return the end of the expansion starting with `$` at `i`."""
        nxt = self.text[i + 1 : i + 2]
        if nxt == "'":
            return self.ansi(i)
        if nxt == '"':
            return self._double(i + 1)
        if nxt == "{":
            return self._brace(i)
        if nxt == "(":
            if self.text.startswith("((", i + 1):
                return self._skip_parens(i + 1)
            return self.subst(i + 1)
        return i + 1

    def subst(self, i: int) -> int:
        """`i` is at the `(` of `$(`, `<(` or `>(`: lex the body to its `)`."""
        if self.depth >= MAX_NESTING:
            return self._skip_parens(i)
        if self.depth == BASHLEX_NESTING:
            self.deep.append(i)
        self.depth += 1
        saved, self._pending = self._pending, []
        try:
            _, end = self.tokens(i + 1, until_paren=True)
        finally:
            self.depth -= 1
            self._pending = saved
        return end if end >= 0 else self._fail(i, "command substitution")

    def _brace(self, i: int) -> int:
        """`${...}`: nested braces and quotes inside are allowed."""
        text, n = self.text, self.n
        j, depth = i + 2, 1
        self.depth += 1
        try:
            while j < n:
                c = text[j]
                if c == "}":
                    depth -= 1
                    if depth == 0:
                        return j + 1
                    j += 1
                elif c == "{":
                    depth += 1
                    j += 1
                elif self.depth < MAX_NESTING and c in "\\\"`$":
                    j = self._step(j) if text[j : j + 2] not in ("$'", '$"') else j + 1
                else:
                    j += 1
        finally:
            self.depth -= 1
        return self._fail(i, "parameter expansion")

    def _skip_parens(self, i: int) -> int:
        """Balanced `(...)` from `i`, quote-aware while nesting allows."""
        text, n = self.text, self.n
        j, depth = i, 0
        self.depth += 1
        try:
            while j < n:
                c = text[j]
                if c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0:
                        return j + 1
                elif self.depth < MAX_NESTING and c in "\\'\"`$":
                    j = self._step(j)
                    continue
                j += 1
        finally:
            self.depth -= 1
        return self._fail(i, "parenthesis")


def _match_op(text: str, i: int) -> str:
    for op in _OPS:
        if text.startswith(op, i):
            return op
    return ""


def _plain(raw: str) -> str:
    """Quote removal for a heredoc delimiter (no expansion happens there)."""
    out = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        elif c in "'\"":
            j = raw.find(c, i + 1)
            j = n if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text: str) -> tuple[list[Token], Lexer]:
    """Tokens for `text`, and the lexer (for `error` and `deep`)."""
    lexer = Lexer(text)
    toks, _ = lexer.tokens(0)
    return toks, lexer
