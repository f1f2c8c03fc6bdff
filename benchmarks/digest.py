"""The watchdog's daily digest: what a check that posts it costs.

    .venv/bin/python -m benchmarks.digest [--rounds 5]

Plays a day of the three pipelines through ``main()`` (tests/pipeline.py: 24 syncs, 12 drains,
each snapshot into the fake GitHub API on loopback), then times the watchdog's check at 9 AM
that reads their snapshots back and posts the digest to a local Echo, and a check with no digest
due, for comparison. Prints the median of each and the API requests the digest's check made.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tests.pipeline import DIGEST_MORNING, PIPELINES, digest_morning


def one_round() -> tuple[float, float, int]:
    with tempfile.TemporaryDirectory() as tmp, digest_morning(Path(tmp)) as dog:
        inputs = {"workflows": PIPELINES, "digest-at": "09:00"}
        before = len(dog.actions.seen)
        start = time.perf_counter()
        check = dog.check(0, when=DIGEST_MORNING, **inputs)
        with_digest = time.perf_counter() - start
        requests = len(dog.actions.seen) - before
        assert check.outputs["digest-id"], check.log
        start = time.perf_counter()
        dog.check(0, when=DIGEST_MORNING + timedelta(hours=1), **inputs)
        without = time.perf_counter() - start
    return with_digest, without, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    rounds = [one_round() for _ in range(parser.parse_args().rounds)]
    print(f"check posting the digest: {statistics.median(r[0] for r in rounds):.3f} s median")
    print(f"check with no digest due: {statistics.median(r[1] for r in rounds):.3f} s median")
    print(f"GitHub API requests of the digest's check: {rounds[0][2]}")


if __name__ == "__main__":
    main()
