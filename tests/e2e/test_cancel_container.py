"""Cancellation of the real container: `docker kill -s TERM|INT` while the send is in flight.

The program is PID 1 there, where a signal without a handler is ignored; the runner's cancel
reaches it as SIGINT and then SIGTERM (composite.md). Checked: exit 143/130 within 2 s of
the signal, outputs and summary written, one annotation, no traceback.
"""

from __future__ import annotations

import shutil
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


@pytest.mark.parametrize(("signal", "code"), [("TERM", 143), ("INT", 130)])
def test_docker_kill_while_sending(
    image: str, echo: ScriptedEcho, tmp_path: Path, signal: str, code: int
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
