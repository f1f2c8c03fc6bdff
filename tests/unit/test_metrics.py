from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from echo_notify.errors import MetricsError
from echo_notify.metrics import Metrics, detect, load, read_json
from echo_notify.report import Context, build
from tests.helpers import EXAMPLES

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HERE = Path("m.json")


def assess(metrics: Metrics, status: str) -> tuple[dict[str, str | None], str]:
    ctx = Context(timezone=UTC, job_status=status, now=NOW, run_url="", local_run=False)  # type: ignore[arg-type]
    model = build(metrics, ctx)
    return model.variables["levels"], model.severity


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "m.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_sample_sync_loads_clean() -> None:
    metrics = load(EXAMPLES / "sync.json")
    assert metrics.report == "sync" and metrics.problems == [] and metrics.errors == []
    assert metrics.data["async_verification"]["jobs_pending"] == 0  # unknown keys kept
    assert metrics.timestamp == datetime(2026, 1, 15, 19, 30, tzinfo=UTC)


def test_missing_sections_are_unknown_not_zero(tmp_path: Path) -> None:
    metrics = load(write(tmp_path, {"capacity_status": {}}), now=NOW)
    assert metrics.data["capacity_status"]["current_inventory"] is None
    assert metrics.data["final_inventory"]["instantly_total"] is None
    assert metrics.data["verification_results"]["success_rate_percentage"] is None
    assert metrics.timestamp == NOW and metrics.problems == []


def test_derived_values_fill_only_what_is_missing(tmp_path: Path) -> None:
    data = {
        "capacity_status": {"current_inventory": 1342, "max_capacity": 24000},
        "verification_results": {"total_attempted": 100, "verified_successful": 92},
    }
    d = load(write(tmp_path, data)).data
    assert d["capacity_status"]["utilization_percentage"] == pytest.approx(5.5917, abs=1e-3)
    assert d["capacity_status"]["estimated_capacity_remaining"] == 22658
    assert d["verification_results"]["verification_failed"] == 8
    assert d["verification_results"]["success_rate_percentage"] == 92.0
    assert d["final_inventory"]["instantly_total"] == 1342
    # Both counts known: the percentage comes from them; the stated one only without them.
    data["capacity_status"]["utilization_percentage"] = 7
    assert load(write(tmp_path, data)).data["capacity_status"]["utilization_percentage"] != 7
    del data["capacity_status"]["max_capacity"]
    assert load(write(tmp_path, data)).data["capacity_status"]["utilization_percentage"] == 7


def test_zero_capacity_does_not_divide(tmp_path: Path) -> None:
    data = {"capacity_status": {"current_inventory": 0, "max_capacity": 0}}
    assert load(write(tmp_path, data)).data["capacity_status"]["utilization_percentage"] is None


def test_drain_derivations_and_extra_classes(tmp_path: Path) -> None:
    data = {
        "drain_classifications": {
            "completed": 1,
            "replied": 2,
            "bounced_hard": 3,
            "unsubscribed": 4,
            "stale_active": 5,
            "missing": "6",
        },
        "deletion_results": {"attempted_deletions": 21, "successful_deletions": 20},
    }
    d = load(write(tmp_path, data)).data
    assert d["drain_classifications"]["total_identified"] == 21
    assert d["drain_classifications"]["missing"] == 6
    assert d["deletion_results"]["failed_deletions"] == 1
    assert d["inventory_impact"]["leads_removed"] == 20


def test_total_identified_not_made_up_from_partial_classes(tmp_path: Path) -> None:
    data = {"drain_classifications": {"completed": 1, "replied": None}}
    assert load(write(tmp_path, data)).data["drain_classifications"]["total_identified"] is None


def test_bad_values_are_each_named_and_unknown(tmp_path: Path) -> None:
    data = {
        "capacity_status": {"current_inventory": "abc", "max_capacity": True},
        "leads_processed": {"total_attempted": "1342", "smb_campaign": "oops"},
        "verification_results": {
            "total_attempted": -3,
            "credits_used": "NaN",
            "verified_successful": [1],
        },
        "final_inventory": {"bigquery_eligible": "Infinity"},
        "performance": 7,
        "duration_seconds": "1_000",
        "timestamp": "yesterday",
        "errors": {"a": 1},
    }
    metrics = load(write(tmp_path, data), now=NOW)
    assert metrics.problems == [
        'capacity_status.current_inventory: expected a number, got "abc"',
        "capacity_status.max_capacity: expected a number, got true",
        "verification_results.total_attempted: expected zero or more, got -3",
        "verification_results.verified_successful: expected a number, got a list",
        'verification_results.credits_used: expected a finite number, got "NaN"',
        'final_inventory.bigquery_eligible: expected a finite number, got "Infinity"',
        "performance: expected an object, got 7",
        'duration_seconds: expected a number, got "1_000"',
        'leads_processed.smb_campaign: expected an object, got "oops"',
        'timestamp: expected an ISO-8601 time, got "yesterday"; showing now',
        "errors: expected a list or a count, got an object",
    ]
    d = metrics.data
    assert d["leads_processed"]["total_attempted"] == 1342
    assert d["capacity_status"]["current_inventory"] is None
    assert d["performance"]["api_success_rate"] is None
    assert metrics.timestamp == NOW


def test_json_constants_and_huge_numbers(tmp_path: Path) -> None:
    text = '{"capacity_status": {"current_inventory": NaN, "max_capacity": %s}}' % ("9" * 5000)
    metrics = load(write(tmp_path, text))
    assert [p.split(":")[0] for p in metrics.problems] == [
        "capacity_status.current_inventory",
        "capacity_status.max_capacity",
    ]


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2026-01-15T19:30:00Z", "2026-01-15T19:30:00+00:00"),
        ("2026-01-15T14:30:00-05:00", "2026-01-15T19:30:00+00:00"),
        ("2026-01-15T19:30:00", "2026-01-15T19:30:00+00:00"),  # no zone: UTC
    ],
)
def test_timestamps(tmp_path: Path, stamp: str, utc: str) -> None:
    metrics = load(write(tmp_path, {"capacity_status": {}, "timestamp": stamp}))
    assert metrics.timestamp.astimezone(UTC).isoformat() == utc


def test_errors_accept_strings_and_objects(tmp_path: Path) -> None:
    data = {"capacity_status": {}, "errors": ["a", {"code": 5}, 3]}
    assert load(write(tmp_path, data)).errors == ["a", '{"code": 5}', "3"]
    data["errors"] = "just one"
    assert load(write(tmp_path, data)).errors == ["just one"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("  \n", "is empty"),
        (b"\xff\xfe{}", "not UTF-8 text (bad byte at offset 0)"),
        ('{"a": 1,\n  "b": }', "not valid JSON: Expecting value at line 2, column 8"),
        ("[1, 2]", "must hold a JSON object ({...}), not a list"),
        ('"text"', "not a string"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "m.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(MetricsError) as caught:
        read_json(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="is a directory"):
        read_json(tmp_path)


@pytest.mark.parametrize(
    ("keys", "report"),
    [
        ({"capacity_status": {}}, "sync"),
        ({"leads_processed": {}}, "sync"),
        ({"drain_classifications": {}}, "drain"),
        ({"analysis_summary": {}}, "drain"),
    ],
)
def test_detect(keys: dict[str, object], report: str) -> None:
    assert detect(keys, "auto", HERE) == report


@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ({"foo": 1, "bar": 2}, "none of the sync, drain or poll reports"),
        ({"capacity_status": {}, "analysis_summary": {}}, "sync and drain"),
    ],
)
def test_detect_refuses_ambiguous_files(keys: dict[str, object], why: str) -> None:
    with pytest.raises(MetricsError) as caught:
        detect(keys, "auto", HERE)
    assert why in str(caught.value)
    for key in keys:
        assert key in str(caught.value)


def test_explicit_report_wins() -> None:
    assert detect({"foo": 1}, "drain", HERE) == "drain"


@pytest.mark.parametrize(
    ("data", "status", "severity", "levels"),
    [
        (
            {"capacity_status": {"utilization_percentage": 69.9}},
            "success",
            "ok",
            {"capacity": "ok", "verification": None},
        ),
        (
            {"capacity_status": {"utilization_percentage": 70}},
            "success",
            "warning",
            {"capacity": "warning", "verification": None},
        ),
        (
            {"capacity_status": {"utilization_percentage": 90}},
            "success",
            "critical",
            {"capacity": "critical", "verification": None},
        ),
        (
            {"verification_results": {"success_rate_percentage": 89.9}},
            "success",
            "warning",
            {"capacity": None, "verification": "warning"},
        ),
        (
            {"verification_results": {"success_rate_percentage": 79.9}},
            "success",
            "critical",
            {"capacity": None, "verification": "critical"},
        ),
        (
            {"capacity_status": {}, "errors": ["x"]},
            "success",
            "warning",
            {"capacity": None, "verification": None},
        ),
        (
            {"capacity_status": {}},
            "cancelled",
            "critical",
            {"capacity": None, "verification": None},
        ),
        (
            {"deletion_results": {"success_rate_percentage": 95}},
            "success",
            "ok",
            {"deletion": "ok"},
        ),
        (
            {"deletion_results": {"success_rate_percentage": 94.9}},
            "success",
            "warning",
            {"deletion": "warning"},
        ),
        (
            {"deletion_results": {"success_rate_percentage": 79.9}},
            "success",
            "critical",
            {"deletion": "critical"},
        ),
    ],
)
def test_severity(
    tmp_path: Path, data: dict[str, object], status: str, severity: str, levels: dict[str, str]
) -> None:
    wanted = "drain" if "deletion_results" in data else "sync"
    actual, actual_severity = assess(load(write(tmp_path, data), wanted), status)
    assert ({k: actual[k] for k in levels}, actual_severity) == (levels, severity)


GAUGES = {  # gauge: (report, section, field)
    "capacity": ("sync", "capacity_status", "utilization_percentage"),
    "verification": ("sync", "verification_results", "success_rate_percentage"),
    "deletion": ("drain", "deletion_results", "success_rate_percentage"),
}


@pytest.mark.parametrize(
    ("gauge", "value", "level"),
    [  # each threshold exactly, and just either side: a level starts at its line
        ("capacity", 69.94, "ok"),
        ("capacity", 70, "warning"),
        ("capacity", 89.94, "warning"),
        ("capacity", 90, "critical"),
        ("verification", 90, "ok"),
        ("verification", 89.94, "warning"),
        ("verification", 80, "warning"),
        ("verification", 79.94, "critical"),
        ("deletion", 95, "ok"),
        ("deletion", 94.94, "warning"),
        ("deletion", 80, "warning"),
        ("deletion", 79.94, "critical"),
        ("capacity", 69.95, "warning"),  # shown as 70.0 %: judged as shown
        ("verification", 89.95, "ok"),  # shown as 90.0 %
    ],
)
def test_severity_at_each_threshold(tmp_path: Path, gauge: str, value: float, level: str) -> None:
    report, section, name = GAUGES[gauge]
    levels, severity = assess(load(write(tmp_path, {section: {name: value}}), report), "success")
    assert (levels[gauge], severity) == (level, level)


def test_failed_reasons_are_numbers_after_loading(tmp_path: Path) -> None:
    data = {"verification_results": {"failed_reasons": {"invalid": "3", "unknown": "x"}}}
    metrics = load(write(tmp_path, data), "sync")
    assert metrics.data["verification_results"]["failed_reasons"] == {"invalid": 3, "unknown": None}
    assert metrics.problems == [
        'verification_results.failed_reasons.unknown: expected a number, got "x"'
    ]


def test_per_campaign_deletions_over_the_polls_total_are_named(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "poll.json").read_text())
    data["deletes_processed"] = 5  # the breakdown says 7 + 3
    path = tmp_path / "poll.json"
    path.write_text(json.dumps(data))
    metrics = load(path)
    assert any(
        "deletion_breakdown" in p and "more than deletes_processed (5)" in p
        for p in metrics.problems
    ), metrics.problems
    assert metrics.data["deletes_processed"] is None  # unknown, never a wrong total
