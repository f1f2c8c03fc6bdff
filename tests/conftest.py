from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, ScriptedEcho, running


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden from the code"
    )


@pytest.fixture
def echo() -> Iterator[ScriptedEcho]:
    with running(ScriptedEcho()) as server:
        assert isinstance(server, ScriptedEcho)
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A job's workspace holding the example metrics files."""
    ws = tmp_path / "workspace"
    shutil.copytree(EXAMPLES, ws)
    return ws


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The runner's per-step files (outputs, summary) and home."""
    path = tmp_path / "file_commands"
    (path / "home").mkdir(parents=True)
    return path
