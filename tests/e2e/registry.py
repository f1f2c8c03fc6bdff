"""A real container registry on 127.0.0.1: Debian's `docker-registry` (distribution 2.8).

It stands in for ghcr.io, which the tests cannot reach: images are pushed to it with the
labels the release workflow writes, and the resolve step pulls from it through the `image`
input (a mirror), exactly as it would pull from GHCR.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import yaml


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def registry(tmp: Path) -> Iterator[str]:
    """Serve a registry on a free loopback port; yields its host:port."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail(
            "Debian's docker-registry is missing: scripts/test installs it "
            "(apt-get install docker-registry)."
        )
    port = free_port()
    config = tmp / "registry.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": 0.1,
                "log": {"level": "error", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": str(tmp / "data")}},
                "http": {"addr": f"127.0.0.1:{port}"},
            }
        )
    )
    log = (tmp / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            with (
                suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"docker-registry did not start:\n{(tmp / 'registry.log').read_text()}")
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A registry that hangs: connections are accepted by the kernel and never answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"127.0.0.1:{server.getsockname()[1]}"
