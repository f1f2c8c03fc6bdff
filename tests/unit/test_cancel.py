"""cancel.py's rules, with the handler called as the signal would call it (no real signal:
the test process keeps its own handlers; tests/integration/test_cancel.py sends real ones)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from echo_notify import cancel
from echo_notify.cancel import Cancelled, armed, exit_code
from echo_notify.errors import Outcome


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    yield
    cancel._STATE.first = 0
    cancel._STATE.armed = False
    cancel._STATE.stopping.clear()


def signal_arrives(signum: int = signal.SIGTERM) -> None:
    cancel._handle(signum, None)


def test_outside_the_work_a_signal_is_only_noted() -> None:
    signal_arrives()  # e.g. while the outputs are written
    assert exit_code(0) == 143 and exit_code(1) == 143


def test_a_signal_before_the_work_stops_it_at_once() -> None:
    signal_arrives(signal.SIGINT)
    with pytest.raises(Cancelled) as caught, armed():
        pytest.fail("the work must not start")
    assert caught.value.signal == "SIGINT" and exit_code(0) == 130


def test_inside_the_work_the_first_signal_raises_and_later_ones_do_not() -> None:
    with pytest.raises(Cancelled), armed():
        signal_arrives(signal.SIGTERM)
    signal_arrives(signal.SIGINT)  # a second one: noted, nothing raised
    assert exit_code(0) == 143


def test_no_signal_changes_nothing() -> None:
    with armed():
        pass
    assert exit_code(0) == 0 and exit_code(1) == 1


@dataclass
class Known:
    outcome: Outcome = "failed"
    attempts: int = 0
    message_id: str = ""


def stopped(in_flight: str = "", started: bool = True, message_id: str = "") -> Cancelled:
    stop = Cancelled(signal.SIGTERM)
    stop.in_flight, stop.started, stop.message_id, stop.attempts = in_flight, started, message_id, 2
    return stop


@pytest.mark.parametrize(
    ("stop", "known", "outcome", "words"),
    [
        (stopped("send", message_id="m1"), Known(), "unknown", "may or may not be in the channel"),
        (stopped("create"), Known(), "failed", "unsent draft may remain"),
        (stopped(message_id="m1"), Known(), "failed", "waiting to retry Echo"),
        (stopped(started=False), Known(), "failed", "before the report was sent"),
        (stopped(), Known("delivered", 2, "m1"), "delivered", "after the report was delivered"),
        (stopped(), Known("dry-run"), "dry-run", "after the report was rendered"),
        (stopped(), Known("quiet"), "quiet", "kept from the channel by `notify-on`"),
    ],
)
def test_what_the_annotation_says(
    stop: Cancelled, known: Known, outcome: Outcome, words: str
) -> None:
    failure = stop.failure(known)
    assert failure.outcome == outcome and words in str(failure)
    assert failure.title == "Echo Notify: cancelled" and "(SIGTERM)" in str(failure)
