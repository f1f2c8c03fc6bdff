"""The real pipelines' bad days through main(), as the runner runs the action, delivered to a
local Echo: what the channel reads and how severe the step says it was (true to the
real pipelines)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

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
from tests.oneshot import STAMP
from tests.oneshot import example as example_metrics
from tests.oneshot import run as once


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


# -- single runs that once went wrong ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "section"),
    [
        (
            {
                "capacity_status": {"current_inventory": 10, "max_capacity": 100},
                "verification_results": {"total_attempted": 0, "success_rate_percentage": 0.0},
            },
            "Nothing to verify this run",
        ),
        (
            {
                "analysis_summary": {"total_leads_analyzed": 5},
                "deletion_results": {"attempted_deletions": 0, "success_rate_percentage": 0.0},
            },
            "Nothing to delete this run",
        ),
    ],
    ids=["sync", "drain"],
)
def test_stated_zero_rate_with_nothing_to_do_is_not_critical(
    echo: ScriptedEcho, workspace: Path, files: Path, data: dict[str, Any], section: str
) -> None:
    """metrics.md: "Pipelines write 0.0 rates when there was nothing to do (attempted_deletions:
    0, success_rate_percentage: 0.0). A rate whose denominator is 0 ... never raises
    severity." When the success count is absent, _split() returns early and the stated 0.0
    stays: severity critical, and the section reads "🚨 ... Nothing to delete this run".
    Fix: a known zero denominator clears the rate whatever the numerator."""
    step = once(echo, workspace, files, {"timestamp": STAMP, **data})
    assert section in step.content
    assert step.outputs["severity"] == "ok"
    assert "🚨" not in step.content


def test_poll_status_above_checked_is_bad_data(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """10 invalid out of 5 checked renders "❌ Invalid: 10 (200.0%)" and pages the channel as
    critical, with no warning. reports.md: part > whole is bad data, named in the warning,
    shown as unknown."""
    data = {
        "timestamp": STAMP,
        "verifications_checked": 5,
        "status_breakdown": {"valid": 0, "invalid": 10},
    }
    step = once(echo, workspace, files, data)
    assert "200.0%" not in step.content
    assert "status_breakdown.invalid" in step.log


def test_poll_nothing_checked_but_statuses_counted_is_bad_data(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """verifications_checked 0 with 10 invalid in the breakdown: the report says "nothing to
    check this run", severity ok, and no warning names the contradiction."""
    data = {"timestamp": STAMP, "verifications_checked": 0, "status_breakdown": {"invalid": 10}}
    step = once(echo, workspace, files, data)
    assert "nothing to check this run" not in step.content
    assert "verifications_checked" in step.log


def test_issues_line_survives_the_size_limit(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """reports.md: "the headline, the Issues line and the link always survive". fit() keeps the
    first part and the last line only; when the compact rendering is still over 3,000
    characters (here: finite floats like 1.7e308 print as 400-digit counts, never cut) the
    Issues section, just above the link, is cut away. Fix: fit() keeps the footer block, and
    numbers beyond any plausible count are bad data."""
    big = 1.7e308
    data = {
        "timestamp": STAMP,
        "duration_seconds": 100,
        "capacity_status": {"current_inventory": big, "max_capacity": big},
        "leads_processed": {
            "total_attempted": big,
            **{f"c{i}_campaign": {"campaign_name": "C", "leads_added": big} for i in range(3)},
        },
        "verification_results": {"total_attempted": big, "verified_successful": big},
        "final_inventory": {"instantly_total": big, "bigquery_eligible": big},
        "errors": ["BigQuery table email_analytics.ops_inst_state not found"],
    }
    step = once(echo, workspace, files, data)
    assert len(step.content) <= 3000
    assert "*Issues*: 1 error logged" in step.content
    assert step.content.endswith("|View Logs>")


def test_errors_as_a_numeric_string_is_a_count(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """metrics.md: numbers may arrive as numeric strings; errors may be a count. `"errors":
    "3"` is read as one error whose text is "3": "1 error logged • `3`"."""
    data = {"timestamp": STAMP, **example_metrics("poll.json"), "errors": "3"}
    step = once(echo, workspace, files, data)
    assert "3 errors logged" in step.content


def test_a_rate_just_under_a_limit_does_not_print_as_the_limit(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """17,999 of 20,000 verified is 89.995 %: shown "90.0%" under a ⚠️ mark and severity
    warning, while reports.md says ✨ at 90 % and above. The reader sees a contradiction (the
    same happens at 70 % / 90 % capacity). Fix: never round a value onto a limit it is under
    (as percent() already does for 0 and 100), or judge the level on the shown value."""
    data = {
        "timestamp": STAMP,
        "capacity_status": {"current_inventory": 10, "max_capacity": 100},
        "verification_results": {"total_attempted": 20_000, "verified_successful": 17_999},
    }
    step = once(echo, workspace, files, data)
    contradiction = "⚠️ *Email Verification*" in step.content and "(90.0%)" in step.content
    assert not contradiction, step.content


def test_more_added_than_attempted_is_bad_data(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """ "Total processed: 120/100 attempted" goes out without a word: reports.md treats part >
    whole (successful > attempted) as bad data, named in the warning and shown as unknown."""
    data = {
        "timestamp": STAMP,
        "leads_processed": {
            "total_attempted": 100,
            "smb_campaign": {"campaign_name": "SMB Campaign", "leads_added": 120},
        },
    }
    step = once(echo, workspace, files, data)
    assert "120/100" not in step.content
    assert "leads_processed" in "\n".join(
        line for line in step.log.splitlines() if line.startswith("::warning")
    )


def test_unknown_capacity_does_not_read_n_a_slash_n_a(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """With capacity_status missing but campaigns known, the section reads "⚪ Current: n/a /
    n/a leads" and "Available capacity: n/a": reports.md: an unknown inside a sentence never
    runs into its neighbours (no `n/a/0`); use `?` wording or drop the line."""
    data = {
        "timestamp": STAMP,
        "leads_processed": {
            "total_attempted": 100,
            "smb_campaign": {"campaign_name": "SMB Campaign", "leads_added": 60},
        },
    }
    step = once(echo, workspace, files, data)
    assert "n/a / n/a" not in step.content
