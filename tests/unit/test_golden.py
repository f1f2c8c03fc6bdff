"""Exact output of both reports in both formats, against reviewed golden files.

Regenerate after a deliberate wording change with `pytest --update-golden`, then review the diff.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import EXAMPLES, GOLDEN, golden_message, parse_outputs, runner_env

HOSTILE = {
    "timestamp": "2026-03-08T06:59:00Z",  # 1:59 AM EST, a minute before the switch to EDT
    "capacity_status": {"current_inventory": 21600, "max_capacity": 24000},
    "leads_processed": {
        "total_attempted": 3,
        "smb_campaign": {"campaign_name": "SMB *bold* _it_ <!here>", "leads_added": 3},
    },
    "errors": [
        "<!channel> lead said: see <https://evil.example|Docs> & [click](https://x.y)",
        "|table| # heading `code` ![img](https://x.y/i.png) <b>html</b>",
    ],
}

CASES = {
    "sync": ("sync.json", {}),
    "drain": ("drain.json", {}),
    "sync-bad-day": ("sync-bad-day.json", {}),
    "drain-bad-day": ("drain-bad-day.json", {}),
    "sync-failed": ("sync.json", {"job-status": "failure"}),
    "drain-cancelled-utc": ("drain.json", {"job-status": "cancelled", "timezone": "UTC"}),
    "sync-hostile": ("hostile.json", {}),
}


@pytest.mark.parametrize("fmt", ["slack", "markdown"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden(
    case: str, fmt: str, tmp_path: Path, files: Path, request: pytest.FixtureRequest
) -> None:
    source, inputs = CASES[case]
    (tmp_path / "hostile.json").write_text(json.dumps(HOSTILE))
    for example in EXAMPLES.iterdir():
        (tmp_path / example.name).write_bytes(example.read_bytes())
    env = runner_env(
        tmp_path,
        files,
        {"metrics-file": source, "dry-run": "true", "format": fmt, **inputs},
    )
    out = io.StringIO()
    assert main(env, out) == 0
    printed = out.getvalue()
    # The message is printed between stop-commands markers; take it from there.
    lines = printed.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    end = next(
        i
        for i, line in enumerate(lines)
        if i > start and line.startswith("::") and line.endswith("::") and len(line) == 36
    )
    message = "\n".join(lines[start + 1 : end]) + "\n"
    title = lines[start - 1].removeprefix("::group::Report: ")
    actual = f"title: {title}\n\n{message}"
    golden = GOLDEN / f"{case}.{fmt}.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(actual)
    assert actual == golden.read_text()
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["delivered"] == "false" and outputs["attempts"] == "0"


SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "reports.md"


@pytest.mark.parametrize("report", ["sync", "drain"])
def test_sample_reports_match_the_spec_line_for_line(report: str) -> None:
    """The golden Slack samples are the spec's own sample reports (reports.md)."""
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside this checkout ({SPEC})")
    blocks = SPEC.read_text().split("```")[1::2]
    spec = next(b for b in blocks if f"Cold Email {report.title()} Complete" in b).strip("\n")
    golden = golden_message(f"{report}.slack.txt").strip("\n")
    # The spec's samples link to runs 123456 (sync) and 123457 (drain); the fixture uses one id.
    assert golden == spec.replace("runs/123457", "runs/123456")
