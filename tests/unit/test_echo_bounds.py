"""Delivery under hostile answers: every attempt bounded in time and size, honest wording.

Real HTTP on 127.0.0.1 and, where time is the point, the real clock (small deadlines).
"""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError

from echo_notify.echo import ANSWER_LIMIT, Echo, Policy, judge_error
from echo_notify.errors import DeliveryError
from tests.helpers import Fault, ScriptedEcho
from tests.unit.test_echo import FakeClock, deliver, status


def real_echo(url: str, lines: list[str] | None = None, **policy: Any) -> Echo:
    log = lines.append if lines is not None else (lambda _: None)
    return Echo(url, "", session=requests.Session(), policy=Policy(**policy), log=log)


def timed(client: Echo) -> tuple[object, float]:
    start = time.monotonic()
    try:
        result: object = client.deliver("T", "C", ("#a",))
    except DeliveryError as exc:
        result = exc
    return result, time.monotonic() - start


# -- time -----------------------------------------------------------------------------------

DRIPS = [
    ("create", Fault("drip", 201, delay=0.2)),  # status line and headers drip
    ("create", Fault("drip-body", 201, delay=0.2)),
    ("send", Fault("drip", 200, body={"id": "msg_1"}, delay=0.2)),
    ("send", Fault("drip-body", 200, body={"id": "msg_1"}, delay=0.2)),
]


@pytest.mark.parametrize(("step", "fault"), DRIPS, ids=[f"{s}-{f.kind}" for s, f in DRIPS])
def test_a_dripping_answer_cannot_outlast_the_deadline(
    echo: ScriptedEcho, step: str, fault: Fault
) -> None:
    # One byte every 0.2 s restarts a read timeout forever; the deadline must still hold.
    echo.fail(step, fault)
    result, elapsed = timed(real_echo(echo.url, deadline=1.5, min_exchange=0.5))
    assert elapsed < 1.5 + 0.3, elapsed  # the deadline plus scheduling slack
    assert echo.dripped >= 3  # the drip really ran
    assert isinstance(result, DeliveryError)
    if step == "send":  # the send may have been read by Echo: never repeated, outcome unknown
        assert result.outcome == "unknown" and echo.send_requests == 1
        assert result.message_id == "msg_1"
    else:
        assert result.outcome == "failed" and echo.send_requests == 0


def test_a_server_that_never_answers_is_bounded() -> None:
    # Accepts TCP (the kernel's backlog) but never reads nor answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        result, elapsed = timed(real_echo(url, deadline=1.0, min_exchange=0.5))
    assert isinstance(result, DeliveryError) and "deadline" in str(result)
    assert elapsed < 1.0 + 0.3


def test_a_slow_create_does_not_starve_the_send(echo: ScriptedEcho) -> None:
    # Create answers just before the deadline; the send still gets its minimum and succeeds.
    echo.fail("create", Fault("late", delay=0.9))
    echo.fail("send", Fault("late", delay=0.5))
    lines: list[str] = []
    result, elapsed = timed(real_echo(echo.url, lines, deadline=1.0, min_exchange=0.8))
    assert not isinstance(result, DeliveryError), (result, lines)
    assert echo.sends == ["msg_1"]
    assert elapsed < 1.0 + 0.8 + 0.3  # the deadline plus one minimum exchange, at most


def test_a_retry_never_starts_after_the_deadline(echo: ScriptedEcho) -> None:
    # Each 503 comes slowly: no attempt may start once the time is up (with the send's
    # minimum kept free), and the whole delivery ends by the deadline.
    echo.fail("create", *[Fault("status", 503, delay=0.4)] * 10)
    result, elapsed = timed(real_echo(echo.url, deadline=2.0, min_exchange=0.5, min_wait=0.1))
    assert isinstance(result, DeliveryError) and "deadline" in str(result)
    assert elapsed < 2.0 + 0.3


@pytest.mark.parametrize("header", ["0", "Wed, 01 Jan 2020 00:00:00 GMT", "-5"])
def test_retry_after_zero_or_past_gets_a_floor(echo: ScriptedEcho, header: str) -> None:
    echo.fail("create", *[status(429, **{"Retry-After": header})] * 200)
    result, clock, lines = deliver(echo, deadline=10)
    assert isinstance(result, DeliveryError)
    assert clock.sleeps and min(clock.sleeps) >= 1.0
    assert len(lines) <= 10  # one line per attempt: a handful, never thousands
    assert clock.now < 10


def test_attempts_have_a_ceiling(echo: ScriptedEcho) -> None:
    echo.fail("create", *[status(503)] * 100)
    result, clock, lines = deliver(echo, deadline=3600, max_tries=30)
    assert isinstance(result, DeliveryError) and result.attempts == 30
    assert "30 attempts" in str(result) and len(lines) == 30
    assert echo.created == 0 and clock.now < 3600


def test_retry_after_is_a_lower_bound_on_the_backoff(echo: ScriptedEcho) -> None:
    echo.fail("create", *[status(429, **{"Retry-After": "2"})] * 6)
    _, clock, _ = deliver(echo)
    # jitter fixed at 0.5 of 1, 2, 4, 8, 16, 20 (the cap); never below Retry-After (2 s)
    assert clock.sleeps == [2.0, 2.0, 2.0, 4.0, 8.0, 10.0]


# -- size -----------------------------------------------------------------------------------


def test_a_huge_create_answer_is_not_read_whole(echo: ScriptedEcho) -> None:
    echo.fail("create", Fault("huge", 201, size=50_000_000))
    result, _ = timed(real_echo(echo.url))
    assert isinstance(result, DeliveryError) and result.outcome == "failed"
    assert "larger than 1 MiB" in str(result)
    assert echo.streamed < 8_000_000  # the client stopped reading (socket buffers aside)
    assert echo.send_requests == 0


@pytest.mark.parametrize(("size", "read"), [(ANSWER_LIMIT, True), (ANSWER_LIMIT + 1, False)])
def test_the_answer_ceiling_to_the_byte(echo: ScriptedEcho, size: int, read: bool) -> None:
    echo.fail("create", Fault("huge", 201, size=size))
    result, _ = timed(real_echo(echo.url))
    assert isinstance(result, DeliveryError)  # the scripted answer created nothing to send
    assert ("larger than 1 MiB" in str(result)) is not read
    assert echo.send_requests == (1 if read else 0)  # at the ceiling, its id was read


def test_a_huge_send_answer_still_counts_its_status(echo: ScriptedEcho) -> None:
    echo.fail("send", Fault("huge", 200, size=50_000_000))
    result, _ = timed(real_echo(echo.url))
    assert not isinstance(result, DeliveryError), result
    assert echo.streamed < 8_000_000


def test_a_huge_error_answer_is_cut(echo: ScriptedEcho) -> None:
    echo.fail("create", Fault("huge", 500, size=50_000_000))
    result, _ = timed(real_echo(echo.url))
    assert isinstance(result, DeliveryError) and "HTTP 500" in str(result)
    assert len(str(result)) < 1000 and echo.streamed < 8_000_000


@pytest.mark.parametrize("kind", ["broken", "garbled"])
def test_a_damaged_body_after_a_2xx_status(echo: ScriptedEcho, kind: str) -> None:
    # Send: the status says it is posted, whatever the body. Create: asked again, same key.
    echo.fail("create", Fault(kind))
    echo.fail("send", Fault(kind))
    lines: list[str] = []
    result, _ = timed(real_echo(echo.url, lines))
    assert not isinstance(result, DeliveryError), (result, lines)
    assert echo.created == 1 and echo.sends == ["msg_1"] and echo.send_requests == 1
    assert "broke off" in lines[0] and "retrying" in lines[0]


def test_a_token_in_an_answer_is_never_cut_in_half(echo: ScriptedEcho) -> None:
    # Echo's answer is cut for the message; cut first, a token across the cut would no longer
    # be the whole token that redaction and the runner's mask look for.
    token = "echo-Red7eamT0ken-5f4e3d2c1b0a9988"
    echo.fail("create", Fault("raw", 400, body="x" * 150 + " Authorization: Bearer " + token))
    client = Echo(echo.url, token, session=requests.Session(), policy=Policy(), log=print)
    with pytest.raises(DeliveryError) as caught:
        client.deliver("T", "C", ("#a",))
    assert "HTTP 400" in str(caught.value) and token[:9] not in str(caught.value)


def test_a_short_token_never_changes_what_echo_said(echo: ScriptedEcho) -> None:
    # Only the words shown lose the token; the id and Retry-After are read as Echo sent them.
    echo.fail("create", status(429, **{"Retry-After": "1"}))
    lines: list[str] = []
    clock = FakeClock()
    client = Echo(
        echo.url,
        "1",
        session=requests.Session(),
        policy=Policy(),
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
    )
    assert client.deliver("T", "C", ("#a",)).message_id == "msg_1"
    assert clock.sleeps == [1.0] and echo.sends == ["msg_1"]


# -- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["create", "send"])
def test_early_hints_are_not_the_answer(echo: ScriptedEcho, step: str) -> None:
    echo.fail(step, Fault("hints"))
    lines: list[str] = []
    result, _ = timed(real_echo(echo.url, lines))
    assert not isinstance(result, DeliveryError), (result, lines)
    assert echo.sends == ["msg_1"] and lines[0].endswith("HTTP 201 Created")


def test_plain_http_behind_https_is_named(echo: ScriptedEcho) -> None:
    lines: list[str] = []
    result, _ = timed(real_echo(echo.url.replace("http://", "https://"), lines))
    assert isinstance(result, DeliveryError) and result.attempts == 1
    assert "answered plain HTTP" in str(result) and "certificate" not in str(result)


@pytest.mark.parametrize(
    "message_id", ["a.b:c", "2031-01-01T00:00:00Z", "../../admin", "x/y?z#w%", " .. ", ". "]
)
def test_message_ids_are_one_path_segment(echo: ScriptedEcho, message_id: str) -> None:
    echo.name_next(message_id)
    result, _, _ = deliver(echo)
    assert not isinstance(result, DeliveryError), result
    assert echo.sends == [message_id]
    send = echo.store.requests[1]["path"]
    assert send.startswith("/api/v1/messages/") and send.endswith("/send")
    assert send.count("/") == 5  # the id is one segment, whatever it holds


@pytest.mark.parametrize("message_id", ["", ".", "..", "a\nb", "bell\x07", "x" * 1001])
def test_ids_that_cannot_be_a_segment_are_refused(echo: ScriptedEcho, message_id: str) -> None:
    echo.name_next(message_id)
    result, _, _ = deliver(echo)
    assert isinstance(result, DeliveryError) and result.outcome == "failed"
    assert "unsent draft" in str(result) and echo.send_requests == 0
    assert "\n" not in str(result) and "\x07" not in str(result) and len(str(result)) < 600


@pytest.mark.parametrize(
    ("message_id", "reason"),
    [
        ("\x85", "holds control characters"),  # NEL: whitespace to str.strip(), not empty
        ("a\x85b", "holds control characters"),
        (" \u2028", "is empty, blank or a dot segment"),
        (".", "is empty, blank or a dot segment"),
        ("", "is empty, blank or a dot segment"),
        ("a b", ""),  # a space inside is escaped (%20)
        (" .. ", ""),  # dots with spaces are no dot segment: %20..%20
    ],
)
def test_an_id_is_refused_for_its_own_reason(
    echo: ScriptedEcho, message_id: str, reason: str
) -> None:
    echo.name_next(message_id)
    result, _, _ = deliver(echo)
    if reason:
        assert isinstance(result, DeliveryError) and reason in str(result), result
    else:
        assert not isinstance(result, DeliveryError), result
        assert echo.sends == [message_id]


def test_a_send_answered_404_does_not_blame_echo_url(echo: ScriptedEcho) -> None:
    # The create just worked at this `echo-url`: the URL is right, the draft is what Echo lost.
    echo.fail("send", Fault("status", 404, body={"error": "no message msg_1"}))
    result, _, _ = deliver(echo)
    assert isinstance(result, DeliveryError) and result.outcome == "failed"
    assert "`echo-url`" not in str(result), result
    assert "created the message" in str(result) and "msg_1" in str(result)


def name_error(code: int) -> requests.ConnectionError:
    """What requests raises when the host name does not resolve (built, not faked)."""
    try:
        try:
            raise socket.gaierror(code, "scripted")
        except socket.gaierror as cause:
            raise NameResolutionError("echo.example", None, cause) from cause  # type: ignore[arg-type]
    except NameResolutionError as error:
        return requests.ConnectionError(MaxRetryError(None, "/", error))  # type: ignore[arg-type]


@pytest.mark.parametrize("step", ["create", "send"])
def test_temporary_dns_failure_is_retried(step: str) -> None:
    verdict = judge_error(name_error(socket.EAI_AGAIN), step)
    assert verdict.action == "retry" and "temporar" in verdict.detail


def test_unknown_host_is_not_retried() -> None:
    verdict = judge_error(name_error(socket.EAI_NONAME), "create")
    assert verdict.action == "fail" and "does not resolve" in verdict.detail


@pytest.mark.parametrize(
    ("step", "fault"),
    [
        ("send", Fault("late", delay=1.0)),
        ("send", Fault("lost")),
        ("send", Fault("done", 504)),
        ("create", Fault("late", delay=1.0)),
    ],
)
def test_details_do_not_repeat_themselves(echo: ScriptedEcho, step: str, fault: Fault) -> None:
    echo.fail(step, *[fault] * 3)
    result, _, lines = deliver(echo, read_timeout=0.3, deadline=3)
    assert isinstance(result, DeliveryError)
    for text in (str(result), *lines):
        assert len(re.findall(r"no (?:clear )?answer", text)) <= 1, text
        assert not re.search(r"\([^)]*\(", text), text  # no parentheses inside parentheses
