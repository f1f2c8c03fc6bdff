"""Cancellation through the real process entry: SIGTERM/SIGINT as the runner sends them.

`python entrypoint.py` runs as its own process against a real Echo on 127.0.0.1; the signal
comes at a known point of the delivery. Every case: the process ends within 2 s of the
signal, exits 128 + the signal, writes outputs and summary, says so in one annotation, and
prints no traceback.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from echo_notify import cancel
from tests.helpers import (
    ROOT,
    Fault,
    ScriptedEcho,
    parse_outputs,
    runner_env,
    stray_commands,
)


@dataclass
class Stopped:
    code: int
    after_signal: float
    log: str
    outputs: dict[str, str]
    summary: str

    @property
    def annotations(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith(("::warning", "::error"))]


def start(
    workspace: Path,
    files: Path,
    inputs: dict[str, str],
    *,
    extra: dict[str, str] | None = None,
    fifo_summary: bool = False,
) -> subprocess.Popen[str]:
    env = runner_env(workspace, files, {"metrics-file": "sync.json", **inputs}, extra=extra)
    env["PATH"] = os.environ["PATH"]
    if fifo_summary:
        (files / "step_summary").unlink()
        os.mkfifo(files / "step_summary")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "entrypoint.py")],
        env=env,
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def stop(
    process: subprocess.Popen[str], files: Path, *signals: signal.Signals, gap: float = 0.05
) -> Stopped:
    sent = time.monotonic()
    for number, signum in enumerate(signals):
        if number:
            time.sleep(gap)
        process.send_signal(signum)
    try:
        log, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        log, _ = process.communicate()
        pytest.fail(f"still running 15 s after the signal:\n{log}")
    return Stopped(
        process.returncode,
        time.monotonic() - sent,
        log,
        parse_outputs((files / "set_output").read_text()),
        (files / "step_summary").read_text(),
    )


def assert_stopped_cleanly(result: Stopped, code: int) -> None:
    assert result.code == code, result.log
    assert result.after_signal < 2.0, result.after_signal
    assert "Traceback" not in result.log and "KeyboardInterrupt" not in result.log, result.log
    assert stray_commands(result.log) == []
    cancelled = [a for a in result.annotations if "cancelled" in a]
    assert len(cancelled) == 1 and len(result.annotations) == 1, result.annotations
    assert "cancelled" in result.summary


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_cancelled_while_the_send_is_in_flight(
    echo: ScriptedEcho, workspace: Path, files: Path, signum: signal.Signals, code: int
) -> None:
    echo.fail("send", Fault("late", delay=30))  # Echo posts it; the answer is slow
    process = start(workspace, files, {"echo-url": echo.url})
    wait_for(lambda: echo.sends == ["msg_1"], "the send to reach Echo")
    result = stop(process, files, signum)
    assert_stopped_cleanly(result, code)
    # The example's metrics are days old by the real clock: stale data is a warning.
    assert result.outputs["report"] == "sync" and result.outputs["severity"] == "warning"
    assert "may or may not be in the channel" in result.annotations[0]
    assert signum.name in result.annotations[0]
    assert result.outputs["delivered"] == "false" and result.outputs["message-id"] == "msg_1"
    assert result.outputs["attempts"] == "2"
    assert "outcome unknown" in result.summary and "Cold Email Sync" in result.summary
    assert echo.send_requests == 1


def test_cancelled_while_creating(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    echo.fail("create", Fault("hang", delay=30))
    process = start(workspace, files, {"echo-url": echo.url})
    wait_for(lambda: len(echo.store.requests) == 1, "the create request")
    result = stop(process, files, signal.SIGINT)
    assert_stopped_cleanly(result, 130)
    assert result.outputs["report"] == "sync"
    assert "was not sent" in result.annotations[0]
    assert result.outputs["delivered"] == "false" and result.outputs["message-id"] == ""
    assert "Not delivered" in result.summary
    assert echo.send_requests == 0


def test_cancelled_while_waiting_to_retry(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    echo.fail("send", Fault("status", 503, {"Retry-After": "30"}))
    process = start(workspace, files, {"echo-url": echo.url})
    wait_for(lambda: echo.send_requests == 1, "the first send")
    time.sleep(0.2)  # the client is in its 30 s wait now
    result = stop(process, files, signal.SIGTERM)
    assert_stopped_cleanly(result, 143)
    assert "waiting to retry" in result.annotations[0] and "msg_1" in result.annotations[0]
    assert result.outputs["delivered"] == "false" and result.outputs["message-id"] == "msg_1"
    assert echo.send_requests == 1 and echo.sends == []


def test_two_signals_in_a_row(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    echo.fail("send", Fault("late", delay=30))
    process = start(workspace, files, {"echo-url": echo.url})
    wait_for(lambda: echo.sends == ["msg_1"], "the send to reach Echo")
    result = stop(process, files, signal.SIGTERM, signal.SIGINT, signal.SIGTERM, gap=0.01)
    assert_stopped_cleanly(result, 143)  # the first signal decides
    assert "SIGTERM" in result.annotations[0]


@contextmanager
def silent_github() -> Iterator[tuple[str, list[socket.socket]]]:
    """A GitHub API that accepts connections and never answers; yields its URL and them."""
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]))
        thread.daemon = True
        thread.start()
        try:
            yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
        finally:
            for connection in accepted:
                connection.close()


def test_cancelled_before_delivery(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    with silent_github() as (api, accepted):
        process = start(
            workspace,
            files,
            {"echo-url": echo.url, "github-token": "ghs_x"},
            extra={"GITHUB_API_URL": api},
        )
        wait_for(lambda: bool(accepted), "the job-link lookup, before delivery")
        result = stop(process, files, signal.SIGTERM)
    assert_stopped_cleanly(result, 143)
    assert "before the report was sent" in result.annotations[0]
    assert result.outputs["attempts"] == "0" and echo.store.requests == []


def test_a_signal_while_writing_outputs(echo: ScriptedEcho, workspace: Path, files: Path) -> None:
    # The summary file is a FIFO: the process blocks opening it, after the delivery and the
    # outputs. A signal then must not cut the exit path: it finishes once the FIFO is read.
    process = start(workspace, files, {"echo-url": echo.url}, fifo_summary=True)
    wait_for(lambda: "delivered" in (files / "set_output").read_text(), "the outputs")
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    reader = os.open(files / "step_summary", os.O_RDONLY | os.O_NONBLOCK)  # lets the writer on
    try:
        log, _ = process.communicate(timeout=15)
        written = os.read(reader, 1 << 20).decode()
    finally:
        os.close(reader)
    assert process.returncode == 143, log
    assert "Traceback" not in log and "Delivered" in written
    assert parse_outputs((files / "set_output").read_text())["delivered"] == "true"
    assert [a for a in log.splitlines() if a.startswith("::")][-1].startswith("::endgroup")
    assert echo.sends == ["msg_1"]


def test_a_hung_exit_path_ends_soon_after_the_signal(
    echo: ScriptedEcho, workspace: Path, files: Path
) -> None:
    # Nobody ever reads the summary FIFO: writing it hangs. The last resort ends the process
    # GRACE seconds after the signal, before the runner's next step (SIGTERM at 7.5 s).
    process = start(workspace, files, {"echo-url": echo.url}, fifo_summary=True)
    wait_for(lambda: "delivered" in (files / "set_output").read_text(), "the outputs")
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=15)
    assert process.returncode == 130
    assert cancel.GRACE - 0.5 < time.monotonic() - sent < cancel.GRACE + 1.5
    assert parse_outputs((files / "set_output").read_text())["delivered"] == "true"


# -- single runs that once went wrong ------------------------------------------------------------


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
