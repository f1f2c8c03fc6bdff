"""Delivery under faults: N reports against the scripted Echo with a random fault mix.

    .venv/bin/python -m benchmarks.delivery [--runs 200] [--fault-rate 0.3] [--seed 1]

The faults on send include the ambiguous ones, where Echo may have posted the report but the
client cannot know: the answer lost after Echo did the work, a reset after the request was
read, a gateway's 504 with or without the work done, an answer slower than the read timeout.
Each report's truth is read from the Echo itself (was it sent to the channel, how often) and
set against what the client said: delivered, unknown or failed. The goal: 0 duplicates, 0
reports said "failed" that are in the channel, every other outcome "unknown", told to the user.

Time is simulated: the injected clock runs SCALE times faster than the wall, and waits between
attempts cost no real time, so a 45 s cold start takes 0.45 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter

import requests

from echo_notify.echo import Echo, Policy
from echo_notify.errors import DeliveryError
from tests.helpers import Fault, ScriptedEcho, running

SCALE = 100.0  # simulated seconds per wall second
READ_TIMEOUT = 75 / SCALE


class ScaledClock:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.slept = 0.0

    def __call__(self) -> float:
        return (time.monotonic() - self.start) * SCALE + self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


CREATE_FAULTS = [
    lambda: Fault("status", 503, {"x-render-routing": "hibernate-wake-error"}),
    lambda: Fault("status", 502),
    lambda: Fault("status", 504),
    lambda: Fault("done", 504),  # created, but the gateway answered 504
    lambda: Fault("status", 429, {"Retry-After": "2"}),
    lambda: Fault("status", 429, {"Retry-After": "0"}),
    lambda: Fault("reset"),
    lambda: Fault("lost"),  # created; the connection reset instead of the answer
    lambda: Fault("late", delay=2 * READ_TIMEOUT),  # created; the answer came too late
]
SEND_FAULTS = [
    # surely not sent: safe to retry
    lambda: Fault("status", 503),
    lambda: Fault("status", 502),
    lambda: Fault("status", 429, {"Retry-After": "1"}),
    # ambiguous: the client cannot know whether Echo posted it
    lambda: Fault("lost"),  # posted; the connection reset instead of the answer
    lambda: Fault("reset"),  # not posted; reset after the request was read
    lambda: Fault("done", 504),  # posted; the gateway answered 504
    lambda: Fault("status", 504),  # not posted; the gateway answered 504
    lambda: Fault("late", delay=2 * READ_TIMEOUT),  # posted; the answer came too late
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_all(args: argparse.Namespace) -> tuple[Counter[tuple[str, int]], list[float], list[float]]:
    """(client outcome, times in the channel) for each run, and the delivered runs' figures."""
    rng = random.Random(args.seed)
    policy = Policy(deadline=180, connect_timeout=0.1, read_timeout=READ_TIMEOUT)
    said: dict[str, str] = {}
    attempts: list[float] = []
    seconds: list[float] = []
    with running(ScriptedEcho()) as server:
        assert isinstance(server, ScriptedEcho)
        for run in range(args.runs):
            if run == 0:  # one cold start: the edge holds the request 45 s, then 503s for 20 s
                server.fail("create", Fault("status", 503, delay=45 / SCALE), Fault("status", 503))
            for step, faults in (("create", CREATE_FAULTS), ("send", SEND_FAULTS)):
                while rng.random() < args.fault_rate:
                    server.fail(step, rng.choice(faults)())
            clock = ScaledClock()
            echo = Echo(
                server.url,
                "",
                session=requests.Session(),
                policy=policy,
                log=lambda _: None,
                clock=clock,
                sleep=clock.sleep,
                jitter=rng.random,
            )
            title = f"report {run}"
            try:
                delivery = echo.deliver(title, "content", ("#bench",))
                said[title] = "delivered"
                attempts.append(delivery.attempts)
                seconds.append(clock())
            except DeliveryError as exc:
                said[title] = exc.outcome
            server.script["create"].clear()
            server.script["send"].clear()
        time.sleep(3 * READ_TIMEOUT)  # late answers land: the channel's final state
        in_channel = Counter(server.store.messages[m]["title"] for m in server.store.sent)
        drafts = len(server.store.messages)
    tally = Counter((outcome, in_channel[title]) for title, outcome in said.items())
    print(f"drafts created: {drafts} for {args.runs} reports")
    return tally, attempts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    tally, attempts, seconds = run_all(args)
    runs = args.runs

    def count(outcome: str, posted: bool | None = None) -> int:
        return sum(
            n for (o, times), n in tally.items() if o == outcome and posted in (None, times > 0)
        )

    duplicates = sum(n * (times - 1) for (_, times), n in tally.items() if times > 1)
    print(f"runs: {runs}, fault rate per request: {args.fault_rate:.0%}, seed {args.seed}")
    print(
        f"delivered: {count('delivered')}/{runs} ({count('delivered') / runs:.1%}), "
        f"of which in the channel: {count('delivered', True)}"
    )
    print(
        f"unknown (told to the user): {count('unknown')}, of which in the channel: "
        f"{count('unknown', True)}, not: {count('unknown', False)}"
    )
    print(
        f"failed: {count('failed')}, of which in the channel anyway: {count('failed', True)} "
        "(must be 0)"
    )
    print(f"duplicates in the channel: {duplicates} (goal 0)")
    if attempts:
        print(
            f"attempts when delivered: p50 {percentile(attempts, 0.5):.0f}, "
            f"p95 {percentile(attempts, 0.95):.0f}, max {max(attempts):.0f}"
        )
        print(
            f"simulated time to delivery: p50 {percentile(seconds, 0.5):.1f}s, "
            f"p95 {percentile(seconds, 0.95):.1f}s, max {max(seconds):.1f}s "
            f"(mean {statistics.mean(seconds):.1f}s)"
        )


if __name__ == "__main__":
    main()
