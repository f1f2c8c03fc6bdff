"""The rolling window through main(): runs in sequence against the fake GitHub API,
each run's snapshot uploaded as the composite does; the window is carried run to run, capped,
kept per report and leg, and an old snapshot without one reads as a window of one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.fake_github import Artifact, zipped
from tests.helpers import EXAMPLES, GOLDEN, mermaid_charts, mermaid_parse, needs_mermaid
from tests.pipeline import NEW_YORK, Pipeline, Step, sync


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
    assert set(window[0]) == {
        "time",
        "severity",
        "failed",
        "figures",
        "levels",
        "run",
        "cancelled",
    }  # no texts


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


# -- in the channel ---------------------------------------------------------------------------

DAY = [95, 94, 93, None, 88, 84, 79, 86, 92, 93]  # None: the file had no verification figures


def a_day(pipeline: Pipeline, **inputs: str) -> list[Step]:
    steps = []
    for hour, verified in enumerate(DAY, start=8):
        metrics = sync(verified if verified is not None else 0)
        if verified is None:
            metrics["verification_results"] = {}
        steps.append(pipeline.run(metrics, hour, **inputs))
    return steps


def golden(name: str, actual: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(actual)
    assert actual == path.read_text()


def test_the_first_run_has_no_sparkline(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(92), 8)
    assert "📈 Verification" not in step.content and "had problems" not in step.content


def test_a_day_of_syncs_has_a_sparkline_and_a_day_line(
    pipeline: Pipeline, request: pytest.FixtureRequest
) -> None:
    steps = a_day(pipeline)
    second = steps[1].content.splitlines()
    assert "📈 Verification, last 2 runs: ▅▄ 94.0%" in second, second
    last = steps[-1].content
    assert "📈 Verification, last 10 runs: ██▇·▅▃▁▄▇▇ 93.0%" in last.splitlines(), last
    assert "4 of the last 10 syncs had problems (longest: 4 h)" in last.splitlines()
    golden("trend-sync.slack.txt", last, request)


def test_drains_and_polls_show_their_own_key_figure(
    pipeline: Pipeline, request: pytest.FixtureRequest
) -> None:
    drain = json.loads((EXAMPLES / "drain.json").read_text())
    poll = json.loads((EXAMPLES / "poll.json").read_text())
    for hour, (rate, invalid) in enumerate([(97.6, 8), (91.0, 20), (99.0, None), (97.0, 30)], 8):
        drain["deletion_results"] = {"success_rate_percentage": rate}
        drained = pipeline.run(drain, hour, report="drain")
        poll["status_breakdown"] = {**poll["status_breakdown"], "invalid": invalid}
        polled = pipeline.run(poll, hour, again=True, report="poll", format="markdown")
    assert "📈 Deletion success, last 4 runs: ▆▂▇▆ 97.0%" in drained.content.splitlines()
    assert "1 of the last 4 drains had problems (longest: 1 h)" in drained.content.splitlines()
    assert "📈 Invalid share, last 4 runs:" in polled.content
    assert "2 of the last 4 verification polls had problems" in polled.content
    golden("trend-drain.slack.txt", drained.content, request)
    golden("trend-poll.markdown.txt", polled.content, request)


# -- in the job summary -----------------------------------------------------------------------


def test_the_summary_leads_with_an_alert_block_by_severity(
    pipeline: Pipeline, request: pytest.FixtureRequest
) -> None:
    ok = pipeline.run(sync(95), 8)
    warning = pipeline.run(sync(88), 9)
    critical = pipeline.run(sync(79, 23000), 10, **{"job-status": "failure"})
    assert "[!" not in ok.summary
    assert warning.summary.startswith("> [!WARNING]  \n"), warning.summary
    assert "> - Verification success 88.0% is below 90.0% (warning)" in warning.summary
    assert critical.summary.startswith("> [!CAUTION]  \n"), critical.summary
    for reason in (
        "> - The job failed",
        "> - Verification success 79.0% is below 80.0% (critical)",
        "> - Capacity 95.8% is at or above 90.0% (critical)",
    ):
        assert reason in [line.rstrip() for line in critical.summary.splitlines()], reason
    assert critical.summary.index("[!CAUTION]") < critical.summary.index("Cold Email Sync")
    golden("trend-sync-critical.summary.md", critical.summary, request)


def test_the_summary_has_a_table_of_the_gauges_and_a_chart_of_the_window(
    pipeline: Pipeline, request: pytest.FixtureRequest
) -> None:
    steps = a_day(pipeline, thresholds="verification: 85/75")
    summary = steps[-1].summary
    row = "| Verification success | 93.0% | ✅ ok | ▲ 1.0 pts | below 85.0% / below 75.0% |"
    assert row in (summary.replace("  \n", "\n").splitlines()), summary
    assert "```mermaid" in summary and "xychart-beta" in summary
    golden("trend-sync.summary.md", summary, request)
    assert "```mermaid" not in pipeline.run(sync(92), 8, again=True, **{"history-key": "x"}).summary


def test_the_no_metrics_alert_says_why_in_the_summary(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, report="sync")
    step = pipeline.run(None, 9, report="sync", **{"job-status": "failure"})
    lines = [line.rstrip() for line in step.summary.splitlines()]
    assert lines[:4] == [
        "> [!CAUTION]",
        "> **Critical**: this run needs attention now.",
        "> - The job failed",
        "> - No metrics to report: the file m.json was not written",
    ], lines
    assert "| Gauge |" not in step.summary and "mermaid" not in step.summary
    assert len(kept(pipeline)["window"]) == 2  # the crash counts in the window


@needs_mermaid
def test_the_summary_chart_parses_with_mermaid(pipeline: Pipeline) -> None:
    charts = [chart for step in a_day(pipeline)[1:] for chart in mermaid_charts(step.summary)]
    assert len(charts) == len(DAY) - 1
    broken = 'xychart-beta\n  x-axis ["08:00" "09:00"]\n  line [1.0, 2.0]'  # no comma
    done = mermaid_parse(charts)
    assert done.returncode == 0 and done.stdout.split() == ["xychart"] * len(charts), done.stderr
    refused = mermaid_parse([broken])
    assert refused.returncode != 0 and "Parse error" in refused.stderr
