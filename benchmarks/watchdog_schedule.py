"""The watchdog reading schedules: what a check of 10 workflows on 30-minute schedules costs.

    .venv/bin/python -m benchmarks.watchdog_schedule [--rounds 5]

Ten workflows whose files say `cron: '*/30 * * * *'`, each with three days of runs in the fake
GitHub API on loopback (paged as GitHub pages them), one of them silent for the last two hours
(an alert, posted to a local Echo). Times the watchdog's check through ``main()`` by file name
alone, by `all`, and with an age per line instead (the file not read), for comparison, and
prints the median of each and the API requests each made.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from tests.fake_github import Actions, Run, Workflow, fake_actions
from tests.helpers import ScriptedEcho, running
from tests.pipeline import Watchdog

NOW = datetime(2026, 1, 15, 16, 5, tzinfo=UTC)
FILE = "on:\n  schedule:\n    - cron: '*/30 * * * *'\n  workflow_dispatch:\njobs: {}\n"
NAMES = [f"pipeline-{i:02}.yml" for i in range(10)]


def workflows() -> list[Workflow]:
    out = []
    for i, name in enumerate(NAMES):
        stop = NOW - timedelta(hours=2) if i == 0 else NOW  # the first went silent
        runs, moment, number = [], NOW - timedelta(days=3), 0
        while moment <= stop:
            number += 1
            runs.append(Run(10_000 * (i + 1) + number, created_at=moment.isoformat()))
            moment += timedelta(minutes=30)
        runs.reverse()  # newest first, as the API lists them
        out.append(Workflow(id=i + 1, path=f".github/workflows/{name}", name=name, file=FILE))
        out[-1].runs = runs
    return out


def timed(check: Callable[[], object], actions: Actions) -> tuple[float, int]:
    before = len(actions.seen)
    start = time.perf_counter()
    check()
    return time.perf_counter() - start, len(actions.seen) - before


def one_round() -> dict[str, tuple[float, int]]:
    figures = {}
    lines = {
        "by file name": "\n".join(NAMES),
        "all": "all",
        "with an age per line": "\n".join(f"{name}: 1h" for name in NAMES),
    }
    for what, watched in lines.items():
        with (
            tempfile.TemporaryDirectory() as tmp,
            running(ScriptedEcho()) as echo,
            fake_actions(Actions(workflows=workflows())) as actions,
        ):
            assert isinstance(echo, ScriptedEcho)
            dog = Watchdog(Path(tmp), echo, actions)
            figures[what] = timed(partial(dog.check, 0, when=NOW, workflows=watched), actions)
            assert echo.store.requests, f"{what}: the silent workflow was not posted"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = [one_round() for _ in range(parser.parse_args().rounds)]
    print("watchdog check of 10 workflows on 30-minute schedules (3 days of runs each):")
    for what in rounds[0]:
        seconds = statistics.median(r[what][0] for r in rounds)
        print(f"  {what:22} {seconds:.3f} s median, {rounds[0][what][1]} GitHub API requests")


if __name__ == "__main__":
    main()
