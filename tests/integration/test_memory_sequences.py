"""The long memory through ``main()`` over sequences of runs (re-runs, stale files, a failed
look-up, crashes) carried by the fake GitHub API from run to run: each run counted once."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.ledger import Ledger, hour_of
from echo_notify.state import Snapshot
from tests.fake_github import fake_actions
from tests.helpers import ScriptedEcho, running
from tests.integration.test_weeks import sync_at
from tests.pipeline import NEW_YORK, Pipeline, seed_history, sync

START = datetime(2026, 1, 5, 0, 0, tzinfo=NEW_YORK)  # a Monday
HALF = timedelta(minutes=30)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with fake_actions() as actions, running(ScriptedEcho()) as echo:
        assert isinstance(echo, ScriptedEcho)
        yield Pipeline(tmp_path, echo, actions)


def newest(pipeline: Pipeline) -> Snapshot:
    """The snapshot the next run reads: the one kept last, whichever run kept it."""
    artifacts = [a for r in pipeline.actions.workflows[0].runs for a in r.artifacts]
    last = max(artifacts, key=lambda a: a.created_at)
    return Snapshot.parse(zipfile.ZipFile(io.BytesIO(last.data)).read("sync.json"), "sync")


def memory(snapshot: Snapshot) -> Ledger:
    """Every run the snapshot knows, by the hour: its long memory and its window."""
    return snapshot.ledger.add(snapshot.runs, snapshot.time)


def runs_known(snapshot: Snapshot) -> int:
    return sum(hour.runs for hour in memory(snapshot).hours.values())


def test_a_failed_look_up_on_a_problem_run_does_not_forget_the_weeks(
    pipeline: Pipeline,
) -> None:
    """Two weeks of memory, then a problem run whose look-up fails (HTTP 500): it keeps a `blind`
    snapshot (it told the channel), its window its own run and its memory empty; the next run
    joins it to the snapshot kept before it, so the weeks go on (one API error used to cost
    the whole memory)."""
    end = datetime(2026, 1, 19, 8, 0, tzinfo=NEW_YORK)
    known = seed_history(pipeline.actions, end, 14)
    assert pipeline.run(sync(96), 0, when=end + timedelta(hours=2)).code == 0
    assert runs_known(newest(pipeline)) == known + 1
    pipeline.actions.status = 500
    failed = pipeline.run(sync(50), 0, when=end + timedelta(hours=4))
    assert failed.outputs["severity"] == "critical" and failed.content
    pipeline.actions.status = 200
    pipeline.run(sync(96), 0, when=end + timedelta(hours=6))
    assert runs_known(newest(pipeline)) >= known + 1, "the memory was lost"


def test_a_re_run_of_a_run_the_window_no_longer_holds_counts_once(pipeline: Pipeline) -> None:
    """49 half-hourly syncs (the first has left the window for the long memory), then a re-run
    of that first run: the memory has it already, so the re-run is shown but not added up
    again (`Point.counted`): its leads are not in two days' totals."""
    moment = START
    for _ in range(49):
        assert pipeline.run(sync_at(moment, None, None), 0, when=moment).code == 0
        moment += HALF
    first = 1001
    assert runs_known(newest(pipeline)) == 49
    step = pipeline.run(sync_at(moment, None, None), 0, attempt=2, rerun_of=first, when=moment)
    assert step.code == 0
    assert runs_known(newest(pipeline)) == 49, "the re-run counted twice"


def test_the_same_stale_file_read_again_is_not_counted_again(pipeline: Pipeline) -> None:
    """The pipeline stops writing its file at 9:00 AM: the 9:30 and 10:00 runs read the same file,
    stamped 9:00. The 9 AM hour counts it once: 120 leads added, not 360."""
    nine = datetime(2026, 1, 5, 9, 0, tzinfo=NEW_YORK)
    data = sync_at(nine, 96.0, 120)
    for minutes in (0, 30, 60):
        pipeline.run(data, 0, when=nine + timedelta(minutes=minutes), timestamp=nine.isoformat())
    pipeline.run(sync_at(nine, 96.0, 120), 0, when=nine + timedelta(minutes=90))
    hour = memory(newest(pipeline)).hours[hour_of(nine)]
    assert hour.total("added") == 120, f"{hour.runs} runs, {hour.total('added')} leads added"
