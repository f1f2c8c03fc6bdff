"""The daily digest's pure parts: when it is due (in `timezone`, across clock changes), what
one report's day adds up to, the `digest-at` input, and the snapshot that remembers it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from echo_notify.config import time_of_day
from echo_notify.digest import day, due, since
from echo_notify.errors import InputError
from echo_notify.state import WINDOW, Level, Point, Snapshot, Streak

NY = ZoneInfo("America/New_York")
NINE = time(9, 0)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


NOW = ny(2026, 1, 16, 9, 0)
MIDNIGHT = ny(2026, 1, 16, 0, 0) - timedelta(microseconds=1)  # `since` at the first check


@pytest.mark.parametrize(
    ("at", "now", "done", "expected"),
    [
        (NINE, ny(2026, 1, 16, 8, 59), MIDNIGHT, False),  # before the time
        (NINE, ny(2026, 1, 16, 9, 0), MIDNIGHT, True),  # at it
        (NINE, ny(2026, 1, 16, 21, 0), MIDNIGHT, True),  # any check after it, the first,
        (NINE, ny(2026, 1, 16, 21, 1), MIDNIGHT, False),  # up to 12 h late: then the next one
        (NINE, ny(2026, 1, 17, 8, 0), ny(2026, 1, 15, 9, 0), False),  # 23 h late: not two close
        (NINE, ny(2026, 1, 16, 10, 0), ny(2026, 1, 16, 9, 0), False),  # today's went out
        (NINE, ny(2026, 1, 16, 10, 0), ny(2026, 1, 15, 9, 0), True),  # yesterday's did
        (NINE, ny(2026, 1, 17, 0, 30), ny(2026, 1, 16, 9, 0), False),  # a new day, too early
        (NINE, ny(2026, 1, 16, 9, 20), ny(2026, 1, 16, 8, 20), True),  # passed since the check
        (NINE, ny(2026, 1, 16, 10, 20), ny(2026, 1, 16, 9, 20), False),
        # Late in the evening: the first check at or after it is past midnight.
        (time(23, 30), ny(2026, 1, 17, 0, 20), ny(2026, 1, 16, 23, 20), True),
        (time(23, 30), ny(2026, 1, 17, 1, 20), ny(2026, 1, 17, 0, 20), False),
        # The day clocks go forward: 2:30 does not exist, it is 3:30 EDT; once, not twice.
        (time(2, 30), ny(2026, 3, 8, 3, 20), ny(2026, 3, 7, 2, 40), False),
        (time(2, 30), ny(2026, 3, 8, 4, 20), ny(2026, 3, 7, 2, 40), True),
        (time(2, 30), ny(2026, 3, 8, 5, 20), ny(2026, 3, 8, 4, 20), False),
        (NINE, ny(2026, 3, 8, 9, 0), ny(2026, 3, 7, 9, 0), True),
        # And back: 1:30 comes twice; the first (EDT) counts, so 1:20 EST is after it.
        (time(1, 30), datetime(2026, 11, 1, 6, 20, tzinfo=UTC), ny(2026, 10, 31, 1, 30), True),
        (
            time(1, 30),
            datetime(2026, 11, 1, 7, 20, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 20, tzinfo=UTC),  # the check at 1:20 EST posted it
            False,
        ),
    ],
)
def test_due_once_a_day_at_the_first_check_at_or_after_the_time(
    at: time, now: datetime, done: datetime, expected: bool
) -> None:
    assert due(at, done, now, NY) is expected


def test_due_is_read_in_the_timezone_whatever_the_clock_zone() -> None:
    utc = datetime(2026, 1, 16, 14, 0, tzinfo=UTC)  # 9:00 AM in New York
    assert due(NINE, MIDNIGHT, utc, NY)
    assert not due(NINE, MIDNIGHT, utc - timedelta(minutes=1), NY)
    assert not due(None, MIDNIGHT, utc, NY)  # no `digest-at`: never


def test_since_the_last_digest_else_the_last_check_else_midnight() -> None:
    snapshot = watchdog_snapshot(digest=None)
    assert (
        since(None, NOW, NY, unread=False) == MIDNIGHT
    )  # the first check: only today's time counts
    assert due(time(0, 0), MIDNIGHT, NOW, NY)  # 00:00 too
    unknown = since(snapshot, NOW, NY, unread=True)  # the look-up failed: any due may have gone
    assert due(NINE, unknown, NOW, NY) and unknown < NOW - timedelta(days=1)
    assert since(snapshot, NOW, NY, unread=False) == snapshot.time  # `digest-at` newly set
    assert since(replace(snapshot, digest=MIDNIGHT), NOW, NY, unread=False) == MIDNIGHT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("09:00", time(9)), ("9:05", time(9, 5)), (" 23:59 ", time(23, 59)), ("", None)],
)
def test_digest_at_reads_a_time_of_day(raw: str, expected: time | None) -> None:
    assert time_of_day(raw) == expected


@pytest.mark.parametrize("raw", ["24:00", "9am", "09:60", "09:00:00", "0900", "９:00"])
def test_digest_at_names_a_bad_time(raw: str) -> None:
    with pytest.raises(InputError, match="Input 'digest-at' must be a time of day"):
        time_of_day(raw)


def point(at: datetime, severity: Level = "ok", **figures: float | None) -> Point:
    return Point(time=at, severity=severity, failed=False, figures=figures, levels={})


def test_a_day_counts_only_the_last_24_hours() -> None:
    window = (
        point(NOW - timedelta(hours=30), "critical", added=500, verification=10.0),  # too old
        point(NOW - timedelta(hours=20), added=40, verification=95.0),
        point(NOW - timedelta(hours=19), "warning", added=None, verification=85.0),
        point(NOW - timedelta(hours=18), "critical", added=10, verification=None),
        point(NOW - timedelta(hours=17), added=30, verification=97.0, utilization=55.0),
        point(NOW - timedelta(hours=1), "warning", added=5, verification=89.0, utilization=57.0),
    )
    shown = day("sync", window, NOW, NY)
    assert shown["runs"] == 5 and shown["problems"] == 3
    assert shown["longest"] == {"runs": 2, "minutes": 120}  # to the first good run after
    assert shown["total"] == 85 and shown["unreported"] == 1  # a gap is said, not a zero
    assert shown["average"] == pytest.approx((95 + 85 + 97 + 89) / 4)
    assert shown["worst"] == 85.0 and shown["worst_time"] == ny(2026, 1, 15, 14, 0)
    # The newest run's figures: a figure it lacks is not reported, never an older run's.
    assert shown["now"] == {"utilization": 57.0, "inventory": None, "pending": None}
    assert shown["since"] is None  # the window reaches back past the day


def test_high_is_bad_for_the_invalid_share_and_a_day_without_runs() -> None:
    window = (point(NOW - timedelta(hours=2), invalid=8.0), point(NOW, "warning", invalid=14.0))
    assert day("poll", window, NOW, NY)["worst"] == 14.0
    old = day("drain", (point(NOW - timedelta(days=2), deletion=99.0),), NOW, NY)
    assert old["runs"] == 0 and old["total"] is None and old["average"] is None
    assert old["last"] == NOW - timedelta(days=2) and old["last_date"] == "day"


def test_a_history_that_starts_within_the_day_says_since_when() -> None:
    half_hourly = tuple(
        point(NOW - timedelta(minutes=30 * i), deletion=99.0) for i in reversed(range(WINDOW))
    )
    assert half_hourly[0].time == NOW - timedelta(hours=23, minutes=30)
    assert day("drain", half_hourly, NOW, NY)["since"] is None  # the whole day, as usual
    lost = half_hourly[-6:]  # the window restarted at 6:30 AM: a look-up failed
    assert day("drain", lost, NOW, NY)["since"] == ny(2026, 1, 16, 6, 30)
    new = half_hourly[-1:]  # one run: a pipeline new today
    assert day("drain", new, NOW, NY)["since"] == NOW


def test_a_full_window_shorter_than_a_day_says_since_when() -> None:
    start = NOW - timedelta(hours=12)
    window = tuple(point(start + timedelta(minutes=15 * i), deletion=99.0) for i in range(WINDOW))
    shown = day("drain", window, NOW, NY)
    assert shown["runs"] == WINDOW and shown["since"] == start


def watchdog_snapshot(digest: datetime | None) -> Snapshot:
    return Snapshot(
        kind="watchdog",
        time=NOW - timedelta(hours=1),
        run_id="1",
        attempt=1,
        severity="ok",
        failed=False,
        levels={},
        figures={},
        streak=Streak(),
        digest=digest,
    )


def test_the_snapshot_remembers_the_last_digest_and_old_ones_read_without() -> None:
    snapshot = watchdog_snapshot(digest=NOW)
    raw = snapshot.to_json()
    assert Snapshot.parse(raw.encode(), "watchdog").digest == NOW
    older = raw.replace(f'"digest":"{NOW.isoformat()}"', '"digest":null')  # compact JSON
    assert older != raw
    assert Snapshot.parse(older.encode(), "watchdog").digest is None
    with pytest.raises(ValueError, match="zone"):
        Snapshot.parse(raw.replace(NOW.isoformat(), "2026-01-16T09:00:00").encode(), "watchdog")
