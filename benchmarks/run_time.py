"""Wall time of one `python entrypoint.py` delivery against the local Echo stand-in.

    .venv/bin/python -m benchmarks.run_time [--runs 9] [--image echo-notify:test]

With --image, times `docker run` of that image instead (start to exit, --network host).
Prints the median, min and max of the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers import EXAMPLES, ROOT, ScriptedEcho, running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--image", default="")
    args = parser.parse_args()
    timings = []
    with running(ScriptedEcho()) as server, tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            out = Path(tmp) / "out"
            out.write_text("")
            env = {
                "INPUT_METRICS-FILE": str(EXAMPLES / "sync.json"),
                "INPUT_ECHO-URL": server.url,
                "INPUT_TIMEZONE": "America/New_York",
                "GITHUB_ACTIONS": "true",
                "GITHUB_OUTPUT": str(out),
                "GITHUB_STEP_SUMMARY": str(Path(tmp) / "summary"),
                "GITHUB_REPOSITORY": "acme/cold-email",
                "GITHUB_RUN_ID": "123456",
            }
            if args.image:
                command = [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "host",
                    "-v",
                    f"{EXAMPLES}:{EXAMPLES}",
                    "-v",
                    f"{tmp}:{tmp}",
                ]
                for name, value in env.items():
                    command += ["-e", f"{name}={value}"]
                command.append(args.image)
            else:
                command = [sys.executable, str(ROOT / "entrypoint.py")]
            start = time.perf_counter()
            done = subprocess.run(
                command, env={**os.environ, **env}, capture_output=True, text=True, check=False
            )
            timings.append(time.perf_counter() - start)
            assert done.returncode == 0 and "delivered<<" in out.read_text(), done.stdout
    what = f"docker run {args.image}" if args.image else "python entrypoint.py"
    print(
        f"{what}: {len(timings)} deliveries, median {statistics.median(timings) * 1000:.0f} ms "
        f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}); "
        f"Echo received {len(server.store.sent)} sends"
    )


if __name__ == "__main__":
    main()
