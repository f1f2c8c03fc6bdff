"""Fuzz the metrics loader and renderer through main(): many generated files, same properties.

    .venv/bin/python -m benchmarks.fuzz [--examples 5000] [--seed 0]

Every example must: exit 0 (dry run), print no traceback and no stray workflow command, and
leave no unescaped <, > or & from data, no invisible or reordering character, no terminal
escape and no link made of data in the Slack message. Prints the count and the result.
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.strategies import metrics
from tests.unit.test_properties import check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    count = 0

    @seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.one_of(metrics("sync"), metrics("drain"), metrics("poll")))
    def run(data: dict[str, object]) -> None:
        nonlocal count
        count += 1
        check(data)

    start = time.perf_counter()
    try:
        run()
        result = "no failure"
    except AssertionError as exc:
        result = f"FAILED: {str(exc)[:2000]}"
    print(
        f"fuzz: {count} generated metrics files through main() in "
        f"{time.perf_counter() - start:.0f}s, seed {args.seed}: {result}"
    )


if __name__ == "__main__":
    main()
