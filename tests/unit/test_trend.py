"""The rolling window's sparkline and problem spells, as values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from echo_notify.state import Level, Point
from echo_notify.trend import sparkline, spells, variables

T = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([None, None], "··"),  # no figure at all: gaps, never zeros
        ([92.0, 92.0], "▅▅"),  # flat: the middle
        ([92.0, 92.1], "▄▅"),  # a change smaller than SPAN is a step, not a cliff
        ([0.0, None, 100.0], "▁·█"),
        ([50.0, 75.0, 100.0], "▁▅█"),
    ],
)
def test_sparkline(values: list[float | None], expected: str) -> None:
    assert sparkline(values) == expected


def point(hour: int, severity: Level, value: float | None = 90.0) -> Point:
    return Point(
        time=T + timedelta(hours=hour),
        severity=severity,
        failed=False,
        figures={"verification": value},
        levels={},
    )


def test_spells_run_to_the_next_good_run_or_the_latest() -> None:
    window = [point(0, "ok"), point(1, "warning"), point(2, "critical"), point(3, "ok")]
    window += [point(4, "warning"), point(5, "warning")]
    assert spells(window) == [(2, 120.0), (2, 60.0)]


def test_one_run_has_no_trend_and_other_reports_none() -> None:
    zone = ZoneInfo("UTC")
    assert variables("sync", [point(0, "ok")], zone)["trend"] is None
    assert variables("watchdog", [point(0, "ok"), point(1, "ok")], zone)["trend"] is None
    two = variables("sync", [point(0, "ok"), point(1, "ok", None)], zone)
    assert two["trend"]["value"] is None and two["trend"]["longest"] is None
    assert [run["figures"]["verification"] for run in two["window"]] == [90.0, None]
