"""The long memory (docs/history-and-trends.md): each run that leaves the rolling window is
added up by the hour it ran in, in UTC (so a clock change cannot fold two hours into one), for
six weeks. Week over week and "what is normal for this hour" read it (`weeks`). Pure values:
the snapshot carries it, compact, from run to run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Point

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
WEEKS = 6  # this week and the five before it
SPAN = WEEKS * 7 * 24  # hours kept
AHEAD = timedelta(days=1)  # a run stamped later than this after the run that keeps it: not kept
# The rates whose worst value an hour keeps, and which way is worse.
WORST = {"verification": min, "deletion": min, "invalid": max, "utilization": max}


def hour_of(moment: datetime) -> datetime:
    """The UTC hour a moment falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Hour:
    """The runs of one hour added up: how many, how many had problems, and per figure how
    many runs had it, its sum and (for a rate) its worst value."""

    runs: int = 0
    problems: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    sums: Mapping[str, float] = field(default_factory=dict)
    worst: Mapping[str, float] = field(default_factory=dict)

    def mean(self, figure: str) -> float | None:
        n = self.counts.get(figure, 0)
        return self.sums.get(figure, 0) / n if n else None

    def total(self, figure: str) -> float | None:
        return self.sums.get(figure, 0) if self.counts.get(figure) else None

    def plus(self, point: Point) -> Hour:
        counts, sums, worst = dict(self.counts), dict(self.sums), dict(self.worst)
        for name, value in point.figures.items():
            if value is None:
                continue
            counts[name] = counts.get(name, 0) + 1
            sums[name] = sums.get(name, 0) + value
            if name in WORST:
                worst[name] = WORST[name](worst.get(name, value), value)
        return Hour(self.runs + 1, self.problems + (point.severity != "ok"), counts, sums, worst)


@dataclass(frozen=True)
class Ledger:
    """Hours, oldest first, at most SPAN of them before the newest run that kept it."""

    hours: Mapping[datetime, Hour] = field(default_factory=dict)

    def add(self, points: Iterable[Point], now: datetime) -> Ledger:
        """With ``points`` added by their own time (a stale file's run in its hour); hours
        more than SPAN before ``now`` dropped, and runs stamped far ahead of it not kept."""
        hours = dict(self.hours)
        for point in points:
            if point.time - now <= AHEAD:
                at = hour_of(point.time)
                hours[at] = hours.get(at, Hour()).plus(point)
        oldest = hour_of(now) - SPAN * HOUR
        return Ledger({at: hours[at] for at in sorted(hours) if at > oldest})

    @property
    def start(self) -> datetime | None:
        """The first hour it knows (None: nothing yet)."""
        return next(iter(self.hours), None)

    def to_json(self) -> dict[str, Any]:
        """Compact: a column per value, an entry per hour from the first one."""
        if not self.hours:
            return {}
        start, end = min(self.hours), max(self.hours)
        hours = [self.hours.get(start + n * HOUR, Hour()) for n in range(_span(start, end))]
        names = sorted({name for hour in hours for name in hour.counts})
        return {
            "start": start.isoformat(),
            "runs": [h.runs for h in hours],
            "problems": [h.problems for h in hours],
            "figures": {
                name: {
                    "n": [h.counts.get(name, 0) for h in hours],
                    "sum": [_short(h.sums.get(name, 0)) for h in hours],
                    **(
                        {"worst": [_short(h.worst.get(name)) for h in hours]}
                        if name in WORST
                        else {}
                    ),
                }
                for name in names
            },
        }

    @classmethod
    def parse(cls, data: Any) -> Ledger:
        """Strictly, as the snapshot is read: a surprise is a ValueError that names it."""
        if data in (None, {}):
            return cls()  # a snapshot from before the long memory: it starts now
        if not isinstance(data, dict) or not isinstance(data.get("start"), str):
            raise ValueError("the ledger is not an object with a start")
        start = datetime.fromisoformat(data["start"])
        if start.tzinfo is None or start != hour_of(start):
            raise ValueError("the ledger's start is not an hour in UTC")
        runs, problems = _column(data, "runs", int), _column(data, "problems", int)
        size = len(runs)
        if not 0 < size <= SPAN + 2 * 24 or len(problems) != size:
            raise ValueError("the ledger's columns do not match")
        figures = data.get("figures")
        if not isinstance(figures, dict):
            raise ValueError("the ledger's figures are not an object")
        columns = {}
        for name, column in figures.items():
            if not isinstance(column, dict):
                raise ValueError("a ledger figure is not an object")
            n, sums = _column(column, "n", int), _column(column, "sum", float)
            worst = _column(column, "worst", float, nulls=True) if name in WORST else []
            if len(n) != size or len(sums) != size or (name in WORST and len(worst) != size):
                raise ValueError("the ledger's columns do not match")
            columns[str(name)[:255]] = (n, sums, worst)
        hours = {}
        for i in range(size):
            if not runs[i]:
                continue
            counts = {k: c[0][i] for k, c in columns.items() if c[0][i]}
            hours[start + i * HOUR] = Hour(
                runs=runs[i],
                problems=min(problems[i], runs[i]),
                counts=counts,
                sums={k: columns[k][1][i] for k in counts},
                worst={k: w for k in counts if (w := _at(columns[k][2], i)) is not None},
            )
        return cls(hours)


def _span(start: datetime, end: datetime) -> int:
    return int((end - start) / HOUR) + 1


def _short(value: float | None) -> float | int | None:
    """A sum as the snapshot keeps it: to the hundredth, whole numbers without a point."""
    if value is None:
        return None
    value = round(value, 2)
    return int(value) if float(value).is_integer() else value


def _at(column: list[Any], i: int) -> Any:
    return column[i] if column else None


def _column(data: dict[str, Any], name: str, kind: type, nulls: bool = False) -> list[Any]:
    column = data.get(name)
    if not isinstance(column, list):
        raise ValueError(f"the ledger's {name} is not a list")
    for value in column:
        if value is None and nulls:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
            raise ValueError(f"the ledger's {name} holds {value!r}")
        if not math.isfinite(value) or (kind is int and not 0 <= value < 10**6):
            raise ValueError(f"the ledger's {name} holds {value!r}")
    return column
