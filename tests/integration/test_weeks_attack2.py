"""Second hostile review of the long memory through ``main()``: sequences around a failed
look-up (a `blind` snapshot), the digests that read the snapshots, re-runs and stale files.
Each test is a defect, failing until it is fixed."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.ledger import Ledger
from echo_notify.state import Snapshot
from tests.fake_github import Actions, fake_actions
from tests.helpers import ScriptedEcho, running
from tests.integration.test_weeks import sync_at
from tests.integration.test_weeks_attack import runs_known
from tests.pipeline import (
    NEW_YORK,
    PIPELINES,
    WEEKLY_MORNING,
    Pipeline,
    Watchdog,
    seed_history,
    sync,
    three_workflows,
    weeks_of_pipelines,
)

HALF = timedelta(minutes=30)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with fake_actions() as actions, running(ScriptedEcho()) as echo:
        assert isinstance(echo, ScriptedEcho)
        yield Pipeline(tmp_path, echo, actions)


def snapshots(pipeline: Pipeline, name: str = "sync") -> list[Snapshot]:
    """Every snapshot kept, newest first by upload time."""
    found = [
        (a.created_at, zipfile.ZipFile(io.BytesIO(a.data)))
        for r in pipeline.actions.workflows[0].runs
        for a in r.artifacts
    ]
    found.sort(key=lambda f: f[0], reverse=True)
    out = []
    for _, archive in found:
        (member,) = archive.namelist()
        kind = member.removesuffix(".json")
        out.append(Snapshot.parse(archive.read(member), kind))
    return out


def memory(snapshot: Snapshot) -> Ledger:
    return snapshot.ledger.add(snapshot.runs, snapshot.time)


def weekly_lines(dog: Watchdog) -> list[str]:
    sent = [
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and "Weekly digest" in r["body"]
    ]
    assert sent, "no weekly digest"
    return sent[-1].splitlines()


def test_the_weekly_digest_reads_a_blind_snapshot_as_the_whole_history(tmp_path: Path) -> None:
    """Three weeks of syncs, then (half an hour before Monday's weekly digest) one critical
    sync whose look-up failed (HTTP 500): it keeps a `blind` snapshot, its window its own run,
    its memory empty. The reports join it to the snapshot before it (history._newest), but the
    watchdog's digest reads the newest snapshot of each name as it is (digest._read): the
    weekly digest says the sync ran once this week, with nothing to compare with last week,
    where it ran 85 times. One transient API error on the sync's side costs the week's
    digest its sync."""
    with (
        running(ScriptedEcho()) as echo,
        fake_actions(Actions(workflows=three_workflows())) as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        weeks_of_pipelines(actions)
        pipeline = Pipeline(tmp_path / "p", echo, actions)
        actions.status = 500
        blind = pipeline.run(sync(50), 0, when=WEEKLY_MORNING - HALF)
        actions.status = 200
        assert blind.outputs["severity"] == "critical" and blind.outputs["history-artifact"]
        dog = Watchdog(tmp_path / "w", echo, actions)
        done = dog.check(
            0, when=WEEKLY_MORNING, workflows=PIPELINES, **{"digest-weekly": "Mon 09:00"}
        )
        assert done.code == 0, done.log
        sync_line = next(line for line in weekly_lines(dog) if line.startswith("• Sync"))
        assert "85 runs" in sync_line and "last week 84 runs" in sync_line, sync_line


def test_the_daily_digest_reads_a_blind_snapshot_as_the_whole_day(tmp_path: Path) -> None:
    """A day of half-hourly syncs, then one critical sync whose look-up failed: its `blind`
    snapshot is the newest, and the watchdog's daily digest (digest.day reads the window as
    it is) says the sync ran once in the last 24 hours ('history holds less than the day')
    where it ran 47 times (its window holds 48 runs)."""
    with (
        running(ScriptedEcho()) as echo,
        fake_actions(Actions(workflows=three_workflows())) as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        pipeline = Pipeline(tmp_path / "p", echo, actions)
        start = WEEKLY_MORNING - timedelta(hours=24)
        for n in range(47):
            pipeline.run(sync(96), 0, when=start + n * HALF)
        actions.status = 500
        blind = pipeline.run(sync(50), 0, when=start + 47 * HALF)
        actions.status = 200
        assert blind.outputs["history-artifact"]
        dog = Watchdog(tmp_path / "w", echo, actions)
        done = dog.check(0, when=WEEKLY_MORNING, workflows=PIPELINES, **{"digest-at": "09:00"})
        assert done.code == 0, done.log
        digest = [
            json.loads(r["body"])["content"]
            for r in echo.store.requests
            if r["path"] == "/api/v1/messages" and "igest" in r["body"]
        ][-1]
        line = next(x for x in digest.splitlines() if "Sync" in x and "run" in x)
        assert "47 runs" in line, digest


def test_a_blind_crash_with_report_auto_forgets_the_weeks(pipeline: Pipeline) -> None:
    """`report: auto`, two weeks of syncs, then a run whose pipeline crashed before writing
    its file while the API failed: it cannot know its report, so it keeps a blind `auto`
    snapshot (it told the channel of the crash). The next sync reads it as the newest; the
    look-up joins a blind snapshot only to one of its own kind (history._newest: `before.kind
    == snapshot.kind`), so the `auto` one is taken alone and the two weeks are gone: no week
    over week, no usual band, for six weeks. The `auto` snapshot exists precisely to go on
    with whichever report the job kept last."""
    end = datetime(2026, 1, 19, 8, 0, tzinfo=NEW_YORK)
    known = seed_history(pipeline.actions, end, 14)
    ok = pipeline.run(sync(96), 0, when=end + timedelta(hours=2), report="auto")
    assert ok.code == 0 and runs_known(snapshots(pipeline)[0]) == known + 1
    pipeline.actions.status = 500
    crash = pipeline.run(None, 0, when=end + timedelta(hours=4), report="auto")
    pipeline.actions.status = 200
    assert crash.outputs["history-artifact"].endswith("-auto"), crash.outputs
    pipeline.run(sync(96), 0, when=end + timedelta(hours=6), report="auto")
    newest = snapshots(pipeline)[0]
    assert newest.kind == "sync"
    assert runs_known(newest) >= known + 1, f"{runs_known(newest)} runs known of {known + 3}"


def test_a_stale_file_read_again_by_a_blind_run_counts_twice(pipeline: Pipeline) -> None:
    """The 9:00 AM sync reads a file with a critical verification and 120 leads added; the
    9:30 run reads the same file again (the pipeline wrote no new one) while the API fails:
    it is critical, tells the channel and keeps a blind snapshot. Alone, it cannot know the
    file was read already (state.counted has no previous), so its point is `counted`; the
    next run joins it to the 9:00 snapshot (state.resumed) and the window holds the file
    twice, under two runs. The 9 AM hour adds up 2 runs and 240 leads added where one file
    said 120: next Monday's `📅 Leads added today … vs last Mon` and the weekly digest's
    total count those leads twice. Without the failed look-up, it counts once."""
    nine = datetime(2026, 1, 5, 9, 0, tzinfo=NEW_YORK)
    data = sync_at(nine, 50.0, 120)
    pipeline.run(data, 0, when=nine, timestamp=nine.isoformat())
    pipeline.actions.status = 500
    again = pipeline.run(data, 0, when=nine + HALF, timestamp=nine.isoformat())
    pipeline.actions.status = 200
    assert again.outputs["history-artifact"], "no blind snapshot kept"
    pipeline.run(sync_at(nine, 96.0, 120), 0, when=nine + 2 * HALF)
    hour = memory(snapshots(pipeline)[0]).hours[nine.astimezone(NEW_YORK).replace(minute=0)]
    assert hour.total("added") == 120, f"{hour.runs} runs, {hour.total('added')} leads added"


def test_the_daily_digest_adds_a_stale_file_read_again_up_again(tmp_path: Path) -> None:
    """The pipeline stops writing its file after 9:00 AM: the 9:30 and 10:00 syncs read the
    same file (120 leads added). The memory counts it once (state.counted: shown, not added
    up again), and each report's `📅 Leads added today` leaves it out, but the watchdog's
    daily digest adds up every run of the window (digest.day: `added` over all runs, `counted`
    ignored): '360 leads added' where the pipeline added 120, and the weekly digest (the
    memory) will say 120 for the same day."""
    with (
        running(ScriptedEcho()) as echo,
        fake_actions(Actions(workflows=three_workflows())) as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        pipeline = Pipeline(tmp_path / "p", echo, actions)
        nine = WEEKLY_MORNING - timedelta(hours=3)
        data = sync_at(nine, 96.0, 120)
        for n in range(3):
            pipeline.run(data, 0, when=nine + n * HALF, timestamp=nine.isoformat())
        dog = Watchdog(tmp_path / "w", echo, actions)
        done = dog.check(0, when=WEEKLY_MORNING, workflows=PIPELINES, **{"digest-at": "09:00"})
        assert done.code == 0, done.log
        digest = [
            json.loads(r["body"])["content"]
            for r in echo.store.requests
            if r["path"] == "/api/v1/messages" and "igest" in r["body"]
        ][-1]
        assert "120 leads added" in digest, digest


def test_a_blind_run_reading_an_old_file_drops_days_of_memory(pipeline: Pipeline) -> None:
    """Two weeks of two-hourly syncs, then a run that reads a file six days old (the pipeline
    stopped writing it; stale: a warning, told) while the API fails: a blind snapshot whose
    time is its file's. The next look-up joins it to the snapshot before it, and
    state.resumed adds up the memory as of the blind snapshot's `time` (the file's, six days
    back, not the run's clock): Ledger.add keeps no hour more than a day after it, so every
    hour of the memory from five days ago to the window's start is dropped, and the run that
    left the window with them. A day of runs vanishes from `📅 … vs last week` and the
    weekly digest."""
    end = datetime(2026, 1, 19, 8, 0, tzinfo=NEW_YORK)
    known = seed_history(pipeline.actions, end, 14)
    assert pipeline.run(sync(96), 0, when=end + timedelta(hours=2)).code == 0
    pipeline.actions.status = 500
    old = (end - timedelta(days=6)).isoformat()
    blind = pipeline.run(sync(96), 0, when=end + timedelta(hours=4), timestamp=old)
    pipeline.actions.status = 200
    assert blind.outputs["severity"] == "warning" and blind.outputs["history-artifact"]
    pipeline.run(sync(96), 0, when=end + timedelta(hours=6))
    assert runs_known(snapshots(pipeline)[0]) == known + 3
