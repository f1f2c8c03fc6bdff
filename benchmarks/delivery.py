"""Delivery under faults: N reports against the scripted Echo with a random fault mix.

    .venv/bin/python -m benchmarks.delivery [--runs 200] [--fault-rate 0.3] [--seed 1]

Time is simulated: the injected clock runs SCALE times faster than the wall, and waits between
attempts cost no real time, so a 45 s cold start takes 0.45 s. Prints delivery rate, duplicates,
and p50/p95 of attempts and of simulated time to delivery.
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
    lambda: Fault("status", 429, {"Retry-After": "2"}),
    lambda: Fault("reset"),
    lambda: Fault("late", delay=1.0),  # Echo created it; the answer is lost (read timeout)
]
SEND_FAULTS = [  # faults where the send certainly did not happen: safe to retry
    lambda: Fault("status", 503),
    lambda: Fault("status", 502),
    lambda: Fault("status", 429, {"Retry-After": "1"}),
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy = Policy(deadline=180, connect_timeout=0.1, read_timeout=75 / SCALE)
    outcomes: Counter[str] = Counter()
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
            try:
                delivery = echo.deliver(f"report {run}", "content", ("#bench",))
                outcomes["delivered"] += 1
                attempts.append(delivery.attempts)
                seconds.append(clock())
            except DeliveryError as exc:
                outcomes[exc.outcome] += 1
            server.script["create"].clear()
            server.script["send"].clear()
        sends = Counter(server.store.messages[m]["title"] for m in server.store.sent)
    duplicates = sum(n - 1 for n in sends.values())
    print(f"runs: {args.runs}, fault rate per request: {args.fault_rate:.0%}, seed {args.seed}")
    print(
        f"delivered: {outcomes['delivered']}/{args.runs} "
        f"({outcomes['delivered'] / args.runs:.1%}); unknown: {outcomes['unknown']}; "
        f"failed: {outcomes['failed']}"
    )
    print(f"duplicates in the channel: {duplicates}; drafts created: {len(server.store.messages)}")
    print(
        f"attempts: p50 {percentile(attempts, 0.5):.0f}, p95 {percentile(attempts, 0.95):.0f}, "
        f"max {max(attempts):.0f}"
    )
    print(
        f"simulated time to delivery: p50 {percentile(seconds, 0.5):.1f}s, "
        f"p95 {percentile(seconds, 0.95):.1f}s, max {max(seconds):.1f}s "
        f"(mean {statistics.mean(seconds):.1f}s)"
    )


if __name__ == "__main__":
    main()
