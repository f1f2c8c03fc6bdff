"""The real pipelines' bad days through main(), as the runner runs the action, delivered to a
local Echo: what the channel reads and how severe the step says it was (true to the
real pipelines)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import (
    EXAMPLES,
    ScriptedEcho,
    example_day,
    parse_outputs,
    printed_message,
    runner_env,
)


def deliver(
    echo: ScriptedEcho, workspace: Path, files: Path, data: object, **inputs: str
) -> tuple[int, str, dict[str, str], str]:
    (workspace / "m.json").write_text(data if isinstance(data, str) else json.dumps(data))
    env = runner_env(workspace, files, {"metrics-file": "m.json", "echo-url": echo.url, **inputs})
    out = io.StringIO()
    code = main(env, out, now=example_day)
    outputs = parse_outputs((files / "set_output").read_text())
    content = json.loads(echo.store.requests[0]["body"])["content"] if echo.store.requests else ""
    return code, out.getvalue(), outputs, content


def example(workspace: Path, name: str) -> dict[str, object]:
    return json.loads((workspace / name).read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("name", "report", "severity", "shown", "not_shown"),
    [
        ("poll.json", "poll", "ok", ["🔍 *Verification Polling Complete*", "(90 checked)"], []),
        (
            "poll-bad-day.json",
            "poll",
            "critical",  # 48 % of the checked leads invalid: a list gone bad
            ["🚨 *Verification Results* (64 checked)", "⚠️ *Issues*: 2 errors logged"],
            [],
        ),
        (
            "sync-handover-failed.json",
            "sync",
            "critical",  # over capacity; the failed hand-over alone is a warning
            [
                "🔴 Current: 8,912 / 8,840 leads (over capacity by 72)",
                "• Available capacity: none",
                "could not be started for 20 leads (SMB 14, Midsize 6)",
            ],
            ["Success: 20/20", "(100.0%)", "~-72", "verified leads"],
        ),
        (
            "drain-circuit-breaker.json",
            "drain",
            "critical",
            [
                "🛑 *Deletion Results*",
                "• Stopped early: &gt;80% recent DELETE failures",
                "(48 not attempted)",
                "• 300 API calls: 273 found (91.0%), 24 already gone, 3 errors",
            ],
            [],
        ),
        (
            "drain-nothing-to-do.json",
            "drain",
            "ok",
            ["✅ *Deletion Results*", "• Nothing to delete this run"],
            ["0/0", "(0.0%)", "🚨", "Issues"],
        ),
    ],
)
def test_pipeline_bad_days(
    echo: ScriptedEcho,
    workspace: Path,
    files: Path,
    name: str,
    report: str,
    severity: str,
    shown: list[str],
    not_shown: list[str],
) -> None:
    code, log, outputs, content = deliver(echo, workspace, files, example(workspace, name))
    assert code == 0, log
    assert (outputs["report"], outputs["severity"], outputs["delivered"]) == (
        report,
        severity,
        "true",
    )
    for fragment in shown:
        assert fragment in content, content
    for fragment in not_shown:
        assert fragment not in content, content


def test_handover_failure_alone_is_a_warning(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    data = example(workspace, "sync-handover-failed.json")
    data["capacity_status"] = {"current_inventory": 100, "max_capacity": 8840}
    data["errors"] = []
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert outputs["severity"] == "warning"
    assert "⚠️ *Email Verification*" in content


def test_placeholder_verification_never_moves_severity(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    # The pipeline writes 0 % placeholders before verifying asynchronously; handed over: calm.
    data = example(workspace, "sync.json")
    data["verification_results"] = {"total_attempted": 92, "verified_successful": 0}
    data["async_verification"] = {"triggered": True, "lead_count": 92}
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert outputs["severity"] == "ok"
    assert "🔍 Sent 92 new leads for verification" in content
    assert "• Success: 0/92" not in content and "Credits used" not in content


def test_errors_keep_identifiers_exact(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    data = {
        "capacity_status": {},
        "errors": ["BigQuery table email_analytics.ops_inst_state not found: `x`"],
    }
    _, _, _, content = deliver(echo, workspace, files, data)
    assert "• `BigQuery table email_analytics.ops_inst_state not found: 'x'`" in content
    assert "\u200b" not in content.split("⚠️ *Issues*")[1]


def test_poll_errors_as_a_count(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    data = example(workspace, "poll.json")
    data["errors"] = 1
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert outputs["severity"] == "warning"
    assert "⚠️ *Issues*: 1 error logged\n\n🔗" in content


def test_forced_report_that_does_not_match_is_warned(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    code, log, outputs, _ = deliver(
        echo, workspace, files, example(workspace, "sync.json"), report="drain"
    )
    assert code == 0 and outputs["report"] == "drain"
    warnings = [line for line in log.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert "`report: drain` is set, but metrics file" in warnings[0]
    assert 'it has: "timestamp", "duration_seconds", "capacity_status"' in warnings[0]


def test_stale_metrics_say_how_old(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    data = example(workspace, "sync.json")
    data["timestamp"] = "2026-01-15T09:00:00Z"  # 12 hours before the example day's 4:05 PM
    _, _, _, content = deliver(echo, workspace, files, data)
    assert content.startswith(
        "🔄 *Cold Email Sync Complete* | 4:00 AM EST\n⚠️ These metrics are 12 hours old\n"
    )


@pytest.mark.parametrize(
    ("stamp", "field"),
    [("0001-01-01T00:00:00Z", "timestamp"), ("9999-12-31T23:00:00-05:00", "timestamp")],
)
def test_calendar_ends_are_a_bad_field(
    echo: ScriptedEcho, workspace: Path, files: Path, stamp: str, field: str
) -> None:
    data = {**example(workspace, "sync.json"), "timestamp": stamp}
    code, log, outputs, _ = deliver(echo, workspace, files, data)
    assert code == 0 and outputs["delivered"] == "true", log
    assert f"{field}: not in the years 2000-2999" in log
    assert "internal error" not in log


def test_exactly_at_capacity_is_not_over_it(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    data = example(workspace, "sync.json")
    data["capacity_status"] = {"current_inventory": 8840, "max_capacity": 8840}
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert "🔴 Current: 8,840 / 8,840 leads (100.0% utilized)" in content
    assert "• Available capacity: ~0 leads remaining" in content and "over capacity" not in content
    assert outputs["severity"] == "critical"


def test_a_failed_hand_over_without_campaign_parts(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    data = example(workspace, "sync.json")
    data["async_verification"] = {"triggered": False, "lead_count": 20}
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert "• Verification could not be started for 20 leads: they are in campaigns unverified" in (
        content
    )
    assert outputs["severity"] == "warning"


@pytest.mark.parametrize("campaigns", [100, 200])
def test_a_long_failed_hand_over_keeps_what_matters(
    echo: ScriptedEcho, workspace: Path, files: Path, campaigns: int
) -> None:
    # Compact mode shortens the list of campaigns like every other list: the hand-over failure
    # itself, the Issues line and the link always stay.
    data = example(workspace, "sync-handover-failed.json")
    leads: dict[str, object] = {"total_attempted": campaigns}
    handover: dict[str, object] = {"triggered": False, "lead_count": campaigns}
    for i in range(campaigns):
        leads[f"c{i}_campaign"] = {"campaign_name": f"Regional Campaign {i:03}", "leads_added": 1}
        handover[f"c{i}_verification"] = {"verification_triggered": False, "verification_count": 1}
    data["leads_processed"], data["async_verification"] = leads, handover
    _, _, outputs, content = deliver(echo, workspace, files, data)
    assert outputs["delivered"] == "true" and len(content) <= 3000
    assert f"• Verification could not be started for {campaigns} leads (" in content
    assert "more): they are in campaigns unverified" in content
    assert "⚠️ *Issues*: 1 error logged" in content
    assert content.endswith("|View Logs>")


@pytest.mark.parametrize("kind", ["sync", "drain", "poll"])
def test_a_huge_bad_day_keeps_what_matters(tmp_path: Path, kind: str) -> None:
    """Hundreds of campaigns, classes, statuses and long errors on a failed run: the message
    fits Slack without the last-resort cut, and keeps the headline, the Issues line, the
    severity's reasons (the 🚨 headline) and the link."""
    data = json.loads((EXAMPLES / f"{kind}.json").read_text())
    data["errors"] = ["E" * 500 + str(i) for i in range(500)]
    names = {
        "sync": ("leads_processed", "{}_campaign", {"leads_added": 1}),
        "drain": ("drain_classifications", "class_{}", 1),
        "poll": ("status_breakdown", "status_{}", 0),
    }
    section, name, value = names[kind]
    data[section] = {
        **data[section],
        **{name.format(i) + "_" + "x" * 80: value for i in range(300)},
    }
    (tmp_path / "m.json").write_text(json.dumps(data))
    (tmp_path / "f" / "home").mkdir(parents=True)
    inputs = {"metrics-file": "m.json", "dry-run": "true", "report": kind, "job-status": "failure"}
    out = io.StringIO()
    main(runner_env(tmp_path, tmp_path / "f", inputs), out)
    message = printed_message(out.getvalue())
    lines = message.splitlines()
    assert len(message) <= 3000 and "cut to fit" not in message
    assert lines[0].startswith("🚨 *") and "FAILED*" in lines[0]
    assert any(line.startswith("⚠️ *Issues*: 500 errors logged") for line in lines), message
    assert lines[-1].endswith("|View Logs>") and "more" in message
