"""detect-secrets' high-entropy test, without importing detect-secrets.

Base64HighEntropyString and HexHighEntropyString report a quoted run of
their alphabet whose Shannon entropy is above a limit (4.5 and 3.0 bits, the
defaults kohalint runs them with). A quoted run below the limit is
reported by neither, so a line whose only trigger is such a run (a compose
`command: ["--character-set-server=utf8mb4"]`) needs no plugin at all.

The runs, the entropy and the comparison are computed as the plugins do
(same alphabet in the same order, same float operations, same
digits-only correction for hex), so the answer is the plugins' own;
tests/test_secret_scanner_entropy.py checks that against the plugins on
generated strings, and that the limits are the ones the plugins have.
"""

from __future__ import annotations

import math
import re
import string
from typing import Iterator

# The plugins' alphabets, in the order they sum over (float addition is not
# associative, and a value can sit right at the limit).
B64_CHARSET = string.ascii_letters + string.digits + "+/" + "\\-_" + "="
HEX_CHARSET = string.hexdigits
B64_LIMIT = 4.5
HEX_LIMIT = 3.0

# What the plugins match: a run of the alphabet between two equal quotes,
# found left to right without overlap (their `findall`).
_B64_QUOTED = re.compile(r"""(['"])([%s]+)\1""" % re.escape(B64_CHARSET))
_HEX_QUOTED = re.compile(r"""(['"])([%s]+)\1""" % re.escape(HEX_CHARSET))

# Entropy above 4.5 bits needs at least 23 distinct symbols (log2 22 < 4.5),
# above 3.0 at least 9: shorter runs need no computing.
B64_MIN = 23
HEX_MIN = 9


def _shannon(data: str, charset: str) -> float:
    entropy = 0.0
    n = len(data)
    for x in charset:
        p_x = float(data.count(x)) / n
        if p_x > 0:
            entropy += - p_x * math.log(p_x, 2)
    return entropy


def b64_high(value: str) -> bool:
    """Base64HighEntropyString would report this quoted value."""
    return len(value) >= B64_MIN and _shannon(value, B64_CHARSET) > B64_LIMIT


def hex_high(value: str) -> bool:
    """HexHighEntropyString would report this quoted value."""
    if len(value) < HEX_MIN:
        return False
    entropy = _shannon(value, HEX_CHARSET)
    if value.isdigit() and value.isascii():
        # the plugin's correction for numbers (it tries `int(value)`)
        entropy -= 1.2 / math.log(len(value), 2)
    return entropy > HEX_LIMIT


# A quoted run long enough to be reported and closed by the quote that
# opened it. Every run a plugin reports is one, so only the lines holding
# one need the pairing of their quotes worked out; in most text, pairing
# every short quoted string ('a', "x") was most of the time spent here.
_B64_LONG = re.compile(r"""(['"])[%s]{%d,}(?=\1)""" % (re.escape(B64_CHARSET), B64_MIN))
_HEX_LONG = re.compile(r"""(['"])[%s]{%d,}(?=\1)""" % (re.escape(HEX_CHARSET), HEX_MIN))
_ALPHABETS = ((_B64_LONG, _B64_QUOTED, b64_high), (_HEX_LONG, _HEX_QUOTED, hex_high))


def high_entropy_spans(text: str) -> Iterator[int]:
    """Start offsets of the quoted values the entropy plugins would report in
    `text` (lines joined with newlines: no run crosses one, so quotes pair up
    within a line and each line can be paired on its own)."""
    for long_run, quoted, high in _ALPHABETS:
        paired_to = -1
        for m in long_run.finditer(text):
            if m.start() < paired_to:
                continue  # its line was paired already
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            paired_to = end = len(text) if end < 0 else end
            for q in quoted.finditer(text, start, end):
                if high(q.group(2)):
                    yield q.start()


def has_high_entropy(text: str) -> bool:
    return next(high_entropy_spans(text), None) is not None


# -- conservative, for text a transformer rewrites before the plugins see it ----------

_B64 = re.escape(B64_CHARSET)
_HEX = re.escape(HEX_CHARSET)
# Runs that a quote encloses, whatever the pairing (the closing quote stays
# unconsumed, to open the next one), in group 1.
_QUOTED_RUN = re.compile(rf"""['"]((?:[{_B64}]{{{B64_MIN},}}|[{_HEX}]{{{HEX_MIN},}}))(?=['"])""")
# An escaped line break in a YAML double-quoted string joins the run before
# it to the one starting the next line: no run shows the value.
_ESCAPED_BREAK = re.compile(rf"[{_B64}]\\(?=\r?$)", re.M)


def run_may_be_high(run: str, followed_by: str) -> bool:
    """Could a transformer make a reported value of this run?

    The YAML and INI transformers re-quote values and escape a `"` inside
    one as `\\"`: the run before such a quote reaches the plugins with a
    backslash (which is in the base64 alphabet) glued to it. A run holding a
    backslash may be an escape sequence that YAML decodes into something else
    altogether: it counts, as it always did.
    """
    if "\\" in run:
        return True
    if b64_high(run) or hex_high(run):
        return True
    return followed_by == '"' and b64_high(run + "\\")


def runs_may_be_high(text: str, value_runs: "re.Pattern[str]") -> bool:
    """Any quoted run, or any run `value_runs` finds (in its group 1) where a
    transformer would quote it, that may be reported once transformed."""
    if _ESCAPED_BREAK.search(text):
        return True
    padded = "\n" + text  # a run at the very start follows a separator too
    for rx in (_QUOTED_RUN, value_runs):
        for m in rx.finditer(padded):
            if run_may_be_high(m.group(1), padded[m.end(1):m.end(1) + 1]):
                return True
    return False
