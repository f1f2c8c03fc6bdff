"""Deliver one report to Echo: create, then send, exactly once, within one deadline.

What may be repeated, the retry policy's one place:
- create: any transient failure (connection error, timeout, 429/502/503/504, a temporary DNS
  failure), always with the same Idempotency-Key. At worst a lost answer leaves an extra
  *unsent* draft in Echo; only the message whose id we hold is ever sent, so the channel
  cannot see a duplicate.
- send: only when the request surely did not take effect: the connection was never made, or
  Echo/its edge answered 429, 502 or 503. A send that got no answer (timeout, dropped
  connection, the deadline) or 504 may have posted: it is not repeated, the outcome is unknown.

Time: no attempt starts after the deadline (a create retry not in its last `min_exchange`
seconds, which stay free for the send), except the first send of a created draft. Every
attempt may run until the deadline and at least `min_exchange` seconds, and no longer: its
whole exchange (connect, headers, body) runs on a worker thread that is given up when its
time is over, because a read timeout restarts with every byte a dripping server sends.
So a delivery ends by the deadline plus `min_exchange` at worst. Waits between attempts are
at least `min_wait`, and each request is tried at most `max_tries` times.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import time
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from . import cancel
from .cancel import Cancelled
from .errors import DeliveryError, OverdueError
from .text import SECRETS, one_line, redact

Step = Literal["create", "send"]
Action = Literal["ok", "retry", "fail", "unknown"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
ANSWER_LIMIT = 1024 * 1024  # 1 MiB; Echo answers a few hundred bytes of JSON; more is not Echo
ID_LIMIT = 1000  # characters: a longer id would not fit in a URL that servers accept
HINTS = {
    400: "Echo rejected the payload: check `channel` and the template's output.",
    401: "Echo refused the credentials: check the `echo-token` secret.",
    403: "Echo refused the credentials: check the `echo-token` secret and its permissions.",
    404: "Nothing answers at that path: check `echo-url` (the API's base URL, without /api/v1).",
    413: "The message is too large for Echo: shorten the template.",
    422: "Echo rejected the payload: check `channel` and the template's output.",
}
SEND_NOT_FOUND = (
    "Echo created the message a moment ago at this URL but does not know {id} for sending: "
    "it may have lost the draft (its host restarted) or have another send path. The report "
    "was not sent; an unsent draft never reaches the channel. Check Echo's logs."
)
NO_TIME = "no time left to retry"
PLAIN_HTTP = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}  # OpenSSL's reasons


@dataclass(frozen=True, kw_only=True)
class Policy:
    deadline: float = 180.0  # the whole delivery, every retry and wait included
    connect_timeout: float = 10.0
    read_timeout: float = 75.0  # a sleeping host holds the first request while it wakes (~60 s)
    min_exchange: float = 5.0  # an attempt that starts has at least this long, deadline or not
    min_wait: float = 1.0  # between attempts, whatever Retry-After says
    backoff_base: float = 1.0
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0
    max_tries: int = 30  # per request (create, send)


@dataclass(frozen=True)
class Delivery:
    message_id: str
    attempts: int


@dataclass
class Progress:
    """One delivery's bookkeeping, passed along (like slack-sdk's RetryState), never kept on
    the client: attempts so far, the deadline, the draft's id, the request on the wire."""

    deadline: float
    attempts: int = 0
    message_id: str = ""
    in_flight: Step | None = None


@dataclass(frozen=True)
class Answer:
    """Echo's answer, its body read up to ANSWER_LIMIT bytes (``cut`` when there was more;
    ``broken`` names the error when the body broke off after the status and headers)."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    cut: bool = False
    broken: str = ""


@dataclass(frozen=True)
class Verdict:
    """What one attempt means: done, try again, stop, or stop not knowing if it took effect."""

    action: Action
    detail: str
    wait: float | None = None  # a server-given wait (Retry-After)


class Echo:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: requests.Session,
        policy: Policy,
        log: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.url = url
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.session = session
        for scheme in ("http://", "https://"):
            session.mount(scheme, EchoAdapter())
        self.policy = policy
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter

    def deliver(self, title: str, content: str, recipients: tuple[str, ...]) -> Delivery:
        progress = Progress(deadline=self.clock() + self.policy.deadline)
        payload = {"title": title, "content": content, "recipients": list(recipients)}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        try:
            created = self._request(progress, "create", "/api/v1/messages", payload, key)
            progress.message_id = message_id(created, self.token)
            segment = quote(progress.message_id, safe="")  # one path segment, whatever it holds
            self._request(progress, "send", f"/api/v1/messages/{segment}/send")
        except DeliveryError as exc:
            exc.attempts, exc.message_id = progress.attempts, progress.message_id
            raise
        except Cancelled as stop:  # main() reports it; say what was on the wire
            stop.started, stop.in_flight = True, progress.in_flight or ""
            stop.attempts, stop.message_id = progress.attempts, progress.message_id
            raise
        return Delivery(message_id=progress.message_id, attempts=progress.attempts)

    def _request(
        self,
        progress: Progress,
        step: Step,
        path: str,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request, retried by the policy: its 2xx answer, or a DeliveryError."""
        start = self.clock()
        tries = 0
        while True:
            tries += 1
            verdict, answer = self._attempt(progress, step, path, payload, headers)
            line = f"Echo {step}, attempt {tries}: {verdict.detail}"
            if verdict.action == "ok":
                self.log(line)
                assert answer is not None
                return answer
            if verdict.action == "retry":
                wait, why_not = self._next_wait(progress, step, tries, verdict.wait)
                if not why_not:
                    self.log(f"{line}; retrying in {wait:.1f}s")
                    self.sleep(wait)
                    continue
                self.log(f"{line}; {why_not}")
                raise self._gave_up(
                    step,
                    tries,
                    elapsed=self.clock() - start,
                    why_not=why_not,
                    detail=verdict.detail,
                    attempts=progress.attempts,
                )
            self.log(line)
            if verdict.action == "unknown":
                raise DeliveryError(
                    f"The send request went out, but its result is unclear: {verdict.detail}. "
                    "The report may or may not be in the channel; it was not sent again, to "
                    "avoid a duplicate. Check the channel.",
                    attempts=progress.attempts,
                    outcome="unknown",
                )
            hint = HINTS.get(answer.status, "") if answer is not None else ""
            if step == "send" and answer is not None and answer.status == 404:
                # The create just worked at this `echo-url`: the URL is right.
                hint = SEND_NOT_FOUND.format(id=_shown(progress.message_id, self.token, 60))
            raise DeliveryError(
                f"Echo {step} failed: {verdict.detail}. {hint}".strip(),
                attempts=progress.attempts,
            )

    def _gave_up(
        self, step: Step, tries: int, *, elapsed: float, why_not: str, detail: str, attempts: int
    ) -> DeliveryError:
        limit, fix = (
            (f"within the {self.policy.deadline:g}s deadline", " or raise `timeout-seconds`")
            if why_not == NO_TIME
            else (f"in {tries} attempts, the most allowed", "")
        )
        return DeliveryError(
            f"Echo did not take the report {limit}: {step} was tried {tries} times over "
            f"{elapsed:.0f}s; the last result: {detail}. Echo may be asleep, deploying "
            f"or down: check its status{fix}.",
            attempts=attempts,
        )

    def _attempt(
        self,
        progress: Progress,
        step: Step,
        path: str,
        payload: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> tuple[Verdict, Answer | None]:
        """One HTTP exchange, bounded by the deadline but never below ``min_exchange``."""
        budget = max(progress.deadline - self.clock(), self.policy.min_exchange)
        timeout = (min(self.policy.connect_timeout, budget), min(self.policy.read_timeout, budget))
        progress.attempts += 1
        progress.in_flight = step  # left set if Cancelled comes through: the send may be out
        answer = None
        try:
            answer = self._exchange(
                self.url + path, payload, {**self.headers, **(headers or {})}, timeout, budget
            )
            verdict = judge_response(answer, step, self.token)
        except requests.RequestException as exc:
            verdict = judge_error(exc, step)
        except OverdueError:
            detail = f"no complete answer within {budget:.1f}s, the time this attempt had"
            verdict = Verdict("unknown" if step == "send" else "retry", detail)
        progress.in_flight = None
        return verdict, answer

    def _exchange(
        self,
        url: str,
        payload: dict[str, Any] | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
        budget: float,
    ) -> Answer:
        """POST and read the answer on a worker thread; stop waiting after ``budget`` seconds.

        Socket timeouts bound each read, not their sum; only this wait bounds an answer that
        drips. An exchange given up is left to its socket timeouts (or the process's end); no
        new attempt can overlap it, since its time ran to the deadline. Waiting here, in the
        main thread, also lets a signal end the wait at once (cancel.py).
        """
        try:
            return cancel.within(
                budget, lambda: self._post(url, payload, headers, timeout), "echo-request"
            )
        except TimeoutError:
            raise OverdueError from None

    def _post(
        self,
        url: str,
        payload: dict[str, Any] | None,
        headers: dict[str, str],
        timeout: tuple[float, float],
    ) -> Answer:
        with self.session.post(
            url,
            json=payload,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,  # a redirect must not carry the token elsewhere
            stream=True,  # read no more than ANSWER_LIMIT of the body
        ) as response:
            body, broken = bytearray(), ""
            try:
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > ANSWER_LIMIT:
                        break
            except requests.RequestException as exc:  # the status and headers stand
                broken = type(exc).__name__
            return Answer(
                status=response.status_code,
                reason=response.reason or "",
                headers=response.headers,
                body=bytes(body[:ANSWER_LIMIT]),
                cut=len(body) > ANSWER_LIMIT,
                broken=broken,
            )

    def _next_wait(
        self, progress: Progress, step: Step, tries: int, server_wait: float | None
    ) -> tuple[float, str]:
        """The wait before the next try, and why there is none ('' when there is one)."""
        if tries >= self.policy.max_tries:
            return 0.0, f"gave up after {tries} attempts, the most allowed"
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2.0 ** (tries - 1))
        wait = self.jitter() * ceiling  # full jitter: spreads retries from many runners
        if server_wait is not None:  # Retry-After: never sooner than asked, nor past the cap
            wait = max(wait, min(server_wait, self.policy.retry_after_cap))
        wait = max(wait, self.policy.min_wait)
        keep = self.policy.min_exchange if step == "create" else 0.0  # the send's time
        if self.clock() + wait >= progress.deadline - keep:
            return wait, NO_TIME
        return wait, ""


def judge_response(answer: Answer, step: Step, secret: str = "") -> Verdict:
    """What the answer means; ``secret`` (the token) is kept out of the words shown."""
    status = answer.status
    routing = answer.headers.get("x-render-routing")
    detail = f"HTTP {status} {_shown(answer.reason, secret, 100)}".strip()
    if routing:
        detail += f" (x-render-routing: {_shown(routing, secret, 100)})"
    if 200 <= status < 300:
        if answer.broken and step == "create":  # the id is lost; asked again with the same key
            return Verdict("retry", f"{detail}, but the answer broke off, {answer.broken}")
        return Verdict("ok", detail)  # a send is judged by its status
    if 300 <= status < 400:
        return Verdict(
            "fail",
            f"{detail}: Echo redirects elsewhere; set `echo-url` to the address it redirects to",
        )
    if status in RETRY_STATUSES:
        if step == "send" and status == 504:
            # The gateway gave up waiting; the service may still have posted the message.
            return Verdict("unknown", detail)
        return Verdict("retry", detail, retry_after(answer.headers))
    return Verdict("fail", f"{detail}, answer: {_body(answer, secret)!r}")


def judge_error(exc: requests.RequestException, step: Step) -> Verdict:
    name = type(exc).__name__
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.SSLError):
        return Verdict("fail", _tls_detail(exc))
    if isinstance(reason, NameResolutionError):
        cause = reason.__cause__
        if isinstance(cause, socket.gaierror) and cause.errno == socket.EAI_AGAIN:
            # The request was never made, so even a send may be tried again.
            return Verdict("retry", "the host name in `echo-url` did not resolve, temporarily")
        return Verdict("fail", "the host name in `echo-url` does not resolve")
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError):
        return Verdict("retry", f"could not connect, {name}")  # the request was never sent
    # The request went out but the answer was lost: it may have taken effect.
    if isinstance(exc, requests.ReadTimeout):
        detail = "no answer before the read timeout"
    elif isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        detail = f"the connection broke before a complete answer, {name}"
    else:
        return Verdict("fail", f"the request failed, {name}")
    return Verdict("retry" if step == "create" else "unknown", detail)


def _tls_detail(exc: BaseException) -> str:
    """Name what went wrong in the TLS handshake; only a certificate problem blames it."""
    error: object = exc
    for _ in range(6):  # requests' error wraps urllib3's, which wraps the ssl module's
        if isinstance(error, ssl.SSLError) or not isinstance(error, BaseException):
            break
        nested = getattr(error, "reason", None)
        error = nested if isinstance(nested, BaseException) else (error.args or [None])[0]
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the certificate of `echo-url` is not trusted: {error.verify_message}"
    reason = getattr(error, "reason", None) if isinstance(error, ssl.SSLError) else None
    if reason in PLAIN_HTTP:
        return (
            "the server answered plain HTTP, not TLS: use `http://` in `echo-url` if that is "
            "what it serves, or check the port"
        )
    return f"the TLS handshake failed, {reason or 'SSLError'}: check that `echo-url` serves HTTPS"


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None when absent or bad."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value[:9])  # 9 digits are far past any cap; int() refuses 4,300
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def message_id(answer: Answer, secret: str = "") -> str:
    """The id in create's answer. Refused only when it cannot be one URL path segment.

    The id exists only once the draft does, so a refused id leaves an unsent draft in Echo
    (never in the channel); refusing just what cannot work keeps that rare.
    """
    try:
        data = None if answer.cut else json.loads(answer.body)
    except ValueError:
        data = None
    raw = data.get("id") if isinstance(data, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        what = "is larger than 1 MiB" if answer.cut else "has no usable message id"
        raise DeliveryError(
            f"Echo accepted the message (HTTP {answer.status}) but its answer {what}, so it "
            f"cannot be sent. Answer: {_body(answer, secret)!r}. Check that `echo-url` points at "
            "the Echo API. An unsent draft may remain in Echo; it never reaches the channel.",
            attempts=0,
        )
    text = str(raw)
    problem = (  # control characters first: NEL (U+0085) is also whitespace to strip()
        "holds control characters"
        if any(unicodedata.category(c) == "Cc" for c in text)
        else "is empty, blank or a dot segment"
        if not text.strip() or text in (".", "..")
        else f"is longer than {ID_LIMIT} characters"
        if len(text) > ID_LIMIT
        else ""
    )
    if problem:
        shown = (text.replace(secret, "***") if secret else text)[:60]
        raise DeliveryError(
            f"Echo created the message, but its id {shown!r} {problem}, so it cannot be put "
            "in the send request's path. It stays an unsent draft in Echo and never reaches the "
            "channel; report the id to Echo's maintainers.",
            attempts=0,
        )
    return text


def _shown(text: str, secret: str, limit: int = 200) -> str:
    """Echo's text as a message shows it: one line, the token out *before* the cut (half a
    token would pass both redaction and the runner's mask, which match the whole value)."""
    text = redact(one_line(text).strip(), (secret, *SECRETS.get()))
    return text if len(text) <= limit else text[:limit] + "…"


def _body(answer: Answer, secret: str) -> str:
    return _shown(answer.body[: 64 * 1024].decode("utf-8", "replace"), secret)


class FinalResponse(http.client.HTTPResponse):
    """Reads past informational answers (1xx, such as 103 Early Hints) to the final one.

    http.client skips only 100 Continue; RFC 9110 §15.2 asks every client to accept any 1xx
    before the final answer (https://www.rfc-editor.org/rfc/rfc9110#section-15.2).
    """

    def _read_status(self) -> tuple[str, int, str]:
        for _ in range(20):  # more than that is not a server giving hints
            version, status, reason = super()._read_status()  # type: ignore[misc]  # private in typeshed
            if not 100 <= status < 200 or status == 101:
                break
            http.client.parse_headers(self.fp)  # the hints' headers: not needed
        return version, status, reason


class _Connection(HTTPConnection):
    response_class = FinalResponse


class _TLSConnection(HTTPSConnection):
    response_class = FinalResponse


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class EchoAdapter(HTTPAdapter):
    """requests' adapter with connections that read past 1xx answers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}
