"""Very long lines reach detect-secrets' plugins in bounded, overlapping windows.

Some of the plugins' expressions take time quadratic in the length of the
line they search (KeywordDetector's, JwtTokenDetector's), and their filters
look the value up in the line (`line.index(secret)`) once per value: a
single line of a megabyte takes minutes, in one call into the regular
expression engine that no deadline interrupts. A line longer than `WINDOW`
characters is therefore analysed as windows of `WINDOW` characters, each
starting `WINDOW - OVERLAP` after the previous one (moved back a little to
follow a space, so that a window seldom starts inside a word), so the cost
grows linearly with the line and any one call is bounded.

Each window owns its share of the line (`lo` to `hi`, consecutive shares
cover it once): a value is kept from the window whose share holds where
the value starts. A value up to `OVERLAP - BACK` characters long that starts
in a share lies wholly inside that share's window, so it is found as on the
whole line. No token is longer; a keyword's unquoted value, which can run
to the end of the line, is reported as the part the window holds, and a
quoted string longer than that is not seen whole by any window. A
plugin that reports only its first match per line (KeywordDetector) reports
its first per window: more, never fewer. Lines up to `WINDOW` characters are
one window, the line itself: nothing changes for them.

KeywordDetector has a second cost, on lines of any length: from every
keyword in a run of word characters (`pwdpwdpwd...`) its expressions scan
the rest of the run, and then up to 50 characters more, one at a time: a
run of 4,000 such characters takes seconds. What they find there depends
only on what follows the run (an assignment, a quote) and on the run
holding a keyword, not on which keyword or how many, so `thin_keyword_runs`
cuts a run that holds `DENSE` keywords or more down to one keyword and
the part after the last. Its findings are the same, except that a value
which is itself such a run (no secret is) is reported shortened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A few kilobytes: lines of ordinary code, even minified, keep the
# whole-line behaviour, and the plugins take about 10 ms over a window.
WINDOW = 4096
OVERLAP = 1024
BACK = 64
DENSE = 8
_LONG_WORD_RUN = re.compile(r"\w{%d,}" % (3 * DENSE))  # the shortest keyword has 3 letters


@dataclass(frozen=True)
class Window:
    start: int        # offset of `text` in the line
    text: str
    lo: int           # this window's share of the line: lo <= start of a value < hi
    hi: int


def windows(line: str) -> list[Window]:
    n = len(line)
    if n <= WINDOW:
        return [Window(0, line, 0, n + 1)]
    stride = WINDOW - OVERLAP
    out: list[Window] = []
    nominal = 0
    while True:
        start = nominal
        if nominal:
            cut = max(line.rfind(" ", nominal - BACK, nominal), line.rfind("\t", nominal - BACK, nominal))
            if cut >= 0:
                start = cut + 1
        end = min(n, start + WINDOW)
        last = end >= n
        out.append(Window(start, line[start:end], nominal, n + 1 if last else nominal + stride))
        if last:
            return out
        nominal += stride


def keeps(window: Window, value: str) -> bool:
    """The value starts, somewhere in the window, inside the window's share."""
    i = window.text.find(value)
    if i < 0:
        return True  # not verbatim in the text (no plugin does that): keep it
    while i >= 0:
        at = window.start + i
        if at >= window.hi:
            return False
        if at >= window.lo:
            return True
        i = window.text.find(value, i + 1)
    return False


def thin_keyword_runs(text: str, keyword: "re.Pattern[str]") -> str:
    """`text` with each word run that holds `DENSE` or more matches of
    `keyword` (case-insensitive) cut down to one of them, a lower-case one
    if there is any (two of the plugin's expressions only know those), and
    the part of the run after the last."""
    pieces: list[str] = []
    done = 0
    for run in _LONG_WORD_RUN.finditer(text):
        found = list(keyword.finditer(text, run.start(), run.end()))
        if len(found) >= DENSE:
            kept = next((m.group() for m in found if m.group().islower()), found[-1].group())
            pieces += [text[done:run.start()], kept]
            done = found[-1].end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)
