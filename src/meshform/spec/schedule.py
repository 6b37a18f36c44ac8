"""Schedules of scheduled queries, in the grammar BigQuery Data Transfer documents.

The TransferConfig `schedule` field (https://cloud.google.com/bigquery/docs/reference/datatransfer/rest/v1/projects.locations.transferConfigs)
takes "1st,3rd monday of month 15:30", "every wed,fri of jan,jun 13:15", "first sunday of quarter
00:00" — times in UTC — and points to App Engine's cron format
(https://cloud.google.com/appengine/docs/flexible/python/scheduling-jobs-with-cron-yaml#the_schedule_format).
That format is Google's open-sourced "groc" grammar (GoogleCloudPlatform/appengine-java-standard,
utils/src/main/antlr3/com/google/borg/borgcron/Groc.g, with its semantic checks in the App Engine
SDK's groctimespecification.py). This module implements it:

    schedule  := interval | specific
    interval  := "every" N ("hours" | "mins" | "minutes") ["synchronized" | "from" HH:MM "to" HH:MM]
    specific  := ("every" | ordinal,…) ("day" | weekday,…) ["of" months] HH:MM
               | monthday,… "of" months HH:MM
    months    := "month" | "quarter" | month,… | ("first"|"second"|"third"),… "month of quarter"

Words are lowercase (the grammar's lexer has no uppercase rules). Beyond the grammar, BigQuery's
scheduling page says "The minimum duration between scheduled queries is 5 minutes"
(https://cloud.google.com/bigquery/docs/scheduling-queries): shorter intervals are refused here.
`tests/test_schedule.py` holds the grammar's own test cases (GrocTest.java) and the limits.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

MIN_INTERVAL_MINUTES = 5  # scheduling-queries: "The minimum duration between scheduled queries is 5 minutes."
MINUTES_PER_DAY = 24 * 60

ORDINALS = {"1st": 1, "first": 1, "2nd": 2, "second": 2, "3rd": 3, "third": 3, "4th": 4, "fourth": 4}
ORDINALS |= {"5th": 5, "fifth": 5}
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
WEEKDAYS = {w: i for i, name in enumerate(_DAY_NAMES) for w in (name[:3], name)}
_MONTH_NAMES: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july", "august")
_MONTH_NAMES += ("september", "october", "november", "december")
MONTHS = {m: i for i, name in enumerate(_MONTH_NAMES, start=1) for m in (name[:3], name)}
MONTH_LENGTHS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # groc accepts 29 of feb (leap years)
QUARTER_MONTHS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
UNITS = {"hours": 60, "mins": 1, "minutes": 1}
KEYWORDS = ("every", "of", "month", "quarter", "day", "synchronized", "from", "to", *UNITS)
VOCABULARY = (*KEYWORDS, *ORDINALS, *WEEKDAYS, *MONTHS)
TIME = re.compile(r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9]")
NUMBER = re.compile(r"[0-9]{1,5}")
_TOKEN = re.compile(r",|[^\s,]+")

EXAMPLES = "'every 6 hours', 'every day 03:10', 'every monday 09:05', '1st,3rd monday of month 04:30'"


class ScheduleError(ValueError):
    """Not a schedule: the message names the word (and its character position) where it fails."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule. `every_minutes` for intervals; otherwise the calendar and the time."""

    text: str
    every_minutes: int | None = None
    synchronized: bool = False
    window: tuple[str, str] | None = None  # from, to
    ordinals: tuple[int, ...] = ()  # () with weekdays: every week
    weekdays: tuple[int, ...] = ()  # 0 = sunday; () with ordinals: "day" (every day, or the n-th day of the month)
    monthdays: tuple[int, ...] = ()
    months: tuple[int, ...] = tuple(range(1, 13))
    time: str | None = None


class _Words:
    def __init__(self, text: str):
        self.text = text
        self.items = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
        self.i = 0

    def peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.items[j][0] if j < len(self.items) else None

    def take(self) -> str | None:
        word = self.peek()
        self.i += word is not None
        return word

    def fail(self, expected: str, hint: str = "") -> ScheduleError:
        """An error at the current word (or at the end of the schedule)."""
        if self.i < len(self.items):
            word, at = self.items[self.i]
            got = f"'{word}' (character {at + 1})"
        else:
            got = "the end of the schedule"
        return ScheduleError(f"schedule '{self.text}': expected {expected}, got {got}{hint}")

    def expect(self, word: str) -> None:
        if self.peek() != word:
            raise self.fail(f"'{word}'", _did_you_mean(self.peek()))
        self.take()

    def listing(self, table: dict[str, int], what: str) -> tuple[int, ...]:
        values = []
        while True:
            word = self.peek()
            if word not in table:
                raise self.fail(what, _did_you_mean(word))
            values.append(table[word])
            self.take()
            if self.peek() != ",":
                return tuple(dict.fromkeys(values))
            self.take()


def _did_you_mean(word: str | None, words: tuple[str, ...] = VOCABULARY) -> str:
    if not word or word in VOCABULARY:
        return ""
    if word.lower() != word and word.lower() in VOCABULARY:
        return " (schedules are lowercase)"
    if word in ("hour", "hours", "minute", "minutes", "min", "mins"):
        return " (an interval has a number: e.g. 'every 1 hours', 'every 15 minutes')"
    if re.fullmatch(r"[0-9]{1,2}(:[0-9]{2})?\s*(am|pm)", word) or word in ("at", "am", "pm", "noon", "midnight"):
        return f" (times are 24-hour HH:MM in UTC, without 'at': e.g. {EXAMPLES})"
    close = difflib.get_close_matches(word, words, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _time(words: _Words) -> str:
    word = words.peek()
    if word is None or not TIME.fullmatch(word):
        hint = _did_you_mean(word)
        if not hint and word and re.fullmatch(r"[0-9]+:[0-9]+", word):
            hint = " (hours 0-23, minutes 00-59)"
        raise words.fail("a time of day HH:MM in UTC (00:00 to 23:59)", hint)
    words.take()
    return word


def _minutes(time: str) -> int:
    hours, minutes = time.split(":")
    return int(hours) * 60 + int(minutes)


def parse(text: str) -> Schedule:
    """The schedule `text` describes; ScheduleError (a ValueError) when it is not one."""
    words = _Words(text)
    if not words.items:
        raise ScheduleError(f"schedule is empty; write one such as {EXAMPLES}")
    if words.peek() == "every" and NUMBER.fullmatch(words.peek(1) or ""):
        result = _interval(words)
    else:
        result = _specific(words)
    if words.peek() is not None:
        raise words.fail("the end of the schedule", _did_you_mean(words.peek()))
    return result


def _interval(words: _Words) -> Schedule:
    words.take()  # every
    count = int(words.take() or 0)
    unit = words.peek()
    if unit not in UNITS:
        raise words.fail("'hours', 'mins' or 'minutes'", _did_you_mean(unit, tuple(UNITS)))
    words.take()
    minutes = count * UNITS[unit]
    if minutes < MIN_INTERVAL_MINUTES:
        raise ScheduleError(
            f"schedule '{words.text}': runs every {minutes} minute(s); BigQuery's minimum duration between "
            f"scheduled queries is {MIN_INTERVAL_MINUTES} minutes"
        )
    if words.peek() == "synchronized":
        words.take()
        if minutes > MINUTES_PER_DAY or MINUTES_PER_DAY % minutes:
            raise ScheduleError(
                f"schedule '{words.text}': 'synchronized' needs an interval that divides 24 hours evenly "
                "(e.g. every 2, 3, 4, 6, 8 or 12 hours)"
            )
        return Schedule(words.text, every_minutes=minutes, synchronized=True)
    if words.peek() == "from":
        words.take()
        start = _time(words)
        words.expect("to")
        return Schedule(words.text, every_minutes=minutes, window=(start, _time(words)))
    return Schedule(words.text, every_minutes=minutes)


def _specific(words: _Words) -> Schedule:
    ordinals: tuple[int, ...] = ()
    weekdays: tuple[int, ...] = ()
    monthdays: tuple[int, ...] = ()
    first = words.peek()
    if first is not None and NUMBER.fullmatch(first):
        values = []
        while True:
            word = words.peek() or ""
            if not NUMBER.fullmatch(word) or not 1 <= int(word) <= 31:
                raise words.fail("a day of the month (1 to 31)")
            values.append(int(word))
            words.take()
            if words.peek() != ",":
                break
            words.take()
        monthdays = tuple(dict.fromkeys(values))
        if words.peek() != "of":
            raise words.fail("'of' (days of the month are followed by 'of month', 'of <months>' or 'of quarter')")
    else:
        if first == "every":
            words.take()
        else:
            ordinals = words.listing(
                ORDINALS, "'every <N> hours|minutes', 'every day', 'every <weekday>' or an ordinal (1st … 5th)"
            )
        if words.peek() == "day":
            words.take()
        else:
            weekdays = words.listing(WEEKDAYS, "'day' or a weekday (mon … sun)")
    months = tuple(range(1, 13))
    if words.peek() == "of":
        words.take()
        months = _months(words)
    for day in monthdays:
        if not any(day <= MONTH_LENGTHS[m - 1] for m in months):
            raise ScheduleError(f"schedule '{words.text}': no chosen month has a day {day}")
    return Schedule(
        words.text, ordinals=ordinals, weekdays=weekdays, monthdays=monthdays, months=months, time=_time(words)
    )


def _months(words: _Words) -> tuple[int, ...]:
    word = words.peek()
    if word == "month":
        words.take()
        return tuple(range(1, 13))
    if word == "quarter":
        words.take()
        return (1, 4, 7, 10)
    if word in QUARTER_MONTHS and words.peek(1) in (",", "month"):
        offsets = words.listing(QUARTER_MONTHS, "'first', 'second' or 'third'")
        words.expect("month")
        words.expect("of")
        words.expect("quarter")
        return tuple(sorted(q + o - 1 for q in (1, 4, 7, 10) for o in offsets))
    return tuple(sorted(words.listing(MONTHS, "'month', 'quarter' or a month (jan … dec)")))


def check(value: str) -> str:
    """A pydantic validator: the schedule unchanged, or ValueError naming what is wrong."""
    parse(value)
    return value
