"""The look-up that joins a snapshot kept after a failed look-up (`blind`) to the one kept
before it (history._newest), with the API faked down to what it reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from echo_notify import history
from echo_notify.errors import HistoryError
from echo_notify.state import Snapshot, Streak, Told

T = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NAME = "echo-notify-sync-sync"


@dataclass
class FakeArtifact:
    id: int
    created_at: datetime
    name: str = NAME
    expired: bool = False
    size_in_bytes: int = 100
    archive_download_url: str = ""


@dataclass
class FakeRun:
    id: int
    updated_at: datetime
    artifacts: list[FakeArtifact] = field(default_factory=list)
    status: str = "completed"

    def get_artifacts(self) -> list[FakeArtifact]:
        return self.artifacts


def snapshot(at: datetime, run: str, **changes: Any) -> Snapshot:
    base = Snapshot(
        kind="sync",
        time=at,
        run_id=run,
        attempt=1,
        severity="critical",
        failed=False,
        levels={},
        figures={"verification": 50.0},
        streak=Streak(1, at),
        told=Told(at, "critical", {"verification": "critical"}),
    )
    return replace(base, **changes)


def test_a_blind_snapshot_stands_alone_when_the_one_before_it_fails_to_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The newest snapshot is blind and was read; fetching the one before it (only to join its
    memory) hits a storage error: the blind snapshot is used as it is, so this run still knows
    what the channel was told (a critical problem an hour ago)."""
    blind = snapshot(T, "2", blind=True)
    runs = [
        FakeRun(3, T + timedelta(hours=1), status="in_progress"),
        FakeRun(2, T, [FakeArtifact(20, T)]),
        FakeRun(1, T - timedelta(hours=1), [FakeArtifact(10, T - timedelta(hours=1))]),
    ]

    def download(client: object, artifact: FakeArtifact, names: object) -> Snapshot:
        if artifact.id == 20:
            return blind
        raise HistoryError("the artifact's storage answered HTTP 500")

    monkeypatch.setattr(history, "_download", download)
    found = history._newest(None, runs, 3, 1, names={NAME: "sync"})  # type: ignore[arg-type]
    assert found is not None and found.told == blind.told
