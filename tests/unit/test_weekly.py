"""The weekly digest's pure parts: when it is due (a weekday and a time in `timezone`, across
clock changes), the `digest-weekly` input, what one report's week adds up to beside the week
before (runs, problems, totals, the key rate, capacity, the unusual hours, the chart's days),
and the snapshot that remembers it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from echo_notify.config import WeeklyAt, weekly_at
from echo_notify.digest import since
from echo_notify.errors import InputError
from echo_notify.ledger import Ledger
from echo_notify.state import Level, Point, Snapshot, Streak
from echo_notify.weekly import compare, due, latest, week

NY = ZoneInfo("America/New_York")
MONDAY_NINE = WeeklyAt(0, time(9, 0))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


NOW = ny(2026, 1, 19, 9, 0)  # a Monday
MIDNIGHT = ny(2026, 1, 19, 0, 0) - timedelta(microseconds=1)


def point(at: datetime, severity: Level = "ok", **figures: float | None) -> Point:
    return Point(time=at, severity=severity, failed=False, figures=figures, levels={})


def memory(points: list[Point], now: datetime = NOW) -> Ledger:
    return Ledger().add(points, now)


def every(hours: int, start: datetime, end: datetime, **figures: float) -> list[Point]:
    """A run every ``hours`` from ``start`` up to ``end``, each with ``figures``."""
    count = int((end - start) / timedelta(hours=hours)) + 1
    return [point(start + i * timedelta(hours=hours), **figures) for i in range(count)]


# -- when it is due ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "now", "done", "expected"),
    [
        (MONDAY_NINE, ny(2026, 1, 19, 8, 59), MIDNIGHT, False),  # before the time
        (MONDAY_NINE, ny(2026, 1, 19, 9, 0), MIDNIGHT, True),  # at it
        (MONDAY_NINE, ny(2026, 1, 19, 21, 0), MIDNIGHT, True),  # up to 12 h late
        (MONDAY_NINE, ny(2026, 1, 19, 21, 1), MIDNIGHT, False),  # then the next week's
        (MONDAY_NINE, ny(2026, 1, 19, 10, 0), ny(2026, 1, 19, 9, 0), False),  # this week's went
        (MONDAY_NINE, ny(2026, 1, 19, 10, 0), ny(2026, 1, 12, 9, 0), True),  # last week's did
        (MONDAY_NINE, ny(2026, 1, 20, 9, 0), ny(2026, 1, 12, 9, 0), False),  # a day late: no
        (MONDAY_NINE, ny(2026, 1, 25, 9, 0), ny(2026, 1, 19, 9, 0), False),  # Sunday: not yet
        # Sunday late in the evening: the first check after it is past midnight, on Monday.
        (WeeklyAt(6, time(23, 30)), ny(2026, 1, 19, 0, 20), ny(2026, 1, 18, 23, 20), True),
        # The day clocks go forward (Sun Mar 8): 2:30 does not exist, it is 3:30 EDT.
        (WeeklyAt(6, time(2, 30)), ny(2026, 3, 8, 3, 20), ny(2026, 3, 8, 1, 20), False),
        (WeeklyAt(6, time(2, 30)), ny(2026, 3, 8, 4, 20), ny(2026, 3, 8, 3, 20), True),
    ],
)
def test_due_once_a_week_at_the_first_check_at_or_after_the_time(
    when: WeeklyAt, now: datetime, done: datetime, expected: bool
) -> None:
    assert due(when, done, now, NY) is expected


def test_the_latest_weekly_moment_is_read_in_the_timezone() -> None:
    utc = datetime(2026, 1, 19, 14, 0, tzinfo=UTC)  # 9:00 AM on Monday in New York
    assert latest(MONDAY_NINE, utc, NY) == utc
    assert latest(MONDAY_NINE, utc - timedelta(minutes=1), NY) == utc - timedelta(days=7)
    assert not due(None, MIDNIGHT, utc, NY)  # no `digest-weekly`: never


def test_since_the_last_weekly_digest_else_the_last_check() -> None:
    snapshot = watchdog_snapshot(weekly=None)
    assert since(snapshot, NOW, NY, unread=False, weekly=True) == snapshot.time
    kept = watchdog_snapshot(weekly=ny(2026, 1, 12, 9, 0))
    assert since(kept, NOW, NY, unread=False, weekly=True) == ny(2026, 1, 12, 9, 0)
    assert since(kept, NOW, NY, unread=False) == kept.time  # the daily one's is its own


# -- the input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon 09:00", MONDAY_NINE),
        ("monday 9:05", WeeklyAt(0, time(9, 5))),
        (" SUN  23:59 ", WeeklyAt(6, time(23, 59))),
        ("Fri 17:30", WeeklyAt(4, time(17, 30))),
        ("", None),
    ],
)
def test_digest_weekly_reads_a_weekday_and_a_time(raw: str, expected: WeeklyAt | None) -> None:
    assert weekly_at(raw) == expected


@pytest.mark.parametrize(
    "raw", ["Mon", "09:00", "Mo 09:00", "Mon 24:00", "Mon9:00", "Funday 09:00", "Mon 9am"]
)
def test_digest_weekly_names_a_bad_value(raw: str) -> None:
    with pytest.raises(InputError, match=r"Input 'digest-weekly' must be a weekday and a time"):
        weekly_at(raw)
    with pytest.raises(InputError, match="like `Mon 09:00`"):
        weekly_at(raw)


# -- one report's week ------------------------------------------------------------------------


def test_a_week_adds_up_its_hours() -> None:
    runs = [
        point(NOW - timedelta(days=8), "critical", added=500, verification=10.0),  # last week
        point(NOW - timedelta(hours=30), added=40, verification=95.0),
        point(NOW - timedelta(hours=29, minutes=30), "warning", added=None, verification=85.0),
        point(NOW - timedelta(hours=29, minutes=45), "critical", added=10, verification=None),
        point(NOW - timedelta(hours=5), added=30, verification=97.0),
        point(NOW - timedelta(hours=1), "warning", added=5, verification=89.0),
    ]
    shown = week("sync", memory(runs), NOW, NY)
    assert shown["runs"] == 5 and shown["problems"] == 3
    assert shown["problem_hours"] == 2  # two problem runs in one hour: one problem hour
    assert shown["total"] == 85
    assert shown["average"] == pytest.approx((95 + 85 + 97 + 89) / 4)
    assert shown["worst"] == 85.0 and shown["worst_at"] == ny(2026, 1, 18, 3, 0)  # its hour
    before = week("sync", memory(runs), NOW - timedelta(days=7), NY)
    assert (before["runs"], before["total"], before["worst"]) == (1, 500, 10.0)


def test_high_is_bad_for_the_invalid_share() -> None:
    runs = [point(NOW - timedelta(hours=2), invalid=8.0), point(NOW, "warning", invalid=14.0)]
    assert week("poll", memory(runs), NOW, NY)["worst"] == 14.0


def test_this_week_beside_last_week() -> None:
    start = NOW - timedelta(days=14)
    last = every(2, start, NOW - timedelta(days=7), added=10, verification=96.0)
    last[-1] = point(last[-1].time, added=10, verification=96.0, utilization=50.0)
    this = every(2, NOW - timedelta(days=7, hours=-2), NOW, added=12, verification=94.0)
    this[-1] = point(NOW, "critical", added=12, verification=80.0, utilization=60.0)
    shown = compare("sync", memory(last + this), NOW, NY)
    # By the hour: a run at 9:00 AM a week ago is last week's, the one at 9:00 AM today this
    # week's, and the one at 9:00 AM two weeks ago the week before's.
    assert shown["last"]["runs"] == 84 and shown["this"]["runs"] == 84
    assert shown["this"]["problems"] == 1 and shown["last"]["problems"] == 0
    assert shown["change"]["total"] == 20  # 1,008 leads against 840
    assert shown["change"]["worst"] == -16.0  # 80.0% against 96.0%, as shown
    average = round((83 * 94 + 80) / 84, 1)  # as shown: 93.8%
    assert shown["change"]["average"] == round(average - 96.0, 1)
    assert shown["since"] is None
    # Capacity: the newest hour's this week, beside the same weekday and hour a week before.
    assert shown["capacity"] == {
        "figure": "utilization",
        "value": 60.0,
        "before": 50.0,
        "change": 10.0,
    }


def test_capacity_a_week_before_and_a_count_changes_in_percent() -> None:
    runs = [
        point(NOW - timedelta(days=7), inventory=1000),
        point(NOW, inventory=1250),
    ]
    shown = compare("drain", memory(runs), NOW, NY)
    assert shown["capacity"] == {"figure": "inventory", "value": 1250, "before": 1000, "change": 25}


def test_last_week_unknown_when_the_memory_starts_within_it() -> None:
    runs = every(2, NOW - timedelta(days=10), NOW, added=10, verification=95.0)
    shown = compare("sync", memory(runs), NOW, NY)
    assert shown["last"] is None and shown["change"] is None  # no arrows against half a week
    assert shown["since"] == ny(2026, 1, 9, 9, 0) and shown["since_date"] == "day"
    assert shown["chart"] is None
    # A pipeline every 2 hours whose first run is 2 hours into last week: known (its interval).
    runs = every(2, NOW - timedelta(days=14, hours=-3), NOW, added=10, verification=95.0)
    assert compare("sync", memory(runs), NOW, NY)["last"] is not None


def test_the_unusual_hours_against_the_weeks_before_each() -> None:
    start = NOW - timedelta(days=28)
    runs = every(1, start, NOW, added=10, verification=96.0)
    dip = ny(2026, 1, 13, 3, 0)  # Tue 3 AM
    runs = [
        point(p.time, "warning", added=10, verification=84.0) if p.time == dip else p for p in runs
    ]
    shown = compare("sync", memory(runs), NOW, NY)
    assert shown["learnt"]
    (hour,) = shown["unusual"]
    assert hour == {
        "at": dip,
        "figure": "verification",
        "value": 84.0,
        "low": 94.0,
        "high": 98.0,
    }
    young = compare("sync", memory(runs[-24 * 8 :]), NOW, NY)  # 8 days: no hour learnt yet
    assert not young["learnt"] and young["unusual"] == []


def test_the_chart_shows_the_days_both_weeks_have() -> None:
    runs = every(1, NOW - timedelta(days=15), NOW, verification=95.0)
    # Last Wednesday had no run with the figure: left out, the line has no gap.
    runs = [
        point(p.time) if p.time.astimezone(NY).date() == ny(2026, 1, 7).date() else p for p in runs
    ]
    runs = [point(p.time, verification=90.0) if p.time >= ny(2026, 1, 17) else p for p in runs]
    chart = compare("sync", memory(runs), NOW, NY)["chart"]
    assert chart["labels"] == ["Mon", "Tue", "Thu", "Fri", "Sat", "Sun"]
    assert chart["this"] == [95.0, 95.0, 95.0, 95.0, 90.0, 90.0]
    assert chart["last"] == [95.0] * 6
    assert (chart["this_from"], chart["last_from"]) == (date(2026, 1, 12), date(2026, 1, 5))


def test_a_report_without_runs_this_week() -> None:
    runs = [point(NOW - timedelta(days=9), added=10, verification=95.0)]
    shown = compare("sync", memory(runs), NOW, NY)
    assert shown["this"]["runs"] == 0 and shown["this"]["average"] is None
    assert shown["capacity"] is None


# -- the snapshot -----------------------------------------------------------------------------


def watchdog_snapshot(weekly: datetime | None) -> Snapshot:
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
        weekly=weekly,
    )


def test_the_snapshot_remembers_the_last_weekly_digest_and_old_ones_read_without() -> None:
    snapshot = watchdog_snapshot(weekly=NOW)
    raw = snapshot.to_json()
    assert Snapshot.parse(raw.encode(), "watchdog").weekly == NOW
    older = raw.replace(f',"weekly":"{NOW.isoformat()}"', "")  # written before the weekly
    assert older != raw
    assert Snapshot.parse(older.encode(), "watchdog").weekly is None
    with pytest.raises(ValueError, match="zone"):
        Snapshot.parse(raw.replace(NOW.isoformat(), "2026-01-19T09:00:00").encode(), "watchdog")
