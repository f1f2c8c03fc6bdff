"""Cancellation: the runner's SIGINT or SIGTERM ends the step within 2 s, with what is known.

The runner cancels a Docker action by signalling the `docker run` CLI, which passes the signal
on to our process: SIGINT, then SIGTERM 7.5 s later, then it kills the CLI 2.5 s after that
(actions/runner, `ProcessInvoker`). Our process is PID 1 in its container, where a signal without a
handler is simply ignored, so `install()` gives both signals one, first thing at start.

While the work runs (`armed()`: metrics, rendering, delivery), the first signal raises
`Cancelled` in the main thread. Python runs handlers between bytecodes and when a system call
is interrupted, so a sleep between retries or the wait for Echo's answer ends at once (the
HTTP exchange itself runs on a worker thread, see echo.py). Nothing new starts; `main()`
writes outputs and summary and exits 128 + the signal's number (143 for SIGTERM, 130 for
SIGINT). Outside `armed()`, and for every signal after the first, the handler only notes it,
so the outputs are never cut in half. Should writing them hang, the process ends GRACE s
after the first signal, before the runner's next step.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol, TypeVar

from .errors import CancelledError, DeliveryError, Outcome

T = TypeVar("T")
SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE = 5.0  # a last resort only: the exit path normally takes milliseconds


class Cancelled(BaseException):
    """The step was cancelled. A BaseException, like KeyboardInterrupt, so that library code
    catching Exception cannot swallow it. Echo fills in what was on the wire (echo.py)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal = signal.Signals(signum).name
        self.attempts = 0
        self.message_id = ""
        self.in_flight = ""  # "create" or "send" when a request was on the wire
        self.started = False  # whether delivery had begun
        super().__init__(self.signal)

    def failure(self, known: Known) -> DeliveryError:
        """The one annotation: that the step was cancelled, and what became of the report."""
        why = f"The step was cancelled ({self.signal})"
        if known.outcome != "failed":  # the work was done when the signal came
            return CancelledError(
                f"{why} after the report was {DONE.get(known.outcome, known.outcome)}; "
                "nothing was lost.",
                attempts=known.attempts,
                message_id=known.message_id,
                outcome=known.outcome,
            )
        outcome: Outcome = "failed"
        draft = f" Echo holds it as an unsent draft ({self.message_id})." if self.message_id else ""
        if self.in_flight == "send":
            outcome = "unknown"
            text = (
                f"{why} while the send request was on its way: the report may or may not be "
                "in the channel. It was not sent again; check the channel."
            )
        elif self.in_flight == "create":
            text = (
                f"{why} while Echo was creating the message, so the report was not sent. An "
                "unsent draft may remain in Echo; it never reaches the channel."
            )
        elif self.started:
            text = f"{why} while waiting to retry Echo, so the report was not sent.{draft}"
        else:
            text = f"{why} before the report was sent to Echo; nothing was sent."
        return CancelledError(
            text, attempts=self.attempts, message_id=self.message_id, outcome=outcome
        )


class Known(Protocol):
    """What the step knows when the signal comes (main.Result)."""

    @property
    def outcome(self) -> Outcome: ...
    @property
    def attempts(self) -> int: ...
    @property
    def message_id(self) -> str: ...


DONE = {
    "delivered": "delivered",
    "dry-run": "rendered (dry run)",
    "quiet": "kept from the channel by `notify-on`",
    "skipped": "skipped",
}


class _State:
    first = 0  # the first signal received, 0 while none came
    armed = False
    stopping = threading.Event()


_STATE = _State()


def install() -> None:
    """Handle SIGTERM and SIGINT from now on (entrypoint.py calls this before any import)."""
    for signum in SIGNALS:
        signal.signal(signum, _handle)
    # Started here, not in the handler: a handler that starts a thread can deadlock on
    # threading's own lock if the signal came while the main thread was starting one.
    threading.Thread(target=_last_resort, name="cancel-watchdog", daemon=True).start()


def _last_resort() -> None:
    _STATE.stopping.wait()
    time.sleep(GRACE)
    os._exit(128 + _STATE.first)  # the exit path hangs (an output file that blocks?)


def _handle(signum: int, frame: FrameType | None) -> None:
    if _STATE.first:
        return  # already stopping: a second signal must not cut the exit path in half
    _STATE.first = signum
    _STATE.stopping.set()
    if _STATE.armed:
        _STATE.armed = False
        raise Cancelled(signum)


@contextmanager
def armed() -> Iterator[None]:
    """The work: the first signal raises Cancelled inside it (or at once, if it came earlier)."""
    _STATE.armed = True  # before the check: a signal in between then raises from the handler
    try:
        if _STATE.first:
            _STATE.armed = False
            raise Cancelled(_STATE.first)
        yield
    finally:
        _STATE.armed = False


def exiting() -> None:
    """The process ends now: later signals change nothing. Python's teardown would restore
    the default handlers, and a signal then would kill the process instead of letting it exit
    with its code."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def exit_code(code: int) -> int:
    """128 + the signal's number once one came (143 SIGTERM, 130 SIGINT), else ``code``."""
    return 128 + _STATE.first if _STATE.first else code


def within(seconds: float, work: Callable[[], T], name: str) -> T:
    """``work()`` on a worker thread, waited for at most ``seconds``; TimeoutError after that.

    Socket timeouts bound each read, not their sum: only such a wait bounds a peer that drips
    its answer. Waiting in the main thread also lets a signal end the wait at once. Work given
    up is left to its own timeouts, or to the process's end (a daemon thread)."""
    done: queue.SimpleQueue[tuple[bool, object]] = queue.SimpleQueue()

    def run() -> None:
        try:
            done.put((True, work()))
        except Exception as exc:  # noqa: BLE001 -- handed to the waiting thread as it is
            done.put((False, exc))

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        ok, outcome = done.get(timeout=seconds)
    except queue.Empty:
        raise TimeoutError(f"no result within {seconds:g} s") from None
    if not ok:
        raise outcome  # type: ignore[misc]  # an Exception, put there by run()
    return outcome  # type: ignore[return-value]  # what work() returned
