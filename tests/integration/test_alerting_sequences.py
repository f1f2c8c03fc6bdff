"""Sequences of runs through main() that once fooled the alerting policy: each plays real runs
(the fake GitHub API carrying each snapshot, Echo on loopback) and checks what the channel heard.
The policy's promises as a class are checked in test_alerting_properties.py."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta

import pytest

from tests.pipeline import NEW_YORK, Pipeline, Step, sync

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
