"""detect-secrets' plugins and filters, run in-process on text kohalint already read.

detect-secrets spends most of its time sending every line through every
plugin. Here a cheap trigger decides first which lines any of its plugins
could report at all (a superset of every default plugin's pattern;
tests/test_secrets.py and tests/test_secret_scanner_*.py check that against
the plugins themselves), so
most files are dismissed without importing detect-secrets, and only the
remaining lines go through its machinery:

* pass 1 on the file's lines, or on what its non-eager transformers make of
  them (YAML and INI values re-written as quoted strings);
* pass 2, only when pass 1 found nothing, with the eager transformer (any
  other file read as `key = value` lines), as `detect_secrets.core.scan` does;
* dotenv files are always read as `KEY="value"` lines, because
  detect-secrets skips its eager pass as soon as one quoted value matched
  and so misses the unquoted values next to it.

The trigger for the two entropy plugins is their own test
(`kohalint.secret_entropy`): a quoted string with too little entropy (a
compose `command: ["--character-set-server=utf8mb4"]`) triggers nothing.
Every expression of the trigger takes time linear in the line, and very
long lines reach the plugins in bounded windows (`kohalint.secret_windows`).
detect-secrets is imported with `requests` deferred (`kohalint.lazy_imports`):
only verification uses it.

Deliberate differences: no verification filter (it calls the providers'
APIs over the network; kohalint only reads), and no `IPPublicDetector`
(an address is not a credential).
"""

from __future__ import annotations

import bisect
import inspect
import io
import itertools
import operator
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import import_module
from typing import Any, Callable, Optional

from kohalint import secret_entropy
from kohalint.secret_windows import Window, keeps, thin_keyword_runs, windows

_B64 = r"A-Za-z0-9+/=_\\-"
_KEYWORDS = (r"(?i:(?:api|auth|service|account|db|database|priv|private|client)_?key"
             r"|(?:db|database|key)_?pass|passw(?:or)?d|pwd|secret|contrase(?:ñ|n)a)")
# Every default detect-secrets plugin needs one of these in the line it
# analyses (the keywords for KeywordDetector, a high-entropy quoted string
# for the two entropy plugins, one of the patterns below for all others).
# Each pattern is searched on its own and most start with a literal, which
# lets the regular expression engine skip ahead instead of trying every
# branch at every position; what must precede the literal is a (pattern,
# what precedes it) pair, checked only where the literal is found. The
# case-insensitive ones run on the lower-cased text. None of them can take
# time quadratic in a line: where a run could be scanned once per start
# position (`eyJeyJeyJ...`), a run longer than a bound is a match.
_STRONG_PATTERNS = (
    r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",    # AWS access key id
    r"AKC[a-zA-Z0-9]{10}", r"AP[\dA-F][a-zA-Z0-9]{8}",     # Artifactory
    r"AccountKey=",                                        # Azure storage
    r"://[^\s:/@]+:[^\s:/@]+@",                            # basic auth in URLs
    (r"\.[\w-]{6}\.", r"[\w-]{23}"),                          # Discord
    r"gh[pousr]_", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", r"GR1348941",  # GitHub, GitLab
    r"eyJ(?:[\w=-]{1,64}\.|[\w=-]{65})",                      # JWT (a longer header: any)
    (r"-us\d", r"[0-9a-z]{32}"), r"_authToken=", r"T3BlbkFJ", r"pypi-AgE", r"SG\.[\w-]{22}\.",
    r"PRIVATE KEY", r"PuTTY-User-Key-File-\d",              # private keys
    r"sq0csp-", (r"k_live_", r"[rs]"), (r":[\w-]{35}", r"\d{8}"), r"AC[a-z0-9]{32}", r"SK[a-z0-9]{32}",
)
_LOWER_PATTERNS = (                                        # matched on text.lower()
    r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"][0-9a-z/+]{40}['\"]",  # AWS secret access key
    r"(?:key|pwd?|pass(?:word)?|token)[\]'\"]{0,3}[ \t:=>]*['\"]?[\w-]{24}",  # Cloudant IBM SoftLayer
    r"softlayer.com/soap/",
    r"xox[aposbr]-", r"hooks\.slack\.com/services/",        # Slack
)
# What the entropy plugins need at the least, whatever the entropy: only in
# LINE_TRIGGER, a single expression for callers that want a superset of
# every plugin's pattern (the scan tests the entropy itself).
_QUOTED_PATTERNS = (rf"['\"][{_B64}]{{23,}}['\"]", r"['\"][0-9a-fA-F]{9,}['\"]")


def _lookbehind(p) -> str:
    return p if isinstance(p, str) else f"(?<={p[1]}){p[0]}"


_PLAIN_EACH = tuple(re.compile(p) for p in _STRONG_PATTERNS if isinstance(p, str))
_PRECEDED_EACH = tuple((re.compile(p[0]), re.compile(p[1]), int(re.search(r"\{(\d+)\}$", p[1]).group(1))
                        if p[1].endswith("}") else 1) for p in _STRONG_PATTERNS if not isinstance(p, str))
_LOWER_EACH = tuple(re.compile(p) for p in _LOWER_PATTERNS)
KEYWORD_TRIGGER = re.compile(_KEYWORDS)


def _strong_source() -> str:
    return "|".join(tuple(_lookbehind(p) for p in _STRONG_PATTERNS)
                    + tuple(f"(?i:{p})" for p in _LOWER_PATTERNS))


def __getattr__(name: str) -> Any:
    # The union expressions are for the tests (STRONG_TRIGGER: what
    # `strong_match` looks for, in one expression) and callers outside the
    # scan; compiling them costs milliseconds a scan need not pay.
    if name == "STRONG_TRIGGER":
        value = re.compile(_strong_source())
    elif name == "LINE_TRIGGER":
        value = re.compile("|".join((_strong_source(), *_QUOTED_PATTERNS, _KEYWORDS)))
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


# Every keyword contains one of these: a cheap first look before the full expression.
_KEYWORD_ANCHOR = re.compile(r"key|pass|pwd|secret|contrase")

# What KeywordDetector's expressions need around a keyword, as one superset:
# the word run holding the keyword (taken whole and once: its end is what
# matters, not which keyword), then an assignment or comparison and the
# start of a value (a word character, optionally after a quote or `@`; a
# backslash, which a YAML escape may turn into one; after a colon also a
# YAML block scalar, tag, anchor or alias, which the YAML transformer turns
# into a quoted value), or a C++ `keyword("value")`. A reference
# (`${DB_PASSWORD}`) does not start with a word character: it is no value.
_KEYWORD_VALUE = re.compile(
    rf"(?<!\w)(?>\w*?{_KEYWORDS}\w*)"
    r"""(?:(?:[\]'"]{0,2}|\[[0-9]*\])\s*(?:(?::=|[!=]{1,3}>?)\s*@?["'`]?[\w\\]|:\s*(?:@?["'`]?[\w\\]|[|>!&*]))"""
    r"""|(?:.assign)?\("\w)""")
# Its two other forms: `keyword ... "value";` and `"value" == keyword`.
_QUOTE_SEMICOLON = re.compile(r"""["'`];""")
_QUOTE_COMPARED = re.compile(r"""["'`]\s*[!=]{2,3}""")

# What a transformer may turn into a quoted value: a whole unquoted value
# made of one run (YAML values follow whitespace; INI ones also `=` or `:`),
# in group 1. The separator before it is matched rather than looked behind
# at (several times faster), so the text is searched with a newline before it.
_RUN = rf"((?:[{_B64}]{{23,}}|[0-9a-fA-F]{{9,}})(?=$|[\s\"',\]}}#]))"
_YAML_RUN = re.compile(r"[\s\"'\[,{]" + _RUN)
_INI_RUN = re.compile(r"[\s\"'=:]" + _RUN)
# A line configparser rejects (no section header, no `=`/`:`, not a comment
# or continuation): the INI transformers fail on such a file.
_NOT_INI = re.compile(r"^[^\s#;\[][^=:\n]*$", re.M)
_YAML_EXT = (".yaml", ".yml", ".eyaml")
_DISABLED_PLUGINS = {"IPPublicDetector"}
_KEYWORD_PLUGIN = "KeywordDetector"     # the one `thin_keyword_runs` is for
_NETWORK_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_DROPPED_FILTERS = {"detect_secrets.filters.common.is_invalid_file", _NETWORK_FILTER}


@dataclass
class Hit:
    line: int                          # 1-based
    value: str
    types: set[str] = field(default_factory=set)


def harmless_keyword_line(line: str) -> bool:
    """No keyword is assigned (or compared with) anything KeywordDetector
    could report (`MARIADB_PASSWORD: ${MARIADB_PASSWORD}`, `--password-file`)."""
    return not (_KEYWORD_VALUE.search(line) or _QUOTE_SEMICOLON.search(line)
                or _QUOTE_COMPARED.search(line))


def strong_match(text: str, lower: Optional[str] = None) -> bool:
    """One of the patterns of the regular-expression plugins is in the text."""
    if any(r.search(text) for r in _PLAIN_EACH):
        return True
    for main, before, width in _PRECEDED_EACH:
        for m in main.finditer(text):
            if m.start() >= width and before.fullmatch(text, m.start() - width, m.start()):
                return True
    lower = _lower(text) if lower is None else lower
    return any(r.search(lower) for r in _LOWER_EACH)


def _lower(text: str) -> str:
    """`text.lower()`, one character for one: offsets in it are offsets in
    `text`. U+0130 is the only character whose lower case is two; for a
    case-insensitive expression it is an `i`."""
    return (text.replace("\u0130", "i") if "\u0130" in text else text).lower()


def _keyword_line(line: str) -> bool:
    return KEYWORD_TRIGGER.search(line) is not None and not harmless_keyword_line(line)


def line_may_hold(line: str) -> bool:
    lower = _lower(line)
    if strong_match(line, lower) or secret_entropy.has_high_entropy(line):
        return True
    return _KEYWORD_ANCHOR.search(lower) is not None and _keyword_line(line)


def candidate_lines(lines: list[str]) -> list[int]:
    """1-based numbers of the lines `line_may_hold` accepts, found with one
    pass per pattern over the whole text (no pattern spans a line break)."""
    text = "\n".join(lines)
    lower = _lower(text)
    # where each line starts in `text`, summed in C: a Python loop over a
    # large repository's million lines cost more than the searches below
    starts = list(map(operator.add, itertools.accumulate(map(len, lines), initial=0), range(len(lines))))
    found: set[int] = set()

    def mark(pos: int) -> None:
        found.add(bisect.bisect_right(starts, pos))

    for r in _PLAIN_EACH:
        for m in r.finditer(text):
            mark(m.start())
    for main, before, width in _PRECEDED_EACH:
        for m in main.finditer(text):
            if m.start() >= width and before.fullmatch(text, m.start() - width, m.start()):
                mark(m.start())
    for r in _LOWER_EACH:
        for m in r.finditer(lower):
            mark(m.start())
    for pos in secret_entropy.high_entropy_spans(text):
        mark(pos)
    m = _KEYWORD_ANCHOR.search(lower)
    while m:
        no = bisect.bisect_right(starts, m.start())
        if no not in found and _keyword_line(lines[no - 1]):
            found.add(no)
        # on from the next line: a line can hold a keyword at every other character
        m = _KEYWORD_ANCHOR.search(lower, starts[no] if no < len(starts) else len(lower))
    return sorted(found)


def may_be_transformed(path: str, text: str) -> bool:
    return path.lower().endswith(_YAML_EXT) or not _NOT_INI.search(text)


def may_hold_secret(path: str, text: str) -> bool:
    """Cheap and conservative: False only when no plugin can report anything."""
    lower = _lower(text)
    if strong_match(text, lower):
        return True
    m = _KEYWORD_ANCHOR.search(lower)
    while m:
        start = lower.rfind("\n", 0, m.start()) + 1
        end = lower.find("\n", m.end())
        end = len(lower) if end < 0 else end
        if _keyword_line(lower[start:end]):
            return True
        m = _KEYWORD_ANCHOR.search(lower, end)  # the next line holding one: a line is judged once
    if path.lower().endswith(_YAML_EXT):
        # `!!binary` values reach the plugins re-encoded, joined across lines
        return ("!!binary" in text or ":binary" in text
                or secret_entropy.runs_may_be_high(text, _YAML_RUN))
    if not _NOT_INI.search(text):
        # configparser's interpolation (`%(name)s`) joins values
        return "%(" in text or secret_entropy.runs_may_be_high(text, _INI_RUN)
    return secret_entropy.has_high_entropy(text)


# detect-secrets' `is_indirect_reference` searches
# `([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])`: the leading
# run may be empty and so may the spaces, so the line holds a match exactly
# when it holds one of what follows them, and that starts with a literal the
# regular expression engine can skip to instead of scanning the rest of the
# line from every position (140 us a candidate line, a tenth of KL101's
# plugin time). tests/test_secret_scanner_trigger.py holds the answers equal.
_INDIRECT_REFERENCE = re.compile(r"(?::=?|[!=]{1,3})\s*[\w.-]+[\[\(][^\v]*[\]\)]")


def is_indirect_reference(line: str) -> bool:
    return len(line) <= 1000 and _INDIRECT_REFERENCE.search(line) is not None


_SAME_ANSWER = {"detect_secrets.filters.heuristic.is_indirect_reference": is_indirect_reference}


class _Filter:
    __slots__ = ("func", "params", "required")

    def __init__(self, func: Callable) -> None:
        sig = inspect.signature(func)
        self.func = func
        self.params = tuple(sig.parameters)
        self.required = {n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty}

    def __call__(self, **kw: Any) -> bool:
        return bool(self.func(**{k: kw[k] for k in self.params if k in kw}))


@lru_cache(maxsize=1)
def _prepare_import() -> None:
    """Before detect-secrets is first imported: `requests` only on use."""
    if "detect_secrets" in sys.modules:
        return
    from kohalint import lazy_imports

    lazy_imports.defer("requests")
    lazy_imports.postpone_annotations("detect_secrets.plugins.", r"(?:->|\w\s*:)\s*requests\.")


class Machinery:
    """The plugins and filters of a default `detect-secrets scan`, built once."""

    def __init__(self) -> None:
        _prepare_import()
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import Settings, get_settings

        # Plugins consult the global settings to decide whether to verify a
        # match over the network; never let them.
        if _NETWORK_FILTER in get_settings().filters:
            get_settings().disable_filters(_NETWORK_FILTER)
        self.plugins = [cls() for _, cls in sorted(get_mapping_from_secret_type_to_class().items())
                        if cls.__name__ not in _DISABLED_PLUGINS and "path" not in
                        get_settings().plugins.get(cls.__name__, {})]
        filters = []
        for path in sorted(set(Settings().filters) - _DROPPED_FILTERS):
            module, _, name = path.rpartition(".")
            filters.append(_Filter(_SAME_ANSWER.get(path) or getattr(import_module(module), name)))
        # The stages of detect_secrets.core.scan: a filter runs where its
        # stage's parameter is among its own and all it needs is available.
        self.file_filters = self._stage(filters, "filename", {"filename"})
        self.line_filters = self._stage(filters, "line", {"filename", "line", "context"})
        self.secret_filters = self._stage(filters, "secret", {"filename", "secret", "plugin", "line"})
        seen = set(map(id, self.line_filters))
        self.context_filters = [f for f in self._stage(filters, "context", {"filename", "secret", "plugin",
                                                                             "line", "context"})
                                if id(f) not in seen]

    @staticmethod
    def _stage(filters: list[_Filter], param: str, available: set[str]) -> list[_Filter]:
        return [f for f in filters if param in f.params and f.required <= available]

    def skips_file(self, path: str) -> bool:
        return any(f(filename=path) for f in self.file_filters)

    def scan_lines(self, path: str, lines: list[str], out: dict[tuple[int, str], Hit],
                   candidates: Optional[list[int]] = None) -> int:
        """Run every plugin on the trigger-matching lines; returns the number of matches."""
        from detect_secrets.util.code_snippet import get_code_snippet

        found = 0
        stripped = [line.rstrip() for line in lines]
        for no in candidate_lines(stripped) if candidates is None else candidates:
            line = stripped[no - 1]
            context = get_code_snippet(lines=lines, line_number=no)
            if any(f(filename=path, line=line, context=context) for f in self.line_filters):
                continue
            parts = windows(line)
            for part in parts:
                if len(parts) > 1 and not line_may_hold(part.text):
                    continue
                found += self._scan_part(path, no, part, len(parts) == 1, context, out)
        return found

    def _scan_part(self, path: str, no: int, part: Window, whole: bool, context: Any,
                   out: dict[tuple[int, str], Hit]) -> int:
        found = 0
        text = part.text
        thinned = thin_keyword_runs(text, KEYWORD_TRIGGER)
        for plugin in self.plugins:
            seen = thinned if type(plugin).__name__ == _KEYWORD_PLUGIN else text
            for secret in plugin.analyze_line(filename=path, line=seen, line_number=no, context=context):
                value = secret.secret_value
                if value is None or not (whole or keeps(part, value)):
                    continue
                kw = {"filename": path, "secret": value, "plugin": plugin, "line": text}
                if any(f(**kw) for f in self.secret_filters):
                    continue
                if any(f(**kw, context=context) for f in self.context_filters):
                    continue
                found += 1
                out.setdefault((no, value), Hit(no, value)).types.add(secret.type)
        return found

    def transformed(self, path: str, text: str, eager: bool) -> Optional[list[str]]:
        from detect_secrets.transformers import get_transformed_file

        stream = io.StringIO(text)
        stream.name = path  # type: ignore[attr-defined]
        try:
            return get_transformed_file(stream, use_eager_transformers=eager)  # type: ignore[arg-type]
        except (ValueError, TypeError, UnicodeError, RecursionError, LookupError):
            return None  # a transformer that chokes means raw lines, as for detect-secrets


@lru_cache(maxsize=1)
def machinery() -> Machinery:
    return Machinery()


def scan_text(path: str, text: str, *, dotenv_lines: Optional[list[str]] = None) -> list[Hit]:
    """The secrets detect-secrets' plugins find in `text` (after its filters).

    `dotenv_lines`: the file as `KEY="value"` lines (dotenv files), used
    instead of detect-secrets' two passes. Text whose lines reach the
    plugins as they are, with no line the trigger accepts, is done without
    importing detect-secrets.
    """
    transform = dotenv_lines is None and may_be_transformed(path, text)
    lines = dotenv_lines if dotenv_lines is not None else None if transform else text.splitlines()
    candidates = None
    if lines is not None:
        candidates = candidate_lines([line.rstrip() for line in lines])
        if not candidates:
            return []
    m = machinery()
    if m.skips_file(path):
        return []
    hits: dict[tuple[int, str], Hit] = {}
    if lines is not None:
        m.scan_lines(path, lines, hits, candidates)
        return sorted(hits.values(), key=lambda h: (h.line, h.value))
    lines = m.transformed(path, text, eager=False) or text.splitlines()
    found = m.scan_lines(path, lines, hits)
    if not found:
        eager = m.transformed(path, text, eager=True)
        if eager:
            m.scan_lines(path, eager, hits)
    return sorted(hits.values(), key=lambda h: (h.line, h.value))
