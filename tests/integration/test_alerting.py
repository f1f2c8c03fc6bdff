"""Alerting operators trust through main(): runs in sequence against the fake GitHub
API, each run's snapshot uploaded as the composite does. Reminders, flapping, silences and
mentions decide what the channel sees; the outputs and the summary say why a run was quiet."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_github import Actions, Artifact, Run, zipped
from tests.helpers import Fault
from tests.pipeline import NEW_YORK, Heartbeats, Pipeline, Step, sync

PROBLEMS = {"notify-on": "problems"}


def at(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=NEW_YORK)


def half_hours(start: datetime, end: datetime) -> list[datetime]:
    times, moment = [], start
    while moment < end:
        times.append(moment)
        moment += timedelta(minutes=30)
    return times


def posted(steps: dict[datetime, Step]) -> list[str]:
    """The times of the runs that reached the channel, as `9:30`."""
    return [f"{t:%-H:%M}" for t, step in steps.items() if step.outputs["posted"] == "true"]


# -- reminders --------------------------------------------------------------------------------


def test_a_day_long_outage_posts_the_start_each_change_a_reminder_every_4h_and_one_recovery(
    pipeline: Pipeline,
) -> None:
    """Every 30 minutes from 8:00 to 20:00: verification breaks at 9:00, capacity joins at
    14:00, verification gets better but still bad at 15:00, all is well at 20:00."""
    steps: dict[datetime, Step] = {}
    for moment in half_hours(at(8), at(20, 30)):
        if moment < at(9) or moment >= at(20):
            metrics = sync(95)
        elif moment < at(14):
            metrics = sync(70)  # verification critical
        elif moment < at(15):
            metrics = sync(70, 18_000)  # and capacity at 75 %: a warning
        else:
            metrics = sync(85, 18_000)  # verification better, still a warning
        steps[moment] = pipeline.run(metrics, 0, when=moment, **PROBLEMS)
    assert posted(steps) == ["9:00", "13:00", "14:00", "15:00", "19:00", "20:00"]
    reminder = steps[at(13)].content
    assert "🔁 Still: verification below 80 % since 9:00 AM (9th sync in a row)" in reminder
    assert "in a row (since" not in reminder  # the reminder line replaces the streak line
    assert "🔁" not in steps[at(14)].content and "🔁" not in steps[at(15)].content
    assert "🚨 11th sync with problems in a row (since 9:00 AM)" in steps[at(14)].content
    later = steps[at(19)].content
    assert (
        "🔁 Still: capacity at or above 70 %, verification below 90 % since 9:00 AM "
        "(21st sync in a row)"
    ) in later, later
    assert "✅ Back to normal after 22 syncs with problems" in steps[at(20)].content
    quiet = steps[at(9, 30)]
    assert quiet.outputs["posted"] == "false" and quiet.outputs["reason"] == "reminder-not-due"
    assert quiet.outputs["delivered"] == "false" and quiet.content == ""
    assert (
        "🤫 **Not posted**: the same problem as posted at 9:00 AM EST; a reminder goes out "
        "from 1:00 PM EST (`remind-every`)."
    ) in quiet.summary
    assert steps[at(8)].outputs["reason"] == "quiet"


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        ("0", ["9:00", "9:30", "10:00", "10:30", "11:00", "11:30"]),  # today's behaviour
        ("1H", ["9:00", "10:00", "11:00"]),
        ("90m", ["9:00", "10:30"]),
        ("1d", ["9:00"]),
    ],
)
def test_remind_every(pipeline: Pipeline, every: str, expected: list[str]) -> None:
    inputs = {**PROBLEMS, "remind-every": every}
    steps = {t: pipeline.run(sync(70), 0, when=t, **inputs) for t in half_hours(at(9), at(12))}
    assert posted(steps) == expected
    if every == "0":
        assert all("🔁" not in step.content for step in steps.values())


def test_changes_mode_reminds_too(pipeline: Pipeline) -> None:
    inputs = {"notify-on": "changes", "remind-every": "2h"}
    steps = {t: pipeline.run(sync(70), 0, when=t, **inputs) for t in half_hours(at(9), at(12))}
    assert posted(steps) == ["9:00", "11:00"]


def test_a_failed_delivery_is_not_a_message_told(pipeline: Pipeline) -> None:
    """The reminder counts from the last message that may have reached the channel."""
    pipeline.run(sync(92), 8, **PROBLEMS)
    pipeline.echo.fail("create", Fault("status", 403))
    lost = pipeline.run(sync(70), 9, **PROBLEMS)
    assert lost.outputs["delivered"] == "false"
    again = pipeline.run(sync(70), 10, **PROBLEMS)  # the start still has to be said
    assert again.outputs["posted"] == "true" and "🔁" not in again.content
    assert pipeline.run(sync(70), 11, **PROBLEMS).outputs["reason"] == "reminder-not-due"


@pytest.mark.parametrize("every", ["4", "4 hours", "-1h", "0.5m", "91d", "h"])
def test_a_bad_remind_every_is_an_input_error(pipeline: Pipeline, every: str) -> None:
    step = pipeline.run(sync(92), 9, **{"remind-every": every})
    assert step.code == 1 and "Input 'remind-every'" in step.log and step.content == ""


def test_reminders_count_from_a_snapshot_written_before_alerting(
    pipeline: Pipeline, actions: Actions
) -> None:
    """The previous run kept its snapshot with the release before reminders (a critical sync
    at 9:00, the 3rd in a row since 8:00): its problem was posted then."""
    old = Path(__file__).parent.parent / "snapshots" / "sync-before-alerting.json"
    actions.workflows[0].runs.insert(
        0, Run(1001, [Artifact("echo-notify-sync-sync", zipped("sync.json", old.read_bytes()))])
    )
    pipeline.run_id = 1001  # the old snapshot's own run; the next ones come after it
    same = pipeline.run(sync(70), 10, **PROBLEMS)
    assert same.outputs["reason"] == "reminder-not-due", same.log
    assert pipeline.run(sync(70), 12, **PROBLEMS).outputs["posted"] == "false"
    due = pipeline.run(sync(70), 13, **PROBLEMS)
    assert "🔁 Still: verification below 80 % since 8:00 AM (6th sync in a row)" in due.content


# -- flapping ---------------------------------------------------------------------------------


def test_a_flapping_warning_posts_nothing_and_the_summary_says_why(pipeline: Pipeline) -> None:
    inputs = {**PROBLEMS, "alert-after": "2"}
    steps = [pipeline.run(sync(v), h, **inputs) for h, v in ((8, 95), (9, 85), (10, 95), (11, 85))]
    assert [s.outputs["posted"] for s in steps] == ["false"] * 4
    assert pipeline.echo.sends == []
    assert [s.outputs["reason"] for s in steps] == ["quiet", "flapping", "flapping", "flapping"]
    assert (
        "🤫 **Not posted**: a warning is posted once it has held `alert-after: 2` runs in a "
        "row; this is the 1st (critical is posted at once)."
    ) in steps[1].summary
    assert "the one before it never held `alert-after: 2` runs in a row" in steps[2].summary


def test_a_warning_that_holds_posts_and_so_does_its_end(pipeline: Pipeline) -> None:
    inputs = {**PROBLEMS, "alert-after": "2"}
    first = pipeline.run(sync(85), 9, **inputs)
    second = pipeline.run(sync(85), 10, **inputs)
    assert (first.outputs["posted"], second.outputs["posted"]) == ("false", "true")
    assert "⚠️ 2nd sync with problems in a row (since 9:00 AM)" in second.content
    back = pipeline.run(sync(95), 11, **inputs)
    assert "✅ Back to normal after 2 syncs with problems" in back.content


def test_critical_posts_at_once(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(70), 9, **{**PROBLEMS, "alert-after": "3"})
    assert step.outputs["posted"] == "true" and step.outputs["severity"] == "critical"


@pytest.mark.parametrize("after", ["0", "two", "101", "-1"])
def test_a_bad_alert_after_is_an_input_error(pipeline: Pipeline, after: str) -> None:
    step = pipeline.run(sync(92), 9, **{"alert-after": after})
    assert step.code == 1 and "Input 'alert-after'" in step.log


# -- silences ---------------------------------------------------------------------------------


def test_a_mute_hides_a_problem_keeps_streak_and_heartbeat_then_the_problem_posts(
    pipeline: Pipeline, heartbeat: str
) -> None:
    inputs = {**PROBLEMS, "heartbeat-url": heartbeat, "mute-until": "2026-01-15 12:00"}
    muted = [pipeline.run(sync(70), hour, **inputs) for hour in (9, 10, 11)]
    assert pipeline.echo.sends == []
    assert {s.outputs["reason"] for s in muted} == {"muted"}
    assert {s.outputs["posted"] for s in muted} == {"false"}
    assert Heartbeats.seen == ["/ping/abc-123"] * 3  # the pipeline is alive
    assert (
        "🔕 **Not posted**: muted until 12:00 PM EST (`mute-until`); the report above is what "
        "would have been posted."
    ) in muted[0].summary
    assert "🔄 **Cold Email Sync Complete** | 9:00 AM EST" in muted[0].summary  # what it held back
    after = pipeline.run(sync(70), 12, **inputs)  # the variable was not emptied yet
    assert after.outputs["posted"] == "true" and after.outputs["delivered"] == "true"
    assert "🚨 4th sync with problems in a row (since 9:00 AM)" in after.content
    assert "🔕 Muted since 9:00 AM: the mute is over, and this is still going on" in after.content
    notices = [line for line in after.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "is in the past, so this run is not muted" in notices[0]
    assert pipeline.run(sync(70), 13, **inputs).outputs["reason"] == "reminder-not-due"


def test_a_recovery_during_a_mute_is_posted_after_it(pipeline: Pipeline) -> None:
    pipeline.run(sync(70), 9, **PROBLEMS)  # posted
    mute = {**PROBLEMS, "mute-until": "2026-01-15 12:30"}
    same = pipeline.run(sync(70), 10, **mute)  # nothing to post anyway: that is the reason
    assert same.outputs["reason"] == "reminder-not-due"
    assert pipeline.run(sync(95), 11, **mute).outputs["reason"] == "muted"
    assert pipeline.run(sync(95), 12, **mute).outputs["reason"] == "muted"
    back = pipeline.run(sync(95), 13, **PROBLEMS)
    assert "✅ Back to normal after 2 syncs with problems" in back.content
    assert pipeline.run(sync(95), 14, **PROBLEMS).outputs["posted"] == "false"


def test_a_problem_that_came_and_went_under_a_mute_is_never_posted(pipeline: Pipeline) -> None:
    mute = {**PROBLEMS, "mute-until": "2026-01-15 11:30"}
    pipeline.run(sync(70), 9, **mute)
    pipeline.run(sync(95), 10, **mute)
    after = pipeline.run(sync(95), 12, **PROBLEMS)
    assert after.outputs["posted"] == "false" and pipeline.echo.sends == []


def test_a_mute_in_always_mode_and_a_date_alone(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(95), 23, **{"mute-until": "2026-01-16"})  # until midnight
    assert step.outputs["reason"] == "muted" and "muted until Jan 16, 12:00 AM EST" in step.summary
    assert pipeline.run(sync(95), 0, when=at(0, 0, 16), **{"mute-until": "2026-01-16"}).content


@pytest.mark.parametrize(
    ("until", "message"),
    [
        ("2026-01-29 09:01", "more than 14 days ahead"),
        ("2027-01-15", "more than 14 days ahead"),
        ("tomorrow", "must be a date or a date and time"),
        ("2026-01-20T09:00Z", "must be a date or a date and time"),  # the zone is `timezone`
        ("2026-02-30", "must be a date or a date and time"),
    ],
)
def test_a_bad_mute_is_an_input_error(pipeline: Pipeline, until: str, message: str) -> None:
    step = pipeline.run(sync(70), 9, **{"mute-until": until})
    assert step.code == 1 and step.content == ""
    errors = [line for line in step.log.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "Input 'mute-until'" in errors[0] and message in errors[0]


def test_fourteen_days_ahead_is_allowed(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(70), 9, **{"mute-until": "2026-01-29 09:00"})
    assert step.code == 0 and step.outputs["reason"] == "muted"


# -- mentions ---------------------------------------------------------------------------------

HERE = {"mention": "<!here> <!subteam^S012AB3CD>"}


def test_a_mention_pings_a_new_critical_problem_only(pipeline: Pipeline) -> None:
    inputs = {**PROBLEMS, **HERE}
    start = pipeline.run(sync(70), 9, **inputs)
    assert start.content.startswith("<!here> <!subteam^S012AB3CD> 🔄 *Cold Email Sync Complete*")
    assert "<!here>" not in start.summary  # the summary is Markdown: no raw token
    reminder = pipeline.run(sync(70), 13, **inputs)
    assert "🔁 Still" in reminder.content and "<!" not in reminder.content
    better = pipeline.run(sync(85), 14, **inputs)  # a warning now: a change, not worse
    assert better.outputs["posted"] == "true" and "<!" not in better.content
    worse = pipeline.run(sync(70), 15, **inputs)
    assert worse.content.startswith("<!here>")
    back = pipeline.run(sync(95), 16, **inputs)
    assert "Back to normal" in back.content and "<!" not in back.content


def test_mention_on_problems_pings_warnings_and_never_pings_nothing(pipeline: Pipeline) -> None:
    warning = pipeline.run(sync(85), 9, **{**PROBLEMS, **HERE, "mention-on": "problems"})
    assert warning.content.startswith("<!here>")
    never = pipeline.run(sync(70), 10, **{**PROBLEMS, **HERE, "mention-on": "never"})
    assert never.outputs["posted"] == "true" and "<!" not in never.content


def test_a_mention_is_never_a_raw_token_in_markdown(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(70), 9, **{**HERE, "format": "markdown"})
    assert step.content.startswith("🔄 **Cold Email Sync Complete**") and "<!" not in step.content


def test_a_failed_run_pings_and_data_never_does(pipeline: Pipeline) -> None:
    metrics = {**sync(92), "errors": ["<!channel> ping everyone"]}
    step = pipeline.run(metrics, 9, **{"mention": "<@U012AB3CD>", "job-status": "failure"})
    assert step.content.startswith("<@U012AB3CD> 🚨 *Cold Email Sync FAILED*")
    assert step.content.count("<") == step.content.count("<@U012AB3CD>") + 1  # + the link


@pytest.mark.parametrize(
    "mention",
    ["@here", "<!everyone>", "<https://evil.example|click>", "<@U012AB3CD|bob>", "<#C012>", "x"],
)
def test_a_mention_that_is_not_a_slack_token_is_an_input_error(
    pipeline: Pipeline, mention: str
) -> None:
    step = pipeline.run(sync(70), 9, mention=mention)
    assert step.code == 1 and "Input 'mention'" in step.log and step.content == ""


@pytest.mark.parametrize("on", ["always", "warning", "yes"])
def test_a_bad_mention_on_is_an_input_error(pipeline: Pipeline, on: str) -> None:
    step = pipeline.run(sync(70), 9, **{"mention-on": on})
    assert step.code == 1 and "Input 'mention-on'" in step.log
