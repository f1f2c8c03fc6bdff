"""The rolling window as the reports show it (docs/history-and-trends.md): the key figure's
sparkline over the last runs, and how many of them had problems. Values only: the wording is
the templates'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from .state import Point
from .text import tenths

# The figure that matters most in each report (docs/history-and-trends.md).
KEY = {"sync": "verification", "drain": "deletion", "poll": "invalid"}
BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a run without the figure: a gap, never a zero
SPAN = 10.0  # the least range a sparkline spans, in points: 92.0 vs 92.1 is not a cliff


def sparkline(values: Sequence[float | None]) -> str:
    """One block per value, scaled between the lowest and highest known ones (at least SPAN
    apart, centred), a gap for each unknown one."""
    known = [tenths(v) for v in values if v is not None]
    if not known:
        return GAP * len(values)
    low, high = min(known), max(known)
    if high - low < SPAN:
        middle = (high + low) / 2
        low, high = middle - SPAN / 2, middle + SPAN / 2
    top = len(BLOCKS) - 1
    return "".join(
        GAP if v is None else BLOCKS[round((tenths(v) - low) / (high - low) * top)] for v in values
    )


def spells(window: Sequence[Point]) -> list[tuple[int, float]]:
    """Each run of problem runs in a row: how many, and how long in minutes, from the first of
    them to the first good run after (or to the latest run, while it lasts)."""
    found: list[tuple[int, float]] = []
    start, count = None, 0
    for point in window:
        if point.severity != "ok":
            start, count = start or point.time, count + 1
        elif start is not None:
            found.append((count, (point.time - start).total_seconds() / 60))
            start, count = None, 0
    if start is not None:
        found.append((count, (window[-1].time - start).total_seconds() / 60))
    return found


def variables(report: str, window: Sequence[Point], zone: tzinfo) -> dict[str, Any]:
    """`window` (every run in it, oldest first, this one last) and `trend` (None before the
    second run): the key figure, its sparkline and latest value, the runs with problems and
    the longest spell of them in minutes."""
    key = KEY.get(report)
    runs = [
        {
            "time": point.time.astimezone(zone),
            "severity": point.severity,
            "failed": point.failed,
            # A run without figures (no file, none in it) has the key figure unknown, not absent.
            "figures": {**({key: None} if key else {}), **point.figures},
            "levels": point.levels,
        }
        for point in window
    ]
    if key is None or len(window) < 2:
        return {"window": runs, "trend": None}
    values = [point.figures.get(key) for point in window]
    minutes = [spell[1] for spell in spells(window)]
    return {
        "window": runs,
        "trend": {
            "figure": key,
            "runs": len(window),
            "known": any(v is not None for v in values),
            "spark": sparkline(values),
            "value": values[-1],
            "problems": sum(point.severity != "ok" for point in window),
            "longest": round(max(minutes)) if minutes else None,
            "chart": chart(window, key, zone),
        },
    }


# The chart's x-axis labels, shortest first: the first that tells every run apart is used
# (Mermaid merges equal labels, so a day of 2-hourly runs, or the autumn clock change's
# repeated hour, would fold the line back onto itself).
LABELS = ("{t:%H:%M}", "{t:%H:%M %Z}", "{t:%b} {t.day} {t:%H:%M}", "{t:%b} {t.day} {t:%H:%M %Z}")


def chart(window: Sequence[Point], key: str, zone: tzinfo) -> dict[str, list[Any]] | None:
    """The job summary's chart of the key figure: the runs that have it, in time order (their
    `times`), each labelled once, valued as the report shows it; None below two such runs (no
    line)."""
    known = sorted((p.time, v) for p in window if (v := p.figures.get(key)) is not None)
    if len(known) < 2:
        return None
    times = [time.astimezone(zone) for time, _ in known]
    for form in LABELS:
        labels = [form.format(t=t) for t in times]
        if len(set(labels)) == len(labels):
            break
    else:  # runs in the same minute
        labels = [f"{label} ({n})" for n, label in enumerate(labels, 1)]
    return {
        "labels": labels,
        "values": [tenths(value) for _, value in known],
        "times": [time for time, _ in known],
    }


# Each gauge's figure: capacity is judged on the utilization.
GAUGE_FIGURES = {
    "capacity": "utilization",
    "verification": "verification",
    "deletion": "deletion",
    "invalid": "invalid",
}


def gauges(
    levels: dict[str, Any],
    figures: dict[str, Any],
    change: dict[str, Any],
    limits: dict[str, tuple[float, float]],
    high_is_bad: frozenset[str],
) -> list[dict[str, Any]]:
    """The report's gauges for the job summary's table: `gauge`, `value`, `level`, `change`
    since the previous run, the `warning` and `critical` limits used and `high_is_bad`."""
    return [
        {
            "gauge": gauge,
            "figure": figure,
            "value": figures.get(figure),
            "level": levels.get(gauge),
            "change": change.get(figure),
            "warning": limits[gauge][0],
            "critical": limits[gauge][1],
            "high_is_bad": gauge in high_is_bad,
        }
        for gauge, figure in GAUGE_FIGURES.items()
        if gauge in levels and gauge in limits
    ]
