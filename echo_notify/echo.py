"""Deliver one report to Echo: create, then send, exactly once, within one deadline.

The retry policy lives here alone. What may be repeated:
- create: any transient failure (connection error, timeout, 429/502/503/504), always with the
  same Idempotency-Key. At worst a lost answer leaves an extra *unsent* draft in Echo; only
  the message whose id we hold is ever sent, so the channel cannot see a duplicate.
- send: only when the request surely did not take effect: the connection was never made, or
  Echo/its edge answered 429, 502 or 503. A send that got no answer (read timeout, dropped
  connection) or 504 may have posted: it is not repeated and the outcome is "unknown".
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .errors import DeliveryError
from .text import one_line

RETRY_STATUSES = frozenset({429, 502, 503, 504})
HINTS = {
    400: "Echo rejected the payload: check `channel` and the template's output.",
    401: "Echo refused the credentials: check the `echo-token` secret.",
    403: "Echo refused the credentials: check the `echo-token` secret and its permissions.",
    404: "Nothing answers at that path: check `echo-url` (the API's base URL, without /api/v1).",
    413: "The message is too large for Echo: shorten the template.",
    422: "Echo rejected the payload: check `channel` and the template's output.",
}


@dataclass(frozen=True, kw_only=True)
class Policy:
    deadline: float = 180.0  # the whole delivery, every retry and wait included
    connect_timeout: float = 10.0
    read_timeout: float = 75.0  # a sleeping host holds the first request while it wakes (~60 s)
    backoff_base: float = 1.0
    backoff_cap: float = 20.0
    retry_after_cap: float = 60.0


@dataclass(frozen=True)
class Delivery:
    message_id: str
    attempts: int


@dataclass(frozen=True)
class Verdict:
    """What one attempt means: done, try again, stop, or stop not knowing if it took effect."""

    action: str  # ok | retry | fail | unknown
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
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.session = session
        self.policy = policy
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.attempts = 0

    def deliver(self, title: str, content: str, recipients: tuple[str, ...]) -> Delivery:
        self.attempts = 0
        deadline = self.clock() + self.policy.deadline
        payload = {"title": title, "content": content, "recipients": list(recipients)}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        created = self._call("create", "/api/v1/messages", deadline, payload, key)
        message_id = _message_id(created)
        if message_id is None:
            raise DeliveryError(
                f"Echo accepted the message (HTTP {created.status_code}) but its answer has "
                f"no usable message id, so it cannot be sent. Answer: {_body(created)!r}. "
                "Check that "
                "`echo-url` points at the Echo API.",
                attempts=self.attempts,
            )
        try:
            self._call("send", f"/api/v1/messages/{message_id}/send", deadline)
        except DeliveryError as exc:
            exc.message_id = message_id
            raise
        return Delivery(message_id=message_id, attempts=self.attempts)

    def _call(
        self,
        step: str,
        path: str,
        deadline: float,
        payload: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        start = self.clock()
        tries = 0
        while True:
            tries += 1
            self.attempts += 1
            remaining = max(deadline - self.clock(), 0.1)
            timeout = (
                min(self.policy.connect_timeout, remaining),
                min(self.policy.read_timeout, remaining),
            )
            response = None
            try:
                response = self.session.post(
                    self.url + path,
                    json=payload,
                    headers={**self.headers, **(headers or {})},
                    timeout=timeout,
                    allow_redirects=False,  # a redirect must not carry the token elsewhere
                )
                verdict = judge_response(response, step)
            except requests.RequestException as exc:
                verdict = judge_error(exc, step)
            prefix = f"Echo {step}, attempt {tries}: {verdict.detail}"
            if verdict.action == "ok":
                self.log(prefix)
                assert response is not None
                return response
            if verdict.action == "retry":
                wait = self._wait(tries, verdict.wait)
                if self.clock() + wait < deadline:
                    self.log(f"{prefix}; retrying in {wait:.1f}s")
                    self.sleep(wait)
                    continue
                self.log(f"{prefix}; no time left to retry")
                raise DeliveryError(
                    f"Echo did not take the report within the {self.policy.deadline:g}s "
                    f"deadline ({step} tried {tries} times over {self.clock() - start:.0f}s). "
                    f"Last answer: {verdict.detail}. Echo may be asleep, deploying or down: "
                    "check its status, or raise `timeout-seconds`.",
                    attempts=self.attempts,
                )
            self.log(prefix)
            if verdict.action == "unknown":
                raise DeliveryError(
                    f"The send request got no clear answer ({verdict.detail}), so the report "
                    "may or may not be in the channel. It was not sent again, to avoid a "
                    "duplicate; check the channel.",
                    attempts=self.attempts,
                    outcome="unknown",
                )
            hint = HINTS.get(response.status_code, "") if response is not None else ""
            raise DeliveryError(
                f"Echo {step} failed: {verdict.detail}. {hint}".strip(), attempts=self.attempts
            )

    def _wait(self, tries: int, server_wait: float | None) -> float:
        if server_wait is not None:
            return min(server_wait, self.policy.retry_after_cap)
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2.0 ** (tries - 1))
        return self.jitter() * ceiling  # full jitter: spreads retries from many runners


def judge_response(response: requests.Response, step: str) -> Verdict:
    status = response.status_code
    routing = response.headers.get("x-render-routing")
    detail = f"HTTP {status} {response.reason or ''}".strip()
    if routing:
        detail += f" (x-render-routing: {routing})"
    if 200 <= status < 300:
        return Verdict("ok", detail)
    if 300 <= status < 400:
        return Verdict(
            "fail",
            f"{detail}: Echo redirects elsewhere; set `echo-url` to the address it redirects to",
        )
    if status in RETRY_STATUSES:
        if step == "send" and status == 504:
            # The gateway gave up waiting; the service may still have posted the message.
            return Verdict("unknown", detail)
        return Verdict("retry", detail, retry_after(response))
    return Verdict("fail", f"{detail}, answer: {_body(response)!r}")


def judge_error(exc: requests.RequestException, step: str) -> Verdict:
    name = type(exc).__name__
    if isinstance(exc, requests.exceptions.SSLError):
        return Verdict("fail", "TLS handshake failed: check the certificate of `echo-url`")
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        return Verdict("fail", "the host name in `echo-url` does not resolve")
    if isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError):
        return Verdict("retry", f"could not connect ({name})")  # the request was never sent
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        # The request went out but the answer was lost: it may have taken effect.
        detail = f"no answer ({name})"
        return Verdict("retry" if step == "create" else "unknown", detail)
    return Verdict("fail", f"request failed ({name})")


def retry_after(response: requests.Response, now: datetime | None = None) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None when absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _message_id(response: requests.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    raw = data.get("id") if isinstance(data, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, (str, int)) or str(raw).strip() == "":
        return None
    text = str(raw)
    return text if text.replace("-", "").replace("_", "").isalnum() else None


def _body(response: requests.Response, limit: int = 200) -> str:
    text = one_line(response.text or "").strip()
    return text if len(text) <= limit else text[:limit] + "…"
