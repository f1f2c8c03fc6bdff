"""Start-up cost, each against its floor, in paired runs (alternating, so drift hits both).

    .venv/bin/python -m benchmarks.startup [--runs 15] [--image echo-notify:test]

1. `docker run` of a dry run, the way the runner runs the action, against
   `docker run <image> python -c pass` (target: at most +150 ms).
2. `python entrypoint.py` delivering one report to the local Echo, against the floor: the
   interpreter, `import requests` and the same two POSTs on loopback (target: at most 1.25x).
   As the image ships it: templates compiled beforehand (`python -m echo_notify.render`; the
   folder is removed afterwards when it was not there before).

Without --image the image is built first (offline, like the container tests).
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
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("ECHO_NOTIFY_BASE_IMAGE", "echo-notify-base:bookworm")

# Imported after the default is set: BASE is read from the environment at import.
from echo_notify.render import COMPILED, compile_templates
from tests.e2e.docker import TAG, build, docker, run_as_runner
from tests.helpers import EXAMPLES, ROOT, ScriptedEcho, parse_outputs, runner_env, running

FLOOR = """
import sys, requests
session = requests.Session()
first = session.post(sys.argv[1] + "/api/v1/messages", json={"title": "t", "content": "c",
                     "recipients": ["#c"]}, timeout=10)
session.post(sys.argv[1] + "/api/v1/messages/" + first.json()["id"] + "/send", timeout=10)
"""


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def paired(name: str, runs: int, ours: Callable[[], None], floor: Callable[[], None]) -> None:
    ours(), floor()  # warm both (page cache, image layers)
    a, b = [], []
    for _ in range(runs):
        a.append(timed(ours))
        b.append(timed(floor))
    ma, mb = statistics.median(a), statistics.median(b)
    print(
        f"{name}: median {ma * 1000:.0f} ms against the floor's {mb * 1000:.0f} ms: "
        f"+{(ma - mb) * 1000:.0f} ms, {ma / mb:.2f}x ({runs} pairs; "
        f"ours {min(a) * 1000:.0f}-{max(a) * 1000:.0f}, floor {min(b) * 1000:.0f}-"
        f"{max(b) * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--image", default="")
    args = parser.parse_args()
    image = args.image or TAG
    if not args.image:
        build(image)
    with tempfile.TemporaryDirectory() as tmp, running(ScriptedEcho()) as echo:
        count = iter(range(10_000))

        def dry_run() -> None:
            folder = Path(tmp) / f"run{next(count)}"
            shutil.copytree(EXAMPLES, folder / "workspace")
            code, log, _, _ = run_as_runner(
                image, folder, {"metrics-file": "sync.json", "dry-run": "true"}
            )
            assert code == 0, log

        # The floor runs through the very same `docker run` (env, mounts): only the program differs.
        floor_image = f"{image}-floor"
        subprocess.run(
            ["docker", "build", "-q", "-t", floor_image, "-"],
            input=f'FROM {image}\nENTRYPOINT ["/venv/bin/python", "-c", "pass"]\n',
            text=True, check=True, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )  # fmt: skip

        def bare_container() -> None:
            folder = Path(tmp) / f"run{next(count)}"
            (folder / "workspace").mkdir(parents=True)
            code, log, _, _ = run_as_runner(floor_image, folder, {"metrics-file": "sync.json"})
            assert code == 0, log

        paired("docker run: dry run vs python -c pass", args.runs, dry_run, bare_container)
        docker("image", "rm", floor_image)

        workspace = Path(tmp) / "workspace"
        shutil.copytree(EXAMPLES, workspace)

        def entrypoint() -> None:
            files = Path(tmp) / f"files{next(count)}"
            files.mkdir()
            env = runner_env(workspace, files, {"metrics-file": "sync.json", "echo-url": echo.url})
            env["PATH"] = os.environ["PATH"]
            done = subprocess.run(
                [sys.executable, str(ROOT / "entrypoint.py")],
                env=env,
                capture_output=True,
                check=False,
            )
            outputs = parse_outputs((files / "set_output").read_text())
            assert done.returncode == 0 and outputs["delivered"] == "true", done.stdout

        def floor() -> None:
            subprocess.run([sys.executable, "-c", FLOOR, echo.url], check=True)

        made = not COMPILED.exists()
        compile_templates()
        try:
            paired("python entrypoint.py (delivery) vs the floor", args.runs, entrypoint, floor)
        finally:
            if made:
                shutil.rmtree(COMPILED)


if __name__ == "__main__":
    main()
