"""Cancellation of the real container while the send is in flight: `docker kill -s TERM|INT`,
and SIGINT to the `docker run` CLI, which is how the runner cancels.

The program is PID 1 there, where a signal without a handler is ignored; the runner's cancel
reaches it as SIGINT and then SIGTERM (actions/runner, `ProcessInvoker`). Checked: exit
143/130 within 2 s of
the signal, outputs and summary written, one annotation, no traceback.
"""

from __future__ import annotations

import shutil
import signal as signals
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.docker import TAG, build, docker, require_engine, start_as_runner
from tests.helpers import EXAMPLES, Fault, ScriptedEcho, parse_outputs
from tests.integration.test_cancel import wait_for

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image() -> str:
    require_engine()
    build()  # Docker's layer cache makes this quick after test_container's build
    return TAG


@pytest.mark.parametrize(
    ("to_cli", "signal", "code"),
    [(False, "TERM", 143), (False, "INT", 130), (True, "INT", 130)],
    ids=["docker kill -s TERM", "docker kill -s INT", "SIGINT to the docker CLI, as the runner"],
)
def test_cancelled_while_sending(
    image: str, echo: ScriptedEcho, tmp_path: Path, to_cli: bool, signal: str, code: int
) -> None:
    echo.fail("send", Fault("late", delay=60))  # Echo posts it; its answer is slow
    shutil.copytree(EXAMPLES, tmp_path / "workspace")
    name = f"echo-notify-cancel-{uuid.uuid4().hex[:12]}"
    process, files = start_as_runner(
        image, tmp_path, {"metrics-file": "sync.json", "echo-url": echo.url}, name=name
    )
    try:
        wait_for(lambda: echo.sends == ["msg_1"], "the send to reach Echo", timeout=60)
        sent = time.monotonic()
        if to_cli:  # the runner signals `docker run`, which passes it on (--sig-proxy)
            process.send_signal(getattr(signals, f"SIG{signal}"))
        else:
            docker("kill", "-s", signal, name)
        log, _ = process.communicate(timeout=30)
        elapsed = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
        docker("rm", "-f", name, check=False)
    assert process.returncode == code, log
    assert elapsed < 2.0, elapsed
    annotations = [line for line in log.splitlines() if line.startswith("::warning")]
    assert len(annotations) == 1 and f"cancelled (SIG{signal})" in annotations[0], log
    assert "may or may not be in the channel" in annotations[0]
    assert "Traceback" not in log and "KeyboardInterrupt" not in log
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["delivered"] == "false" and outputs["message-id"] == "msg_1"
    summary = (files / "step_summary").read_text()
    assert "outcome unknown" in summary and "Cold Email Sync" in summary
    assert echo.send_requests == 1
