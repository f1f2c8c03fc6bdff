"""Image ready: a pull of the published image against a cold build, and the bytes to pull.

    .venv/bin/python -m benchmarks.image_ready   (as root: starts a private Docker engine)

The image is built (labelled, like the release workflow) and pushed to Debian's docker-registry
on 127.0.0.1. The pull runs on a private, empty Docker engine started for the benchmark, like a
fresh GitHub runner that has no layer cached; the cold build runs `docker build --no-cache` on
the shared engine with the base image already local (a runner would also pull the base first).
Sizes are the registry's compressed layers: what a runner downloads.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("ECHO_NOTIFY_BASE_IMAGE", "echo-notify-base:bookworm")

# Imported after the default is set: BASE is read from the environment at import.
from tests.e2e.docker import BASE, build, docker
from tests.e2e.registry import registry

TAG = os.environ.get("ECHO_NOTIFY_TEST_TAG", "echo-notify:test") + "-ready"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def layers(host: str, name: str, tag: str) -> list[int]:
    request = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{tag}", headers={"Accept": MANIFEST}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return [int(layer["size"]) for layer in json.load(answer)["layers"]]


@contextmanager
def private_engine(tmp: Path) -> Iterator[dict[str, str]]:
    """A second dockerd with its own empty image store; yields the env that points at it."""
    sock = tmp / "docker.sock"
    log = (tmp / "dockerd.log").open("w")
    process = subprocess.Popen(
        ["dockerd", "--data-root", str(tmp / "data"), "--exec-root", str(tmp / "exec"),
         "--pidfile", str(tmp / "pid"), "-H", f"unix://{sock}", "--bridge=none",
         "--iptables=false", "--ip-masq=false"],
        stdout=log, stderr=log,
    )  # fmt: skip
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    try:
        for _ in range(60):
            info = subprocess.run(["docker", "info"], env=env, capture_output=True, check=False)
            if info.returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"private dockerd did not start: {(tmp / 'dockerd.log').read_text()}")
        yield env
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cold = build(TAG, no_cache=True)
        with registry(Path(tmp)) as host:
            docker("tag", BASE, f"{host}/base:1")
            docker("push", f"{host}/base:1")
            docker("tag", TAG, f"{host}/acme/echo-notify:v1")
            docker("push", f"{host}/acme/echo-notify:v1")
            whole, base = layers(host, "acme/echo-notify", "v1"), layers(host, "base", "1")
            pulls = []
            for attempt in range(3):
                engine = Path(tmp) / f"engine{attempt}"
                engine.mkdir()
                with private_engine(engine) as env:
                    start = time.perf_counter()
                    subprocess.run(
                        ["docker", "pull", "--quiet", f"{host}/acme/echo-notify:v1"],
                        env=env, check=True, capture_output=True,
                    )  # fmt: skip
                    pulls.append(time.perf_counter() - start)
            for name in (f"{host}/base:1", f"{host}/acme/echo-notify:v1", TAG):
                docker("image", "rm", name, check=False)
    ours = whole[len(base) :]
    print(
        f"image ready: pull from the loopback registry into an empty engine "
        f"{min(pulls):.1f}-{max(pulls):.1f} s (3 pulls); cold build {cold:.1f} s "
        f"(docker build --no-cache, base image local, wheels on 127.0.0.1)"
    )
    print(
        f"bytes to pull (compressed): whole image {sum(whole) / 1e6:.1f} MB in {len(whole)} "
        f"layers; our layers {sum(ours) / 1e6:.1f} MB in {len(ours)} "
        f"(base {BASE}: {sum(base) / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    main()
