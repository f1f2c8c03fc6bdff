"""The run-to-run state through main(): runs in sequence against the fake GitHub API,
each run's snapshot uploaded as the composite does. What the channel hears depends on it: a
broken pipeline is never a quiet run, every run counts once in its own history, trends say what
they show, and on GitHub Enterprise Server history switches itself off."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, zipped
from tests.helpers import (
    Fault,
    ScriptedEcho,
)
from tests.oneshot import example as example_metrics
from tests.oneshot import run as once
from tests.pipeline import NEW_YORK, Heartbeats, Pipeline, sync

PROBLEMS = {"notify-on": "problems"}
MODES = ["always", "problems", "changes"]

# -- a broken pipeline is never a quiet run ---------------------------------------------------

ALL_BAD = {
    "capacity_status": {"current_inventory": "1,342", "max_capacity": "ninety-two"},
    "leads_processed": {"total_attempted": "1,342", "smb_campaign": {"leads_added": "65 leads"}},
    "verification_results": {"total_attempted": "a hundred", "verified_successful": "92!"},
    "errors": [],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("metrics", "said"),
    [
        ({"errors": []}, "None of the sync report's figures"),
        (ALL_BAD, "Every figure of the sync report in the file is bad data"),
    ],
    ids=["no report keys", "only bad data"],
)
def test_no_usable_data_is_a_problem_in_every_mode(
    pipeline: Pipeline, heartbeat: str, mode: str, metrics: dict[str, object], said: str
) -> None:
    inputs = {"notify-on": mode, "report": "sync", "heartbeat-url": heartbeat}
    pipeline.run(sync(92), 8, **inputs)  # a good run first: "changes" has nothing to compare
    step = pipeline.run(metrics, 9, **inputs)
    assert step.outputs["severity"] == "warning" and step.outputs["posted"] == "true"
    assert step.outputs["delivered"] == "true" and said in step.content, step.content
    assert Heartbeats.seen == ["/ping/abc-123"]  # the good run's only


@pytest.mark.parametrize("mode", MODES)
def test_stale_metrics_are_a_problem_in_every_mode(
    pipeline: Pipeline, heartbeat: str, mode: str
) -> None:
    inputs = {"notify-on": mode, "heartbeat-url": heartbeat}
    pipeline.run(sync(92), 8, **inputs)
    now = datetime(2026, 1, 15, 9, 0, tzinfo=NEW_YORK)
    step = pipeline.run(sync(92), 9, when=now - timedelta(days=2), now=now, **inputs)
    assert step.outputs["severity"] == "warning" and step.outputs["posted"] == "true"
    assert "⚠️ These metrics are 2 days old" in step.content
    assert Heartbeats.seen == ["/ping/abc-123"]


@pytest.mark.parametrize(
    "capacity",
    [
        {"current_inventory": 72, "max_capacity": 0},
        {"estimated_capacity_remaining": -72},
    ],
    ids=["max_capacity 0", "only a negative remaining"],
)
def test_over_capacity_is_critical(pipeline: Pipeline, capacity: dict[str, int]) -> None:
    metrics = {**sync(92), "capacity_status": capacity}
    step = pipeline.run(metrics, 9, **PROBLEMS)
    assert step.outputs["severity"] == "critical" and step.outputs["posted"] == "true"
    assert "🔴 Current:" in step.content and "(over capacity by 72)" in step.content


# -- every run counts once, in its own history ------------------------------------------------


def test_a_rerun_sees_its_earlier_attempt_as_the_previous_run(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, **PROBLEMS)
    failed = pipeline.run(sync(92), 9, **{**PROBLEMS, "job-status": "failure"})
    assert failed.outputs["posted"] == "true"
    rerun = pipeline.run(sync(92), 10, attempt=2, **PROBLEMS)
    assert rerun.outputs["posted"] == "true", rerun.log
    assert "✅ Back to normal after 1 failed sync" in rerun.content
    again = pipeline.run(sync(92), 11, **PROBLEMS)  # the re-run's snapshot replaced attempt 1's
    assert again.outputs["posted"] == "false"


def test_two_steps_of_one_kind_in_a_job_never_mix_silently(pipeline: Pipeline) -> None:
    pipeline.run(sync(92, 1300), 8)
    pipeline.run(sync(92, 8000), 8, again=True)  # a second sync step (or leg) in the same job
    first = pipeline.run(sync(92, 1342), 9)
    second = pipeline.run(sync(92, 8100), 9, again=True)
    notices = [line for line in second.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "another step or matrix leg of this run" in notices[0]
    assert "since" not in second.content  # no trend against the other step's figures
    assert first.outputs["delivered"] == second.outputs["delivered"] == "true"


def test_matrix_legs_and_named_steps_keep_their_own_history(pipeline: Pipeline) -> None:
    """action.yml's `history-key` defaults to the leg's matrix values (toJSON(matrix), as the
    runner expands it); a second step of one kind names its own key."""
    smb = json.dumps({"campaign": "smb", "region": "us"}, indent=2)
    midsize = json.dumps({"region": "us", "campaign": "midsize"}, indent=2)
    for hour in (8, 9):
        legs = [
            pipeline.run(sync(92, 1300 + hour), hour, **{"history-key": smb}),
            pipeline.run(sync(92, 8000 + hour), hour, again=True, **{"history-key": midsize}),
            pipeline.run(sync(92, 500 + 2 * hour), hour, again=True, **{"history-key": "backfill"}),
        ]
    assert ["▲ 1 since 8:00 AM" in leg.content for leg in legs] == [True, True, False]
    assert "▲ 2 since 8:00 AM" in legs[2].content
    assert all("::notice" not in leg.log for leg in legs), legs[1].log
    assert len({leg.outputs["history-artifact"] for leg in legs}) == 3
    assert legs[2].outputs["history-artifact"] == "echo-notify-sync-sync-backfill"


def test_a_history_key_that_cannot_name_an_artifact_is_an_input_error(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(92), 8, **{"history-key": "leg one/two"})
    assert step.code == 1 and "history-key" in step.log


def test_a_failed_delivery_still_counts_in_the_streak(pipeline: Pipeline) -> None:
    failure = {"job-status": "failure"}
    pipeline.run(sync(92), 8, **failure)
    pipeline.echo.fail("create", Fault("status", 403))
    lost = pipeline.run(sync(92), 9, **failure)
    assert lost.outputs["delivered"] == "false"
    third = pipeline.run(sync(92), 10, **failure)
    assert "🚨 3rd failed sync in a row (since 8:00 AM)" in third.content
    back = pipeline.run(sync(92), 11)
    assert "✅ Back to normal after 3 failed syncs" in back.content


def test_a_recovery_that_was_not_delivered_is_posted_by_the_next_run(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, **{**PROBLEMS, "job-status": "failure"})
    pipeline.echo.fail("create", Fault("status", 403))
    lost = pipeline.run(sync(92), 9, **PROBLEMS)
    assert lost.outputs["delivered"] == "false"
    next_run = pipeline.run(sync(92), 10, **PROBLEMS)
    assert next_run.outputs["posted"] == "true"
    assert "✅ Back to normal after 1 failed sync" in next_run.content
    then = pipeline.run(sync(92), 11, **PROBLEMS)
    assert then.outputs["posted"] == "false"


def test_a_recovery_that_may_have_been_posted_is_not_posted_again(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, **{**PROBLEMS, "job-status": "failure"})
    pipeline.echo.fail("send", Fault("done", 504))  # Echo posted it; the gateway timed out
    maybe = pipeline.run(sync(92), 9, **PROBLEMS)
    assert maybe.outputs["delivered"] == "false" and "outcome unknown" in maybe.summary
    assert len(pipeline.echo.sends) == 2  # it did reach the channel
    announced = [
        json.loads(unzip(a.data))["announced"]
        for r in pipeline.actions.workflows[0].runs
        for a in r.artifacts
    ]
    assert announced[0] == "maybe"  # the snapshot says so, for whoever reads it
    next_run = pipeline.run(sync(92), 10, **PROBLEMS)
    assert next_run.outputs["posted"] == "false" and next_run.content == ""


def test_a_broken_custom_template_keeps_the_snapshot_and_the_heartbeat(
    pipeline: Pipeline, heartbeat: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.j2"
    broken.write_text("{{ m.capacity_status.current_inventory + 'x' }}")
    inputs = {"template": str(broken), "heartbeat-url": heartbeat, **PROBLEMS}
    step = pipeline.run(sync(92), 9, **{**inputs, "job-status": "failure"})
    assert step.code == 1 and step.outputs["delivered"] == "true"
    assert Heartbeats.seen == ["/ping/abc-123"]
    back = pipeline.run(sync(92), 10, **PROBLEMS)
    assert "✅ Back to normal after 1 failed sync" in back.content


def test_a_deleted_forks_run_is_skipped(pipeline: Pipeline, actions: Actions) -> None:
    pipeline.run(sync(92, 1300), 8)
    gone = Run(1500, [Artifact("echo-notify-sync-sync", zipped("sync.json", b"{}"))])
    gone.head_repository = None  # GitHub's answer once the fork is deleted
    actions.workflows[0].runs.insert(0, gone)
    step = pipeline.run(sync(92, 1342), 9)
    notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
    assert notices == [] and "▲ 42 since 8:00 AM" in step.content


def test_cancelled_runs_are_said_cancelled(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, **{"job-status": "cancelled"})
    second = pipeline.run(sync(92), 9, **{"job-status": "cancelled"})
    assert "🚨 2nd cancelled sync in a row (since 8:00 AM)" in second.content
    back = pipeline.run(sync(92), 10)
    assert "✅ Back to normal after 2 cancelled syncs" in back.content


def test_failed_and_cancelled_runs_in_one_streak(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, **{"job-status": "failure"})
    second = pipeline.run(sync(92), 9, **{"job-status": "cancelled"})
    assert "🚨 2nd failed or cancelled sync in a row (since 8:00 AM)" in second.content
    back = pipeline.run(sync(92), 10)
    assert "✅ Back to normal after 2 failed or cancelled syncs" in back.content


# -- trends that say what they show -----------------------------------------------------------


def test_a_change_smaller_than_shown_has_no_arrow(pipeline: Pipeline) -> None:
    pipeline.run({**sync(92), "verification_results": {"success_rate_percentage": 92.0}}, 8)
    step = pipeline.run({**sync(92), "verification_results": {"success_rate_percentage": 92.04}}, 9)
    assert "• Success: 92.0%\n" in step.content, step.content  # the rate alone: no counts
    moved = pipeline.run(
        {**sync(92), "verification_results": {"success_rate_percentage": 92.06}}, 10
    )
    assert "• Success: 92.1% ▲ 0.1 pts" in moved.content, moved.content


def test_the_time_since_keeps_its_zone_across_the_clock_change(pipeline: Pipeline) -> None:
    edt = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 1:30 AM EDT
    est = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 1:15 AM EST, 45 minutes later
    failure = {"job-status": "failure"}
    pipeline.run(sync(92, 1300), 0, when=edt, **failure)
    step = pipeline.run(sync(92, 1342), 0, when=est, **failure)
    assert "| 1:15 AM EST" in step.content
    assert "▲ 42 since 1:30 AM EDT" in step.content, step.content
    assert "🚨 2nd failed sync in a row (since 1:30 AM EDT)" in step.content


# -- GitHub Enterprise Server -----------------------------------------------------------------


def test_on_ghes_history_switches_itself_off_with_one_notice(
    pipeline: Pipeline, actions: Actions
) -> None:
    ghes = {"GITHUB_SERVER_URL": "https://github.acme.internal"}
    first = pipeline.run(sync(92), 8, env=ghes, **{"job-status": "failure"})
    back = pipeline.run(sync(92), 9, env=ghes)
    for step in (first, back):
        assert step.code == 0 and step.outputs["delivered"] == "true"
        notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
        assert len(notices) == 1 and "GitHub Enterprise Server" in notices[0], notices
    assert not list(pipeline.tmp.glob("run-*/temp/echo-notify/*"))  # nothing to upload
    assert [p for p, _ in actions.seen if "/artifacts" in p] == []
    assert "Back to normal" not in back.content


@pytest.mark.parametrize("server", ["https://github.com", "https://acme.ghe.com"])
def test_where_artifacts_work_history_is_kept(
    pipeline: Pipeline, actions: Actions, server: str
) -> None:
    env = {"GITHUB_SERVER_URL": server}
    pipeline.run(sync(92), 8, env=env, **{"job-status": "failure"})
    back = pipeline.run(sync(92), 9, env=env)
    assert "✅ Back to normal after 1 failed sync" in back.content


def test_a_successful_step_without_a_file_is_a_warning_not_a_failure(pipeline: Pipeline) -> None:
    """The no-metrics alert of a job that succeeded: ⚠️, never the 🚨 of a failed job."""
    step = pipeline.run(None, 8, report="sync")
    assert step.outputs["severity"] == "warning" and step.outputs["report"] == "unknown"
    assert step.content.startswith("⚠️") and "🚨" not in step.content
    again = pipeline.run(None, 9, report="sync")
    assert "2nd sync with problems in a row" in again.content, again.content  # not "failed"

    # -- two steps of one kind under one name ----------------------------------------------------


def test_a_colliding_second_step_does_not_overwrite_the_first_steps_history(
    pipeline: Pipeline,
) -> None:
    """The second step of one kind under the same name says so and shows no trends, but it
    still keeps its snapshot under the same name (upload overwrite: true), so on the next run
    the FIRST step compares with the SECOND step's figures, with no notice at all."""
    pipeline.run(sync(92, 1300), 8)
    pipeline.run(sync(92, 8000), 8, again=True)  # same job, same kind, same (default) key
    first = pipeline.run(sync(92, 1342), 9)
    assert "::notice" not in first.log
    # first's own previous value was 1,300: a trend against 8,000 is the other step's history
    assert "8,000" not in first.content and "▼" not in first.content, first.content


def test_the_collision_notice_names_the_input_that_fixes_it(pipeline: Pipeline) -> None:
    """history-key exists for exactly this case (README: "give each its own history-key"), but
    the notice still says "give each report step its own job, or set `history: false`"."""
    pipeline.run(sync(92, 1300), 8)
    second = pipeline.run(sync(92, 8000), 8, again=True)
    notices = [line for line in second.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "history-key" in notices[0], notices


# -- single runs that once went wrong ------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "zone"),
    [
        ("9999-12-31T23:00:00+00:00", "Asia/Tokyo"),
        ("0001-01-01T00:00:00+00:00", "America/New_York"),
    ],
)
def test_snapshot_at_the_end_of_the_calendar_only_loses_the_trends(
    tmp_path: Path, echo: ScriptedEcho, when: str, zone: str
) -> None:
    """Snapshot.parse accepts any aware time; report._since then converts it to the
    `timezone` and overflows: the whole report fails with "Unexpected internal error" instead
    of "no trends this run" (docs/history-and-trends.md: any failure: no trends, one notice,
    nothing else changes). The same holds for streak.since. Fix: range-check times in
    Snapshot.parse."""
    with fake_actions() as actions:
        snapshot = {
            "version": 1,
            "report": "sync",
            "time": when,
            "run_id": "999",
            "attempt": 1,
            "severity": "warning",
            "failed": False,
            "levels": {"capacity": "ok"},
            "figures": {"inventory": 1300},
            "streak": {"count": 1, "since": when, "failed": False},
        }
        artifact = Artifact(
            "echo-notify-sync-sync", zipped("sync.json", json.dumps(snapshot).encode())
        )
        actions.workflows[0].runs.insert(0, Run(999, [artifact]))
        step = Pipeline(tmp_path, echo, actions).run(sync(92), 13, timezone=zone)
    assert "Unexpected internal error" not in step.log
    assert step.outputs["delivered"] == "true"


def test_snapshot_write_failure_after_delivery_is_not_an_internal_error(
    echo: ScriptedEcho, workspace: Path, files: Path, tmp_path: Path
) -> None:
    """history.write() runs after the report was delivered and is not guarded: a RUNNER_TEMP
    that cannot take the file (full disk, read-only, not a directory) ends in "Unexpected
    internal error (NotADirectoryError); report it.", exit 1 with fail-on-error although the
    report is in the channel, and the heartbeat is never sent. Any history
    failure means no trends, one notice, nothing else changes; after a delivery
    a write failure is a warning and never a reason to fail."""
    temp = tmp_path / "not-a-directory"
    temp.write_text("")
    # The look-up finds no earlier snapshot (a first run), so this run keeps one: the write.
    with fake_actions(Actions(workflows=[Workflow(runs=[Run(123456)])])) as actions:
        step = once(
            echo,
            workspace,
            files,
            example_metrics("sync.json"),
            extra={"RUNNER_TEMP": str(temp), "GITHUB_API_URL": actions.api},
            fail_on_error="true",
        )
    assert step.outputs["delivered"] == "true"
    assert "Unexpected internal error" not in step.log
    assert step.code == 0
    assert "the next run will have no trends. Nothing else changed." in step.log


def test_a_dripping_artifact_download_cannot_hold_the_report(
    tmp_path: Path, echo: ScriptedEcho, monkeypatch: pytest.MonkeyPatch
) -> None:
    """history.LOOKUP_BUDGET (15 s, "the report must not wait on history") is checked only
    between runs: the artifact download itself reads with a 10 s timeout per chunk, so a
    storage host that trickles holds the report (here 20 s with the budget at 2 s; up to 1 MB
    of trickle in general). Fix: check the deadline inside the download loop."""
    import tests.fake_github as fake  # noqa: PLC0415

    def trickle(self: BaseHTTPRequestHandler) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(20):
            time.sleep(1)
            try:
                self.wfile.write(b"P")
                self.wfile.flush()
            except OSError:
                return

    monkeypatch.setattr(fake.StorageHandler, "do_GET", trickle)
    monkeypatch.setattr("echo_notify.history.LOOKUP_BUDGET", 2.0)
    with fake_actions() as actions:
        actions.workflows[0].runs.insert(
            0, Run(999, [Artifact("echo-notify-sync-sync", zipped("sync.json", b"{}"))])
        )
        started = time.monotonic()
        step = Pipeline(tmp_path, echo, actions).run(sync(92), 13)
        took = time.monotonic() - started
    assert step.outputs["delivered"] == "true"
    assert took < 8, f"the look-up held the report {took:.0f} s"


def unzip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(archive.namelist()[0])
