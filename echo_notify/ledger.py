"""The long memory (docs/history-and-trends.md): each run that leaves the rolling window is
added up by the hour it ran in, in UTC (so a clock change cannot fold two hours into one), for
six weeks. Week over week and "what is normal for this hour" read it (`weeks`). Pure values:
the snapshot carries it, compact, from run to run.
"""

from __future__ import annotations

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
LIMIT = SPAN + 2 * 24  # hours a ledger read may span (runs stamped ahead of their run's clock)
BOUND = 10**12  # the largest count or sum (in hundredths) a ledger holds
AHEAD = timedelta(days=1)  # a run stamped later than this after the run that keeps it: not kept
# The rates whose worst value an hour keeps, and which way is worse.
WORST = {"verification": min, "deletion": min, "invalid": max, "utilization": max}


YEARS = (2000, 2999)  # the times a snapshot keeps, and so the metrics file's timestamps


def keepable(stamp: datetime) -> bool:
    """A time the history can keep: far from the ends of the calendar in any zone."""
    try:
        return YEARS[0] <= stamp.astimezone(UTC).year <= YEARS[1]
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the calendar's end in UTC
        return False


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


EMPTY = Hour()


@dataclass(frozen=True)
class Ledger:
    """Hours, oldest first, at most SPAN of them before the newest run that kept it."""

    hours: Mapping[datetime, Hour] = field(default_factory=dict)

    def add(self, points: Iterable[Point], now: datetime) -> Ledger:
        """With ``points`` added by their own time (a stale file's run in its hour), but those
        it holds already (not `counted`); hours more than SPAN before ``now`` dropped, and runs
        stamped far ahead of it not kept."""
        hours = dict(self.hours)
        for point in points:
            if point.counted and point.time - now <= AHEAD:
                at = hour_of(point.time)
                hours[at] = hours.get(at, Hour()).plus(point)
        oldest, latest = hour_of(now) - SPAN * HOUR, hour_of(now + AHEAD)
        return Ledger({at: hours[at] for at in sorted(hours) if oldest < at <= latest})

    @property
    def start(self) -> datetime | None:
        """The first hour it knows (None: nothing yet)."""
        return next(iter(self.hours), None)

    def to_json(self) -> dict[str, Any]:
        """Compact: a column per value, an entry per hour from the first one; sums and worst
        values in hundredths (whole numbers: no decimal point, no float's long tail)."""
        if not self.hours:
            return {}
        start, end = min(self.hours), max(self.hours)
        hours = [self.hours.get(start + n * HOUR, EMPTY) for n in range(_span(start, end))]
        names = sorted({name for hour in hours for name in hour.counts})
        figures: dict[str, dict[str, list[int | None]]] = {}
        for name in names:
            figures[name] = {
                "n": [h.counts.get(name, 0) for h in hours],
                "sum": [round(h.sums.get(name, 0) * 100) for h in hours],
            }
            if name in WORST:
                worst = [h.worst.get(name) for h in hours]
                figures[name]["worst"] = [None if w is None else round(w * 100) for w in worst]
        return {
            "start": start.isoformat(),
            "runs": [h.runs for h in hours],
            "problems": [h.problems for h in hours],
            "figures": figures,
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
        if not keepable(start):
            raise ValueError(f"the ledger's start is out of range ({data['start']})")
        runs, problems = _column(data, "runs"), _column(data, "problems")
        size = len(runs)
        if not 0 < size <= LIMIT or len(problems) != size:
            raise ValueError("the ledger's columns do not match")
        figures = data.get("figures")
        if not isinstance(figures, dict):
            raise ValueError("the ledger's figures are not an object")
        columns = {}
        for name, column in figures.items():
            if not isinstance(column, dict):
                raise ValueError("a ledger figure is not an object")
            n, sums = _column(column, "n"), _column(column, "sum", signed=True)
            worst = _column(column, "worst", signed=True, nulls=True) if name in WORST else n
            if not len(n) == len(sums) == len(worst) == size:
                raise ValueError("the ledger's columns do not match")
            columns[str(name)[:255]] = (n, sums, worst)
        hours = {}
        for i, count in enumerate(runs):
            if not count:
                continue
            known = [k for k, c in columns.items() if c[0][i]]
            hours[start + i * HOUR] = Hour(
                runs=count,
                problems=min(problems[i], count),
                counts={k: columns[k][0][i] for k in known},
                sums={k: columns[k][1][i] / 100 for k in known},
                worst={
                    k: columns[k][2][i] / 100
                    for k in known
                    if k in WORST and columns[k][2][i] is not None
                },
            )
        return cls(hours)


def _span(start: datetime, end: datetime) -> int:
    return int((end - start) / HOUR) + 1


def _column(
    data: dict[str, Any], name: str, *, signed: bool = False, nulls: bool = False
) -> list[Any]:
    """A column of whole numbers (of hundredths for sums), counts at least 0."""
    column = data.get(name)
    if not isinstance(column, list) or not all(
        type(v) is int or (nulls and v is None) for v in column
    ):
        raise ValueError(f"the ledger's {name} is not a list of whole numbers")
    known = [v for v in column if v is not None] if nulls else column
    if known and (min(known) < (-BOUND if signed else 0) or max(known) > BOUND):
        raise ValueError(f"the ledger's {name} is out of bounds")
    return column
