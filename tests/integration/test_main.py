"""main() end to end with the runner's exact environment and a real Echo on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import (
    JOBS,
    ROOT,
    FakeGitHub,
    Fault,
    ScriptedEcho,
    example_day,
    fake_github,
    golden_message,
    parse_outputs,
    runner_env,
)
from tests.oneshot import example as example_metrics
from tests.oneshot import run as once

TOKEN = "echo-s3cret-T0KEN"
GH_TOKEN = "ghs_fakeGitHubToken123"


def run(workspace: Path, files: Path, **inputs: str) -> tuple[int, str, dict[str, str], str]:
    env = runner_env(
        workspace,
        files,
        {k.replace("_", "-"): v for k, v in inputs.items()},
        github_token=GH_TOKEN,
    )
    out = io.StringIO()
    code = main(env, out, now=example_day)
    outputs = parse_outputs((files / "set_output").read_text())
    return code, out.getvalue(), outputs, (files / "step_summary").read_text()


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        kept = [line for line in text.splitlines() if not line.startswith("::add-mask::")]
        for secret in (TOKEN, GH_TOKEN):
            assert secret not in "\n".join(kept)


def test_sync_report_delivered(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    code, printed, outputs, summary = run(
        workspace,
        files,
        metrics_file="sync.json",
        echo_url=echo.url + "/",
        echo_token=TOKEN,
        channel="#sales-cold-email-replies, U0123",
    )
    assert code == 0
    create, send = echo.store.requests
    assert (create["method"], create["path"], send["path"]) == (
        "POST",
        "/api/v1/messages",
        "/api/v1/messages/msg_1/send",
    )
    for request in (create, send):
        assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    body = json.loads(create["body"])
    assert body["title"] == "Cold Email Sync Complete - 2:30 PM EST"
    assert body["recipients"] == ["#sales-cold-email-replies", "U0123"]
    assert body["content"] + "\n" == golden_message("sync.slack.txt")
    assert send["body"] == ""
    assert outputs == {
        "message-id": "msg_1",
        "delivered": "true",
        "report": "sync",
        "severity": "ok",
        "run-url": "https://github.com/acme/cold-email/actions/runs/123456",
        "attempts": "2",
        "posted": "true",
        "history-artifact": "",  # no RUNNER_TEMP: no snapshot kept
        "reason": "",
    }
    assert "**Cold Email Sync Complete**" in summary
    assert (
        "✅ **Delivered** to \\#sales-cold-email-replies, U0123 as Echo message msg\\_1" in summary
    )
    assert f"::add-mask::{TOKEN}" in printed and f"::add-mask::{GH_TOKEN}" in printed
    assert "Delivered to #sales-cold-email-replies, U0123 as Echo message msg_1" in printed
    assert "Traceback" not in printed
    assert_no_secret(printed, json.dumps(outputs), summary)


@pytest.mark.parametrize(
    ("inputs", "fault"),
    [
        ({"enabled": "false"}, None),
        ({"dry_run": "true"}, None),
        ({"timezone": "Mars/Olympus"}, None),  # an input error
        ({}, Fault("status", 403)),  # the create refused
        ({}, Fault("done", 504)),  # the send's outcome unknown: not known to have gone out
    ],
)
def test_posted_is_true_only_when_a_message_went_out(
    echo: ScriptedEcho,
    workspace: Path,
    files: Path,
    inputs: dict[str, str],
    fault: Fault | None,
) -> None:
    # `if: steps.report.outputs.posted == 'true'` must mean the channel got a message.
    if fault is not None:
        echo.fail("send" if fault.kind == "done" else "create", fault)
    _, _, outputs, _ = run(workspace, files, metrics_file="sync.json", echo_url=echo.url, **inputs)
    assert outputs["posted"] == "false" and outputs["delivered"] == "false"


def test_drain_report_delivered_markdown(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    code, _, outputs, _ = run(
        workspace,
        files,
        metrics_file="drain.json",
        echo_url=echo.url,
        format="markdown",
        title="Drain done",
    )
    assert code == 0 and outputs["report"] == "drain" and outputs["delivered"] == "true"
    body = json.loads(echo.store.requests[0]["body"])
    assert body["title"] == "Drain done"
    assert body["content"].startswith("🧹 **Cold Email Drain Complete** | 4:00 PM EST  \n")
    assert "authorization" not in echo.store.requests[0]["headers"]


def test_dry_run_calls_nothing(workspace: Path, files: Path) -> None:
    code, printed, outputs, summary = run(
        workspace, files, metrics_file="sync.json", dry_run="true"
    )
    assert code == 0
    assert (
        outputs["delivered"] == "false"
        and outputs["message-id"] == ""
        and outputs["attempts"] == "0"
    )
    assert outputs["severity"] == "ok" and outputs["report"] == "sync"
    assert "::group::Report: Cold Email Sync Complete - 2:30 PM EST" in printed
    assert "🧪 **Dry run**" in summary


def test_disabled_skips_everything(workspace: Path, files: Path) -> None:
    code, printed, outputs, summary = run(
        workspace, files, metrics_file="", enabled="false", report="nonsense"
    )
    assert code == 0
    assert printed == "::notice title=Echo Notify::Skipped: `enabled` is false.\n"
    assert outputs["delivered"] == "false" and outputs["attempts"] == "0"
    assert summary == "⏭️ **Skipped**: `enabled` is false, so nothing was read or sent.  \n"


@pytest.mark.parametrize(
    ("fail_on_error", "code", "level"), [("false", 0, "warning"), ("true", 1, "error")]
)
def test_delivery_failure(
    echo: ScriptedEcho, workspace: Path, files: Path, fail_on_error: str, code: int, level: str
) -> None:
    echo.fail("create", Fault("status", 401, body={"error": "bad token"}))
    result, printed, outputs, summary = run(
        workspace,
        files,
        metrics_file="sync.json",
        echo_url=echo.url,
        echo_token=TOKEN,
        fail_on_error=fail_on_error,
    )
    assert result == code
    assert (
        f"::{level} title=Echo Notify%3A report not delivered::Echo create failed: HTTP 401"
        in printed
    )
    assert "check the `echo-token` secret" in printed
    assert outputs["delivered"] == "false" and outputs["attempts"] == "1"
    assert outputs["report"] == "sync" and outputs["run-url"].endswith("/runs/123456")
    assert "❌ **Not delivered** after 1 HTTP attempt: Echo create failed" in summary
    assert "**Cold Email Sync Complete**" in summary  # the report is still in the summary
    assert_no_secret(printed, summary)


def test_unknown_send_outcome_is_reported(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    echo.fail("send", Fault("status", 504))
    code, printed, outputs, summary = run(
        workspace, files, metrics_file="sync.json", echo_url=echo.url
    )
    assert code == 0 and outputs["delivered"] == "false" and outputs["message-id"] == "msg_1"
    assert "❓ **Delivery outcome unknown**" in summary
    assert "may or may not be in the channel" in printed


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"metrics_file": ""}, "Input 'metrics-file' is required"),
        ({"echo_url": ""}, "Input 'echo-url' is required"),
        ({"report": "weekly"}, "Input 'report' must be one of"),
        ({"timezone": "US/Nowhere"}, "Input 'timezone' is not a known IANA time zone"),
        ({"fail_on_error": "sure"}, "Input 'fail-on-error' must be true or false"),
        ({"enabled": "perhaps"}, "Input 'enabled' must be true or false"),
        ({"echo_url": "http://echo.example.com"}, "Input 'echo-url' must start with https://"),
        ({"template": "missing.j2"}, "missing.j2' does not exist"),
    ],
)
def test_input_errors_fail_the_step(
    workspace: Path, files: Path, inputs: dict[str, str], message: str
) -> None:
    base = {
        "metrics_file": "sync.json",
        "echo_url": "https://echo.example.com",
        "echo_token": TOKEN,
    }
    code, printed, _, _ = run(workspace, files, **{**base, **inputs})
    assert code == 1
    assert printed.count("::error title=Echo Notify%3A ") == 1
    assert message in printed
    assert "Traceback" not in printed
    assert_no_secret(printed)


@pytest.mark.parametrize(
    ("fail_on_error", "code", "level"), [("false", 0, "warning"), ("true", 1, "error")]
)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (
            "{oops",
            "is not valid JSON: Expecting property name enclosed "
            "in double quotes at line 1, column 2",
        ),
    ],
)
def test_metrics_failure(
    echo: ScriptedEcho,
    workspace: Path,
    files: Path,
    fail_on_error: str,
    code: int,
    level: str,
    content: str | None,
    message: str,
) -> None:
    if content is not None:
        (workspace / "broken.json").write_text(content)
    result, printed, outputs, summary = run(
        workspace, files, metrics_file="broken.json", echo_url=echo.url, fail_on_error=fail_on_error
    )
    assert result == code
    assert f"::{level} title=Echo Notify%3A metrics file unreadable::Metrics file '" in printed
    assert message in printed and str(workspace / "broken.json") in printed
    # The team still hears: a short alert, named after the workflow (report: auto).
    assert outputs["delivered"] == "true" and outputs["report"] == "unknown"
    assert outputs["severity"] == "warning"
    (create, _) = echo.store.requests
    alert = json.loads(create["body"])
    assert alert["title"] == "Pipeline: no metrics - 4:05 PM EST"
    assert "No metrics to report: the file `broken.json` " in alert["content"]
    assert "✅ **Delivered**" in summary and message in summary


def test_crash_before_metrics_alerts_the_channel(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """The sync crashed before writing its file (job failed): a critical alert goes out."""
    env = runner_env(
        workspace,
        files,
        {
            "metrics-file": "sync-metrics.json",
            "echo-url": echo.url,
            "report": "sync",
            "job-status": "failure",
        },
        extra={"GITHUB_WORKFLOW": "Cold Email Sync"},
    )
    out = io.StringIO()
    assert main(env, out, now=example_day) == 0  # a metrics failure: a warning, as before
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["report"] == "unknown" and outputs["severity"] == "critical"
    assert outputs["delivered"] == "true"
    alert = json.loads(echo.store.requests[0]["body"])
    assert alert["title"] == "Cold Email Sync FAILED - 4:05 PM EST"
    assert alert["content"].startswith("🚨 *Cold Email Sync FAILED* | 4:05 PM EST\n")
    assert alert["content"].endswith("|View Logs>")
    assert out.getvalue().count("::warning") == 1


def test_no_alert_when_the_alert_cannot_be_delivered_either(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    echo.fail("create", Fault("status", 403))
    code, printed, outputs, summary = run(
        workspace, files, metrics_file="nope.json", echo_url=echo.url
    )
    assert code == 0 and outputs["delivered"] == "false" and outputs["attempts"] == "1"
    warnings = [line for line in printed.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert "does not exist" in warnings[0]
    assert (
        "The no-metrics alert was not delivered either: Echo create failed: HTTP 403" in warnings[0]
    )
    assert "Not delivered" in summary


def test_bad_fields_warn_once_and_report_goes_out(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    code, printed, outputs, summary = run(
        workspace, files, metrics_file="sync-bad-day.json", echo_url=echo.url
    )
    assert code == 0 and outputs["delivered"] == "true" and outputs["severity"] == "critical"
    warnings = [line for line in printed.splitlines() if line.startswith("::warning")]
    assert warnings == [
        "::warning title=Echo Notify%3A bad values in the metrics file::4 field(s) shown as n/a: "
        "verification_results.credits_used: expected a number, got true; "
        "final_inventory.bigquery_eligible: expected zero or more, got -5; "
        'performance.api_success_rate: expected a finite number, got "NaN"; '
        'leads_processed.midsize_campaign.leads_added: expected a number, got "abc". '
        "Fix the pipeline step that writes the file; the rest of the report goes out as usual."
    ]
    assert "Metrics problems" in summary


def test_act_run_has_no_github_link(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    env = runner_env(
        workspace,
        files,
        {"metrics-file": "drain.json", "echo-url": echo.url},
        extra={"ACT": "true", "GITHUB_RUN_ID": "1", "GITHUB_REPOSITORY": "nektos/act"},
    )
    assert main(env, io.StringIO(), now=example_day) == 0
    content = json.loads(echo.store.requests[0]["body"])["content"]
    assert content.endswith("\n🧪 Local run (act)") and "github.com" not in content
    assert parse_outputs((files / "set_output").read_text())["run-url"] == ""


def test_rerun_links_to_its_attempt(workspace: Path, files: Path) -> None:
    env = runner_env(
        workspace,
        files,
        {"metrics-file": "sync.json", "dry-run": "true"},
        extra={"GITHUB_RUN_ATTEMPT": "2"},
    )
    assert main(env, io.StringIO(), now=example_day) == 0
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["run-url"] == "https://github.com/acme/cold-email/actions/runs/123456/attempts/2"


def test_internal_error_is_contained(workspace: Path, files: Path) -> None:
    # A template helper that blows up stands in for any bug: no traceback, step not broken.
    (workspace / "boom.j2").write_text("{{ m.capacity_status.current_inventory.bit_length() }}")
    (workspace / "m.json").write_text('{"capacity_status": {"current_inventory": 1.5}}')
    code, printed, _, _ = run(
        workspace, files, metrics_file="m.json", template="boom.j2", dry_run="true"
    )
    assert code == 1 and "Traceback" not in printed
    assert "boom.j2', line 1: 'float object' has no attribute 'bit_length'" in printed


def test_entrypoint_as_a_process(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    env = runner_env(
        workspace, files, {"metrics-file": "sync.json", "echo-url": echo.url, "echo-token": TOKEN}
    )
    env["PATH"] = os.environ["PATH"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert parse_outputs((files / "set_output").read_text())["delivered"] == "true"
    assert echo.sends == ["msg_1"]
    assert_no_secret(done.stdout)


def imported(env: dict[str, str], cwd: Path) -> set[str]:
    """Every module `python entrypoint.py` imported (and their packages), as -X importtime
    lists them; the run itself must succeed."""
    env["PATH"] = os.environ["PATH"]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "entrypoint.py")],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "|" in line}
    return names | {name.split(".")[0] for name in names}


# Start-up is most of a dry run's time: what a run does not need, it must not import.
WATCHDOG_CODE = {"echo_notify.watching", "echo_notify.watchdog", "echo_notify.digest"}
SCHEDULES = {"echo_notify.schedule", "cron_descriptor", "cronsim"}


def test_a_dry_run_imports_no_http_client_api_client_or_watchdog(
    workspace: Path, files: Path
) -> None:
    # A token and `history: true` (the default): a real run would read the API with them.
    env = runner_env(
        workspace, files, {"metrics-file": "sync.json", "dry-run": "true"}, github_token=GH_TOKEN
    )
    modules = imported(env, workspace)
    assert "echo_notify.main" in modules and "jinja2" in modules  # the list is the real one
    assert parse_outputs((files / "set_output").read_text())["report"] == "sync"
    unwanted = {"github", "requests", "urllib3", "hypothesis", *WATCHDOG_CODE, *SCHEDULES}
    assert modules & unwanted == set()


def test_a_delivery_without_api_calls_imports_no_pygithub(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    # No token: no history look-up, no job link; the report is delivered all the same.
    env = runner_env(workspace, files, {"metrics-file": "sync.json", "echo-url": echo.url})
    modules = imported(env, workspace)
    assert "requests" in modules and echo.sends == ["msg_1"]
    assert modules & {"github", "hypothesis", *WATCHDOG_CODE, *SCHEDULES} == set()


def test_job_link_from_the_github_api(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    job_url = "https://github.com/acme/cold-email/actions/runs/123456/job/777"
    job = {"status": "in_progress", "runner_name": "GitHub Actions 7", "html_url": job_url}
    with fake_github({JOBS: (200, {"jobs": [job]})}) as api:
        env = runner_env(
            workspace,
            files,
            {"metrics-file": "sync.json", "echo-url": echo.url},
            github_token=GH_TOKEN,
            extra={"GITHUB_API_URL": api},
        )
        out = io.StringIO()
        assert main(env, out, now=example_day) == 0
    assert parse_outputs((files / "set_output").read_text())["run-url"] == job_url
    assert f"<{job_url}|View Logs>" in json.loads(echo.store.requests[0]["body"])["content"]
    assert FakeGitHub.seen[0] == (JOBS, f"token {GH_TOKEN}")  # then the history look-up
    assert GH_TOKEN not in out.getvalue().replace(f"::add-mask::{GH_TOKEN}", "")


def test_job_link_lookup_failure_is_silent(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    # GITHUB_API_URL points at a closed port: the run link is used, with no warning.
    code, printed, outputs, _ = run(workspace, files, metrics_file="sync.json", echo_url=echo.url)
    assert code == 0 and outputs["run-url"].endswith("/actions/runs/123456")
    assert "::warning" not in printed
    assert "::debug::job link lookup failed (ConnectionError); using the run link" in printed


def test_long_problem_list_stays_whole_in_the_summary(workspace: Path, files: Path) -> None:
    # Only the Slack message has Slack's size limit; the job summary lists up to 50 problems.
    reasons = {f"reason_{i:02}": "many" for i in range(60)}
    data = {"capacity_status": {}, "verification_results": {"failed_reasons": reasons}}
    (workspace / "m.json").write_text(json.dumps(data))
    code, printed, _, summary = run(workspace, files, metrics_file="m.json", dry_run="true")
    assert code == 0
    assert "reason\\_49: expected a number" in summary and "…and 10 more" in summary
    assert "cut to fit" not in summary
    assert "; and 50 more" in printed  # the annotation names the first 10


def test_two_input_errors_in_one_run(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    code, printed, _, summary = run(
        workspace, files, metrics_file="sync.json", echo_url=echo.url, timezone="Mars", format="x"
    )
    errors = [line for line in printed.splitlines() if line.startswith("::error")]
    assert code == 1 and len(errors) == 1 and echo.store.requests == []
    assert "Input 'timezone'" in errors[0] and "Input 'format'" in errors[0]
    assert "- Input 'timezone'" in summary and "- Input 'format'" in summary


# -- single runs that once went wrong ------------------------------------------------------------


def test_a_broken_custom_template_still_gets_the_report_out(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """A custom template that works on good days fails on a bad one (here: arithmetic on a
    capacity the file did not report). The step fails and *nothing* is posted: the team hears
    nothing on exactly the day that matters. Every bad input loses nothing else.
    Suggest: fail the step as now, but post the built-in report (saying the template failed)."""
    (workspace / "mine.j2").write_text(
        "{{ (m.capacity_status.max_capacity - m.capacity_status.current_inventory) | count }}"
        " leads of room"
    )
    good = once(echo, workspace, files, example_metrics("sync.json"), template="mine.j2")
    assert good.code == 0 and good.content == "22,658 leads of room"
    bad = once(echo, workspace, files, example_metrics("sync-bad-day.json"), template="mine.j2")
    assert bad.code == 1 and "template error" in bad.log
    assert len(bad.messages) == 2  # the bad day's report still reached the channel
