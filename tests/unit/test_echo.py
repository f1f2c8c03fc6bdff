"""Delivery against a real HTTP server on 127.0.0.1 with scripted faults.

The clock and sleep are injected, so waits cost no real time; transport faults are real.
No scenario may create two messages that get sent, or send one message twice.
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime

import pytest
import requests

from echo_notify import cancel
from echo_notify.echo import Echo, Policy, retry_after
from echo_notify.errors import DeliveryError
from echo_notify.posting import Result
from tests.helpers import Fault, ScriptedEcho, bodies


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_echo(server: ScriptedEcho, clock: FakeClock, lines: list[str], **policy: float) -> Echo:
    settings = {"deadline": 180.0, "read_timeout": 0.5, **policy}
    return Echo(
        server.url,
        "tok",
        session=requests.Session(),
        policy=Policy(**settings),
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    )


def deliver(server: ScriptedEcho, **policy: float) -> tuple[object, FakeClock, list[str]]:
    clock, lines = FakeClock(), []
    echo = make_echo(server, clock, lines, **policy)
    try:
        result: object = echo.deliver("T", "C", ("#a",))
    except DeliveryError as exc:
        result = exc
    return result, clock, lines


def status(code: int, **headers: str) -> Fault:
    return Fault("status", code, headers)


def test_clean_delivery(echo: ScriptedEcho) -> None:
    result, clock, lines = deliver(echo)
    assert not isinstance(result, DeliveryError)
    assert (result.message_id, result.attempts) == ("msg_1", 2)  # type: ignore[attr-defined]
    assert echo.sends == ["msg_1"] and clock.sleeps == []
    create, _send = echo.store.requests
    assert create["headers"]["authorization"] == "Bearer tok"
    assert create["headers"]["content-type"] == "application/json"
    assert len(create["headers"]["idempotency-key"]) == 36
    assert bodies(echo) == [
        ("/api/v1/messages", {"title": "T", "content": "C", "recipients": ["#a"]}),
        ("/api/v1/messages/msg_1/send", None),
    ]
    assert lines == [
        "Echo create, attempt 1: HTTP 201 Created",
        "Echo send, attempt 1: HTTP 200 OK",
    ]


def test_no_token_no_header(echo: ScriptedEcho) -> None:
    client = Echo(echo.url, "", session=requests.Session(), policy=Policy(), log=print)
    client.deliver("T", "C", ("#a",))
    assert all("authorization" not in r["headers"] for r in echo.store.requests)


def test_sleeping_host_wakes(echo: ScriptedEcho) -> None:
    # The edge holds the first request, then answers 503 while the service boots.
    echo.fail(
        "create",
        Fault("status", 503, {"x-render-routing": "hibernate-wake-error"}, delay=0.3),
        status(503),
        status(502),
    )
    result, clock, lines = deliver(echo)
    assert result.attempts == 5 and echo.created == 1 and echo.sends == ["msg_1"]  # type: ignore[attr-defined]
    assert clock.sleeps == [1.0, 1.0, 2.0]  # full jitter (0.5 here) of 1, 2, 4 s; at least 1 s
    assert lines[0] == (
        "Echo create, attempt 1: HTTP 503 Service Unavailable "
        "(x-render-routing: hibernate-wake-error); retrying in 1.0s"
    )


@pytest.mark.parametrize("header", ["7", "Wed, 26 Nov 2031 12:00:07 GMT"])
def test_429_honours_retry_after(echo: ScriptedEcho, header: str) -> None:
    echo.fail(
        "send", status(429, **{"Retry-After": header, "Date": "Wed, 26 Nov 2031 12:00:00 GMT"})
    )
    result, clock, _ = deliver(echo)
    assert echo.sends == ["msg_1"] and result.attempts == 3  # type: ignore[attr-defined]
    assert clock.sleeps == [7.0] if header == "7" else clock.sleeps[0] <= 60


def test_retry_after_is_capped(echo: ScriptedEcho) -> None:
    echo.fail("create", status(429, **{"Retry-After": "3600"}))
    _, clock, _ = deliver(echo)
    assert clock.sleeps == [60.0]


def test_retry_after_parsing() -> None:
    response = requests.Response()
    now = datetime(2031, 11, 26, 12, 0, tzinfo=UTC)
    for value, seconds in [
        ("5", 5.0),
        ("Wed, 26 Nov 2031 12:00:09 GMT", 9.0),
        ("soon", None),
        ("Wed, 26 Nov 2031 11:00:00 GMT", 0.0),
        ("", None),
        ("\u00b2", None),  # a superscript two is a digit to str.isdigit, not to HTTP
        ("9" * 5000, 999_999_999.0),  # capped later; never int()'s digit limit
        ("Wed, 26 Nov 2031 12:00:09", 9.0),  # a date without a zone is GMT (RFC 9110)
        ("Wed, 26 Nov 2031 12:00:09 -0000", 9.0),  # Python reads -0000 as "no zone"
    ]:
        response.headers["Retry-After"] = value
        assert retry_after(response.headers, now) == seconds


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (400, "check `channel`"),
        (401, "check the `echo-token` secret"),
        (403, "check the `echo-token` secret"),
        (404, "check `echo-url`"),
        (422, "check `channel`"),
        (500, "HTTP 500"),
        (301, "set `echo-url` to the address it redirects to"),
    ],
)
def test_permanent_failures_fail_fast(echo: ScriptedEcho, code: int, hint: str) -> None:
    echo.fail(
        "create", Fault("status", code, {"Location": "https://elsewhere"}, {"error": "no <b>"})
    )
    result, clock, _ = deliver(echo)
    assert isinstance(result, DeliveryError) and result.attempts == 1
    assert hint in str(result) and clock.sleeps == [] and echo.sends == []


def test_deadline_bounds_the_retries(echo: ScriptedEcho) -> None:
    echo.fail("create", *[status(503)] * 50)
    result, clock, lines = deliver(echo, deadline=20)
    assert isinstance(result, DeliveryError)
    assert clock.now < 20 and echo.sends == []
    assert "within the 20s deadline" in str(result) and "last result: HTTP 503" in str(result)
    assert lines[-1].endswith("no time left to retry")
    assert result.attempts == len(lines)


def test_create_lost_answer_retried_with_same_key(echo: ScriptedEcho) -> None:
    # The first create is done by Echo but its answer arrives after our read timeout.
    echo.fail("create", Fault("late", delay=1.0))
    result, _, lines = deliver(echo, read_timeout=0.3)
    assert not isinstance(result, DeliveryError)
    keys = {
        r["headers"]["idempotency-key"]
        for r in echo.store.requests
        if r["path"].endswith("messages")
    }
    assert len(keys) == 1  # Echo can deduplicate; our stand-in does
    assert echo.created == 1 and echo.sends == ["msg_1"]
    assert "no answer before the read timeout" in lines[0]


def test_create_connection_reset_is_retried(echo: ScriptedEcho) -> None:
    echo.fail("create", Fault("reset"))
    result, _, _ = deliver(echo)
    assert echo.sends == ["msg_1"] and result.attempts == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("fault", [Fault("late", delay=1.0), Fault("reset"), status(504)])
def test_send_with_unclear_outcome_is_never_repeated(echo: ScriptedEcho, fault: Fault) -> None:
    echo.fail("send", fault)
    result, _, _ = deliver(echo, read_timeout=0.3)
    assert isinstance(result, DeliveryError) and result.outcome == "unknown"
    assert result.message_id == "msg_1"
    assert len([r for r in echo.store.requests if r["path"].endswith("/send")]) == 1
    assert "may or may not be in the channel" in str(result)


@pytest.mark.parametrize("code", [429, 502, 503])
def test_send_refused_by_the_edge_is_retried(echo: ScriptedEcho, code: int) -> None:
    echo.fail("send", status(code))
    result, _, _ = deliver(echo)
    assert echo.sends == ["msg_1"] and echo.created == 1 and result.attempts == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("raw", 200, body="<html>ok</html>"),
        Fault("status", 200, body={"ok": 1}),
        Fault("status", 201, body={"id": None}),
    ],
)
def test_create_without_usable_id(echo: ScriptedEcho, fault: Fault) -> None:
    echo.fail("create", fault)
    result, _, _ = deliver(echo)
    assert isinstance(result, DeliveryError) and "no usable message id" in str(result)
    assert echo.sends == []


def test_refused_connection_retries_until_deadline() -> None:
    server = ScriptedEcho()
    url = server.url
    server.server_close()  # nothing listens there now
    clock, lines = FakeClock(), []
    echo = Echo(
        url,
        "",
        session=requests.Session(),
        policy=Policy(deadline=15),  # create's retries stop 5 s early: the send's minimum
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 1.0,
    )
    with pytest.raises(DeliveryError, match="deadline"):
        echo.deliver("T", "C", ("#a",))
    assert "could not connect, ConnectionError" in lines[0]
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_deadline_holds_in_wall_time(echo: ScriptedEcho) -> None:
    """Real clock and sleep: a hung Echo cannot keep the step past its deadline."""
    echo.fail("create", Fault("late", delay=30), *[Fault("status", 503, delay=0.2)] * 20)
    policy = Policy(deadline=1.5, min_exchange=0.5)
    client = Echo(echo.url, "", session=requests.Session(), policy=policy, log=lambda _: None)
    start = time.monotonic()
    with pytest.raises(DeliveryError, match="deadline"):
        client.deliver("T", "C", ("#a",))
    assert 1.4 <= time.monotonic() - start < 2.0
    assert echo.sends == []


def test_a_cancel_while_waiting_to_retry_says_delivery_had_begun(echo: ScriptedEcho) -> None:
    """The `started` flag: cancelled in the wait between attempts, nothing on the wire."""
    echo.fail("create", status(503))

    def cancelled(seconds: float) -> None:
        raise cancel.Cancelled(signal.SIGTERM)

    sender = make_echo(echo, FakeClock(), [])
    sender.sleep = cancelled
    with pytest.raises(cancel.Cancelled) as stop:
        sender.deliver("T", "C", ("#a",))
    assert stop.value.started and stop.value.in_flight == ""
    failure = stop.value.failure(Result())
    assert "while waiting to retry Echo, so the report was not sent" in str(failure)
