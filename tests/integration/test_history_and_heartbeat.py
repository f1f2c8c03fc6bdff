"""Operator insight through main() (docs/history-and-trends.md): runs in sequence against a
fake GitHub API that serves the previous runs' snapshots, as the composite's upload step
leaves them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.fake_github import Actions, Artifact, Run, zipped
from tests.helpers import (
    Fault,
    ScriptedEcho,
    ends_within,
    running,
)
from tests.oneshot import example as example_metrics
from tests.oneshot import run as once
from tests.pipeline import TOKEN, Heartbeats, Pipeline, sync


def test_problems_only_posts_the_problems_and_one_recovery(
    pipeline: Pipeline, actions: Actions
) -> None:
    ok = pipeline.run(sync(92), 13, **{"notify-on": "problems"})
    assert ok.outputs["posted"] == "false" and ok.outputs["delivered"] == "false"
    assert ok.code == 0 and ok.content == ""
    assert "🤫 **Not posted**: `notify-on: problems`, and this run had no problem." in ok.summary

    warning = pipeline.run(sync(85, 1390), 14, **{"notify-on": "problems"})
    assert warning.outputs["posted"] == "true" and warning.outputs["severity"] == "warning"
    assert "⚠️ *Email Verification*" in warning.content
    assert "🟢 Current: 1,390 / 24,000 leads (5.8% utilized) ▲ 48 since 1:00 PM" in warning.content
    assert "• Success: 85/100 (85.0%) ▼ 7.0 pts" in warning.content
    assert "in a row" not in warning.content  # the first problem is not a streak yet

    critical = pipeline.run(sync(70, 1390), 15, **{"notify-on": "problems"})
    assert critical.outputs["severity"] == "critical"
    assert "🚨 2nd sync with problems in a row (since 2:00 PM)" in critical.content  # critical now
    assert "Current: 1,390 / 24,000 leads (5.8% utilized)\n" in critical.content  # unchanged
    assert "▼ 15.0 pts" in critical.content

    back = pipeline.run(sync(95, 1300), 16, **{"notify-on": "problems"})
    assert back.outputs["posted"] == "true" and back.outputs["severity"] == "ok"
    assert "✅ Back to normal after 2 syncs with problems" in back.content
    assert "▼ 90 since 3:00 PM" in back.content

    quiet_again = pipeline.run(sync(95, 1300), 17, **{"notify-on": "problems"})
    assert quiet_again.outputs["posted"] == "false"
    assert pipeline.echo.sends == ["msg_1", "msg_2", "msg_3"]  # exactly the three worth it
    # The API saw the token; the storage host it redirects downloads to never did.
    assert actions.seen and all(auth == f"token {TOKEN}" for _, auth in actions.seen)
    assert actions.downloads and all(auth == "" for _, auth in actions.downloads)


def test_failed_runs_streak_and_recovery(pipeline: Pipeline) -> None:
    for hour in (9, 10, 11):
        step = pipeline.run(sync(92), hour, **{"job-status": "failure"})
    assert "🚨 3rd failed sync in a row (since 9:00 AM)" in step.content
    back = pipeline.run(sync(92), 12)
    assert "✅ Back to normal after 3 failed syncs" in back.content


def test_changes_posts_level_changes(pipeline: Pipeline) -> None:
    first = pipeline.run(sync(92), 9, **{"notify-on": "changes"})
    assert first.outputs["posted"] == "true"  # no previous snapshot: treated as changed
    same = pipeline.run(sync(93), 10, **{"notify-on": "changes"})
    assert same.outputs["posted"] == "false"
    assert "no gauge changed level since the previous run" in same.summary
    busier = pipeline.run(sync(93, 17_000), 11, **{"notify-on": "changes"})  # capacity 70.8 %
    assert busier.outputs["posted"] == "true" and busier.outputs["severity"] == "warning"


def test_thresholds_change_the_levels(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(92, 17_000), 9, thresholds="capacity: 75/92\nverification: 95/90")
    assert step.outputs["severity"] == "warning"
    assert "🟢 Current: 17,000 / 24,000 leads" in step.content  # 70.8 % is under 75
    assert "⚠️ *Email Verification*" in step.content  # 92 % is under 95


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("capacity 75/92", "cannot read the line 'capacity 75/92'"),
        ("speed: 1/2", "cannot read the line 'speed: 1/2'"),
        ("capacity: 92/75", "needs warning below critical"),
        ("verification: 80/90", "needs warning above critical"),
        ("invalid: 10/250", "both from 0 to 100"),
    ],
)
def test_bad_thresholds_name_the_line(pipeline: Pipeline, line: str, message: str) -> None:
    step = pipeline.run(sync(92), 9, thresholds=line)
    assert step.code == 1
    assert "::error title=Echo Notify%3A invalid input::Input 'thresholds'" in step.log
    assert message in step.log


def previous_with(actions: Actions, artifact: Artifact) -> None:
    actions.workflows[0].runs.insert(0, Run(999, [artifact]))


SNAPSHOT = json.dumps(
    {
        "version": 1,
        "report": "sync",
        "time": "2026-01-15T12:00:00+00:00",
        "run_id": "999",
        "attempt": 1,
        "severity": "ok",
        "failed": False,
        "levels": {"capacity": "ok", "verification": "ok"},
        "figures": {"inventory": 1300, "utilization": 5.4, "verification": 92.0, "added": 92},
        "streak": {"count": 0, "since": None, "failed": False},
    }
).encode()


@pytest.mark.parametrize(
    ("artifact", "status", "notice"),
    [
        (Artifact("echo-notify-sync-sync", zipped("sync.json", SNAPSHOT)), 200, ""),
        (Artifact("echo-notify-sync-sync", zipped("sync.json", SNAPSHOT), expired=True), 200, ""),
        (Artifact("echo-notify-other-sync", zipped("sync.json", SNAPSHOT)), 200, ""),
        (Artifact("echo-notify-sync-sync", b"PK\x03\x04 not a zip"), 200, "cannot be read"),
        (Artifact("echo-notify-sync-sync", zipped("sync.json", b"{]")), 200, "cannot be read"),
        (
            Artifact("echo-notify-sync-sync", zipped("sync.json", SNAPSHOT), size=50_000_000),
            200,
            "is 50,000,000 bytes, over the 1,048,576",
        ),
        (
            Artifact("echo-notify-sync-sync", zipped("sync.json", b" " * 2_000_000)),
            200,
            "over 1,048,576 bytes",
        ),
        (
            Artifact("echo-notify-sync-sync", zipped("sync.json", SNAPSHOT)),
            403,
            "give the job `permissions: actions: read`",
        ),
    ],
    ids=["found", "expired", "no artifact", "corrupt zip", "bad JSON", "huge", "bomb", "403"],
)
def test_history_failures_only_lose_the_trends(
    pipeline: Pipeline, actions: Actions, artifact: Artifact, status: int, notice: str
) -> None:
    previous_with(actions, artifact)
    actions.status = status
    step = pipeline.run(sync(92, 1342), 13)
    assert step.code == 0 and step.outputs["delivered"] == "true"
    notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
    warnings = [line for line in step.log.splitlines() if line.startswith(("::warning", "::error"))]
    assert warnings == []
    if notice:
        assert len(notices) == 1 and notice in notices[0], notices
        assert "No trends this run" in notices[0]
    else:
        assert notices == []
    found = status == 200 and not notice and not artifact.expired and "other" not in artifact.name
    assert ("▲ 42 since 7:00 AM" in step.content) == found, step.content
    assert all(auth == "" for _, auth in actions.downloads)


def test_no_history_reads_and_writes_nothing(pipeline: Pipeline, actions: Actions) -> None:
    step = pipeline.run(sync(92), 9, history="false")
    assert step.code == 0 and [p for p, _ in actions.seen if not p.endswith("/jobs")] == []
    assert not list(pipeline.tmp.glob("run-*/temp/echo-notify/*"))


def test_dry_run_reads_and_writes_nothing(pipeline: Pipeline, actions: Actions) -> None:
    # "Call nothing": not even the job-link look-up, which would send the token.
    step = pipeline.run(sync(92), 9, **{"dry-run": "true"})
    assert step.code == 0 and actions.seen == []
    assert (
        step.outputs["run-url"]
        == f"https://github.com/acme/cold-email/actions/runs/{pipeline.run_id}"
    )
    assert not list(pipeline.tmp.glob("run-*/temp/echo-notify/*"))


def test_a_crash_continues_the_streak(pipeline: Pipeline) -> None:
    pipeline.run(sync(92), 8, report="sync", **{"job-status": "failure"})
    crashed = pipeline.run(None, 9, report="sync", **{"job-status": "failure"})
    assert crashed.outputs["report"] == "unknown" and crashed.outputs["delivered"] == "true"
    assert "🚨 2nd failed sync in a row (since 8:00 AM)" in crashed.content
    back = pipeline.run(sync(92), 10, report="sync")
    assert "✅ Back to normal after 2 failed syncs" in back.content


def test_heartbeat_after_the_step_did_its_job(pipeline: Pipeline, heartbeat: str) -> None:
    posted = pipeline.run(sync(92), 9, **{"heartbeat-url": heartbeat})
    quiet = pipeline.run(sync(92), 10, **{"heartbeat-url": heartbeat, "notify-on": "problems"})
    assert posted.outputs["delivered"] == "true" and quiet.outputs["posted"] == "false"
    assert Heartbeats.seen == ["/ping/abc-123", "/ping/abc-123"]
    assert "abc-123" not in posted.log.replace(f"::add-mask::{heartbeat}", "")


def test_no_heartbeat_when_the_report_was_not_delivered(pipeline: Pipeline, heartbeat: str) -> None:
    pipeline.echo.fail("create", Fault("status", 403))
    step = pipeline.run(sync(92), 9, **{"heartbeat-url": heartbeat})
    assert step.outputs["delivered"] == "false" and Heartbeats.seen == []


def test_a_failed_heartbeat_is_a_notice(pipeline: Pipeline, heartbeat: str) -> None:
    Heartbeats.status = 404
    step = pipeline.run(sync(92), 9, **{"heartbeat-url": heartbeat})
    assert step.code == 0 and step.outputs["delivered"] == "true"
    notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "heartbeat not sent" in notices[0] and "HTTP 404" in notices[0]


def test_heartbeat_url_must_be_https(pipeline: Pipeline) -> None:
    step = pipeline.run(sync(92), 9, **{"heartbeat-url": "http://hc.example.com/ping/x"})
    assert step.code == 1 and "Input 'heartbeat-url' must start with https://" in step.log


def test_a_forks_run_on_a_same_named_branch_is_not_history(
    pipeline: Pipeline, actions: Actions
) -> None:
    # A pull request from a fork whose branch is also called `main`: its artifact must not
    # feed this repository's trends or streaks.
    fork = Run(998, [Artifact("echo-notify-sync-sync", zipped("sync.json", SNAPSHOT))])
    fork.head_repository = "mallory/cold-email"
    actions.workflows[0].runs.insert(0, fork)
    step = pipeline.run(sync(92, 1342), 13)
    assert step.outputs["delivered"] == "true" and "since" not in step.content
    assert actions.downloads == []


class DrippingHeaders(BaseHTTPRequestHandler):
    """A check whose host sends its status line a byte a second: each read is quick, their
    sum is not."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            time.sleep(1)
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return


def test_a_dripping_heartbeat_cannot_hold_the_step(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("echo_notify.posting.HEARTBEAT_LIMIT", 2.0)
    with running(ThreadingHTTPServer(("127.0.0.1", 0), DrippingHeaders)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/ping"
        started = time.monotonic()
        step = pipeline.run(sync(92), 9, **{"heartbeat-url": url})
        took = time.monotonic() - started
    assert step.outputs["delivered"] == "true" and took < 6
    assert "heartbeat not sent" in step.log and "TimeoutError" in step.log


def test_an_api_that_drips_its_answers_cannot_hold_the_report(
    pipeline: Pipeline, actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The README's bound on the whole step, every part of it at once: the job link and the
    # previous snapshot (the API drips a byte every 0.5 s), the heartbeat (a byte a second).
    monkeypatch.setattr("echo_notify.github.JOB_LINK_LIMIT", 1.0)
    monkeypatch.setattr("echo_notify.history.LOOKUP_BUDGET", 1.0)
    monkeypatch.setattr("echo_notify.posting.HEARTBEAT_LIMIT", 1.0)
    actions.drip = 0.5
    with running(ThreadingHTTPServer(("127.0.0.1", 0), DrippingHeaders)) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/ping"
        step = ends_within(7, lambda: pipeline.run(sync(92), 9, **{"heartbeat-url": url}))
    assert step.outputs["delivered"] == "true"
    assert step.outputs["run-url"].endswith(f"/actions/runs/{pipeline.run_id}")  # not the job's
    assert "took over 1 s and was given up" in step.log and "heartbeat not sent" in step.log


# -- single runs that once went wrong ------------------------------------------------------------


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
    step = once(echo, workspace, files, example_metrics("sync.json"), heartbeat_url=slow_ping)
    assert step.outputs["delivered"] == "true"
    assert time.monotonic() - started < 15


def test_a_redirected_heartbeat_is_not_a_silent_success(
    echo: ScriptedEcho, workspace: Path, files: Path, slow_ping: str
) -> None:
    """A 301/302 from the check (moved URL, http→https) is below 400, so it counts as sent and
    nothing is said; redirects are not followed, so the check never saw the ping and will
    report the run as missing while the step log claims nothing went wrong."""
    SlowPing.status = 301
    step = once(echo, workspace, files, example_metrics("sync.json"), heartbeat_url=slow_ping)
    notices = [line for line in step.log.splitlines() if line.startswith("::notice")]
    assert any("heartbeat not sent" in line and "301" in line for line in notices)
