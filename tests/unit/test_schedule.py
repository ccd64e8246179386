"""Durations, cron (Vixie semantics), crontabs and systemd timers: exact gaps."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kohalint.schedule import (
    CronEntry,
    CronExpr,
    format_duration,
    longest_gap,
    parse_cron,
    parse_crontab,
    parse_duration,
    parse_systemd_calendar,
    parse_timespan,
    timer_longest_gap,
    union_longest_gap,
)

D, H, M = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(("text", "expected"), [
    ("15m", 15 * M), ("1h10m", H + 10 * M), ("4h", 4 * H), ("2d", 2 * D), ("90s", timedelta(seconds=90)),
    ("1d12h", D + 12 * H), (" 35d ", 35 * D), ("0", timedelta(0)), ("0m", timedelta(0)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", [
    "", "15", "90", "15M", "1H", "10m1h", "1h1h", "1.5h", "-5m", "5 m", "1w", "15min", "m", "٣m",
    "99999999999d", None, 15,
])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(("td", "text"), [
    (H + 10 * M, "1h10m"), (timedelta(0), "0s"), (D + 12 * H, "1d12h"), (timedelta(seconds=90), "1m30s"),
    (31 * D, "31d"), (-15 * M, "-15m"), (timedelta(seconds=59.9), "59s"),
])
def test_format_duration(td, text):
    assert format_duration(td) == text


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=10**9))
def test_duration_round_trip(seconds):
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td


GAPS = [
    ("0 3 1 * *", 31 * D),
    ("0 3 * * 0", 7 * D),
    ("0 3 * * 7", 7 * D),
    ("0 3 * * sun", 7 * D),
    ("0 2 * * *", D),
    ("0 3 * * 1-5", 3 * D),  # Fri 03:00 -> Mon 03:00
    ("0 3 * * mon-fri", 3 * D),
    ("0 3 1,15 * *", 17 * D),  # Jan 15 -> Feb 1
    ("0 0 * * 0,3", 4 * D),  # Wed -> Sun
    ("0 3 29 2 *", 1461 * D),  # leap days only
    ("0 0 31 * *", 61 * D),  # Aug 31 -> Oct 31
    ("0 0 1 1 *", 365 * D + D),  # across a leap year
    ("*/15 * * * *", 15 * M),
    ("* * * * *", M),
    ("0 * * * *", H),
    ("30 8-17 * * *", 15 * H),  # 17:30 -> 08:30
    ("0 0-23/6 * * *", 6 * H),
    ("5,55 */2 * * *", 70 * M),
    ("0 0 1 * 1", 7 * D),  # both restricted: the 1st OR any Monday
    ("0 0 */2 * 1", 21 * D),  # dom starts with '*': AND, odd days that are Mondays
    ("0 0 1 jan,jul *", 184 * D),
    ("0 4 * 2 *", 338 * D),  # Feb 28/29 04:00 -> next Feb 1
    ("@weekly", 7 * D),
    ("@daily", D),
    ("@midnight", D),
    ("@hourly", H),
    ("@monthly", 31 * D),
    ("@yearly", 366 * D),
    ("@annually", 366 * D),
]


@pytest.mark.parametrize(("expr", "gap"), GAPS)
def test_longest_gap(expr, gap):
    assert longest_gap(expr) == gap
    assert longest_gap(parse_cron(expr)) == gap


@pytest.mark.parametrize("expr", ["@reboot", "0 0 31 2 *", "0 0 30 2 *"])
def test_not_periodic_or_never(expr):
    assert longest_gap(expr) is None


def test_cron_fields_and_flags():
    expr = parse_cron("0,30 9-17/4 */2 JAN-mar fri,7")
    assert expr.minutes == {0, 30} and expr.hours == {9, 13, 17}
    assert expr.doms == frozenset(range(1, 32, 2)) and expr.months == {1, 2, 3}
    assert expr.dows == {5, 0} and expr.dom_star and not expr.dow_star
    assert parse_cron("@reboot").reboot and not parse_cron("@reboot").periodic
    assert parse_cron("@weekly").source == "@weekly"


@pytest.mark.parametrize("expr", [
    "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
    "* * * * 8", "5-1 * * * *", "*/0 * * * *", "5/15 * * * *", "1-5/ * * * *", "*5 * * * *",
    "a * * * *", "* * * january *", "* * * * monday", "1,,2 * * * *", "@Daily", "@every 5m", "@", "-1 * * * *",
    "* * * jan-2x *", "١ * * * *",
])
def test_invalid_cron_raises_value_error(expr):
    with pytest.raises(ValueError):
        parse_cron(expr)


def test_union_of_schedules():
    # Weekdays at 03:00 plus Sundays at 12:00: Fri 03:00 -> Sun 12:00 is the longest.
    assert union_longest_gap([parse_cron("0 3 * * 1-5"), parse_cron("0 12 * * 0")]) == 2 * D + 9 * H
    assert union_longest_gap([]) is None


CRONTAB = """\
# m h dom mon dow command
SHELL=/bin/bash
MAILTO = ""
"PATH"=/usr/bin

0 2 * * * /opt/backup.sh --full
  */15 * * * *   /opt/binlog-sync.sh  > /dev/null 2>&1
@weekly /opt/restore-test.sh
@reboot /opt/warmup.sh
61 * * * * /bad
0 3 * * *
0 3 * * * * /six-fields
-0 4 * * 1 /quiet.sh
"""


def test_parse_crontab_entries_and_errors():
    tab = parse_crontab(CRONTAB)
    assert [(e.expr, e.command, e.line, e.user) for e in tab] == [
        ("0 2 * * *", "/opt/backup.sh --full", 6, None),
        ("*/15 * * * *", "/opt/binlog-sync.sh  > /dev/null 2>&1", 7, None),
        ("@weekly", "/opt/restore-test.sh", 8, None),
        ("@reboot", "/opt/warmup.sh", 9, None),
        ("0 4 * * 1", "/quiet.sh", 13, None),
    ]
    assert [line for line, _ in tab.errors] == [10, 11, 12]
    assert all("/bad" not in message for _, message in tab.errors)
    assert tab[0].schedule == parse_cron("0 2 * * *")
    assert tab[0] == CronEntry("0 2 * * *", "/opt/backup.sh --full", 6)


def test_parse_system_crontab_has_user_field():
    tab = parse_crontab("17 * * * * root cd / && run-parts /etc/cron.hourly\n@daily koha /x.sh\n0 1 * * * root\n",
                        system=True)
    assert [(e.user, e.command, e.line) for e in tab] == [
        ("root", "cd / && run-parts /etc/cron.hourly", 1), ("koha", "/x.sh", 2)]
    assert tab.errors == [(3, "missing user and command")]


def test_last_line_without_newline_is_ignored_by_cron():
    tab = parse_crontab("0 1 * * * /a.sh\n0 2 * * * /b.sh")
    assert [e.command for e in tab] == ["/a.sh"]
    assert [line for line, _ in tab.errors] == [2]
    assert parse_crontab("").errors == [] and parse_crontab("# only\n") == []


SYSTEMD = [
    ("minutely", M), ("hourly", H), ("daily", D), ("weekly", 7 * D), ("monthly", 31 * D),
    ("yearly", 366 * D), ("annually", 366 * D), ("quarterly", 92 * D), ("semiannually", 184 * D),
    ("*-*-* 03:00:00", D), ("Mon *-*-* 02:30", 7 * D), ("Sun 03:00", 7 * D), ("*-*-01 04:00:00", 31 * D),
    ("*:0/15", 15 * M), ("Mon..Fri 22:30", 3 * D), ("Mon-Fri 22:30", 3 * D), ("Sat,Sun 10:00", 6 * D),
    ("*-*-* 00/6:00:00", 6 * H), ("*-*-* 03:00:30", D), ("*-*-* 03:00 UTC", D),
    ("*-*-* 03:00 Europe/Berlin", D), ("*-01/3-01 00:00", 92 * D), ("Mon *-*-01 00:00", 427 * D),
    ("*-*-1..7 12:00", 25 * D),
]


@pytest.mark.parametrize(("spec", "gap"), SYSTEMD)
def test_systemd_calendar(spec, gap):
    expr = parse_systemd_calendar(spec)
    assert expr is not None and expr.day_and
    assert union_longest_gap([expr]) == gap


@pytest.mark.parametrize("spec", [
    "", "2025-*-* 00:00", "*-*~01", "*-*-* *:*:*", "*-*-* 00:00:00,30", "Funday 03:00", "*-13-01",
    "*-*-* 25:00", "Fri..Mon", "*-*-* 03:00 CET", "now", "*-*-* 03:00:00.5", "03:00 03:00",
])
def test_systemd_calendar_unsupported_or_invalid(spec):
    assert parse_systemd_calendar(spec) is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("1h 30min", 5400), ("2d", 172800), ("90", 90), ("1w", 604800), ("1M", 2630016), ("500ms", 0.5),
    ("5 min", 300), ("1y", 31557600), ("", None), ("5 parsecs", None), ("infinity", None), ("-5s", None),
])
def test_parse_timespan(text, seconds):
    span = parse_timespan(text)
    assert (span.total_seconds() if span is not None else None) == seconds


TIMER = """\
[Unit]
Description=restore test
OnCalendar=daily

[Timer]
# several lines form one schedule
OnCalendar=Mon *-*-* 03:00
OnCalendar=Thu *-*-* 03:00
Persistent=true

[Install]
WantedBy=timers.target
"""


def test_timer_combines_calendar_lines():
    assert timer_longest_gap(TIMER) == (4 * D, 7)  # Thu -> Mon, not min(7d, 7d)


@pytest.mark.parametrize(("body", "expected"), [
    ("OnCalendar=weekly\n", (7 * D, 2)),
    ("OnCalendar=weekly\nOnCalendar=\nOnCalendar=daily\n", (D, 4)),  # empty resets the list
    ("OnBootSec=15min\nOnUnitActiveSec=1d\n", (D, 3)),
    ("OnUnitActiveSec=1d\n", None),  # never started: never fires
    ("OnBootSec=5min\n", None),
    ("OnCalendar=monthly\nOnUnitActiveSec=2d\n", (2 * D, 3)),
    ("OnCalendar=daily\nRandomizedDelaySec=1h\n", (D + H, 2)),
    ("OnCalendar=daily\nRandomizedDelaySec=1h\nFixedRandomDelay=true\n", (D, 2)),
    ("OnCalendar=2025-01-01\n", None),
    ("OnCalendar=2025-01-01\nOnCalendar=Sun 03:00\n", (7 * D, 3)),
    ("OnCalendar=Mon \\\n  *-*-* 04:00\n", (7 * D, 2)),  # a continued line counts from its start
])
def test_timer_longest_gap(body, expected):
    assert timer_longest_gap("[Timer]\n" + body) == expected


def test_timer_without_timer_section():
    assert timer_longest_gap("[Service]\nOnCalendar=daily\n") is None


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=40),
                st.text(alphabet=st.sampled_from(list("0123456789*/-, @abcdefjmnorstuwy\t\n\u00a0")), max_size=40)))
def test_arbitrary_cron_text_parses_or_raises_value_error(text):
    try:
        expr = parse_cron(text)
    except ValueError:
        return
    assert isinstance(expr, CronExpr)


def _field(low: int, high: int):
    number = st.integers(low, high)
    item = st.one_of(
        st.just("*"),
        number.map(str),
        st.tuples(number, number).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        st.integers(1, high).map(lambda step: f"*/{step}"),
        st.tuples(number, number, st.integers(1, 9)).map(lambda t: f"{min(t[:2])}-{max(t[:2])}/{t[2]}"),
    )
    return st.lists(item, min_size=1, max_size=3).map(",".join)


VALID_EXPR = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 7)).map(" ".join)


@settings(max_examples=25, deadline=None)
@given(VALID_EXPR)
def test_longest_gap_is_fast_and_positive_for_valid_expressions(expr):
    started = time.perf_counter()
    gap = longest_gap(expr)
    assert time.perf_counter() - started < 0.5
    assert gap is None or timedelta(minutes=1) <= gap <= timedelta(days=28 * 366)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789*/-.,:~ @=#[]\\\nMonFriSUTCdailyOnCalendar")), max_size=60))
def test_crontab_calendar_and_timer_parsers_never_raise(text):
    tab = parse_crontab(text)
    assert all(isinstance(line, int) for line, _ in tab.errors)
    assert parse_systemd_calendar(text) is None or parse_systemd_calendar(text).day_and
    timer_longest_gap("[Timer]\n" + text)
