"""Attacks on the long memory through ``main()``: sequences of runs (re-runs, stale files, a
failed look-up, crashes) carried by the fake GitHub API from run to run. Each test is a defect
found by a hostile review, failing until it is fixed."""

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
    """Two weeks of memory, then one run whose look-up fails (an HTTP 500 from the API) and
    that has a problem: it keeps its snapshot (posting.Recalled.keeps: it told the channel of
    a problem), with a window of one and an empty ledger (state.archived: no previous, no
    memory). The next run reads that snapshot as the newest: the two weeks are gone; the
    week-over-week lines and the usual bands vanish for the next weeks. One transient API
    error costs six weeks of memory (the window's day used to be all it cost)."""
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
    """49 half-hourly syncs (the first has left the 48-run window for the long memory), then
    a re-run (attempt 2) of that first run, its file written now. The docs promise a re-run
    takes its run's place and counts once; the memory counts the run twice: the first
    attempt in the ledger at 0:00 (state.remembered and state.archived only drop an earlier
    attempt the window holds) and the re-run in the window now. Its leads are added to two
    days' totals (`📅 Leads added today`), its runs to the weekly digest's count."""
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
    """The pipeline stops writing its file at 9:00 AM (a self-hosted runner keeps the old
    one): the 9:30 and 10:00 runs read the same file, stamped 9:00, and each adds it to the
    memory at 9:00 AM again: the 9 AM hour counts 3 runs and 360 leads added where one file
    said 120, so next week's `📅 Leads added today … vs last Mon to this hour` and the weekly
    digest's total count those leads three times (and the hour's run count)."""
    nine = datetime(2026, 1, 5, 9, 0, tzinfo=NEW_YORK)
    data = sync_at(nine, 96.0, 120)
    for minutes in (0, 30, 60):
        pipeline.run(data, 0, when=nine + timedelta(minutes=minutes), timestamp=nine.isoformat())
    pipeline.run(sync_at(nine, 96.0, 120), 0, when=nine + timedelta(minutes=90))
    hour = memory(newest(pipeline)).hours[hour_of(nine)]
    assert hour.total("added") == 120, f"{hour.runs} runs, {hour.total('added')} leads added"
