from __future__ import annotations

import pytest

from tests.e2e.docker import TAG, build, require_engine


@pytest.fixture(scope="session")
def image() -> str:
    """The action's image, built once per test session."""
    require_engine()
    build()
    return TAG
