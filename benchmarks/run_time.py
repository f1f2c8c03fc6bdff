"""Wall time of one delivery run, start to exit, against the local Echo stand-in.

    .venv/bin/python -m benchmarks.run_time [--runs 9] [--image echo-notify:test]

Runs `python entrypoint.py` with the runner's environment, or with --image the built image
through `docker run` exactly as the runner does. Prints the median, min and max.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import EXAMPLES, ROOT, ScriptedEcho, parse_outputs, runner_env, running


def once(image: str, tmp: Path, url: str) -> float:
    inputs = {"metrics-file": "sync.json", "echo-url": url}
    shutil.copytree(EXAMPLES, tmp / "workspace")
    start = time.perf_counter()
    if image:
        from tests.e2e.docker import run_as_runner  # noqa: PLC0415 -- pytest-only helpers

        code, log, outputs, _ = run_as_runner(image, tmp, inputs)
    else:
        (tmp / "files").mkdir()
        env = {**runner_env(tmp / "workspace", tmp / "files", inputs), "PATH": os.environ["PATH"]}
        done = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        code, log = done.returncode, done.stdout + done.stderr
        outputs = parse_outputs((tmp / "files" / "set_output").read_text())
    elapsed = time.perf_counter() - start
    assert code == 0 and outputs["delivered"] == "true", log
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--image", default="")
    args = parser.parse_args()
    with running(ScriptedEcho()) as server, tempfile.TemporaryDirectory() as tmp:
        timings = [once(args.image, Path(tmp) / str(i), server.url) for i in range(args.runs)]
    what = f"docker run {args.image}" if args.image else "python entrypoint.py"
    print(
        f"{what}: {len(timings)} deliveries, median {statistics.median(timings) * 1000:.0f} ms "
        f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}); "
        f"Echo received {len(server.store.sent)} sends"
    )


if __name__ == "__main__":
    main()
