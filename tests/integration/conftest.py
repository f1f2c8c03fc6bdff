"""Fixtures for runs in sequence (tests/pipeline.py)."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fake_github import Actions, fake_actions
from tests.helpers import ScriptedEcho, running
from tests.pipeline import Heartbeats, Pipeline


@pytest.fixture
def actions() -> Iterator[Actions]:
    with fake_actions() as state:
        yield state


@pytest.fixture
def pipeline(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Pipeline:
    return Pipeline(tmp_path, echo, actions)


@pytest.fixture
def heartbeat() -> Iterator[str]:
    """The URL of a dead-man check on loopback; its pings land in ``Heartbeats.seen``."""
    Heartbeats.seen, Heartbeats.status = [], 200
    with running(ThreadingHTTPServer(("127.0.0.1", 0), Heartbeats)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/ping/abc-123"
