"""Trust at the edges, through main() as the runner runs the action, delivered to a local Echo:
a gauge that cannot be judged, rates past 100 %, the summary's chart, invisible text and
shortcodes from data, fork runs in the watchdog and the digest (the fake GitHub API stands in
for GitHub's)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import EXAMPLES
from tests.pipeline import Pipeline


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
