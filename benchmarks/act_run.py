"""act's wall time for a pipeline repository's job: the prebuilt image pulled vs a build.

    .venv/bin/python -m benchmarks.act_run [--runs 3]   (after scripts/test: engine, images, act)

The job is the one tests/e2e/test_act.py runs (a pipeline step writes the sync metrics, then
`uses: acme/echo-notify@vN` reports to a local Echo, then a step reads the outputs), run by the
real act 0.2.89 with the harness's offline flags. Pulled: the image is pushed to Debian's
docker-registry on 127.0.0.1 and removed from the engine before each run, so every run really
pulls it. Built: the ref has no image in the registry, so the resolve step falls back to the
Dockerfile and act builds it; act's previous build is removed before each run, and the engine's
layer cache stays (as on a developer's machine) or, last, is pruned too (`docker image prune`:
every dangling layer on the engine, as on a fresh runner; the base and job images stay).
Prints each run's seconds, then min / median / max per path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ECHO_NOTIFY_BASE_IMAGE", "echo-notify-base:bookworm")

# Imported after the default is set: BASE is read from the environment at import.
from tests.e2e.act import require_act
from tests.e2e.conftest import REPOSITORY, Published
from tests.e2e.docker import TAG, build, docker
from tests.e2e.registry import registry
from tests.e2e.test_act import BUILT, WRITE, pipeline, run_pipeline
from tests.helpers import ScriptedEcho, running


def one(tmp: Path, mirror: str, ref: str, before: list[str]) -> float:
    for image in before:
        if image == "cache":  # the engine's dangling layers: the build cache of every build
            docker("image", "prune", "--force")
        else:
            docker("image", "rm", "--force", image, check=False)
    with running(ScriptedEcho("demo-token")) as echo:
        assert isinstance(echo, ScriptedEcho)
        repo = pipeline(tmp, WRITE["sync"], with_=f"image: {mirror}", uses=f"{REPOSITORY}@{ref}")
        start = time.perf_counter()
        run = run_pipeline(tmp, echo, repo, ref=ref)
        took = time.perf_counter() - start
        assert run.succeeded and echo.sends == ["msg_1"], run.log[-3000:]
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    require_act()
    build()
    with tempfile.TemporaryDirectory() as tmp, registry(Path(tmp)) as host:
        published = Published(f"{host}/{REPOSITORY}", "")
        published.digest = published.push(TAG, "v1")
        paths = {
            "pulled": ("v1", [f"{published.mirror}@{published.digest}"]),
            "built": ("v9", [BUILT]),  # no :v9 in the registry: the Dockerfile fallback
            "built without a layer cache": ("v9", [BUILT, "cache"]),
        }
        for name, (ref, before) in paths.items():
            seconds = []
            for index in range(runs):
                seconds.append(one(Path(tmp) / f"{name}-{index}", published.mirror, ref, before))
                print(f"{name} run {index + 1}: {seconds[-1]:.1f} s", flush=True)
            print(
                f"{name}: min {min(seconds):.1f} s, median {statistics.median(seconds):.1f} s, "
                f"max {max(seconds):.1f} s over {runs} runs"
            )


if __name__ == "__main__":
    main()
