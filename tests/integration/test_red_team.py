"""Red-team findings: each test fails on the code it was written against and passes once the
defect it names is fixed. Everything runs through main() with the runner's environment."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from echo_notify.main import main
from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, zipped
from tests.helpers import (
    EXAMPLE_DAY,
    EXAMPLES,
    ROOT,
    Fault,
    ScriptedEcho,
    parse_outputs,
    runner_env,
    running,
)
from tests.pipeline import Pipeline, sync

ECHO_TOKEN = "echo-Red7eamT0ken-5f4e3d2c1b0a9988"
GH_TOKEN = "ghs_RedTeamGitHubToken0123456789abcdef"
NY = ZoneInfo("America/New_York")


@dataclass
class Outcome:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    messages: list[dict[str, Any]]  # what Echo was asked to create

    @property
    def content(self) -> str:
        return self.messages[-1]["content"] if self.messages else ""

    def visible(self) -> str:
        """Everything a reader of the log, summary, outputs or channel sees."""
        log = "\n".join(x for x in self.log.splitlines() if not x.startswith("::add-mask::"))
        return "\n".join([log, self.summary, json.dumps(self.outputs), json.dumps(self.messages)])


def run(
    echo: ScriptedEcho,
    workspace: Path,
    files: Path,
    metrics: dict[str, Any] | str | None,
    *,
    now: datetime = EXAMPLE_DAY,
    extra: dict[str, str] | None = None,
    **inputs: str,
) -> Outcome:
    path = workspace / "m.json"
    if metrics is not None:
        path.write_text(metrics if isinstance(metrics, str) else json.dumps(metrics))
    given = {"metrics-file": "m.json", "echo-url": echo.url, "echo-token": ECHO_TOKEN}
    given.update({k.replace("_", "-"): v for k, v in inputs.items()})
    env = runner_env(workspace, files, given, github_token=GH_TOKEN, extra=extra)
    out = io.StringIO()
    code = main(env, out, now=lambda: now)
    created = [
        json.loads(r["body"]) for r in echo.store.requests if r["path"] == "/api/v1/messages"
    ]
    return Outcome(
        code,
        out.getvalue(),
        parse_outputs((files / "set_output").read_text()),
        (files / "step_summary").read_text(),
        created,
    )


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())  # type: ignore[no-any-return]


STAMP = "2026-01-15T19:30:00Z"


# == Cancellation (docs/delivery.md: cancelled mid-run) ===========================


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_cancel_writes_outputs_and_exits_143_or_130(
    echo: ScriptedEcho, workspace: Path, files: Path, sig: signal.Signals, code: int
) -> None:
    """The runner cancels with SIGINT then SIGTERM. There is no handler at all: SIGTERM kills
    the process with no outputs, no summary, no annotation (and as PID 1 in the container it is
    ignored outright); SIGINT ends in a KeyboardInterrupt traceback."""
    echo.fail("create", Fault("status", 201, body={"id": "m1"}, delay=30))
    env = runner_env(
        workspace, files, {"metrics-file": "sync.json", "echo-url": echo.url}, github_token=""
    )
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while not echo.store.requests and time.monotonic() < deadline:  # create is in flight
        time.sleep(0.05)
    sent = time.monotonic()
    child.send_signal(sig)
    try:
        out, err = child.communicate(timeout=5)
    finally:
        child.kill()
    assert time.monotonic() - sent < 2.5
    assert child.returncode == code
    assert "Traceback" not in out + err
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs.get("delivered") == "false"
    assert (files / "step_summary").read_text().strip()
    assert [line for line in out.splitlines() if line.startswith(("::warning", "::error"))]


# == Secrets ====================================================================================


def test_heartbeat_failure_notice_does_not_leak_the_check_url(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """The notice quotes urllib3's message, which carries the URL's path (the check's secret
    UUID) apart from its host, so neither redaction nor ::add-mask:: of the whole URL hides it.
    Fix: name the exception type only (as echo.py does)."""
    hook = "http://127.0.0.1:9/ping/0f9e8d7c-6b5a-4321-9fed-cba987654321"
    step = run(echo, workspace, files, example("sync.json"), heartbeat_url=hook)
    assert step.outputs["delivered"] == "true"
    assert "heartbeat not sent" in step.log
    assert "0f9e8d7c-6b5a-4321-9fed-cba987654321" not in step.visible()


def test_bad_value_warning_does_not_leak_a_cut_secret(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """metrics._show cuts a quoted value to 40 characters *before* anything redacts it: a
    token that lands in a numeric field shows 38 of its characters in the warning and the
    summary, where neither redaction nor the runner's mask (whole value only) matches.
    Fix: redact the metrics data at load, before any quoting or cutting."""
    token = "ghs_" + "R3dTeamFortyCharGitHubTokenAbCdEf0123"  # 40 characters, as GitHub's
    bad = {"timestamp": STAMP, "capacity_status": {"current_inventory": token}}
    step = run(echo, workspace, files, bad, github_token=token)
    assert "capacity_status.current_inventory" in step.log
    for shown in (token[:24], token[:24].replace("_", "\\_")):
        assert shown not in step.visible()


def test_echo_error_answer_cut_does_not_leak_part_of_the_token(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """_body() cuts Echo's answer at 200 characters before the runner redacts: a token that
    straddles the cut is no longer the whole token, so most of it reaches the annotation and
    the summary. Fix: redact inside _body() before cutting (or cut after redaction)."""
    answer = "x" * 150 + " Authorization: Bearer " + ECHO_TOKEN
    echo.fail("create", Fault("raw", 400, body=answer))
    step = run(echo, workspace, files, example("sync.json"))
    assert step.outputs["delivered"] == "false"
    assert "HTTP 400" in step.log
    assert ECHO_TOKEN[:4] + "-Red7" not in step.visible()


@pytest.mark.parametrize(
    "template",
    [
        "{{ errors[0] | truncate(45, true) }}",  # a common filter: cuts the token before finalize
        "{{ errors[0] | upper }}",  # changes it so redaction no longer matches
        "{{ errors[0] | e }}",  # Markup: finalize passes it through untouched
        "{{ errors[0] | safe }}",
        "{{ errors[0] | tojson }}",
        "{{ errors[0] | wordwrap(30) }}",
    ],
)
def test_custom_template_filters_cannot_reveal_a_secret(
    echo: ScriptedEcho, workspace: Path, files: Path, template: str
) -> None:
    """Redaction happens in `finalize`, on the way out: any Jinja filter that rewrites the text
    first (truncate, upper, wordwrap) or returns Markup (e, safe, tojson) gets a secret from the
    data into the Slack message. Fix: redact every string of the data before rendering (and
    redact the final title and body in compose() as a backstop)."""
    (workspace / "mine.j2").write_text(template)
    data = {
        "timestamp": STAMP,
        "capacity_status": {"current_inventory": 1, "max_capacity": 10},
        "errors": [f"Echo said 401 for {ECHO_TOKEN} today"],
    }
    step = run(echo, workspace, files, data, template="mine.j2")
    assert step.outputs["delivered"] == "true"
    secret = ECHO_TOKEN.split("-", 1)[1]  # the part no wrapping or cutting keeps apart
    for text in (step.content, step.content.upper()):
        assert secret[:12].upper() not in text.upper().replace(" ", "")


# == Crashes ====================================================================================


@pytest.mark.parametrize(
    ("when", "zone"),
    [
        ("9999-12-31T23:00:00+00:00", "Asia/Tokyo"),
        ("0001-01-01T00:00:00+00:00", "America/New_York"),
    ],
)
def test_snapshot_at_the_end_of_the_calendar_only_loses_the_trends(
    tmp_path: Path, echo: ScriptedEcho, when: str, zone: str
) -> None:
    """Snapshot.parse accepts any aware time; report._since then converts it to the
    `timezone` and overflows: the whole report fails with "Unexpected internal error" instead
    of "no trends this run" (docs/history-and-trends.md: any failure: no trends, one notice,
    nothing else changes). The same holds for streak.since. Fix: range-check times in
    Snapshot.parse."""
    with fake_actions() as actions:
        snapshot = {
            "version": 1,
            "report": "sync",
            "time": when,
            "run_id": "999",
            "attempt": 1,
            "severity": "warning",
            "failed": False,
            "levels": {"capacity": "ok"},
            "figures": {"inventory": 1300},
            "streak": {"count": 1, "since": when, "failed": False},
        }
        artifact = Artifact(
            "echo-notify-sync-sync", zipped("sync.json", json.dumps(snapshot).encode())
        )
        actions.workflows[0].runs.insert(0, Run(999, [artifact]))
        step = Pipeline(tmp_path, echo, actions).run(sync(92), 13, timezone=zone)
    assert "Unexpected internal error" not in step.log
    assert step.outputs["delivered"] == "true"


def test_watchdog_with_github_unreachable_says_what_happened(tmp_path: Path) -> None:
    """A connection error to the API is not a GithubException: it falls to main's catch-all,
    "Unexpected internal error (ConnectionError); report it." -- no cause, no fix, and it
    invites a bug report for a network problem (every annotation says what
    happened, the likely cause and the fix)."""
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    with running(ScriptedEcho()) as echo:
        env = runner_env(
            tmp_path,
            files,
            {"workflows": "cold-email-sync.yml: 2h", "echo-url": echo.url},
            github_token=GH_TOKEN,
            action=ROOT / "watchdog",
            extra={"GITHUB_API_URL": "http://127.0.0.1:9/api/v3"},
        )
        out = io.StringIO()
        main(env, out, argv=["watchdog"], now=lambda: EXAMPLE_DAY)
    log = out.getvalue()
    assert "Unexpected internal error" not in log
    assert "GitHub API" in log


# == Wrong numbers and misleading reports =======================================================


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
    step = run(echo, workspace, files, {"timestamp": STAMP, **data})
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
    step = run(echo, workspace, files, data)
    assert "200.0%" not in step.content
    assert "status_breakdown.invalid" in step.log


def test_poll_nothing_checked_but_statuses_counted_is_bad_data(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """verifications_checked 0 with 10 invalid in the breakdown: the report says "nothing to
    check this run", severity ok, and no warning names the contradiction."""
    data = {"timestamp": STAMP, "verifications_checked": 0, "status_breakdown": {"invalid": 10}}
    step = run(echo, workspace, files, data)
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
    step = run(echo, workspace, files, data)
    assert len(step.content) <= 3000
    assert "*Issues*: 1 error logged" in step.content
    assert step.content.endswith("|View Logs>")


def test_errors_as_a_numeric_string_is_a_count(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """metrics.md: numbers may arrive as numeric strings; errors may be a count. `"errors":
    "3"` is read as one error whose text is "3": "1 error logged • `3`"."""
    data = {"timestamp": STAMP, **example("poll.json"), "errors": "3"}
    step = run(echo, workspace, files, data)
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
    step = run(echo, workspace, files, data)
    contradiction = "⚠️ *Email Verification*" in step.content and "(90.0%)" in step.content
    assert not contradiction, step.content


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
    good = run(echo, workspace, files, example("sync.json"), template="mine.j2")
    assert good.code == 0 and good.content == "22,658 leads of room"
    bad = run(echo, workspace, files, example("sync-bad-day.json"), template="mine.j2")
    assert bad.code == 1 and "template error" in bad.log
    assert len(bad.messages) == 2  # the bad day's report still reached the channel


# == The heartbeat ==============================================================================


class SlowPing(BaseHTTPRequestHandler):
    """Answers 200 at once, then drips the body one byte a second."""

    stop: ClassVar[threading.Event] = threading.Event()
    status: ClassVar[int] = 200

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(self.status)
        if self.status != 200:
            self.send_header("Location", "https://hc-ping.example.com/new")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(25):
            if self.stop.wait(1):
                return
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return


@pytest.fixture
def slow_ping() -> Iterator[str]:
    SlowPing.stop.clear()
    SlowPing.status = 200
    with running(ThreadingHTTPServer(("127.0.0.1", 0), SlowPing)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/ping/abc"
        SlowPing.stop.set()


def test_a_slow_heartbeat_cannot_hold_the_step(
    echo: ScriptedEcho, workspace: Path, files: Path, slow_ping: str
) -> None:
    """heartbeat() reads the whole body (no stream=True) with a 10 s timeout *per read*: a
    check that answers and then drips a byte every few seconds holds the step for as long as it
    likes (the first release's "deadline a slow server could stretch forever", again). Fix:
    stream=True and close without reading, or one overall deadline."""
    started = time.monotonic()
    step = run(echo, workspace, files, example("sync.json"), heartbeat_url=slow_ping)
    assert step.outputs["delivered"] == "true"
    assert time.monotonic() - started < 15


def test_a_redirected_heartbeat_is_not_a_silent_success(
    echo: ScriptedEcho, workspace: Path, files: Path, slow_ping: str
) -> None:
    """A 301/302 from the check (moved URL, http→https) is below 400, so it counts as sent and
    nothing is said; redirects are not followed, so the check never saw the ping and will
    report the run as missing while the step log claims nothing went wrong."""
    SlowPing.status = 301
    step = run(echo, workspace, files, example("sync.json"), heartbeat_url=slow_ping)
    notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
    assert any("heartbeat not sent" in line and "301" in line for line in notices)


# == The watchdog ===============================================================================


def test_watchdog_stale_age_is_not_rounded_below_the_limit(tmp_path: Path) -> None:
    """45 minutes since the last success with `max-age 30m` reads "(0h ago; expected within
    30m)"; 2h59m with 2h reads "2h ago; expected within 2h": the message seems to contradict
    itself. Fix: show minutes under an hour and never floor onto the limit (or say "over 2h")."""
    now = datetime(2026, 1, 15, 12, 0, tzinfo=NY)
    started = (now - timedelta(minutes=45)).isoformat()
    state = Actions(
        workflows=[Workflow(name="Cold Email Sync", runs=[Run(900, created_at=started)])]
    )
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    with fake_actions(state) as actions, running(ScriptedEcho()) as echo:
        env = runner_env(
            tmp_path,
            files,
            {"workflows": "cold-email-sync.yml: 30m", "echo-url": echo.url},
            github_token=GH_TOKEN,
            action=ROOT / "watchdog",
            extra={"GITHUB_API_URL": actions.api, "RUNNER_TEMP": str(tmp_path)},
        )
        main(env, io.StringIO(), argv=["watchdog"], now=lambda: now)
        content = json.loads(echo.store.requests[0]["body"])["content"]
    assert "No successful *Cold Email Sync* since 11:15 AM" in content
    assert "0h ago" not in content


def test_watchdog_a_stale_workflow_then_disabled_is_news(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    """Snapshots keep levels only: stale and disabled are both "critical", so when a stale
    workflow is then disabled (GitHub's 60-day rule, or someone turned it off) the watchdog
    stays quiet: "the same problems as at the previous check". The fix needed is different
    (re-enable it, the message that is never sent says how). Fix: keep the problem kind in
    the snapshot's levels (e.g. "critical:disabled") or compare problems."""
    from tests.integration.test_watchdog import runs  # noqa: PLC0415
    from tests.pipeline import Watchdog  # noqa: PLC0415

    sync_runs = runs(("failure", "13:30:00"), ("success", "09:00:00"))
    state = Actions(
        workflows=[
            Workflow(
                id=1, path=".github/workflows/cold-email-sync.yml", name="Sync", runs=sync_runs
            )
        ]
    )
    with fake_actions(state) as actions:
        dog = Watchdog(tmp_path, echo, actions)
        stale = dog.check(14, workflows="cold-email-sync.yml: 2h")
        assert stale.outputs["posted"] == "true" and "No successful" in stale.content
        actions.workflows[0].state = "disabled_inactivity"
        disabled = dog.check(15, workflows="cold-email-sync.yml: 2h")
    assert disabled.outputs["posted"] == "true"
    assert "is disabled after 60 days" in disabled.content


def test_snapshot_write_failure_after_delivery_is_not_an_internal_error(
    echo: ScriptedEcho, workspace: Path, files: Path, tmp_path: Path
) -> None:
    """history.write() runs after the report was delivered and is not guarded: a RUNNER_TEMP
    that cannot take the file (full disk, read-only, not a directory) ends in "Unexpected
    internal error (NotADirectoryError); report it.", exit 1 with fail-on-error although the
    report is in the channel, and the heartbeat is never sent. Any history
    failure means no trends, one notice, nothing else changes; after a delivery
    a write failure is a warning and never a reason to fail."""
    temp = tmp_path / "not-a-directory"
    temp.write_text("")
    # The look-up finds no earlier snapshot (a first run), so this run keeps one: the write.
    with fake_actions(Actions(workflows=[Workflow(runs=[Run(123456)])])) as actions:
        step = run(
            echo,
            workspace,
            files,
            example("sync.json"),
            extra={"RUNNER_TEMP": str(temp), "GITHUB_API_URL": actions.api},
            fail_on_error="true",
        )
    assert step.outputs["delivered"] == "true"
    assert "Unexpected internal error" not in step.log
    assert step.code == 0
    assert "the next run will have no trends. Nothing else changed." in step.log


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
    step = run(echo, workspace, files, data)
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
    step = run(echo, workspace, files, data)
    assert "n/a / n/a" not in step.content


LOOK_ALIKE = "p\u0430yp\u0430\u04cf.com"  # Cyrillic a, a and palochka: reads "paypal.com"


def test_a_look_alike_domain_in_data_is_not_a_link(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    """escape_slack fences a domain's dot only after an ASCII letter or digit
    (`(?<=[A-Za-z0-9-])`): a campaign named with Cyrillic look-alikes (LOOK_ALIKE),
    goes out unfenced and Slack links internationalised domains. reports.md: data never
    forges a link. Fix: use \\w (Unicode) on both sides of the dot."""
    data = {
        "timestamp": STAMP,
        "leads_processed": {
            "total_attempted": 1,
            "smb_campaign": {"campaign_name": LOOK_ALIKE + "/login", "leads_added": 1},
        },
    }
    step = run(echo, workspace, files, data)
    assert LOOK_ALIKE not in step.content
    assert LOOK_ALIKE.split(".", maxsplit=1)[0] in step.content


def test_the_title_carries_no_raw_ping(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    """The body escapes GITHUB_WORKFLOW (&lt;!channel&gt;), the title does not: the alert's
    title is "<!channel> nightly: no metrics - 4:05 PM EST" (also any data a custom template
    puts in `title`). Echo is not documented; if it renders the title as mrkdwn, it pings the
    channel. Suggest: drop or escape `<`, `>`, `&` in titles, as for the body."""
    step = run(echo, workspace, files, None, extra={"GITHUB_WORKFLOW": "<!channel> nightly"})
    assert step.messages and "<!channel>" not in step.messages[0]["title"]


class DrippingEcho(BaseHTTPRequestHandler):
    """Echo that accepts the message at once, then sends its answer a byte a second."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"id": "m1"}   '
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            time.sleep(1)
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return


def test_a_dripping_answer_cannot_stretch_the_deadline(workspace: Path, files: Path) -> None:
    """`timeout-seconds` is the overall deadline (docs/delivery.md), but requests' read timeout
    is per socket read and the body is read in full: an answer that trickles in a byte a
    second holds one attempt for as long as it trickles (15 s here against a 3 s deadline;
    any length in general), and the send then starts after the deadline anyway. The first
    release's "deadline a slow server could stretch forever", on the body instead of the
    headers. Fix: stream=True and read the (capped) body against the deadline."""
    with running(ThreadingHTTPServer(("127.0.0.1", 0), DrippingEcho)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = runner_env(
            workspace,
            files,
            {"metrics-file": "sync.json", "echo-url": url, "timeout-seconds": "3"},
        )
        started = time.monotonic()
        main(env, io.StringIO(), now=lambda: EXAMPLE_DAY)
        took = time.monotonic() - started
    assert took < 8, f"a 3 s deadline took {took:.0f} s"


def test_a_dripping_artifact_download_cannot_hold_the_report(
    tmp_path: Path, echo: ScriptedEcho, monkeypatch: pytest.MonkeyPatch
) -> None:
    """history.LOOKUP_BUDGET (15 s, "the report must not wait on history") is checked only
    between runs: the artifact download itself reads with a 10 s timeout per chunk, so a
    storage host that trickles holds the report (here 20 s with the budget at 2 s; up to 1 MB
    of trickle in general). Fix: check the deadline inside the download loop."""
    import tests.fake_github as fake  # noqa: PLC0415

    def trickle(self: BaseHTTPRequestHandler) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(20):
            time.sleep(1)
            try:
                self.wfile.write(b"P")
                self.wfile.flush()
            except OSError:
                return

    monkeypatch.setattr(fake.StorageHandler, "do_GET", trickle)
    monkeypatch.setattr("echo_notify.history.LOOKUP_BUDGET", 2.0)
    with fake_actions() as actions:
        actions.workflows[0].runs.insert(
            0, Run(999, [Artifact("echo-notify-sync-sync", zipped("sync.json", b"{}"))])
        )
        started = time.monotonic()
        step = Pipeline(tmp_path, echo, actions).run(sync(92), 13)
        took = time.monotonic() - started
    assert step.outputs["delivered"] == "true"
    assert took < 8, f"the look-up held the report {took:.0f} s"


def test_watchdog_outside_actions_names_what_is_missing(tmp_path: Path) -> None:
    """Run locally (a plain shell) without GITHUB_REPOSITORY,
    api_client() returns None and watch() trips `assert client is not None`: "Unexpected
    internal error (AssertionError); report it.", exit 0. Expected: an input error that says
    the watchdog needs GITHUB_REPOSITORY (owner/name) to know what to watch."""
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    env = runner_env(
        tmp_path,
        files,
        {"workflows": "cold-email-sync.yml: 2h", "dry-run": "true"},
        github_token=GH_TOKEN,
        action=ROOT / "watchdog",
    )
    del env["GITHUB_REPOSITORY"]
    out = io.StringIO()
    code = main(env, out, argv=["watchdog"], now=lambda: EXAMPLE_DAY)
    assert "Unexpected internal error" not in out.getvalue()
    assert "GITHUB_REPOSITORY" in out.getvalue() and code == 1
