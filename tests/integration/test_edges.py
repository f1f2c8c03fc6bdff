"""Trust at the edges, through main() as the runner runs the action, delivered to a local Echo:
a gauge that cannot be judged, rates past 100 %, the summary's chart, invisible text and
shortcodes from data, fork runs in the watchdog and the digest (the fake GitHub API stands in
for GitHub's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_github import Actions, Run, Workflow, fake_actions
from tests.helpers import EXAMPLES, ScriptedEcho
from tests.integration.test_schedule import EVERY_2H, EVERY_30, at, every, utc
from tests.pipeline import (
    DIGEST_MORNING,
    NEW_YORK,
    PIPELINES,
    Pipeline,
    Watchdog,
    a_day_of_pipelines,
    three_workflows,
)


def sample(name: str = "sync.json") -> dict[str, object]:
    return json.loads((EXAMPLES / name).read_text())  # type: ignore[no-any-return]


# -- a gauge written as bad data ---------------------------------------------------------------


def test_a_gauge_that_cannot_be_judged_is_a_warning_that_names_its_field(
    pipeline: Pipeline,
) -> None:
    metrics = sample()
    metrics["capacity_status"] = {"current_inventory": "1,342", "max_capacity": 24000}
    metrics["verification_results"] = {"total_attempted": 100, "verified_successful": "ninety-two"}
    step = pipeline.run(metrics, 9, **{"notify-on": "problems"})
    assert step.outputs["severity"] == "warning" and step.outputs["posted"] == "true"
    for field in ("capacity_status.current_inventory", "verification_results.verified_successful"):
        assert field in step.content and field in step.summary, field
    assert "Capacity cannot be judged" in step.content
    assert "Verification success cannot be judged" in step.summary


def test_a_gauge_known_despite_a_bad_field_is_judged(pipeline: Pipeline) -> None:
    metrics = sample()  # the stated rate fills in for a bad count
    metrics["capacity_status"] = {"current_inventory": "1,342", "utilization_percentage": 5.6}
    step = pipeline.run(metrics, 9, **{"notify-on": "problems"})
    assert step.outputs["severity"] == "ok" and step.outputs["posted"] == "false", step.log


@pytest.mark.parametrize("rate", [150, 1e14, -3, 100.01])
def test_a_rate_past_100_percent_is_bad_data(pipeline: Pipeline, rate: float) -> None:
    metrics = sample()
    metrics["verification_results"] = {"success_rate_percentage": rate}
    metrics["performance"] = {"api_success_rate": rate}
    step = pipeline.run(metrics, 9)
    assert step.outputs["severity"] == "warning"
    assert "verification_results.success_rate_percentage" in step.log
    assert "performance.api_success_rate: expected a percentage from 0 to 100" in step.log
    assert "Success: n/a" in step.content and "API Success: n/a" in step.content
    assert "%" not in step.content.split("Success:")[1].split("\n")[0]


def test_a_deletion_rate_past_100_percent_is_bad_data(pipeline: Pipeline) -> None:
    metrics = sample("drain.json")
    metrics["deletion_results"] = {"success_rate_percentage": 150}
    step = pipeline.run(metrics, 9, report="drain")
    assert step.outputs["severity"] == "warning", step.log
    assert "deletion_results.success_rate_percentage" in step.log and "150.0%" not in step.content


# -- runs of forks in the watchdog and the digest ------------------------------------------


FORK = "mallory/cold-email"  # a fork whose default branch is also called `main`


def watched() -> Actions:
    """The fake GitHub API's state (it stands in for GitHub's) for one watched workflow."""
    return Actions(
        workflows=[
            Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync"),
            Workflow(id=2, path=".github/workflows/drain-leads.yml", name="Drain Leads"),
        ]
    )


def ny(hhmm: str) -> str:
    return datetime.fromisoformat(f"2026-01-15T{hhmm}").replace(tzinfo=NEW_YORK).isoformat()


def test_a_fork_success_is_not_the_pipeline_s_own(tmp_path: Path, echo: ScriptedEcho) -> None:
    with fake_actions(watched()) as actions:
        sync, drain = actions.workflows
        sync.runs = [  # newest first: a fork's pull request ran the workflow on its `main`
            Run(903, created_at=ny("13:30"), head_repository=FORK),
            Run(902, conclusion="failure", created_at=ny("12:00")),
            Run(901, created_at=ny("09:00")),
        ]
        drain.runs = [Run(801, created_at=ny("13:00"))]
        check = Watchdog(tmp_path, echo, actions).check(14)
    assert check.outputs["severity"] == "critical" and check.outputs["posted"] == "true"
    assert "No successful *Cold Email Sync* since 9:00 AM" in check.content
    assert "runs/902|newest run> (failure)" in check.content and "runs/903" not in check.content


def test_the_digest_reads_no_fork_s_artifact(tmp_path: Path, echo: ScriptedEcho) -> None:
    with fake_actions(Actions(workflows=three_workflows())) as actions:
        pipeline = Pipeline(tmp_path, echo, actions)
        a_day_of_pipelines(pipeline, actions)
        forged = sample()  # the fork's run writes whatever numbers it likes
        forged["leads_processed"] = {"smb_campaign": {"leads_added": 24000}}
        pipeline.workflow = 0
        pipeline.run(forged, 0, when=DIGEST_MORNING - timedelta(minutes=15))
        actions.workflows[0].runs[0].head_repository = FORK
        check = Watchdog(tmp_path, echo, actions).check(
            0, when=DIGEST_MORNING, workflows=PIPELINES, **{"digest-at": "09:00"}
        )
    digest = next(
        json.loads(r["body"])["content"]
        for r in echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    )
    assert check.code == 0 and "Sync: 24 runs" in digest, digest
    assert "24,0" not in digest and "25 runs" not in digest


def test_the_watchdog_s_caution_block_names_what_is_wrong(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    with fake_actions(watched()) as actions:
        sync, drain = actions.workflows
        sync.runs = [Run(901, created_at=ny("09:00"))]
        drain.runs, drain.state = [Run(801, created_at=ny("13:00"))], "disabled_manually"
        check = Watchdog(tmp_path, echo, actions).check(14)
    block = check.summary.split("\n\n")[0]
    assert block.startswith("> [!CAUTION]"), check.summary
    assert "> - 🚨 No successful **Cold Email Sync** since 9:00 AM" in block, block
    assert "> - ⛔ **Drain Leads** is disabled by hand" in block, block


def test_the_digest_names_a_matrix_leg_by_its_values(tmp_path: Path, echo: ScriptedEcho) -> None:
    with fake_actions(Actions(workflows=three_workflows())) as actions:
        pipeline = Pipeline(tmp_path, echo, actions)
        for hour in range(3):  # each run: two legs of a matrix, then a step with its own key
            when = DIGEST_MORNING - timedelta(hours=3 - hour)
            legs = ['{"segment":"smb","shard":1}', '{"segment":"midsize","shard":2}', "backfill"]
            for leg, key in enumerate(legs):
                pipeline.run(sample(), 0, when=when, again=leg > 0, **{"history-key": key})
        Watchdog(tmp_path, echo, actions).check(
            0, when=DIGEST_MORNING, workflows=PIPELINES, **{"digest-at": "09:00"}
        )
    digest = next(
        json.loads(r["body"])["content"]
        for r in echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    )
    for name in ("Sync (smb, 1): 3 runs", "Sync (midsize, 2): 3 runs", "Sync (backfill): 3 runs"):
        assert name in digest, digest
    assert "sync-sync-" not in digest


# -- text from data ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["slack", "markdown"])
def test_hidden_text_and_shortcodes_from_data_stay_text(pipeline: Pipeline, fmt: str) -> None:
    metrics = sample()
    hidden = "".join(chr(0xE0100 + ord(c)) for c in "wire the money")  # variation selectors
    metrics["leads_processed"] = {
        "smb_campaign": {"campaign_name": "SMB" + "\ufe00" * 37 + hidden, "leads_added": 65},
        "midsize_campaign": {"campaign_name": ":white_check_mark:", "leads_added": 27},
    }
    step = pipeline.run(metrics, 9, format=fmt)
    for shown in (step.content, step.summary):
        assert "• SMB: 65 leads added" in shown.replace("  \n", "\n"), shown
        assert not any(0xFE00 <= ord(c) <= 0xFE0F or ord(c) >= 0xE0000 for c in shown)
        assert "white" in shown and ":white_check_mark:" not in shown.replace("\\", "")


# -- the job summary's chart -----------------------------------------------------------------


def chart(summary: str) -> tuple[list[str], list[float]]:
    """The x-axis labels and the line's values of the summary's Mermaid chart."""
    block = summary.split("```mermaid")[1].split("```", maxsplit=1)[0]
    axis = next(line for line in block.splitlines() if line.strip().startswith("x-axis"))
    line = next(line for line in block.splitlines() if line.strip().startswith("line"))
    labels = json.loads(axis.strip().removeprefix("x-axis "))
    return labels, json.loads(line.strip().removeprefix("line "))


def drain(rate: float) -> dict[str, object]:
    metrics = sample("drain.json")
    metrics["deletion_results"] = {"success_rate_percentage": rate}
    return metrics


def test_the_chart_s_labels_are_unique_and_in_time_order(pipeline: Pipeline) -> None:
    start = datetime(2026, 1, 15, 0, 0, tzinfo=NEW_YORK)
    for run in range(30):  # a drain every 2 h: its clock times repeat after a day
        step = pipeline.run(drain(90 + run % 10), 0, when=start + timedelta(hours=2 * run))
    labels, values = chart(step.summary)
    assert len(labels) == len(values) == 30 and len(set(labels)) == 30, labels
    assert labels[0] == "Jan 15 00:00" and labels[-1] == "Jan 17 10:00", labels


def test_the_chart_is_unique_across_the_autumn_clock_change(pipeline: Pipeline) -> None:
    start = datetime(2026, 11, 1, 4, 30, tzinfo=UTC)  # 12:30 AM EDT; 1:00-1:59 comes twice
    for run in range(6):
        step = pipeline.run(drain(95), 0, when=start + timedelta(minutes=30 * run))
    labels, _ = chart(step.summary)
    assert len(set(labels)) == 6 and "01:00 EDT" in labels and "01:00 EST" in labels, labels


def test_one_point_is_no_chart_and_values_are_as_shown(pipeline: Pipeline) -> None:
    no_rate = sample("drain.json")
    no_rate["deletion_results"] = {}
    pipeline.run(no_rate, 8)
    step = pipeline.run(drain(99.96), 9)  # two runs, one with the figure: no line to draw
    assert "```mermaid" not in step.summary
    step = pipeline.run(drain(97.04), 10)
    labels, values = chart(step.summary)
    assert labels == ["09:00", "10:00"] and values == [99.9, 97.0], (labels, values)


def test_a_fork_s_runs_are_not_the_schedule_s_due_runs(tmp_path: Path, echo: ScriptedEcho) -> None:
    sync, drain = three_workflows()[:2]
    sync.file, drain.file = EVERY_30, EVERY_2H
    sync.runs = every(30, at(14, "00:00"), at(15, "09:00"))  # ours: the last at 9:00
    forks = every(30, at(15, "09:30"), at(15, "10:30"))  # a fork's pull request, three times
    for run in forks:
        run.id, run.head_repository = run.id + 1000, FORK
    sync.runs = forks + sync.runs
    drain.runs = every(120, utc(14, 0), utc(15, 16))
    with fake_actions(Actions(workflows=[sync, drain])) as actions:
        check = Watchdog(tmp_path, echo, actions).check(
            11, when=at(15, "11:05"), workflows="cold-email-sync.yml\ndrain-leads.yml"
        )
    assert check.outputs["severity"] == "critical", check.log
    assert "*Cold Email Sync* missed its last 3 runs (every 30 minutes; last success 9:00 AM)" in (
        check.content
    )
