"""Durations, cron expressions, crontabs and systemd timers, down to "how long
can this schedule leave us without a run".

Cron follows Vixie cron/cronie (entry.c): 5 fields, `*`, lists, `a-b`, `/step`
after `*` or a range, three-letter month and weekday names, 0 and 7 both
Sunday. When day-of-month and day-of-week are both restricted a day matches
if either does; a field that starts with `*` (even `*/2`) counts as
unrestricted. Gaps are computed exactly over one 28-year cycle (2001-2028):
weekdays and leap years repeat with that period for every date from 1901 to
2099, so the result holds for all of them (the non-leap 2100 is ignored).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from functools import lru_cache

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOWS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_CYCLE_START = datetime.date(2001, 1, 1)
_CYCLE_DAYS = 10227  # 28 years = 1461 weeks
_DAY = 1440  # minutes


def parse_duration(text: str) -> datetime.timedelta:
    """Policy durations: "15m", "1h10m", "4h", "2d", "90s", "1d12h".

    Units d, h, m, s, largest first, each at most once, lowercase (so "M" is
    never mistaken for months). "0" alone is zero; other bare numbers are
    refused because their unit would be a guess.
    """
    if not isinstance(text, str):
        raise ValueError("a duration must be a string such as '15m'")
    spec = text.strip()
    if spec == "0":
        return datetime.timedelta(0)
    match = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", spec)
    if not spec or match is None or not spec.isascii():
        raise ValueError("invalid duration: use whole numbers with d, h, m, s, largest first, e.g. '1h10m'")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    try:
        return datetime.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError("duration too large") from None


def format_duration(td: datetime.timedelta) -> str:
    """The inverse of parse_duration, to the second: timedelta(hours=1, minutes=10) -> "1h10m"."""
    total = int(td.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0s")


@dataclass(frozen=True)
class CronExpr:
    """A schedule at minute granularity. Weekdays are 0-6, Sunday 0."""

    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int]
    months: frozenset[int]
    dows: frozenset[int]
    dom_star: bool
    dow_star: bool
    source: str = ""
    reboot: bool = False
    day_and: bool = False  # systemd: weekday and date must both match

    @property
    def periodic(self) -> bool:
        return not self.reboot and bool(self.minutes and self.hours and self.doms and self.months and self.dows)

    def matches_day(self, month: int, dom: int, dow: int) -> bool:
        if month not in self.months:
            return False
        if self.day_and or self.dom_star or self.dow_star:
            return dom in self.doms and dow in self.dows
        return dom in self.doms or dow in self.dows


def _cron_number(token: str, low: int, high: int, names: tuple[str, ...] | None, label: str) -> int:
    if token.isascii() and token.isdigit():
        number = int(token)
    elif names and token.lower() in names:
        number = names.index(token.lower()) + low
    else:
        raise ValueError(f"bad {label}: expected a number" + (" or a three-letter name" if names else ""))
    if not low <= number <= high:
        raise ValueError(f"bad {label}: out of range {low}-{high}")
    return number


def _cron_field(text: str, low: int, high: int, names: tuple[str, ...] | None, label: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        if span == "*":
            first, last = low, high
        else:
            start, dash, end = span.partition("-")
            first = _cron_number(start, low, high, names, label)
            if not dash:
                if slash:  # entry.c: a step needs `*` or a range before it
                    raise ValueError(f"bad {label}: a step needs '*' or a range before it")
                values.add(first)
                continue
            last = _cron_number(end, low, high, names, label)
            if first > last:
                raise ValueError(f"bad {label}: range runs backwards")
        step = 1
        if slash:
            if not (step_text.isascii() and step_text.isdigit()) or int(step_text) == 0:
                raise ValueError(f"bad {label}: step must be a positive number")
            step = int(step_text)
        values.update(range(first, last + 1, step))
    return frozenset(values)


def parse_cron(expr: str) -> CronExpr:
    """Parse a 5-field expression or an @macro; @reboot gives a non-periodic CronExpr."""
    if not isinstance(expr, str):
        raise ValueError("a cron expression must be a string")
    spec = expr.strip()
    if spec.startswith("@"):
        if spec == "@reboot":
            empty: frozenset[int] = frozenset()
            return CronExpr(empty, empty, empty, empty, empty, True, True, spec, reboot=True)
        if spec not in _MACROS:
            raise ValueError("unknown @ schedule (cron knows @reboot, @yearly, @annually, "
                             "@monthly, @weekly, @daily, @midnight, @hourly)")
        return dataclasses.replace(parse_cron(_MACROS[spec]), source=spec)
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, found {len(fields)}")
    minute, hour, dom, month, dow = fields
    dows = _cron_field(dow, 0, 7, _DOWS, "day-of-week")
    return CronExpr(
        minutes=_cron_field(minute, 0, 59, None, "minute"),
        hours=_cron_field(hour, 0, 23, None, "hour"),
        doms=_cron_field(dom, 1, 31, None, "day-of-month"),
        months=_cron_field(month, 1, 12, _MONTHS, "month"),
        dows=frozenset(day % 7 for day in dows),
        dom_star=dom.startswith("*"),
        dow_star=dow.startswith("*"),
        source=spec,
    )


@lru_cache(maxsize=1)
def _calendar() -> tuple[tuple[int, int, int], ...]:
    days = (_CYCLE_START + datetime.timedelta(days=k) for k in range(_CYCLE_DAYS))
    return tuple((d.month, d.day, (d.weekday() + 1) % 7) for d in days)


def union_longest_gap(exprs: list[CronExpr]) -> datetime.timedelta | None:
    """Longest time between consecutive firings of all `exprs` together.

    Each day's firing minutes are merged once per distinct set of matching
    expressions, so the work is about one pass over the cycle's 10227 days
    whatever the expressions (10-20 ms: remembered per set of schedules, as a
    large repository repeats the same few). None when nothing ever fires.
    """
    return _union_longest_gap(tuple(e for e in exprs if e.periodic))


@lru_cache(maxsize=1024)
def _union_longest_gap(exprs: tuple[CronExpr, ...]) -> datetime.timedelta | None:
    times = [sorted({h * 60 + m for h in e.hours for m in e.minutes}) for e in exprs]
    by_day: dict[tuple[int, int, int], tuple[int, ...]] = {}
    merged: dict[tuple[int, ...], tuple[int, int, int]] = {}
    best = 0
    first: tuple[int, int] | None = None
    prev: tuple[int, int] | None = None
    for index, day in enumerate(_calendar()):
        key = by_day.get(day)
        if key is None:
            key = by_day[day] = tuple(i for i, e in enumerate(exprs) if e.matches_day(*day))
        if not key:
            continue
        if key not in merged:
            minutes = sorted(set().union(*(times[i] for i in key)))
            inner = max((b - a for a, b in zip(minutes, minutes[1:])), default=0)
            merged[key] = (minutes[0], minutes[-1], inner)
        start, end, inner = merged[key]
        best = max(best, inner)
        if prev is None:
            first = (index, start)
        else:
            best = max(best, (index - prev[0]) * _DAY + start - prev[1])
        prev = (index, end)
    if first is None or prev is None:
        return None
    best = max(best, (first[0] + _CYCLE_DAYS - prev[0]) * _DAY + first[1] - prev[1])  # wrap the cycle
    return datetime.timedelta(minutes=best)


def longest_gap(expr: str | CronExpr) -> datetime.timedelta | None:
    """The longest time between two consecutive firings; None for @reboot or never.

    "0 3 1 * *" -> 31 days, "0 3 * * 1-5" -> 3 days, "0 3 29 2 *" -> 1461 days.
    """
    return union_longest_gap([parse_cron(expr) if isinstance(expr, str) else expr])


@dataclass(frozen=True)
class CronEntry:
    expr: str
    command: str
    line: int
    user: str | None = None
    schedule: CronExpr | None = field(default=None, compare=False)


class Crontab(list):  # list[CronEntry]
    """Entries in file order; `errors` holds (line, message) for lines cron rejects."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[tuple[int, str]] = []


# cron's load_env: a line whose first word is followed by `=` sets a variable.
_ENV_LINE = re.compile(r"[ \t]*(?:\"[^\"]*\"|'[^']*'|[^ \t=\"']+)[ \t]*=")


def parse_crontab(text: str, *, system: bool = False) -> Crontab:
    """A user crontab, or with `system` one with a user field (/etc/crontab, /etc/cron.d).

    Error messages never quote the line: a command may hold a secret. Cron
    drops a last line that has no newline, so it is reported, not returned.
    """
    result = Crontab()
    lines = text.split("\n")
    for lineno, raw in enumerate(lines, start=1):
        body = raw.rstrip("\r").strip(" \t")
        if not body or body.startswith("#") or _ENV_LINE.match(body):
            continue
        if body.startswith("-"):
            body = body[1:]  # cronie: "-" turns off syslog for the job
        time_fields = 1 if body.startswith("@") else 5
        parts = re.split(r"[ \t]+", body, maxsplit=time_fields + int(system))
        if len(parts) <= time_fields + int(system):
            result.errors.append((lineno, "missing " + ("user and command" if system else "command")))
            continue
        expr, user = " ".join(parts[:time_fields]), parts[time_fields] if system else None
        command = parts[-1]
        try:
            schedule = parse_cron(expr)
        except ValueError as exc:
            result.errors.append((lineno, str(exc)))
            continue
        if (user or command).startswith("*"):
            result.errors.append((lineno, "command starts with '*': six time fields?"))
        elif lineno == len(lines) and text and not text.endswith("\n"):
            result.errors.append((lineno, "no newline at end of file: cron ignores this last entry"))
        else:
            result.append(CronEntry(expr, command, lineno, user, schedule))
    return result


_SYSTEMD_SHORTHANDS = {
    "minutely": "*-*-* *:*:00", "hourly": "*-*-* *:00:00", "daily": "*-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00", "weekly": "Mon *-*-* 00:00:00", "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00", "semi-annually": "*-01,07-01 00:00:00",
}
_WEEKDAY_NAMES = {name: i for i, day in enumerate(_DOWS)
                  for name in (day, ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")[i])}


def _systemd_component(text: str, low: int, high: int) -> frozenset[int] | None:
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        first, dots, last = span.partition("..")
        if span == "*":
            first, last = str(low), str(high)
        elif not dots:
            last = str(high) if slash else first  # "a/s": from a, every s, to the end
        if not all(t.isascii() and t.isdigit() for t in (first, last)) or (slash and not (
                step_text.isascii() and step_text.isdigit() and int(step_text) > 0)):
            return None
        start, end = int(first), int(last)
        if not low <= start <= end <= high:
            return None
        values.update(range(start, end + 1, int(step_text) if slash else 1))
    return frozenset(values)


def _systemd_weekdays(text: str) -> frozenset[int] | None:
    days: set[int] = set()
    for part in text.lower().split(","):
        start, _, end = part.replace("..", "-").partition("-")
        if start not in _WEEKDAY_NAMES or (end and end not in _WEEKDAY_NAMES):
            return None
        a, b = (_WEEKDAY_NAMES[start] - 1) % 7, (_WEEKDAY_NAMES[end or start] - 1) % 7  # Monday first
        if a > b:
            return None
        days.update((d + 1) % 7 for d in range(a, b + 1))
    return frozenset(days)


def parse_systemd_calendar(spec: str) -> CronExpr | None:
    """An OnCalendar= value as a CronExpr (weekday and date both must match).

    None when invalid or outside what a minute-level schedule can say: a
    restricted year, `~` (days from the month's end), several or `*` seconds,
    a time zone other than UTC or a region/city name.
    """
    text = " ".join(spec.split())
    tokens = _SYSTEMD_SHORTHANDS.get(text, text).split(" ")
    dows: frozenset[int] | None = frozenset(range(7))
    if tokens and tokens[0][:1].isalpha():
        dows = _systemd_weekdays(tokens.pop(0))
        has_weekday = True
    else:
        has_weekday = False
    date = tokens.pop(0) if tokens and "-" in tokens[0] and ":" not in tokens[0] else "*-*-*"
    time = tokens.pop(0) if tokens and ":" in tokens[0] else "00:00:00"
    if tokens and (tokens[0] == "UTC" or "/" in tokens[0]):
        tokens.pop(0)  # a fixed zone leaves the gaps alone (DST shifts aside)
    date_parts, time_parts = date.split("-"), time.split(":")
    if len(date_parts) == 3:
        if date_parts.pop(0) != "*":
            return None
    if tokens or dows is None or len(date_parts) != 2 or len(time_parts) not in (2, 3):
        return None
    # One fixed second shifts every firing alike, so the gaps stay minute-exact.
    seconds = _systemd_component(time_parts[2], 0, 59) if len(time_parts) == 3 else frozenset({0})
    months, doms = _systemd_component(date_parts[0], 1, 12), _systemd_component(date_parts[1], 1, 31)
    hours, minutes = _systemd_component(time_parts[0], 0, 23), _systemd_component(time_parts[1], 0, 59)
    if seconds is None or len(seconds) != 1 or None in (months, doms, hours, minutes):
        return None
    assert months is not None and doms is not None and hours is not None and minutes is not None
    return CronExpr(minutes, hours, doms, months, dows, dom_star=date_parts[1] == "*",
                    dow_star=not has_weekday, source=spec.strip(), day_and=True)


_SPAN_UNITS = {
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800, "M": 2630016, "month": 2630016, "months": 2630016,
    "y": 31557600, "year": 31557600, "years": 31557600, "ms": 0.001, "msec": 0.001, "us": 1e-6, "usec": 1e-6,
}


def parse_timespan(text: str) -> datetime.timedelta | None:
    """A systemd time span ("1h 30min", "2d", "90"); a bare number is seconds."""
    spec = text.strip()
    if not re.fullmatch(r"(?:\d+(?:\.\d+)?[ \t]*[A-Za-z]*[ \t]*)+", spec):
        return None
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)[ \t]*([A-Za-z]*)", spec):
        if unit not in _SPAN_UNITS:
            return None
        total += float(number) * _SPAN_UNITS[unit]
    try:
        return datetime.timedelta(seconds=total)
    except OverflowError:
        return None


def timer_longest_gap(unit_text: str) -> tuple[datetime.timedelta, int] | None:
    """(longest gap, line) for a .timer unit, or None when nothing repeats.

    All OnCalendar= lines form one schedule; an empty assignment resets the
    list, as in systemd. OnUnitActiveSec=/OnUnitInactiveSec= repeat, but only
    once something starts the unit (OnBootSec=, OnStartupSec=, OnActiveSec= or
    a calendar); since every activation restarts them, the gap is at most the
    smaller of the two kinds. OnBootSec= and friends alone fire once per boot.
    Unsupported calendar lines are left out, which can only lengthen the gap.
    RandomizedDelaySec= is added unless FixedRandomDelay= is true.
    """
    section, pending, start = "", "", 0
    calendars: list[tuple[CronExpr | None, int]] = []
    monotonic: list[tuple[datetime.timedelta, int]] = []
    delay, fixed, started = datetime.timedelta(0), False, False
    for lineno, raw in enumerate(unit_text.split("\n"), start=1):
        line = (pending + raw.strip()) if pending else raw.strip()
        start = start if pending else lineno  # a continued setting is reported where it starts
        if line.endswith("\\") and not line.startswith(("#", ";")):
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        if section != "[Timer]":
            continue
        if key == "OnCalendar":
            calendars = [] if not value else [*calendars, (parse_systemd_calendar(value), start)]
        elif key in ("OnUnitActiveSec", "OnUnitInactiveSec"):
            span = parse_timespan(value) if value else None
            monotonic = [] if not value else [*monotonic, *([(span, start)] if span else [])]
        elif key in ("OnBootSec", "OnStartupSec", "OnActiveSec"):
            started = started or bool(value)
        elif key == "RandomizedDelaySec":
            delay = parse_timespan(value) or datetime.timedelta(0)
        elif key == "FixedRandomDelay":
            fixed = value.lower() in ("1", "yes", "true", "on")
    supported = [(expr, line) for expr, line in calendars if expr is not None]
    candidates = list(monotonic) if started or calendars else []
    gap = union_longest_gap([expr for expr, _ in supported]) if supported else None
    if gap is not None:
        candidates.append((gap, supported[0][1]))
    if not candidates:
        return None
    best, line = min(candidates, key=lambda item: item[0])
    return (best if fixed else best + delay), line
