"""The state between runs as a policy: tables of (previous run, this run) → decision."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.state import (
    WINDOW,
    Snapshot,
    Streak,
    Told,
    advance,
    carried,
    ended,
    quiet,
    settle,
)

T = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
OK = Snapshot(
    kind="sync",
    time=T,
    run_id="1",
    attempt=1,
    severity="ok",
    failed=False,
    levels={"capacity": "ok"},
    figures={},
    streak=Streak(),
)
FAILED = replace(
    OK,
    severity="critical",
    failed=True,
    streak=Streak(2, T, True, 1),
    told=Told(T, "critical", {"job": "failed"}),
)
GAUGES = frozenset({"capacity"})


@pytest.mark.parametrize(
    ("previous", "severity", "status", "expected"),
    [
        (None, "ok", "success", Streak()),
        (None, "critical", "cancelled", Streak(1, T, True, 1)),
        (FAILED, "critical", "failure", Streak(3, T, True, 1)),
        (FAILED, "warning", "success", Streak(3, T, False, 1)),
        (FAILED, "ok", "success", Streak()),
    ],
)
def test_advance(previous: Snapshot | None, severity: str, status: str, expected: Streak) -> None:
    assert advance(previous, severity, status, T, rerun=False) == expected  # type: ignore[arg-type]


def test_ended_is_the_previous_streak_or_the_recovery_it_still_owes() -> None:
    assert ended(FAILED, Streak()) == FAILED.streak
    assert ended(FAILED, Streak(3, T)) is None  # still in trouble: nothing ended
    owes = replace(OK, owed=FAILED.streak)
    assert ended(owes, Streak()) == FAILED.streak
    assert ended(OK, Streak()) is None and ended(None, Streak()) is None
    assert ended(replace(FAILED, told=None), Streak()) is None  # never posted: no recovery


@pytest.mark.parametrize(
    ("outcome", "announced", "owed"),
    [
        ("delivered", "yes", None),
        ("unknown", "maybe", None),  # it may be in the channel: never twice
        ("failed", "no", FAILED.streak),  # certainly not: the next run says it
    ],
)
def test_settle_a_recovery(outcome: str, announced: str, owed: Streak | None) -> None:
    kept = settle(OK, outcome, FAILED.streak)
    assert (kept.announced, kept.owed) == (announced, owed)
    assert Snapshot.parse(kept.to_json().encode(), "sync") == kept


@pytest.mark.parametrize(
    ("mode", "severity", "levels", "previous", "recovered", "expected"),
    [
        ("always", "ok", {"capacity": "ok"}, OK, None, ""),
        ("problems", "ok", {"capacity": "ok"}, OK, None, "ok"),
        ("problems", "warning", {"capacity": "warning"}, OK, None, ""),
        ("problems", "ok", {"capacity": "ok"}, FAILED, FAILED.streak, ""),
        ("problems", "ok", {"capacity": "ok"}, None, None, "ok"),
        ("changes", "ok", {"capacity": "ok"}, OK, None, "unchanged"),
        ("changes", "ok", {"capacity": None}, OK, None, ""),
        ("changes", "ok", {"capacity": "ok"}, None, None, ""),
    ],
)
def test_quiet(
    mode: str,
    severity: str,
    levels: dict[str, str | None],
    previous: Snapshot | None,
    recovered: Streak | None,
    expected: str,
) -> None:
    assert (
        quiet(mode, severity, levels, previous, recovered=recovered, gauges=GAUGES)  # type: ignore[arg-type]
        == expected
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("announced", "perhaps", "an unknown announcement"),
        ("owed", {"count": -1}, "a streak that is not a count"),
        ("owed", "3", "owed is not an object"),
    ],
)
def test_a_snapshot_with_a_bad_field_is_refused(field: str, value: object, message: str) -> None:
    data = json.loads(OK.to_json())
    data[field] = value
    with pytest.raises(ValueError, match=message):
        Snapshot.parse(json.dumps(data).encode(), "sync")


def test_an_older_snapshot_without_the_new_fields_is_read() -> None:
    data = json.loads(OK.to_json())
    del data["announced"], data["owed"], data["streak"]["cancelled"]
    assert Snapshot.parse(json.dumps(data).encode(), "sync") == OK


# -- the snapshot is a contract: what the release before alerting wrote still reads ------------

BEFORE_ALERTING = Path(__file__).parent.parent / "snapshots" / "sync-before-alerting.json"


def test_a_snapshot_written_before_alerting_is_read_field_by_field() -> None:
    """Written by the code at 3630bb1 (the release before reminders): a critical sync, the
    third problem run in a row. Its problem was posted then, so it is what reminders count
    from."""
    old = Snapshot.parse(BEFORE_ALERTING.read_bytes(), "sync")
    nine, eight = datetime.fromisoformat("2026-01-15T09:00:00-05:00"), T.replace(hour=13)
    assert (old.kind, old.time, old.run_id, old.attempt) == ("sync", nine, "1001", 1)
    assert (old.severity, old.failed, old.announced, old.owed) == ("critical", False, "yes", None)
    assert old.levels == {"capacity": "ok", "verification": "critical", "handover": None}
    assert old.figures == {"inventory": 1342, "utilization": 5.6, "verification": 70.0, "added": 92}
    assert old.streak == Streak(3, eight, False, 0)
    assert old.told == Told(nine, "critical", {"verification": "critical"})
    assert old.muted is None


def test_the_snapshot_keeps_the_field_names_it_had() -> None:
    """A renamed field would leave the next run with no history: every name the previous
    release wrote is still written, with the same kind of value."""
    before = json.loads(BEFORE_ALERTING.read_text())
    now = json.loads(Snapshot.parse(BEFORE_ALERTING.read_bytes(), "sync").to_json())
    assert set(before) <= set(now) and set(before["streak"]) == set(now["streak"])
    assert {k: type(v) for k, v in before.items()} == {k: type(now[k]) for k in before}
    assert now["told"] == {
        "time": "2026-01-15T09:00:00-05:00",
        "severity": "critical",
        "problems": {"verification": "critical"},
    }


def test_the_window_reads_back_capped_and_an_old_snapshot_is_a_window_of_one() -> None:
    assert OK.runs == (OK.point,)  # no window: this run alone
    point = replace(OK.point, figures={"verification": 91.5})
    data = json.loads(replace(OK, window=(point,) * 60).to_json())
    read = Snapshot.parse(json.dumps(data).encode(), "sync")
    assert read.window == (point,) * WINDOW
    later = replace(point, time=point.time + timedelta(minutes=30))
    assert carried(read, later) == (*(point,) * (WINDOW - 1), later)


def test_a_re_run_replaces_its_earlier_attempt_in_the_window_and_the_streak() -> None:
    """A re-run (the previous snapshot is an earlier attempt of this run) is one run, not two:
    in the window (its point replaces the attempt's) and in the streak (not one more)."""
    first = replace(OK.point, figures={"added": 92})
    rerun = replace(first, severity="warning")
    assert carried(replace(OK, window=(first,)), rerun, rerun=True) == (rerun,)
    assert carried(replace(OK, window=(first,)), rerun) == (first, rerun)  # another run
    attempt = replace(OK, severity="warning", streak=Streak(2, T, False, 0))
    assert advance(attempt, "warning", "success", T, rerun=True).count == 2
    assert advance(attempt, "warning", "success", T, rerun=False).count == 3
    assert advance(attempt, "ok", "success", T, rerun=True) == Streak()


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"time": "x"}, "the window is not a list"),
        (["x"], "a window entry is not an object"),
        ([{"time": "2026-01-15T08:00:00", "severity": "ok"}], "a time without a zone"),
        (
            [{"time": "2026-01-15T08:00:00Z", "severity": "ok", "figures": {"v": "1"}}],
            "a figure that is not a number",
        ),
    ],
)
def test_a_bad_window_is_refused(window: object, message: str) -> None:
    data = json.loads(OK.to_json())
    data["window"] = window
    with pytest.raises(ValueError, match=message):
        Snapshot.parse(json.dumps(data).encode(), "sync")


def test_a_failed_point_reads_back_failed() -> None:
    """A window point of a failed run stays failed (mutation sample seed 7: `failed` unread)."""
    point = replace(OK.point, failed=True, severity="critical")
    read = Snapshot.parse(replace(OK, window=(point, OK.point)).to_json().encode(), "sync")
    assert [p.failed for p in read.window] == [True, False]
