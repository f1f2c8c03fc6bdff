"""Bounds under hostile conditions, measured on the real process (`python entrypoint.py`).

    .venv/bin/python -m benchmarks.bounds [--root PATH] [--only drip,retry,memory]

Prints, each against a scripted Echo on 127.0.0.1:
- drip: the step's wall time with `timeout-seconds: 6` while Echo sends its answer one byte
  every 2 s (status line and headers, or only the body; on create, on send, and a slow create
  followed by a dripping send, the worst case), and the longest of them;
- retry: how many requests Echo gets in 10 s (`timeout-seconds: 10`) when it answers every
  create with 429 and `Retry-After: 0`, or a date in the past;
- memory: the process's peak memory (max RSS) for a plain delivery, a 300 MB answer to create
  and to send, and a 300 MB metrics file.
`--root` runs another checkout's entrypoint.py (e.g. an older commit, exported with
`git archive <commit> | tar -x -C /tmp/old`) with the same Python and packages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import EXAMPLES, ROOT, Fault, ScriptedEcho, parse_outputs, runner_env, running

MB = 1_000_000


@dataclass
class Run:
    seconds: float
    max_rss_mb: float
    code: int
    outputs: dict[str, str]
    requests: int


@contextmanager
def step_folder() -> Iterator[tuple[Path, Path]]:
    tmp = Path(tempfile.mkdtemp(prefix="echo-bounds-"))
    try:
        shutil.copytree(EXAMPLES, tmp / "workspace")
        (tmp / "files" / "home").mkdir(parents=True)
        yield tmp / "workspace", tmp / "files"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_step(
    root: Path, faults: dict[str, list[Fault]], inputs: dict[str, str], metrics: Path | None = None
) -> Run:
    """One `python entrypoint.py` as the runner starts it; its wall time and max RSS."""
    with running(ScriptedEcho()) as echo, step_folder() as (workspace, files):
        assert isinstance(echo, ScriptedEcho)
        for step, scripted in faults.items():
            echo.fail(step, *scripted)
        if metrics is not None:
            (workspace / "big.json").symlink_to(metrics)
        env = runner_env(
            workspace, files, {"metrics-file": "sync.json", "echo-url": echo.url, **inputs}
        )
        env["PATH"] = os.environ["PATH"]
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, str(root / "entrypoint.py")],
            env=env,
            cwd=workspace,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        return Run(
            seconds=seconds,
            max_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
            code=process.returncode,
            outputs=parse_outputs((files / "set_output").read_text()),
            requests=len(echo.store.requests),
        )


def drip(root: Path) -> None:
    print("== a dripping Echo (one byte every 2 s), timeout-seconds: 6")
    every = 2.0
    cases = {
        "create: status line and headers drip": {"create": [Fault("drip", 201, delay=every)]},
        "create: body drips": {"create": [Fault("drip-body", 201, delay=every)]},
        "send: status line and headers drip": {"send": [Fault("drip", 200, delay=every)]},
        "send: body drips": {"send": [Fault("drip-body", 200, delay=every)]},
        "create answers at 5.5 s, then the send drips": {
            "create": [Fault("late", delay=5.5)],
            "send": [Fault("drip", 200, delay=every)],
        },
    }
    longest = 0.0
    for name, faults in cases.items():
        run = run_step(root, faults, {"timeout-seconds": "6"})
        longest = max(longest, run.seconds)
        print(
            f"  {name}: step took {run.seconds:.1f}s, exit {run.code}, "
            f"delivered={run.outputs.get('delivered', '?')}"
        )
    print(f"  longest step: {longest:.1f}s (deadline 6 s)")


def retry(root: Path) -> None:
    print("== Retry-After: 0 (or a past date) on every create")
    for header in ("0", "Wed, 01 Jan 2020 00:00:00 GMT"):
        for deadline in ("10", "60"):
            faults = {"create": [Fault("status", 429, {"Retry-After": header})] * 100_000}
            run = run_step(root, faults, {"timeout-seconds": deadline})
            print(
                f"  Retry-After: {header}, timeout-seconds: {deadline}: {run.requests} requests, "
                f"step took {run.seconds:.1f}s"
            )


def memory(root: Path) -> None:
    print("== peak memory (max RSS of the process)")
    size = 300 * MB
    cases: list[tuple[str, dict[str, list[Fault]]]] = [
        ("a plain delivery", {}),
        ("a 300 MB answer to create", {"create": [Fault("huge", 201, size=size)]}),
        ("a 300 MB answer to send", {"send": [Fault("huge", 200, size=size)]}),
    ]
    for name, faults in cases:
        run = run_step(root, faults, {"timeout-seconds": "120"})
        print(f"  {name}: {run.max_rss_mb:.0f} MB, {run.seconds:.1f}s, exit {run.code}")
    with tempfile.TemporaryDirectory(prefix="echo-bounds-") as folder:
        path = Path(folder) / "metrics.json"
        with path.open("w") as handle:  # a valid sync file, 300 MB of error strings
            handle.write('{"capacity_status": {"current_inventory": 1, "max_capacity": 2}, ')
            handle.write('"errors": [' + json.dumps("e" * 998))
            for _ in range(size // 1000):  # in pieces: this process must stay small
                handle.write(", " + json.dumps("e" * 998))
            handle.write("]}")
        run = run_step(root, {}, {"metrics-file": "big.json"}, metrics=path)
        print(
            f"  a {path.stat().st_size / MB:.0f} MB metrics file: {run.max_rss_mb:.0f} MB, "
            f"{run.seconds:.1f}s, exit {run.code}"
        )
        # Just under the 8 MiB ceiling: the sample sync file plus millions of empty lists in an
        # unknown key, with a token set (so the data is checked for it before each render).
        sample = json.loads((EXAMPLES / "sync.json").read_text())
        head = json.dumps(sample)[:-1] + ', "junk": [[]'
        path.write_text(head + ", []" * ((int(7.9 * MB) - len(head)) // 4) + "]}")
        run = run_step(root, {}, {"metrics-file": "big.json", "echo-token": "tok-123"}, path)
        print(
            f"  a {path.stat().st_size / MB:.1f} MB file of empty lists: "
            f"{run.max_rss_mb:.0f} MB, {run.seconds:.1f}s, exit {run.code}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--only", default="drip,retry,memory")
    args = parser.parse_args()
    print(f"entrypoint: {args.root / 'entrypoint.py'}")
    for name in args.only.split(","):
        {"drip": drip, "retry": retry, "memory": memory}[name](args.root)


if __name__ == "__main__":
    main()
