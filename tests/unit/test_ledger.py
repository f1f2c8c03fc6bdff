"""The long memory (echo_notify/ledger.py) and what is read from it (echo_notify/weeks.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from echo_notify.ledger import SPAN, Hour, Ledger, hour_of
from echo_notify.state import (
    WINDOW,
    Point,
    Snapshot,
    Streak,
    archived,
    carried,
    counted,
    remembered,
)
from echo_notify.weeks import band, readings, same_time, today
from tests.pipeline import report_history

NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)  # Monday 9 AM in New York


def point(moment: datetime, run: str = "", **figures: float | None) -> Point:
    return Point(time=moment, severity="ok", failed=False, figures=figures, levels={}, run=run)


def weekly(values: list[float], figure: str = "verification", at: datetime = T0) -> Ledger:
    """A memory holding ``values`` at ``at``'s weekday and hour, the last one a week back."""
    points = [
        point(at - (len(values) - i) * timedelta(weeks=1), **{figure: v})
        for i, v in enumerate(values)
    ]
    return Ledger().add(points, at)


# -- the ledger ----------------------------------------------------------------------------


def test_an_hour_adds_up_its_runs() -> None:
    hour = Hour().plus(point(T0, verification=90.0, added=10)).plus(point(T0, verification=96.0))
    assert (hour.runs, hour.mean("verification"), hour.total("added")) == (2, 93.0, 10)
    assert hour.worst == {"verification": 90.0} and hour.mean("deletion") is None


def test_hours_are_utc_hours_and_six_weeks_are_kept() -> None:
    ledger = Ledger().add(
        [point(T0 - timedelta(hours=SPAN)), point(T0 + timedelta(minutes=59))], T0
    )
    assert list(ledger.hours) == [T0]  # the first fell out of the six weeks
    ahead = Ledger().add([point(T0 + timedelta(days=2))], T0)
    assert not ahead.hours  # stamped far ahead of its run's clock: not kept


def test_the_ledger_survives_the_snapshot() -> None:
    points = [
        point(T0 + timedelta(minutes=40 * i), verification=90 + i / 3, added=i) for i in range(100)
    ]
    ledger = Ledger().add(points, points[-1].time)
    again = Ledger.parse(json.loads(json.dumps(ledger.to_json())))
    assert again.hours.keys() == ledger.hours.keys()
    for at, hour in ledger.hours.items():
        assert again.hours[at].runs == hour.runs and again.hours[at].counts == hour.counts
        assert again.hours[at].sums == pytest.approx(hour.sums, abs=0.01)
        assert again.hours[at].worst == pytest.approx(hour.worst, abs=0.01)


@pytest.mark.parametrize(
    "change, error",
    [
        ({"start": "2026-10-05T13:30:00+00:00"}, "not an hour in UTC"),
        ({"runs": [1, 1]}, "do not match"),
        ({"runs": [1.5]}, "whole numbers"),
        ({"runs": [True]}, "whole numbers"),
        ({"problems": [-1]}, "out of bounds"),
        ({"figures": []}, "not an object"),
        ({"figures": {"verification": {"n": [1], "sum": [9000]}}}, "whole numbers"),
    ],
)
def test_a_ledger_that_is_not_one_is_refused_by_name(change: dict[str, object], error: str) -> None:
    data = {**Ledger().add([point(T0, verification=90.0)], T0).to_json(), **change}
    with pytest.raises(ValueError, match=error):
        Ledger.parse(data)


def test_a_snapshot_from_before_the_memory_starts_one() -> None:
    assert Ledger.parse(None) == Ledger() == Ledger.parse({})


# -- the memory from run to run: every run counted once, re-runs in their run's place -------


RUNS = st.lists(
    st.tuples(
        st.sampled_from(["new", "new", "new", "rerun", "stale"]),
        st.integers(1, 600),  # minutes since the run before (a re-run: which of the window's)
        st.floats(0, 100, allow_nan=False).map(lambda v: round(v, 2)),  # its verification
    ),
    min_size=WINDOW + 2,  # each step is checked: a short sequence is a prefix of a long one
    max_size=160,
)


@given(RUNS)
@settings(max_examples=60, deadline=None)
def test_the_memory_counts_every_run_once_at_its_own_time(
    runs: list[tuple[str, int, float]],
) -> None:
    """Runs, re-runs of a run the window holds (in its place, counted once) and runs whose
    file is stale (at the file's time), each carried through the snapshot as JSON: the memory
    (the ledger and the window) holds each run's latest attempt in its hour, for six weeks."""
    previous: Snapshot | None = None
    latest: dict[str, tuple[datetime, float]] = {}
    now = T0
    for n, (kind, minutes, value) in enumerate(runs):
        if kind == "rerun" and previous is not None:
            earlier = previous.runs[-1 - minutes % len(previous.runs)]
            run_id, moment = earlier.run, earlier.time
        else:
            now += timedelta(minutes=minutes)
            back = timedelta(hours=minutes if kind == "stale" else 0)  # up to 25 days
            run_id, moment = str(n), now - back
        this = point(moment, run_id, verification=value)
        window = carried(previous, this)
        snapshot = Snapshot(
            kind="sync",
            time=moment,
            run_id=run_id,
            attempt=1,
            severity="ok",
            failed=False,
            levels={},
            figures=this.figures,
            streak=Streak(),
            window=window,
            ledger=archived(previous, window, now, this=this),
        )
        previous = Snapshot.parse(snapshot.to_json().encode(), "sync")
        latest[run_id] = (moment, value)
        memory = remembered(previous, "", now)
        oldest = hour_of(now) - timedelta(hours=SPAN)
        expected: dict[datetime, list[float]] = {}
        for at, v in latest.values():
            if hour_of(at) > oldest:
                expected.setdefault(hour_of(at), []).append(v)
        assert {at: h.runs for at, h in memory.hours.items()} == {
            at: len(vs) for at, vs in expected.items()
        }
        for at, vs in expected.items():
            hour = memory.hours[at]
            assert hour.sums["verification"] == pytest.approx(sum(vs), abs=0.01 * len(vs))
            assert hour.worst["verification"] == pytest.approx(min(vs), abs=0.01)


def test_a_run_older_than_the_whole_window_goes_straight_to_the_memory() -> None:
    window = tuple(point(T0 + timedelta(hours=i), str(i), verification=95.0) for i in range(WINDOW))
    previous = report_history("sync", list(window), window[-1].time)
    stale = point(T0 - timedelta(days=1), "late", verification=50.0)
    now = window[-1].time + timedelta(hours=1)
    kept = carried(previous, stale)
    assert stale not in kept  # older than every run the window holds
    memory = archived(previous, kept, now, this=stale).add(kept, now)
    assert memory.hours[hour_of(stale.time)].mean("verification") == 50.0


# -- what is usual, and last week ------------------------------------------------------------


def test_two_weeks_of_an_hour_make_it_learnt() -> None:
    assert band(weekly([96.0]), "verification", T0, NEW_YORK).weeks == 1
    assert not band(weekly([96.0]), "verification", T0, NEW_YORK).learnt
    learnt = band(weekly([96.0, 96.2]), "verification", T0, NEW_YORK)
    assert learnt.learnt and learnt.weeks == 2


def test_a_flat_history_has_a_floor_so_a_wobble_is_not_unusual() -> None:
    flat = band(weekly([96.0] * 5), "verification", T0, NEW_YORK)
    assert (flat.low, flat.high) == (94.0, 98.0)
    assert not flat.unusual("verification", 94.0) and flat.unusual("verification", 93.9)
    counts = band(weekly([120.0] * 3, "added"), "added", T0, NEW_YORK)
    assert (counts.low, counts.high) == (90.0, 150.0)  # a quarter of the median either side
    night = band(weekly([2.0] * 3, "added"), "added", T0, NEW_YORK)
    assert (night.low, night.high) == (0.0, 7.0)  # at least 5: a quiet night's 0 is usual


def test_a_wide_history_makes_a_wide_band_and_an_outlier_does_not() -> None:
    wide = band(weekly([90.0, 96.0, 93.0, 91.0, 95.0]), "verification", T0, NEW_YORK)
    assert wide.median == 93.0 and wide.low < 86 and wide.high == 100.0  # rates stop at 100
    odd = band(weekly([96.0, 96.1, 40.0, 96.2, 95.9]), "verification", T0, NEW_YORK)
    assert odd.median == 96.0 and odd.low == 94.0  # one bad week does not make 60% usual


@pytest.mark.parametrize(
    "figure, value, unusual",
    [
        ("verification", 80.0, True),  # a drop in a success rate is news
        ("verification", 100.0, False),  # a rise is not
        ("invalid", 30.0, True),  # a rise in the invalid share is
        ("invalid", 0.0, False),
        ("added", 0.0, True),
        ("added", 500.0, False),
    ],
)
def test_unusual_is_the_side_that_is_bad_news(figure: str, value: float, unusual: bool) -> None:
    usual = {"verification": 96.0, "invalid": 5.0, "added": 120.0}[figure]
    found = band(weekly([usual] * 3, figure), figure, T0, NEW_YORK)
    assert found.unusual(figure, value) is unusual


def test_the_same_hour_a_week_ago_is_on_the_clock_across_a_clock_change() -> None:
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)  # EST; a week before was EDT
    assert same_time(monday, NEW_YORK).hour == 9
    elapsed = monday.astimezone(UTC) - same_time(monday, NEW_YORK).astimezone(UTC)
    assert elapsed == timedelta(weeks=1, hours=1)
    memory = Ledger().add([point(same_time(monday, NEW_YORK), verification=90.0)], monday)
    seen = readings("sync", memory, monday, {"verification": 95.0}, NEW_YORK)
    assert seen["ago"]["verification"] == {"value": 95.0, "before": 90.0, "change": 5.0}
    assert f"{seen['then']:%a %H:%M %Z}" == "Mon 09:00 EDT"


def test_an_hour_is_named_as_the_zone_reads_it() -> None:
    """In Kolkata (UTC+5:30) an hour of the memory runs from half past."""
    moment = datetime(2026, 10, 5, 9, 45, tzinfo=KOLKATA)
    seen = readings("sync", Ledger(), moment, {}, KOLKATA)
    assert f"{seen['at']:%H:%M}" == "09:30" and seen["ago"] == {} and seen["learning"] is None


def test_the_day_so_far_beside_last_weeks_needs_the_whole_of_last_weeks_day() -> None:
    moment = datetime(2026, 10, 12, 10, 0, tzinfo=NEW_YORK)
    week_ago = [point(moment - timedelta(weeks=1, hours=h), added=10) for h in range(11)]
    today_so_far = [point(moment - timedelta(hours=h), added=20) for h in range(1, 10)]
    memory = Ledger().add([*week_ago, *today_so_far], moment)
    assert today(memory, "added", moment, 20, NEW_YORK) == {
        "figure": "added",
        "value": 200,
        "before": 110,
        "change": 82,
    }
    short = Ledger().add([*week_ago[:10], *today_so_far], moment)  # begins at 1 AM last Monday
    assert today(short, "added", moment, 20, NEW_YORK) is None
    assert today(memory, "added", moment, None, NEW_YORK) is None  # this run has no figure


def test_learning_says_from_when_the_hour_is_learnt() -> None:
    seen = readings("sync", weekly([96.0]), T0, {"verification": 96.0}, NEW_YORK)
    assert seen["learning"]["weeks"] == 1
    assert seen["learning"]["from"] == (T0 + timedelta(weeks=1)).astimezone(NEW_YORK)
    learnt = readings("sync", weekly([96.0, 96.0]), T0, {"verification": 96.0}, NEW_YORK)
    assert learnt["learning"] is None and learnt["usual"]["verification"] == {
        "low": 94.0,
        "high": 98.0,
    }


def test_a_file_read_again_counts_once_and_a_re_run_of_its_own_run_in_its_place() -> None:
    window = (point(T0, "7", added=120), point(T0 + timedelta(hours=1), "8", added=5))
    previous = report_history("sync", list(window), window[-1].time)
    file = {"added": 120}
    assert not counted(previous, "9", 1, T0, file)  # another run read the 9:00 file again
    assert counted(previous, "7", 2, T0, file)  # run 7's re-run: in its attempt's place
    assert counted(previous, "9", 1, T0, {"added": 121})  # another file of the same time
    assert not counted(previous, "3", 2, T0 - timedelta(days=3), {})  # its run left the window
