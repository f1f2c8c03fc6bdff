"""The daily digest's pure parts: when it is due (in `timezone`, across clock changes), what
one report's day adds up to, the `digest-at` input, and the snapshot that remembers it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from echo_notify.config import time_of_day
from echo_notify.digest import day, due
from echo_notify.errors import InputError
from echo_notify.state import WINDOW, Level, Point, Snapshot, Streak

NY = ZoneInfo("America/New_York")
NINE = time(9, 0)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(
    ("now", "last", "expected"),
    [
        (ny(2026, 1, 16, 8, 59), None, False),  # before the time
        (ny(2026, 1, 16, 9, 0), None, True),  # at it
        (ny(2026, 1, 16, 23, 59), None, True),  # any check after it, the first of the day
        (ny(2026, 1, 16, 10, 0), ny(2026, 1, 16, 9, 0), False),  # today's went out
        (ny(2026, 1, 16, 10, 0), ny(2026, 1, 15, 9, 0), True),  # yesterday's did
        (ny(2026, 1, 17, 0, 30), ny(2026, 1, 16, 9, 0), False),  # a new day, not its time yet
        (ny(2026, 3, 8, 9, 0), ny(2026, 3, 7, 9, 0), True),  # the day clocks go forward
        (ny(2026, 11, 1, 9, 0), ny(2026, 10, 31, 9, 0), True),  # and back
        (ny(2026, 11, 1, 9, 30), ny(2026, 11, 1, 9, 0), False),
    ],
)
def test_due_once_a_day_at_or_after_the_time(
    now: datetime, last: datetime | None, expected: bool
) -> None:
    assert due(NINE, last, now, NY) is expected


def test_due_is_read_in_the_timezone_whatever_the_clock_zone() -> None:
    utc = datetime(2026, 1, 16, 14, 0, tzinfo=UTC)  # 9:00 AM in New York
    assert due(NINE, None, utc, NY)
    assert not due(NINE, None, utc - timedelta(minutes=1), NY)
    assert not due(None, None, utc, NY)  # no `digest-at`: never


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


NOW = ny(2026, 1, 16, 9, 0)


def test_a_day_counts_only_the_last_24_hours() -> None:
    window = (
        point(NOW - timedelta(hours=30), "critical", added=500, verification=10.0),  # too old
        point(NOW - timedelta(hours=20), added=40, verification=95.0),
        point(NOW - timedelta(hours=19), "warning", added=None, verification=85.0),
        point(NOW - timedelta(hours=18), "critical", added=10, verification=None),
        point(NOW - timedelta(hours=17), added=30, verification=97.0, utilization=55.0),
        point(NOW - timedelta(hours=1), "warning", added=5, verification=89.0),
    )
    shown = day("sync", window, NOW, NY)
    assert shown["runs"] == 5 and shown["problems"] == 3
    assert shown["longest"] == {"runs": 2, "minutes": 120}  # to the first good run after
    assert shown["total"] == 85 and shown["unreported"] == 1  # a gap is said, not a zero
    assert shown["average"] == pytest.approx((95 + 85 + 97 + 89) / 4)
    assert shown["worst"] == 85.0 and shown["worst_time"] == ny(2026, 1, 15, 14, 0)
    assert shown["now"] == {"added": 5, "verification": 89.0}  # the newest run's figures
    assert shown["since"] is None  # the window reaches back past the day


def test_high_is_bad_for_the_invalid_share_and_a_day_without_runs() -> None:
    window = (point(NOW - timedelta(hours=2), invalid=8.0), point(NOW, "warning", invalid=14.0))
    assert day("poll", window, NOW, NY)["worst"] == 14.0
    old = day("drain", (point(NOW - timedelta(days=2), deletion=99.0),), NOW, NY)
    assert old["runs"] == 0 and old["total"] is None and old["average"] is None
    assert old["last"] == NOW - timedelta(days=2) and old["last_date"] == "day"


def test_a_full_window_shorter_than_a_day_says_since_when() -> None:
    start = NOW - timedelta(hours=12)
    window = tuple(point(start + timedelta(minutes=15 * i), deletion=99.0) for i in range(WINDOW))
    shown = day("drain", window, NOW, NY)
    assert shown["runs"] == WINDOW and shown["since"] == start


def test_the_snapshot_remembers_the_last_digest_and_old_ones_read_without() -> None:
    snapshot = Snapshot(
        kind="watchdog",
        time=NOW,
        run_id="1",
        attempt=1,
        severity="ok",
        failed=False,
        levels={},
        figures={},
        streak=Streak(),
        digest=NOW,
    )
    raw = snapshot.to_json()
    assert Snapshot.parse(raw.encode(), "watchdog").digest == NOW
    older = raw.replace(f'"digest": "{NOW.isoformat()}"', '"digest": null')
    assert Snapshot.parse(older.encode(), "watchdog").digest is None
    with pytest.raises(ValueError, match="zone"):
        Snapshot.parse(raw.replace(NOW.isoformat(), "2026-01-16T09:00:00").encode(), "watchdog")
