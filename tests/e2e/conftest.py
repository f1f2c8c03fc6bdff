"""Fixtures shared by the container, composite and act tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.docker import TAG, build, docker, require_engine
from tests.e2e.registry import registry

REPOSITORY = "acme/echo-notify"


@dataclass
class Published:
    mirror: str  # what a user would put in the `image` input
    digest: str  # the manifest digest of the pushed :v1

    def push(self, image: str, tag: str) -> str:
        """Push IMAGE as mirror:TAG, forget the local tag (so the resolve step pulls it)."""
        docker("tag", image, f"{self.mirror}:{tag}")
        pushed = docker("push", f"{self.mirror}:{tag}").stdout
        docker("image", "rm", f"{self.mirror}:{tag}")
        return re.findall(r"digest: (sha256:[0-9a-f]{64})", pushed)[0]


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """The image as the release workflow publishes it: :v1 and a branch with a slash."""
    require_engine()
    build()
    with registry(tmp_path_factory.mktemp("registry")) as host:
        target = Published(f"{host}/{REPOSITORY}", "")
        target.digest = target.push(TAG, "v1")
        target.push(TAG, "feature-x")
        yield target
