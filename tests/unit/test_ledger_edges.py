"""The long memory (echo_notify/ledger.py) and its readings (echo_notify/weeks.py) at their
edges: partial hours, half-hour zones, hand-edited ledgers at the ends of the calendar."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from echo_notify.ledger import LIMIT, Ledger, hour_of
from echo_notify.state import Point
from echo_notify.weeks import today

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 10, 12, 14, 0, tzinfo=UTC)  # Monday 10 AM in New York


def point(moment: datetime, **figures: float | None) -> Point:
    return Point(time=moment, severity="ok", failed=False, figures=figures, levels={})


def every(start: datetime, end: datetime, step: timedelta, **figures: float) -> list[Point]:
    points, moment = [], start
    while moment < end:
        points.append(point(moment, **figures))
        moment += step
    return points


def test_identical_weeks_of_30_minute_runs_say_the_same_day_total() -> None:
    """Runs every 30 minutes, 10 leads each, two identical Mondays: at 10:00 AM the day so far is
    the same as last Monday's, since this hour's runs so far meet the same share of last
    week's hour (the memory cannot split an hour)."""
    moment = T0.astimezone(NEW_YORK)
    runs = every(moment - timedelta(days=8), moment, timedelta(minutes=30), added=10)
    memory = Ledger().add(runs, moment)
    found = today(memory, "added", moment, 10, NEW_YORK)
    assert found is not None
    assert found["value"] == found["before"] and found["change"] == 0, found


def test_a_day_in_a_half_hour_zone_starts_at_midnight() -> None:
    """In Kolkata (UTC+5:30) with runs every 30 minutes, the day starts at its first whole UTC
    hour: yesterday's 11:30 PM run is not in today's total, and both Mondays count alike."""
    moment = datetime(2026, 10, 12, 0, 30, tzinfo=KOLKATA)
    runs = every(moment - timedelta(days=8), moment, timedelta(minutes=30), added=10)
    memory = Ledger().add(runs, moment)
    found = today(memory, "added", moment, 10, KOLKATA)
    assert found is not None
    # At most 00:00 and this run at 00:30 (an hourly memory may have to leave 00:00 out, on
    # both days alike); never yesterday's 11:30 PM; identical days are the same.
    assert found["value"] <= 20 and found["change"] == 0, found


def test_an_hour_far_ahead_in_a_hand_edited_ledger_is_not_carried() -> None:
    """A ledger whose start is in 2100 (hand-edited, or a runner clock far off once) is refused,
    and hours far ahead of the run's clock are not kept: no snapshot spans 640,000 hours."""
    now = datetime(2026, 10, 12, 14, 0, tzinfo=UTC)
    data = Ledger().add([point(now, verification=90.0)], now).to_json()
    data["start"] = "2100-01-01T00:00:00+00:00"
    try:
        memory = Ledger.parse(data)
    except ValueError:
        return  # refused as a surprise: a notice, the memory starts again
    started = time.perf_counter()
    kept = memory.add([point(now, verification=91.0)], now).to_json()
    elapsed = time.perf_counter() - started
    assert len(kept["runs"]) <= LIMIT, len(kept["runs"])
    assert elapsed < 0.05, elapsed
    assert hour_of(now) in Ledger.parse(json.loads(json.dumps(kept))).hours


def test_a_ledger_at_the_end_of_the_calendar_is_a_value_error() -> None:
    """A ledger starting at `9999-12-31T00:00:00+00:00` is a ValueError that names it, as every
    surprise in a snapshot is, so the look-up falls back to the snapshot kept before it."""
    data = {
        "start": "9999-12-31T00:00:00+00:00",
        "runs": [0] * 30 + [1],
        "problems": [0] * 31,
        "figures": {},
    }
    try:
        Ledger.parse(data)
    except ValueError:
        pass  # the strict reading's surprise
    else:
        raise AssertionError("an hour past the calendar's end was read")
