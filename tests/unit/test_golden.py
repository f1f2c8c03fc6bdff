"""Exact output of every report in both formats, against reviewed golden files.

Regenerate after a deliberate wording change with `pytest --update-golden`, then review the diff.
The Slack samples must also equal the spec's own blocks (tests/spec/reports.md, a copy of the
team's spec of the reports kept in the repository so a plain clone tests the same).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import (
    EXAMPLE_DAY,
    EXAMPLES,
    GOLDEN,
    ROOT,
    golden_message,
    parse_outputs,
    printed_message,
    runner_env,
)

HOSTILE = {
    "timestamp": "2026-03-08T06:59:00Z",  # 1:59 AM EST, a minute before the switch to EDT
    "capacity_status": {"current_inventory": 21600, "max_capacity": 24000},
    "leads_processed": {
        "total_attempted": 3,
        "smb_campaign": {
            "campaign_name": "SMB *bold* _it_ <!here> \u202e56\u202c",
            "leads_added": 3,
        },
    },
    "errors": [
        "<!channel> lead said: see <https://evil.example|Docs> & [click](https://x.y)",
        "|table| # heading `code` ![img](https://x.y/i.png) <b>html</b>",
        "BigQuery table email_analytics.ops_inst_state not found\x1b[31m",
    ],
}
HANDOVER = {  # reports.md: a sync whose verification happens after the run
    "timestamp": "2026-01-15T19:30:00Z",
    "capacity_status": {"current_inventory": 5530, "max_capacity": 8840},
    "leads_processed": {
        "total_attempted": 48,
        "smb_campaign": {"campaign_name": "SMB Campaign", "leads_added": 30},
        "midsize_campaign": {"campaign_name": "Midsize Campaign", "leads_added": 18},
    },
    "verification_results": {"total_attempted": 48, "verified_successful": 48},
    "async_verification": {"triggered": True, "lead_count": 48},
}
JULY = datetime(2026, 7, 15, 21, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
# case: (metrics file, inputs, wall clock)
CASES = {
    "sync": ("sync.json", {}, EXAMPLE_DAY),
    "drain": ("drain.json", {}, EXAMPLE_DAY),
    "poll": ("poll.json", {}, MARCH),
    "sync-bad-day": ("sync-bad-day.json", {}, JULY),
    "drain-bad-day": ("drain-bad-day.json", {}, JULY),
    "poll-bad-day": ("poll-bad-day.json", {}, MARCH),
    "sync-failed": ("sync.json", {"job-status": "failure"}, EXAMPLE_DAY),
    "sync-stale": ("sync.json", {}, datetime(2026, 1, 17, 22, 0, tzinfo=UTC)),
    "sync-handover": ("handover.json", {}, EXAMPLE_DAY),
    "sync-handover-failed": ("sync-handover-failed.json", {}, EXAMPLE_DAY),
    "drain-cancelled-utc": (
        "drain.json",
        {"job-status": "cancelled", "timezone": "UTC"},
        EXAMPLE_DAY,
    ),
    "drain-circuit-breaker": ("drain-circuit-breaker.json", {}, EXAMPLE_DAY),
    "drain-nothing-to-do": ("drain-nothing-to-do.json", {}, EXAMPLE_DAY),
    "sync-hostile": ("hostile.json", {}, datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    "alert-missing-failed": (
        "sync-metrics.json",
        {"job-status": "failure", "report": "sync"},
        datetime(2026, 1, 15, 19, 30, tzinfo=UTC),
    ),
    "alert-unrecognised": ("unrelated.json", {}, EXAMPLE_DAY),
    # The README's custom-template example, in both formats.
    "custom-short-sync": ("sync.json", {"template": "short-sync.j2"}, EXAMPLE_DAY),
    "custom-short-sync-bad-day": ("sync-bad-day.json", {"template": "short-sync.j2"}, JULY),
}


@pytest.mark.parametrize("fmt", ["slack", "markdown"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden(
    case: str, fmt: str, tmp_path: Path, files: Path, request: pytest.FixtureRequest
) -> None:
    source, inputs, now = CASES[case]
    (tmp_path / "hostile.json").write_text(json.dumps(HOSTILE))
    (tmp_path / "handover.json").write_text(json.dumps(HANDOVER))
    (tmp_path / "unrelated.json").write_text('{"rows": 3, "table": "leads"}')
    for example in [*EXAMPLES.iterdir(), *(ROOT / "examples" / "templates").iterdir()]:
        (tmp_path / example.name).write_bytes(example.read_bytes())
    env = runner_env(
        tmp_path,
        files,
        {"metrics-file": source, "dry-run": "true", "format": fmt, **inputs},
        extra={"GITHUB_WORKFLOW": "Nightly leads"},
    )
    out = io.StringIO()
    assert main(env, out, now=lambda: now) == 0
    printed = out.getvalue()
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    title = lines[start - 1].removeprefix("::group::Report: ")
    actual = f"title: {title}\n\n{printed_message(printed)}\n"
    golden = GOLDEN / f"{case}.{fmt}.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert actual == golden.read_text()
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["delivered"] == "false" and outputs["attempts"] == "0"


SPEC = ROOT / "tests" / "spec" / "reports.md"
SHARED = ROOT.parent / "shared" / "spec"


def spec_block(first_line: str) -> str:
    blocks = SPEC.read_text().split("```")[1::2]
    return next(b for b in blocks if first_line in b.splitlines()[1]).strip("\n")


@pytest.mark.parametrize(
    ("report", "headline", "run"),
    [
        ("sync", "Cold Email Sync Complete", "123456"),
        ("drain", "Cold Email Drain Complete", "123457"),
        ("poll", "Verification Polling Complete", "123458"),
    ],
)
def test_sample_reports_match_the_spec_line_for_line(report: str, headline: str, run: str) -> None:
    """The golden Slack samples are the spec's own sample reports (reports.md)."""
    golden = golden_message(f"{report}.slack.txt").strip("\n")
    # The spec's samples link to runs 123456, 123457, 123458; the fixture uses one id.
    assert golden == spec_block(headline).replace(f"runs/{run}", "runs/123456")


@pytest.mark.parametrize(
    ("case", "first_line"),
    [
        ("sync-handover", "✨ *Email Verification*"),
        ("sync-handover-failed", "⚠️ *Email Verification*"),
        ("drain-circuit-breaker", "🔎 *Lead Look-ups*"),
        ("drain-circuit-breaker", "🛑 *Deletion Results*"),
    ],
)
def test_what_real_pipelines_add_matches_the_spec(case: str, first_line: str) -> None:
    block = next(
        b.strip("\n")
        for b in SPEC.read_text().split("```")[1::2]
        if b.strip("\n").startswith(first_line)
    )
    # The spec shows what the channel reads: Slack turns &gt; back into >.
    shown = golden_message(f"{case}.slack.txt").replace("&gt;", ">")
    assert block in shown


def test_no_metrics_alert_matches_the_spec() -> None:
    # The file name is shown exactly, as inline code (searchable, copyable: nothing invisible
    # inside it, and Slack links nothing in code); otherwise the alert is the spec's block.
    alert = golden_message("alert-missing-failed.slack.txt").strip("\n")
    assert "\u200b" not in alert and "the file `sync-metrics.json` was not written" in alert
    assert alert.replace("`sync-metrics.json`", "sync-metrics.json") == spec_block(
        "Cold Email Sync FAILED"
    )


@pytest.mark.skipif(not SHARED.exists(), reason="the team's shared/ is not beside this clone")
@pytest.mark.parametrize("name", ["reports.md", "runner-contract.md"])
def test_the_spec_copies_are_current(name: str) -> None:
    copy = SPEC.parent / name
    assert copy.read_text() == (SHARED / name).read_text(), (
        f"copy shared/spec/{name} to tests/spec/"
    )
