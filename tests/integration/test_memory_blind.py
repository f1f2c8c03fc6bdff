"""Sequences around a failed look-up (a `blind` snapshot) through ``main()``: the reports and
the digests that read the snapshots join it to the one before, and count each run once."""

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
from tests.integration.test_memory_sequences import runs_known
from tests.integration.test_weeks import sync_at
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


def test_the_weekly_digest_joins_a_blind_snapshot_to_the_weeks_before(tmp_path: Path) -> None:
    """Three weeks of syncs, then half an hour before Monday's weekly digest one critical sync
    whose look-up failed (HTTP 500) keeps a `blind` snapshot: the digest joins it to the one
    kept before it, as a report's look-up does, and counts the week's 85 runs, not one."""
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


def test_the_daily_digest_joins_a_blind_snapshot_to_the_day_before(tmp_path: Path) -> None:
    """A day of half-hourly syncs, then a critical sync whose look-up failed: the daily digest
    joins its `blind` snapshot to the one before and counts the day's runs, not one."""
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


def test_a_blind_crash_with_report_auto_keeps_the_weeks(pipeline: Pipeline) -> None:
    """`report: auto`: a run crashes before writing its file while the API fails, and keeps a
    blind `auto` snapshot (it told the channel of the crash). The next sync joins it to the
    sync's snapshot before it: the weeks of memory go on."""
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


def test_a_stale_file_read_again_by_a_blind_run_counts_once(pipeline: Pipeline) -> None:
    """The 9:00 sync reads a file; the 9:30 run reads the same file again while the API fails (a
    blind snapshot). Joined to the 9:00 snapshot, the blind run's point is not counted again:
    the 9 AM hour holds one run's 120 leads."""
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


def test_the_daily_digest_adds_a_stale_file_read_again_once(tmp_path: Path) -> None:
    """The 9:30 and 10:00 syncs read the 9:00 file again: the daily digest adds its 120 leads
    once, as the memory and each report's day total do."""
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


def test_a_blind_run_reading_an_old_file_keeps_the_memory(pipeline: Pipeline) -> None:
    """A run reads a file six days old (stale: a warning, told) while the API fails: its blind
    snapshot's time is its file's. Joined to the snapshot before it, the memory is kept by the
    run's clock, not the file's date: no day of it is dropped."""
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
