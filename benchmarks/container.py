"""The image: size over its base, cold build, rebuild after a code-only change, run time.

    .venv/bin/python -m benchmarks.container   (engine and base image: see scripts/test)

Builds offline like the container tests (ECHO_NOTIFY_BASE_IMAGE, default the local stand-in).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("ECHO_NOTIFY_BASE_IMAGE", "echo-notify-base:bookworm")

# Imported after the default is set: BASE is read from the environment at import.
from tests.e2e.docker import BASE, build, docker
from tests.helpers import ROOT

TAG = os.environ.get("ECHO_NOTIFY_TEST_TAG", "echo-notify:test") + "-bench"


def size(image: str) -> int:
    return int(json.loads(docker("image", "inspect", image).stdout)[0]["Size"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp) / "ctx"
        shutil.copytree(ROOT, context, ignore=shutil.ignore_patterns(".git", ".venv", "build"))
        cold = build(TAG, context, no_cache=True)
        warm = build(TAG, context)
        with (context / "echo_notify" / "main.py").open("a") as handle:
            handle.write("\n# a code-only change\n")
        rebuild = build(TAG, context)
    base, image = size(BASE), size(TAG)
    print(
        f"base {BASE}: {base / 1e6:.1f} MB; image: {image / 1e6:.1f} MB "
        f"(+{(image - base) / 1e6:.1f} MB over the base)"
    )
    print(
        f"build: cold (no cache) {cold:.1f}s, unchanged {warm:.1f}s, "
        f"after a code-only change {rebuild:.1f}s (docker build alone, wheels on 127.0.0.1)"
    )
    runs = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_time", "--runs", "5", "--image", TAG],
        capture_output=True,
        text=True,
        check=True,
    )
    print(runs.stdout.strip())
    docker("image", "rm", TAG, check=False)


if __name__ == "__main__":
    main()
