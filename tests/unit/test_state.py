"""The state between runs as a policy: tables of (previous run, this run) → decision."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.state import (
    WINDOW,
    Channel,
    Facts,
    Policy,
    Snapshot,
    Streak,
    Told,
    advance,
    carried,
    decide,
)
from echo_notify.state import facts as state_facts

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
    assert advance(previous, severity, status, T) == expected  # type: ignore[arg-type]


# -- the policy: (what the channel was told, this run, the settings) -> (message, next state) --

H = timedelta(hours=1)
CRIT = {"verification": "critical"}
TOLD = Told(T, "critical", CRIT)  # the channel heard of a critical verification at T
HEARD = Channel(told=TOLD)
NONE = Channel()
MUTED = Channel(muted=T - H)  # a mute hid the runs since an hour before T
PROBLEMS = Policy(notify_on="problems")


def run(
    severity: str = "critical",
    problems: dict[str, str] | None = None,
    *,
    count: int = 1,
    ended: Streak | None = None,
    changed: bool = False,
    at: timedelta = H,
) -> Facts:
    """A run an hour (``at``) after T."""
    bad = severity != "ok"
    return Facts(
        severity=severity,  # type: ignore[arg-type]
        problems=(CRIT if problems is None else problems) if bad else {},
        streak=Streak(count, T) if bad else Streak(),
        ongoing=bad and count > 1,
        ended=ended,
        changed=changed,
        now=T + at,
    )


@pytest.mark.parametrize(
    ("policy", "channel", "facts", "say", "quiet"),
    [
        # notify-on: problems; the channel heard nothing
        (PROBLEMS, NONE, run("ok"), "", "ok"),  # calm after calm
        (PROBLEMS, NONE, run("critical"), "new", ""),
        (PROBLEMS, NONE, run("warning", {"verification": "warning"}), "new", ""),
        (replace(PROBLEMS, alert_after=2), NONE, run("warning", {"v": "warning"}), "", "flapping"),
        (replace(PROBLEMS, alert_after=2), NONE, run("warning", {"v": "w"}, count=2), "new", ""),
        (replace(PROBLEMS, alert_after=3), NONE, run("critical"), "new", ""),  # critical at once
        (replace(PROBLEMS, alert_after=2), NONE, run("ok", ended=Streak(1, T)), "", "flapping"),
        (PROBLEMS, NONE, run("ok", ended=Streak(1, T)), "", "ok"),  # held, not delivered: no end
        # the channel heard of a critical verification problem at T
        (PROBLEMS, HEARD, run("critical", count=2), "", "reminder"),
        (PROBLEMS, HEARD, run("critical", count=9, at=4 * H), "reminder", ""),
        (replace(PROBLEMS, remind_every=timedelta(0)), HEARD, run(count=2), "report", ""),
        (PROBLEMS, HEARD, run("critical", {**CRIT, "errors": "logged"}, count=2), "worse", ""),
        (PROBLEMS, HEARD, run("critical", {"data": "none"}, count=2), "worse", ""),  # a new cause
        (PROBLEMS, HEARD, run("warning", {"verification": "warning"}, count=2), "changed", ""),
        (PROBLEMS, HEARD, run("ok", ended=Streak(3, T)), "recovery", ""),
        (PROBLEMS, replace(HEARD, owed=Streak(3, T)), run("ok"), "recovery", ""),  # owed still
        # mutes
        (
            replace(PROBLEMS, mute_until=T + 2 * H),
            HEARD,
            run("ok", ended=Streak(3, T)),
            "",
            "muted",
        ),
        (replace(PROBLEMS, mute_until=T + 2 * H), NONE, run("critical"), "", "muted"),
        (PROBLEMS, replace(MUTED, told=TOLD), run("critical", count=5), "unmuted", ""),
        (PROBLEMS, MUTED, run("critical", count=5), "unmuted", ""),  # started under the mute
        (PROBLEMS, replace(MUTED, told=TOLD), run("warning", {"c": "warning"}), "worse", ""),
        (PROBLEMS, replace(MUTED, told=TOLD), run("ok"), "recovery", ""),
        (PROBLEMS, MUTED, run("ok", ended=Streak(2, T)), "", "ok"),  # came and went under it
        # notify-on: changes and always
        (Policy(notify_on="changes"), NONE, run("ok", changed=True), "report", ""),
        (Policy(notify_on="changes"), NONE, run("ok"), "", "unchanged"),
        (Policy(notify_on="changes"), HEARD, run("critical", count=2), "", "reminder"),
        (Policy(), NONE, run("ok"), "report", ""),
        (Policy(), HEARD, run("critical", count=2), "report", ""),
        (Policy(), HEARD, run("ok", ended=Streak(2, T)), "recovery", ""),
        (Policy(alert_after=2), NONE, run("warning", {"v": "warning"}), "new", ""),
    ],
)
def test_the_policy_as_a_truth_table(
    policy: Policy, channel: Channel, facts: Facts, say: str, quiet: str
) -> None:
    decision = decide(policy, channel, facts)
    assert (decision.say, decision.quiet) == (say, quiet)


@pytest.mark.parametrize(
    ("channel", "facts", "outcome", "expected"),
    [
        # a problem said, or that may have been (unknown): what the channel was told
        (NONE, run(), "delivered", Channel(told=Told(T + H, "critical", CRIT))),
        (NONE, run(), "unknown", Channel(told=Told(T + H, "critical", CRIT))),
        (NONE, run(), "failed", NONE),  # certainly not: the next run says it
        (HEARD, run(count=2), "quiet", HEARD),  # a reminder not due: told when it was
        # a recovery: said (or maybe), or owed
        (HEARD, run("ok", ended=Streak(3, T)), "delivered", NONE),
        (HEARD, run("ok", ended=Streak(3, T)), "unknown", NONE),  # never twice
        (HEARD, run("ok", ended=Streak(3, T)), "failed", replace(HEARD, owed=Streak(3, T))),
        (replace(HEARD, owed=Streak(3, T)), run("ok"), "failed", replace(HEARD, owed=Streak(3, T))),
        # a mute ends when a message after it said so, or the problem it hid is over
        (MUTED, run(count=2), "failed", MUTED),
        (MUTED, run(count=2), "delivered", Channel(told=Told(T + H, "critical", CRIT))),
        (MUTED, run(), "delivered", Channel(told=Told(T + H, "critical", CRIT))),
        (MUTED, run("ok"), "quiet", NONE),
    ],
)
def test_what_the_next_run_starts_from(
    channel: Channel, facts: Facts, outcome: str, expected: Channel
) -> None:
    assert decide(PROBLEMS, channel, facts).after(outcome) == expected


def test_a_muted_run_keeps_what_the_channel_was_told_and_since_when_it_is_muted() -> None:
    mute = replace(PROBLEMS, mute_until=T + 2 * H)
    decision = decide(mute, HEARD, run("ok", ended=Streak(3, T)))
    assert decision.after("quiet") == Channel(told=TOLD, owed=Streak(3, T), muted=T + H)
    assert decide(mute, MUTED, run()).after("quiet") == MUTED  # since the first muted run


def test_a_problem_that_ended_under_a_mute_then_another_is_news_not_the_old_one_going_on() -> None:
    """Told of A, muted, A ended, the mute over, B starts: B is news (not "the mute is
    over, and this is still going on"), and the channel still hears the end, once B ends."""
    mute = replace(PROBLEMS, mute_until=T + 90 * timedelta(minutes=1))
    under = decide(mute, HEARD, run("ok", ended=Streak(3, T))).after("quiet")
    b = decide(PROBLEMS, under, run("warning", {"capacity": "warning"}, at=2 * H))
    assert (b.say, b.unmuted) == ("worse", None)  # a new cause
    after_b = b.after("delivered")
    assert after_b.told is not None and after_b.muted is None
    end = decide(PROBLEMS, after_b, run("ok", ended=Streak(1, T), at=3 * H))
    assert end.say == "recovery"


def test_mention_pings_only_a_new_or_worse_problem() -> None:
    assert decide(PROBLEMS, NONE, run()).worse
    assert decide(PROBLEMS, HEARD, run("critical", {**CRIT, "job": "failed"}, count=2)).worse
    assert not decide(PROBLEMS, HEARD, run("warning", {"verification": "warning"})).worse
    assert not decide(PROBLEMS, HEARD, run(count=9, at=4 * H)).worse  # a reminder
    assert not decide(PROBLEMS, HEARD, run("ok", ended=Streak(2, T))).worse


def test_the_facts_of_a_run_after_the_previous_one() -> None:
    this = replace(OK, levels={"capacity": "warning"}, severity="warning", streak=Streak(3, T))
    facts = state_facts(FAILED, this, T, gauges=GAUGES)
    assert (facts.ongoing, facts.ended, facts.changed) == (True, None, True)
    assert facts.problems == {"capacity": "warning"}
    back = state_facts(FAILED, OK, T, gauges=GAUGES)
    assert (back.ongoing, back.ended) == (False, FAILED.streak)
    assert not state_facts(OK, OK, T, gauges=GAUGES).changed
    assert state_facts(None, OK, T, gauges=GAUGES).changed  # nothing to compare with


def test_an_owed_end_written_before_told_was_kept_is_still_owed() -> None:
    data = json.loads(replace(OK, owed=FAILED.streak).to_json())
    data["told"] = None
    read = Snapshot.parse(json.dumps(data).encode(), "sync")
    assert decide(PROBLEMS, read.channel, run("ok")).say == "recovery"


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
    point = replace(OK.point, figures={"verification": 91.5}, run="0")
    data = json.loads(replace(OK, window=(point,) * 60).to_json())
    read = Snapshot.parse(json.dumps(data).encode(), "sync")
    assert read.window == (point,) * WINDOW
    later = replace(point, time=point.time + timedelta(minutes=30), run="2")
    assert carried(read, later) == (*(point,) * (WINDOW - 1), later)


def test_a_re_run_replaces_its_earlier_attempt_in_the_window_and_the_streak() -> None:
    """A re-run (an earlier attempt of this run is in the previous run's window) is one run,
    not two: in the window (its point replaces the attempt's) and in the streak (not one
    more). A re-run of an older run too: its point moves to its new time."""
    first = replace(OK.point, figures={"added": 92}, run="1")
    rerun = replace(first, severity="warning")
    assert carried(replace(OK, window=(first,)), rerun) == (rerun,)
    other = replace(rerun, run="2")
    assert carried(replace(OK, window=(first,)), other) == (first, other)  # another run
    newer = replace(first, time=T + timedelta(minutes=30), run="2")
    older_again = replace(first, time=T + timedelta(hours=1), severity="critical")
    assert carried(replace(OK, window=(first, newer)), older_again) == (newer, older_again)
    mine = replace(first, severity="warning")
    attempt = replace(OK, severity="warning", streak=Streak(2, T, False, 0), window=(mine,))
    assert advance(attempt, "warning", "success", T, earlier=mine).count == 2
    assert advance(attempt, "warning", "success", T).count == 3
    assert advance(attempt, "ok", "success", T, earlier=mine) == Streak()
    good = replace(first, run="0")  # an attempt that was not part of the streak: one more run
    assert (
        advance(replace(attempt, window=(good, mine)), "warning", "success", T, earlier=good).count
        == 3
    )


def test_the_window_is_kept_in_time_order() -> None:
    """A stale file's run (its time before the previous run's) takes its place by time: no
    spell runs backwards."""
    late = replace(OK.point, time=T + timedelta(hours=2), run="2")
    stale = replace(OK.point, time=T - timedelta(days=2), severity="warning", run="3")
    window = carried(replace(OK, window=(OK.point, late)), stale)
    assert [p.run for p in window] == ["3", "1", "2"]


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
