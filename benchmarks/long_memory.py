"""The long memory's cost: the snapshot's size after five weeks of 30-minute syncs, and the
time the memory adds to a report run.

    .venv/bin/python -m benchmarks.long_memory [--weeks 5] [--rounds 50]

Builds the sync report of every run of ``--weeks`` weeks, 30 minutes apart, carrying the
snapshot from run to run as the history does (written, zipped, read back). The figures vary
as a real pipeline's do (two-decimal rates, a daily rhythm, noise), the worst case for the
zip. Prints the last snapshot's size (JSON, and zipped as the artifact is), then the median
time of one run's work on the snapshot (read it, build the report, write it) with that
memory and with none (a snapshot from before the memory: the window alone).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from echo_notify import metrics, report
from echo_notify.ledger import Ledger
from echo_notify.state import Snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "metrics" / "sync.json"
ZONE = ZoneInfo("America/New_York")
START = datetime(2026, 10, 5, 4, 0, tzinfo=UTC)


def metrics_at(moment: datetime, rng: random.Random, folder: Path) -> metrics.Metrics:
    data = json.loads(EXAMPLE.read_text())
    hour = moment.astimezone(ZONE).hour
    day = 7 <= hour < 21
    data["timestamp"] = moment.isoformat()
    data["verification_results"]["success_rate_percentage"] = round(
        rng.gauss(96 if day else 91, 1.5), 2
    )
    added = max(0, round(rng.gauss(120 if day else 10, 15)))
    data["leads_processed"] = {
        "total_attempted": added,
        "smb_campaign": {"campaign_name": "SMB Campaign", "leads_added": added},
    }
    data["capacity_status"]["current_inventory"] = 5000 + rng.randrange(2000)
    data["capacity_status"]["utilization_percentage"] = round(rng.uniform(20, 30), 2)
    path = folder / "m.json"
    path.write_text(json.dumps(data))
    return metrics.load(path, "sync", moment)


def run(previous: Snapshot | None, data: metrics.Metrics, now: datetime, n: int) -> bytes:
    """One run's work on the snapshot: build the report against it, write the new one."""
    ctx = report.Context(
        timezone=ZONE,
        job_status="success",
        now=now,
        run_url="",
        local_run=False,
        previous=previous,
        run_id=str(n),
    )
    return report.build(data, ctx).snapshot(str(n), 1).to_json().encode()


def zipped(raw: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("sync.json", raw)  # upload-artifact's default level is 6 too
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    folder = Path(__import__("tempfile").mkdtemp())
    raw, moment, n = b"", START, 0
    while moment < START + timedelta(weeks=args.weeks):
        previous = Snapshot.parse(raw, "sync") if raw else None
        raw = run(previous, metrics_at(moment, rng, folder), moment, n)
        moment, n = moment + timedelta(minutes=30), n + 1
    last = Snapshot.parse(raw, "sync")
    print(f"{n} runs over {args.weeks} weeks, 30 minutes apart")
    print(f"hours the memory holds: {len(last.ledger.hours)}")
    print(f"snapshot: {len(raw):,} bytes of JSON, {len(zipped(raw)):,} bytes zipped")
    bare = replace(last, ledger=Ledger()).to_json().encode()
    print(f"without the memory:  {len(bare):,} bytes of JSON, {len(zipped(bare)):,} bytes zipped")
    data = metrics_at(moment, rng, folder)
    for name, snapshot in (("with five weeks", raw), ("without memory", bare)):
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            run(Snapshot.parse(snapshot, "sync"), data, moment, n)
            times.append(time.perf_counter() - start)
        print(f"one run's work {name}: median {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
