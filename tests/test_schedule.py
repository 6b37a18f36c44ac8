"""Issue 19, finding 4 (schedules): the grammar BigQuery Data Transfer documents (groc).

The cases are GrocTest.java's (GoogleCloudPlatform/appengine-java-standard,
utils/src/test/java/com/google/borg/borgcron/GrocTest.java), the examples of the
TransferConfig `schedule` field, and the issue's."""

from __future__ import annotations

import pytest

from meshform.spec.schedule import ScheduleError, parse
from meshform.validation.validate import validate

VALID = [
    "every 24 hours",
    "every 3 hours",
    "every 20 mins",
    "every 100 hours",
    "every 15 minutes",
    "every 5 minutes",  # the documented minimum
    "every 20 mins synchronized",
    "every 2 hours synchronized",
    "every 2 hours from 12:34 to 01:23",  # a window may wrap midnight
    "every 5 minutes from 10:00 to 14:00",
    "every day 03:00",
    "every day 9:00",
    "every mon 09:00",
    "every monday 09:00",
    "every mon,wed 09:00",
    "1st,3rd monday of month 15:30",  # the REST reference's examples
    "every wed,fri of jan,jun 13:15",
    "first sunday of quarter 00:00",
    "1st sunday of sep,oct,nov 00:00",
    "1st sunday of second,third month of quarter 23:25",
    "3,15,30 of month 09:00",
    "03,15,30 of jan 09:00",
    "fourth,fifth monday,tuesday of month 14:15",
    "1st day of month 03:07",
    "2nd mon 08:58",
    " \t every 7 mins",
    "1 of month 00:00",  # meshform's own default for monthly products
    "every 1 hours",
]

INVALID = [
    ("every day at 3am", "got 'at' (character 11) (times are 24-hour HH:MM in UTC, without 'at'"),
    ("every day 25:00", "expected a time of day HH:MM in UTC (00:00 to 23:59), got '25:00' (character 11)"),
    ("evry day 03:00", "got 'evry' (character 1) (did you mean 'every'?)"),
    ("every day 24:00", "got '24:00'"),
    ("every day 09:60", "got '09:60'"),
    ("every 2 feet", "expected 'hours', 'mins' or 'minutes', got 'feet'"),
    ("1st funday of every month 10:12", "got 'funday' (character 5) (did you mean 'sunday'?)"),
    ("every 24 hours 09:00", "expected the end of the schedule, got '09:00'"),
    ("every day 09:00 please", "expected the end of the schedule, got 'please'"),
    ("every 10 minutes synchronized from 09:00 to 12:00", "got 'from'"),
    ("every 10 minutes from 09:00", "expected 'to', got the end of the schedule"),
    ("every 10 minutes to 12:00", "got 'to'"),
    ("every 10 minutes from 09:00 12:00", "expected 'to', got '12:00'"),
    ("every 7 hours synchronized", "'synchronized' needs an interval that divides 24 hours evenly"),
    ("every 0 hours", "minimum duration between scheduled queries is 5 minutes"),
    ("every 2 minutes", "runs every 2 minute(s); BigQuery's minimum duration between scheduled queries is 5 minutes"),
    ("every hour", "an interval has a number"),
    ("32 of month 09:00", "expected a day of the month (1 to 31), got '32'"),
    ("30 of feb 09:00", "no chosen month has a day 30"),
    ("every day", "got the end of the schedule"),
    ("Every Day 09:00", "(schedules are lowercase)"),
    ("", "schedule is empty"),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_schedules(text):
    parse(text)


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_schedules_say_where_and_why(text, message):
    with pytest.raises(ScheduleError) as error:
        parse(text)
    assert message in str(error.value)


def test_parsed_meaning():
    s = parse("1st,3rd monday of second month of quarter 15:30")
    assert (s.ordinals, s.weekdays, s.months, s.time) == ((1, 3), (1,), (2, 5, 8, 11), "15:30")
    assert parse("every 2 hours synchronized").every_minutes == 120
    assert parse("every 2 hours from 22:00 to 02:00").window == ("22:00", "02:00")


BAD_SCHEDULE = """\
domain: sales
description: Orders of the web shop.
owners: [group:sales-data@acme.com]
cost_center: cc-1001
budget: {amount: 100, currency: EUR}
products:
  - name: orders
    description: One row per confirmed order.
    classification: confidential
    refresh: daily
    freshness_slo_hours: 26
    bigquery:
      tables:
        - name: orders
          columns:
            - {name: order_id, type: STRING, mode: REQUIRED}
    transformations:
      - name: copy
        table: orders
        sql: SELECT order_id FROM orders.orders
        schedule: every day at 3am
"""


def test_validate_locates_a_bad_schedule(mesh_repo):
    root = mesh_repo("domains/sales.yaml", BAD_SCHEDULE)
    errors = [str(f) for f in validate(root).findings.errors]
    assert any(
        e.startswith("domains/sales.yaml:21:")
        and "schedule 'every day at 3am': expected a time of day HH:MM in UTC" in e
        for e in errors
    ), errors
