"""Sequences of runs through main() that once fooled the alerting policy: each plays real runs
(the fake GitHub API carrying each snapshot, Echo on loopback) and checks what the channel heard.
The policy's promises as a class are checked in test_alerting_properties.py."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, zipped
from tests.helpers import Fault, ScriptedEcho
from tests.pipeline import NEW_YORK, Pipeline, Step, Watchdog, sync

PROBLEMS = {"notify-on": "problems", "report": "sync"}


def at(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=NEW_YORK)


def backs(steps: list[Step]) -> int:
    return sum("Back to normal" in step.content for step in steps)


# -- a broken pipeline is never quiet: every cause is part of the problem ----------------------

ONLY_BAD = {
    "capacity_status": {"current_inventory": "1,342", "max_capacity": "ninety-two"},
    "leads_processed": {"total_attempted": "1,342", "smb_campaign": {"leads_added": "65 leads"}},
    "verification_results": {"total_attempted": "a hundred", "verified_successful": "92!"},
}


@pytest.mark.parametrize(
    ("then", "stale"),
    [
        ({"errors": []}, False),  # no figures
        ({**ONLY_BAD, "errors": []}, False),  # only bad data
        (None, False),  # no file at all
        ("same", True),  # the same figures, re-read from a 2-day-old file
    ],
    ids=["no figures", "only bad data", "no file", "stale file"],
)
def test_after_an_error_logged_the_pipeline_breaking_otherwise_is_news(
    pipeline: Pipeline, then: dict[str, object] | str | None, stale: bool
) -> None:
    """A posted warning of one logged error, then the pipeline breaks another way: the next
    run posts it at once (it is not the "same problem" a reminder waits for)."""
    logged = {**sync(95), "errors": ["SMB campaign: rate limited"]}
    first = pipeline.run(logged, 9, **PROBLEMS)
    assert first.outputs["posted"] == "true" and first.outputs["severity"] == "warning"
    metrics = logged if then == "same" else then
    when = at(9, 30) - timedelta(days=2) if stale else at(9, 30)
    step = pipeline.run(metrics, 0, when=when, now=at(9, 30), **PROBLEMS)  # type: ignore[arg-type]
    assert step.outputs["posted"] == "true", (step.outputs["reason"], step.summary)
    again = pipeline.run(metrics, 0, when=when, now=at(10), **PROBLEMS)  # type: ignore[arg-type]
    assert again.outputs["reason"] == "reminder-not-due"  # and then it is the same problem


# -- a re-run of an older run ------------------------------------------------------------------


def test_a_rerun_of_an_older_run_and_then_the_next_run_say_back_to_normal_once(
    pipeline: Pipeline,
) -> None:
    """critical | critical | the older run re-run, ok | ok: the re-run's recovery is the only
    one; the next run reads the re-run's snapshot (the newest), not the one listed first."""
    steps = [pipeline.run(sync(70), 9, **PROBLEMS), pipeline.run(sync(70), 10, **PROBLEMS)]
    first_run = pipeline.run_id - 1
    steps.append(
        pipeline.run(sync(95), 0, when=at(10, 30), attempt=2, rerun_of=first_run, **PROBLEMS)
    )
    steps.append(pipeline.run(sync(95), 11, **PROBLEMS))
    assert [s.outputs["posted"] for s in steps] == ["true", "false", "true", "false"]
    assert backs(steps) == 1


def test_a_problem_in_a_rerun_of_an_older_run_gets_its_recovery(pipeline: Pipeline) -> None:
    """ok | ok | the older run re-run, critical | ok: the problem was posted, so is its end."""
    steps = [pipeline.run(sync(95), 9, **PROBLEMS), pipeline.run(sync(95), 10, **PROBLEMS)]
    first_run = pipeline.run_id - 1
    steps.append(
        pipeline.run(sync(70), 0, when=at(10, 30), attempt=2, rerun_of=first_run, **PROBLEMS)
    )
    steps.append(pipeline.run(sync(95), 11, **PROBLEMS))
    assert [s.outputs["posted"] for s in steps] == ["false", "false", "true", "true"]
    assert "Back to normal after 1 sync with problems" in steps[3].content


def test_a_rerun_of_an_older_run_takes_its_place_in_the_window(pipeline: Pipeline) -> None:
    pipeline.run(sync(70), 9)
    pipeline.run(sync(95), 10)
    first_run = pipeline.run_id - 1
    pipeline.run(sync(93), 0, when=at(10, 30), attempt=2, rerun_of=first_run)
    pipeline.run(sync(95), 11)
    window = json.loads(kept(pipeline))["window"]
    assert [p["figures"]["verification"] for p in window] == [95.0, 93.0, 95.0]  # no 70: replaced


# -- mutes --------------------------------------------------------------------------------------


def test_a_problem_that_ended_under_a_mute_then_another_is_new_and_the_end_still_comes(
    pipeline: Pipeline,
) -> None:
    mute = {**PROBLEMS, "mute-until": "2026-01-15 10:30"}
    told = pipeline.run(sync(70), 9, **PROBLEMS)  # verification critical: posted
    assert told.outputs["posted"] == "true"
    assert pipeline.run(sync(95), 10, **mute).outputs["reason"] == "muted"  # it ended, muted
    other = pipeline.run(sync(95, 18_000), 11, **mute)  # the mute is over: capacity at 75 %
    assert other.outputs["posted"] == "true"
    assert "the mute is over" not in other.content, other.content
    back = pipeline.run(sync(95), 12, **PROBLEMS)
    assert "✅ Back to normal" in back.content


# -- time: a stale file among newer runs, a timestamp the history cannot keep -----------------


def test_a_stale_file_takes_its_place_in_time_and_no_spell_is_negative(pipeline: Pipeline) -> None:
    for hour in (8, 9):
        pipeline.run(sync(95), hour)
    stale = pipeline.run(sync(70), 0, when=at(9) - timedelta(days=2), now=at(10))
    assert "-" not in stale.content.split("longest")[-1].split("\n")[0], stale.content
    later = pipeline.run(sync(95), 11)
    window = json.loads(kept(pipeline))["window"]
    times = [point["time"] for point in window]
    assert times == sorted(times, key=datetime.fromisoformat)
    assert "longest: -" not in later.content and "longest: -" not in later.summary


@pytest.mark.parametrize("stamp", ["1970-01-01T00:00:00Z", "3000-01-01T00:00:00Z"])
def test_a_timestamp_the_history_cannot_keep_is_bad_data_not_a_poisoned_history(
    pipeline: Pipeline, stamp: str
) -> None:
    told = pipeline.run(sync(70), 9, **PROBLEMS)  # critical: posted
    assert told.outputs["posted"] == "true"
    odd = pipeline.run(sync(70), 10, timestamp=stamp, **PROBLEMS)
    assert "timestamp: " in odd.log and stamp[:4] in odd.log  # named in the warning
    assert "no trends this run" not in odd.log.lower()
    back = pipeline.run(sync(95), 11, **PROBLEMS)
    assert "no trends this run" not in back.log.lower(), back.log
    assert "✅ Back to normal after 2 syncs with problems" in back.content


def kept(pipeline: Pipeline) -> str:
    """The newest snapshot the fake API holds."""
    runs = pipeline.actions.workflows[pipeline.workflow].runs
    artifact = next(a for r in runs for a in r.artifacts)
    with zipfile.ZipFile(io.BytesIO(artifact.data)) as archive:
        return archive.read(archive.namelist()[0]).decode()


def test_a_crash_without_a_file_leaves_the_next_runs_summary_whole(pipeline: Pipeline) -> None:
    """A run with no metrics file leaves a point with no figures in the window; the charts of
    the runs after it leave that point out (the job summary was not written at all); the
    chart waits for a second run with the figure (one point draws no line)."""
    pipeline.run(None, 9, **PROBLEMS)
    step = pipeline.run(sync(95), 10, **PROBLEMS)
    assert "could not write" not in step.log, step.log
    assert "| Gauge |" in step.summary and "xychart-beta" not in step.summary
    step = pipeline.run(sync(96), 11, **PROBLEMS)
    assert "could not write" not in step.log and "xychart-beta" in step.summary


def test_critical_then_ok_under_a_mute_then_a_warning_then_ok_says_back_to_normal(
    pipeline: Pipeline,
) -> None:
    assert pipeline.run(sync(70), 9, **PROBLEMS).outputs["posted"] == "true"
    muted = pipeline.run(sync(95), 10, **{**PROBLEMS, "mute-until": "2026-01-15 10:30"})
    assert muted.outputs["reason"] == "muted"
    warning = pipeline.run(sync(85), 11, **PROBLEMS)
    assert warning.outputs["posted"] == "true" and "the mute is over" not in warning.content
    back = pipeline.run(sync(95), 12, **PROBLEMS)
    assert "✅ Back to normal after 1 sync with problems" in back.content


@pytest.mark.parametrize(
    ("metrics", "said"),
    [
        ({"errors": []}, "🔁 Still: no figures since 9:00 AM (5th sync with problems in a row)"),
        (
            {**sync(95), "errors": ["x"]},
            "🔁 Still: errors logged since 9:00 AM (5th sync with problems in a row)",
        ),
        (None, "🔁 Still: no metrics file since 9:00 AM (5th sync with problems in a row)"),
    ],
    ids=["no figures", "errors logged", "no file"],
)
def test_a_reminder_names_a_cause_that_is_not_a_gauge(
    pipeline: Pipeline, metrics: dict[str, object] | None, said: str
) -> None:
    for hour in (9, 10, 11, 12):
        pipeline.run(metrics, hour, **PROBLEMS)
    reminder = pipeline.run(metrics, 13, **PROBLEMS)
    assert said in reminder.content, reminder.content


def recoveries(*contents: str) -> int:
    return sum("Back to normal" in content for content in contents)


BEFORE_ALERTING = Path(__file__).parent.parent / "snapshots" / "sync-before-alerting.json"


# -- a look-up that fails in the middle of a streak ------------------------------------------


def test_a_failed_lookup_on_the_first_good_run_does_not_lose_the_owed_recovery(
    pipeline: Pipeline,
) -> None:
    """critical (posted) | ok, the API answers 403 | ok: the channel heard of the problem and
    must hear of its end once; the run that could not read what it was told must not hand on
    "nothing was told"."""
    told = pipeline.run(sync(70), 9, **PROBLEMS)
    assert told.outputs["posted"] == "true"
    pipeline.actions.status = 403
    blind = pipeline.run(sync(95), 10, **PROBLEMS)
    pipeline.actions.status = 200
    assert "no trends this run" in blind.log.lower()
    after = pipeline.run(sync(95), 11, **PROBLEMS)
    assert recoveries(blind.content, after.content) == 1, (blind.outputs, after.outputs)


def test_a_corrupt_snapshot_on_the_first_good_run_does_not_lose_the_owed_recovery(
    pipeline: Pipeline,
) -> None:
    """critical (posted) | its artifact corrupt, ok | ok: the same, with a zip that is not one."""
    told = pipeline.run(sync(70), 9, **PROBLEMS)
    assert told.outputs["posted"] == "true"
    runs = pipeline.actions.workflows[0].runs
    good = runs[0].artifacts[0].data
    runs[0].artifacts[0].data = b"not a zip"
    blind = pipeline.run(sync(95), 10, **PROBLEMS)
    runs[1].artifacts[0].data = good
    assert "no trends this run" in blind.log.lower()
    after = pipeline.run(sync(95), 11, **PROBLEMS)
    assert recoveries(blind.content, after.content) == 1, (blind.outputs, after.outputs)


def test_a_failed_lookup_mid_streak_posts_the_problem_and_one_recovery(pipeline: Pipeline) -> None:
    """critical 9:00 | critical 9:30, API 403 | ok 10:00 | ok 10:30. The 9:30 run cannot know
    whether the channel heard of the problem, so it says it (never blind), and that message is
    the channel's last word: it keeps its snapshot (a streak that starts with it), and the
    10:00 run says Back to normal once."""
    pipeline.run(sync(70), 9, **PROBLEMS)
    pipeline.actions.status = 403
    blind = pipeline.run(sync(70), 0, when=at(9, 30), **PROBLEMS)
    pipeline.actions.status = 200
    assert blind.outputs["posted"] == "true" and blind.outputs["history-artifact"]
    back = pipeline.run(sync(95), 10, **PROBLEMS)
    after = pipeline.run(sync(95), 0, when=at(10, 30), **PROBLEMS)
    assert "Back to normal after 1 sync with problems" in back.content, back.content
    assert recoveries(back.content, after.content) == 1


# -- a re-run of an older run ------------------------------------------------------------------


def test_a_rerun_of_a_run_six_runs_back_is_the_previous_run_of_the_next_one(
    pipeline: Pipeline,
) -> None:
    """Seven critical runs every 30 minutes (the first posted) | the first of them re-run, ok:
    Back to normal | the next run, ok: quiet. The look-up lists only the last six runs by their
    creation, so the re-run's snapshot (kept last) is not among them and the next run reads the
    seventh's, which says the problem is open: a second Back to normal."""
    first = pipeline.run(sync(70), 9, **PROBLEMS)
    assert first.outputs["posted"] == "true"
    oldest = pipeline.run_id
    for n in range(1, 7):
        pipeline.run(sync(70), 0, when=at(9 + n // 2, 30 * (n % 2)), **PROBLEMS)
    rerun = pipeline.run(sync(95), 0, when=at(12, 15), attempt=2, rerun_of=oldest, **PROBLEMS)
    assert "Back to normal" in rerun.content, rerun.outputs
    after = pipeline.run(sync(95), 0, when=at(12, 30), **PROBLEMS)
    assert recoveries(rerun.content, after.content) == 1, after.content


def test_a_problem_posted_by_a_rerun_of_a_run_six_runs_back_gets_its_recovery(
    pipeline: Pipeline,
) -> None:
    """Seven good runs | the first of them re-run, critical: posted | the next run, ok: the
    channel heard of a problem and must hear of its end."""
    pipeline.run(sync(95), 9, **PROBLEMS)
    oldest = pipeline.run_id
    for n in range(1, 7):
        pipeline.run(sync(95), 0, when=at(9 + n // 2, 30 * (n % 2)), **PROBLEMS)
    rerun = pipeline.run(sync(70), 0, when=at(12, 15), attempt=2, rerun_of=oldest, **PROBLEMS)
    assert rerun.outputs["posted"] == "true"
    after = pipeline.run(sync(95), 0, when=at(12, 30), **PROBLEMS)
    assert "Back to normal" in after.content, after.summary[-400:]


# -- what a reminder names ---------------------------------------------------------------------


def test_a_reminder_of_a_failing_job_says_it_is_failing(pipeline: Pipeline) -> None:
    """A warning (verification 85 %) at 9:00, posted | at 9:30 the job fails too: posted (worse)
    | the same at 13:30: the reminder's Still line names the failing job, which is part of the
    problem last posted, not only the gauge."""
    assert pipeline.run(sync(85), 9, **PROBLEMS).outputs["posted"] == "true"
    failing = {**PROBLEMS, "job-status": "failure"}
    worse = pipeline.run(sync(85), 0, when=at(9, 30), **failing)
    assert worse.outputs["posted"] == "true"
    reminder = pipeline.run(sync(85), 0, when=at(13, 30), **failing)
    still = next(line for line in reminder.content.splitlines() if "Still" in line)
    assert "fail" in still, reminder.content


def test_a_reminder_of_a_gauge_and_a_logged_error_names_both(pipeline: Pipeline) -> None:
    """verification 85 % and an error logged at 9:00, posted | the same at 13:00: the Still line
    names both causes of the problem, not the gauge alone."""
    logged = {**sync(85), "errors": ["SMB campaign: rate limited"]}
    assert pipeline.run(logged, 9, **PROBLEMS).outputs["posted"] == "true"
    reminder = pipeline.run(logged, 13, **PROBLEMS)
    still = next(line for line in reminder.content.splitlines() if "Still" in line)
    assert "error" in still.lower(), still


# -- the no-metrics alert with `report: auto` (the default) ------------------------------------

AUTO = {"notify-on": "problems"}  # `report` left at its default, auto


def test_a_crash_without_a_file_is_not_posted_again_within_remind_every(
    pipeline: Pipeline,
) -> None:
    """ok 9:00 | no file 9:30: the no-metrics alert | no file 10:00: the same problem, 30
    minutes after it was posted (remind-every 4h): quiet."""
    pipeline.run(sync(95), 9, **AUTO)
    first = pipeline.run(None, 0, when=at(9, 30), **AUTO)
    assert first.outputs["posted"] == "true"
    again = pipeline.run(None, 10, **AUTO)
    assert again.outputs["posted"] == "false", again.content


def test_a_crash_without_a_file_posted_then_a_good_run_says_back_to_normal(
    pipeline: Pipeline,
) -> None:
    """ok 9:00 | no file 9:30: the no-metrics alert posted | ok 10:00: the channel heard of a
    problem, so it hears of its end."""
    pipeline.run(sync(95), 9, **AUTO)
    assert pipeline.run(None, 0, when=at(9, 30), **AUTO).outputs["posted"] == "true"
    back = pipeline.run(sync(95), 10, **AUTO)
    assert "Back to normal" in back.content, back.outputs


# -- a snapshot from the release before alerting -----------------------------------------------


def test_a_streak_from_before_alerting_whose_last_send_failed_still_gets_its_recovery(
    pipeline: Pipeline,
) -> None:
    """The release before alerting posted every problem run: its snapshot of a critical sync,
    the 3rd in a row since 8:00, whose own send failed (`announced: no`), means the 8:00 and
    8:30 runs were posted. The first good run after the upgrade says Back to normal, as that
    release would have."""
    old = json.loads(BEFORE_ALERTING.read_text())
    old["announced"] = "no"
    artifact = Artifact("echo-notify-sync-sync", zipped("sync.json", json.dumps(old).encode()))
    pipeline.actions.workflows[0].runs.insert(0, Run(1001, [artifact]))
    pipeline.run_id = 1001
    back = pipeline.run(sync(95), 10, **PROBLEMS)
    assert "Back to normal after 3 syncs with problems" in back.content, back.outputs


# -- a stale file ------------------------------------------------------------------------------


def test_a_streak_that_starts_with_a_stale_file_counts_from_the_run_not_the_files_date(
    pipeline: Pipeline,
) -> None:
    """ok 9:00 | 9:30 and 10:00 re-read a file written two days before (stale: a warning),
    every problem run posted (remind-every 0): the 10:00 message says the problem runs go on
    since 9:30 today, when the first of them ran, not since the day the file was written."""
    every = {**PROBLEMS, "remind-every": "0"}
    pipeline.run(sync(95), 9, **every)
    written = at(9, 30, day=13).isoformat()
    pipeline.run(sync(95), 0, when=at(9, 30), timestamp=written, **every)
    second = pipeline.run(sync(95), 10, timestamp=written, **every)
    streak = next(line for line in second.content.splitlines() if "in a row" in line)
    assert streak.endswith("(since 9:30 AM)"), streak


# -- what the job summary says of a quiet run ---------------------------------------------------


def test_the_end_of_a_critical_problem_whose_message_was_refused_is_not_called_flapping(
    pipeline: Pipeline,
) -> None:
    """critical at 9:00, Echo refuses the message | ok at 9:30: nothing to say (the channel
    heard nothing), but the summary must not explain it as a problem that never held
    `alert-after: 1` runs (it was critical, and held)."""
    pipeline.echo.fail("create", Fault("status", 403))
    refused = pipeline.run(sync(70), 9, **PROBLEMS)
    pipeline.echo.script["create"].clear()
    assert refused.outputs["posted"] == "false"
    calm = pipeline.run(sync(95), 0, when=at(9, 30), **PROBLEMS)
    assert calm.content == ""
    assert "never held" not in calm.summary, calm.summary[-300:]
    assert calm.outputs["reason"] != "flapping"


# -- the watchdog: the same policy --------------------------------------------------------------


def test_a_watchdog_check_that_cannot_read_its_snapshot_does_not_lose_all_well_again(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    """The sync late at 12:00: posted | 13:00 it ran again, the 12:00 check's snapshot is
    corrupt | 14:00: the channel heard of the late sync, so it hears once that all is well."""
    sync_runs = [Run(900, created_at=at(9).isoformat())]
    workflows = [
        Workflow(id=1, path=".github/workflows/cold-email-sync.yml", runs=sync_runs),
        Workflow(
            id=2,
            path=".github/workflows/drain-leads.yml",
            runs=[Run(901, created_at=at(11).isoformat())],
        ),
    ]
    with fake_actions(Actions(workflows=workflows)) as actions:
        dog = Watchdog(tmp_path, echo, actions)
        late = dog.check(12)
        assert late.outputs["posted"] == "true", late.outputs
        sync_runs.insert(0, Run(902, created_at=at(12, 30).isoformat()))
        actions.workflows[1].runs[0].created_at = at(12, 45).isoformat()
        kept = actions.workflows[-1].runs[0].artifacts[0]
        good, kept.data = kept.data, b"not a zip"
        blind = dog.check(13)
        kept.data = good
        assert "no trends this run" in blind.log.lower()
        after = dog.check(14)
        again = [c for c in (blind.content, after.content) if "running again" in c]
        assert len(again) == 1, (blind.outputs, after.outputs)


def test_a_reminder_not_due_after_a_good_run_does_not_say_the_previous_run_had_it(
    pipeline: Pipeline,
) -> None:
    """critical 9:00, posted | ok 9:30, Echo refuses the Back to normal | critical 10:00: quiet
    (the channel still thinks it is going on), but the summary must not say the previous run
    had the same problem: it had none."""
    assert pipeline.run(sync(70), 9, **PROBLEMS).outputs["posted"] == "true"
    pipeline.echo.fail("create", Fault("status", 403))
    pipeline.run(sync(95), 0, when=at(9, 30), **PROBLEMS)
    pipeline.echo.script["create"].clear()
    again = pipeline.run(sync(70), 10, **PROBLEMS)
    assert again.outputs["reason"] == "reminder-not-due"
    assert "as at the previous run" not in again.summary, again.summary[-400:]


def test_a_watchdog_with_many_missing_workflows_does_not_post_the_same_problem_every_check(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    """60 watched workflows, none of them there: posted at 9:00 | the same at 10:00, within
    remind-every: quiet. The problem's identity must not be cut short in the snapshot, or
    the next check sees new causes (and pings)."""
    watched = "\n".join(f"pipeline-{n:02}.yml: 2h" for n in range(60))
    with fake_actions(Actions(workflows=[])) as actions:
        dog = Watchdog(tmp_path, echo, actions)
        first = dog.check(9, workflows=watched, mention="<!here>")
        assert first.outputs["posted"] == "true", first.log[-500:]
        again = dog.check(10, workflows=watched, mention="<!here>")
        assert again.outputs["reason"] == "reminder-not-due", again.content[:200]


def test_a_watchdog_of_forty_workflows_reads_its_own_snapshot_after_a_day_of_checks(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    """40 watched workflows, none of them there, checked every 30 minutes for a day (remind-every
    4h): the snapshot, its window full, must still be readable by the next check, or each
    check is a first one and posts (with its mention) again."""
    watched = "\n".join(f"pipeline-{n:02}.yml: 2h" for n in range(40))
    with fake_actions(Actions(workflows=[])) as actions:
        dog = Watchdog(tmp_path, echo, actions)
        start = at(0)
        checks = [
            dog.check(0, when=start + timedelta(minutes=30 * n), workflows=watched)
            for n in range(50)
        ]
        unread = [n for n, c in enumerate(checks) if "no trends this run" in c.log.lower()]
        assert unread == [], (
            unread,
            [s for s in checks[unread[0]].log.splitlines() if "trends" in s] if unread else "",
        )
        posted = [n for n, c in enumerate(checks) if c.outputs["posted"] == "true"]
        assert posted == list(range(0, 50, 8)), posted


# -- a weekly pipeline ---------------------------------------------------------------------------


def test_a_weekly_pipeline_hears_back_to_normal_a_week_after_its_problem(
    pipeline: Pipeline,
) -> None:
    """A weekly sync: critical on Jan 8, posted | ok on Jan 15: Back to normal. The composite
    keeps each snapshot 5 days (`retention-days: 5`), so by the next weekly run it has expired
    and the run knows nothing of the problem the channel heard of."""
    told = pipeline.run(sync(70), 0, when=at(9, day=8), **PROBLEMS)
    assert told.outputs["posted"] == "true"
    action = (Path(__file__).parent.parent.parent / "action.yml").read_text()
    days = int(action.split("retention-days:")[1].split()[0])
    for run in pipeline.actions.workflows[0].runs:  # GitHub expires them after `days` days
        for artifact in run.artifacts:
            artifact.expired = days < 7
    back = pipeline.run(sync(95), 0, when=at(9, day=15), **PROBLEMS)
    assert "Back to normal" in back.content, back.outputs


# -- re-runs: the streak's words ------------------------------------------------------------------


def test_a_cancelled_run_re_run_and_failed_is_a_failed_sync_in_the_streak(
    pipeline: Pipeline,
) -> None:
    """9:00 the job fails: posted | 9:30 cancelled | the 9:30 run re-run, it fails | 10:00 ok:
    the re-run took the cancelled attempt's place, so the two problem runs both failed:
    `Back to normal after 2 failed syncs`, not `failed or cancelled`."""
    pipeline.run(sync(95), 9, **{**PROBLEMS, "job-status": "failure"})
    pipeline.run(sync(95), 0, when=at(9, 30), **{**PROBLEMS, "job-status": "cancelled"})
    pipeline.run(
        sync(95),
        0,
        when=at(9, 45),
        attempt=2,
        rerun_of=pipeline.run_id,
        **{**PROBLEMS, "job-status": "failure"},
    )
    back = pipeline.run(sync(95), 10, **PROBLEMS)
    assert "Back to normal after 2 failed syncs" in back.content, back.content[:160]


def test_a_first_run_that_crashes_with_report_auto_gets_its_recovery(pipeline: Pipeline) -> None:
    """No file on the very first run, `report` left at auto: the alert is posted, and the job
    has no report's history to go on with, so it keeps one of its own; the next good run
    (a sync, found by its keys) reads it and says Back to normal."""
    crash = pipeline.run(None, 9, **AUTO)
    assert crash.outputs["posted"] == "true" and crash.outputs["history-artifact"]
    back = pipeline.run(sync(95), 10, **AUTO)
    assert "Back to normal" in back.content, back.outputs
    assert pipeline.run(sync(95), 11, **AUTO).outputs["posted"] == "false"
