"""The rolling window (issue 18) through main(): runs in sequence against the fake GitHub API,
each run's snapshot uploaded as the composite does; the window is carried run to run, capped,
kept per report and leg, and an old snapshot without one reads as a window of one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests.fake_github import Artifact, zipped
from tests.pipeline import NEW_YORK, Pipeline, sync


def kept(pipeline: Pipeline) -> dict[str, Any]:
    """The snapshot the latest run left for the composite to upload."""
    runs = sorted(pipeline.tmp.glob("run-*"), key=lambda p: p.stat().st_mtime_ns)
    (path,) = (runs[-1] / "temp" / "echo-notify").glob("*/*.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_the_window_is_carried_run_to_run(pipeline: Pipeline) -> None:
    for hour, verified in ((8, 92), (9, 85), (10, 70)):
        pipeline.run(sync(verified), hour, **({"job-status": "failure"} if hour == 10 else {}))
    window = kept(pipeline)["window"]
    assert [point["figures"]["verification"] for point in window] == [92.0, 85.0, 70.0]
    assert [point["severity"] for point in window] == ["ok", "warning", "critical"]
    assert [point["failed"] for point in window] == [False, False, True]
    assert window[0]["time"] == "2026-01-15T08:00:00-05:00"
    assert window[2]["levels"]["verification"] == "critical"
    assert set(window[0]) == {"time", "severity", "failed", "figures", "levels"}  # no texts


def test_the_window_is_capped_at_48_runs(pipeline: Pipeline) -> None:
    start = datetime(2026, 1, 14, 0, 0, tzinfo=NEW_YORK)
    for run in range(50):
        pipeline.run(sync(80 + run % 20), 0, when=start + timedelta(minutes=30 * run))
    snapshot = kept(pipeline)
    window = snapshot["window"]
    assert len(window) == 48
    assert window[0]["figures"]["verification"] == 82.0  # runs 0 and 1 dropped out
    assert window[-1]["time"] == snapshot["time"]
    assert len(json.dumps(snapshot)) < 32 * 1024  # well within what a snapshot may be


def test_an_old_snapshot_without_a_window_reads_as_a_window_of_one(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8)
    old = kept(pipeline)
    del old["window"]  # as every release before the window wrote it
    run = pipeline.actions.workflows[0].runs[0]
    name = run.artifacts[0].name
    run.artifacts = [Artifact(name, zipped("sync.json", json.dumps(old).encode()))]
    step = pipeline.run(sync(85), 9)
    assert "::notice" not in step.log, step.log
    window = kept(pipeline)["window"]
    assert [point["figures"]["verification"] for point in window] == [92.0, 85.0]


def test_each_leg_keeps_its_own_window(pipeline: Pipeline) -> None:
    for hour in (8, 9, 10):
        pipeline.run(sync(90), hour, **{"history-key": "smb"})
        pipeline.run(sync(60), hour, again=True, **{"history-key": "midsize"})
    folders = sorted(pipeline.tmp.glob("run-*"), key=lambda p: p.stat().st_mtime_ns)[-2:]
    windows = {
        path.parent.name: json.loads(path.read_text())["window"]
        for folder in folders
        for path in (folder / "temp" / "echo-notify").glob("*/*.json")
    }
    assert {k: [p["figures"]["verification"] for p in v] for k, v in windows.items()} == {
        "echo-notify-sync-sync-smb": [90.0] * 3,
        "echo-notify-sync-sync-midsize": [60.0] * 3,
    }
