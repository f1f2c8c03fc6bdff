"""Echo's failure modes through main(): exit code, annotation, outputs, what Echo saw.

The clock and sleep are injected (waits cost nothing); HTTP and its faults are real.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import (
    EXAMPLE_DAY,
    Fault,
    ScriptedEcho,
    example_day,
    parse_outputs,
    runner_env,
    running,
    stray_commands,
)
from tests.unit.test_echo import FakeClock


@dataclass
class Scenario:
    name: str
    create: list[Fault] = field(default_factory=list)
    send: list[Fault] = field(default_factory=list)
    delivered: bool = True
    attempts: int = 2
    annotation: str = ""  # fragment of the one warning, when not delivered
    created: int = 1
    sends: int = 1


S503 = Fault("status", 503, {"x-render-routing": "hibernate-wake-error"})
SCENARIOS = [
    Scenario("clean"),
    Scenario("sleeping host", create=[Fault("status", 503, delay=0.3), S503, S503], attempts=5),
    Scenario("deploying (502)", create=[Fault("status", 502)] * 2, attempts=4),
    Scenario("gateway timeout on create", create=[Fault("status", 504)], attempts=3),
    Scenario("rate limited", create=[Fault("status", 429, {"Retry-After": "3"})], attempts=3),
    Scenario("reset on create", create=[Fault("reset")], attempts=3),
    Scenario("create answer lost", create=[Fault("lost")], attempts=3),
    Scenario("send refused, 503", send=[S503, S503], attempts=4),
    Scenario(
        "send answer lost",
        send=[Fault("lost")],
        delivered=False,
        annotation="may or may not be in the channel",
        sends=1,
    ),
    Scenario(
        "send reset",
        send=[Fault("reset")],
        delivered=False,
        annotation="may or may not be in the channel",
        sends=0,
    ),
    Scenario(
        "500 on create",
        create=[Fault("status", 500)],
        delivered=False,
        attempts=1,
        annotation="Echo create failed: HTTP 500",
        created=0,
        sends=0,
    ),
    Scenario(
        "401",
        create=[Fault("status", 401)],
        delivered=False,
        attempts=1,
        annotation="check the `echo-token` secret",
        created=0,
        sends=0,
    ),
    Scenario(
        "403",
        create=[Fault("status", 403)],
        delivered=False,
        attempts=1,
        annotation="check the `echo-token` secret",
        created=0,
        sends=0,
    ),
    Scenario(
        "404 no server",
        create=[Fault("status", 404, {"x-render-routing": "no-server"})],
        delivered=False,
        attempts=1,
        created=0,
        sends=0,
        annotation="HTTP 404 Not Found (x-render-routing: no-server)",
    ),
    Scenario(
        "422",
        create=[Fault("status", 422)],
        delivered=False,
        attempts=1,
        annotation="Echo rejected the payload",
        created=0,
        sends=0,
    ),
    Scenario(
        "invalid JSON body",
        create=[Fault("raw", 201, body="<html>")],
        delivered=False,
        attempts=1,
        annotation="no usable message id",
        created=0,
        sends=0,
    ),
    Scenario(
        "200 without id",
        create=[Fault("status", 200, body={"status": "ok"})],
        delivered=False,
        attempts=1,
        annotation="no usable message id",
        created=0,
        sends=0,
    ),
    Scenario(
        "down past the deadline",
        create=[S503] * 40,
        delivered=False,
        attempts=0,
        annotation="within the 60s deadline: create was tried",
        created=0,
        sends=0,
    ),
]


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_delivery_scenarios(s: Scenario, echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    echo.fail("create", *s.create)
    echo.fail("send", *s.send)
    clock = FakeClock()
    env = runner_env(
        workspace,
        files,
        {"metrics-file": "sync.json", "echo-url": echo.url, "timeout-seconds": "60"},
    )
    out = io.StringIO()
    code = main(env, out, clock=clock, sleep=clock.sleep, now=example_day)
    log = out.getvalue()
    outputs = parse_outputs((files / "set_output").read_text())
    assert code == 0  # fail-on-error is false: the pipeline is never broken
    assert outputs["delivered"] == ("true" if s.delivered else "false")
    if s.attempts:
        assert outputs["attempts"] == str(s.attempts)
    else:  # waits are random (jitter): how many fit in the deadline varies
        assert int(outputs["attempts"]) >= 5
    assert len(echo.sends) == s.sends and len(set(echo.sends)) == len(echo.sends)
    assert echo.created == s.created or (s.created == 1 and echo.created == 1)
    attempt_lines = [line for line in log.splitlines() if line.startswith("Echo ")]
    assert len(attempt_lines) == int(outputs["attempts"])  # one line per attempt
    warnings = [line for line in log.splitlines() if line.startswith("::warning")]
    if s.delivered:
        assert warnings == []
    else:
        assert len(warnings) == 1 and s.annotation in warnings[0], warnings
    assert stray_commands(log) == [] and "Traceback" not in log


def test_deadline_failure_fails_the_step_when_asked(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    echo.fail("create", *[S503] * 40)
    clock = FakeClock()
    env = runner_env(
        workspace,
        files,
        {
            "metrics-file": "sync.json",
            "echo-url": echo.url,
            "fail-on-error": "true",
            "timeout-seconds": "30",
        },
    )
    out = io.StringIO()
    assert main(env, out, clock=clock, sleep=clock.sleep, now=example_day) == 1
    assert (
        "::error title=Echo Notify%3A report not delivered::Echo did not take the report "
        "within the 30s deadline" in out.getvalue()
    )
    assert clock.now < 30


@pytest.mark.parametrize(("debug", "shown"), [("", False), ("1", True)])
def test_a_bug_never_breaks_the_pipeline(
    echo: ScriptedEcho, workspace: Path, files: Path, debug: str, shown: bool
) -> None:
    def broken_sleep(seconds: float) -> None:
        raise RuntimeError("a bug")

    echo.fail("create", S503)
    env = runner_env(
        workspace,
        files,
        {"metrics-file": "sync.json", "echo-url": echo.url},
        extra={"RUNNER_DEBUG": debug},
    )
    out = io.StringIO()
    assert main(env, out, sleep=broken_sleep, now=example_day) == 0
    log = out.getvalue()
    assert "::warning title=Echo Notify failed::Unexpected internal error (RuntimeError)" in log
    assert ("::debug::Traceback" in log) is shown
    assert parse_outputs((files / "set_output").read_text())["delivered"] == "false"


# -- single runs that once went wrong ------------------------------------------------------------


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
