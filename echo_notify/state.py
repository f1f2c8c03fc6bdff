"""The state between runs, and the policy that reads it (insight.md): what one run showed (the
snapshot the next run compares with), how problem runs add up to a streak, and whether a run is
worth a message. Pure values and decisions: `history` stores and fetches snapshots, `report`
shows them, `main` acts on the answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

Level = Literal["ok", "warning", "critical"]
LEVELS = ("ok", "warning", "critical")
VERSION = 1
# Why a run posts nothing: notify-on's "ok" and "unchanged"; the watchdog's "well" (all is
# and was well) and "same" (the same problems as at the previous check).
Quiet = Literal["", "ok", "unchanged", "well", "same"]
NotifyOn = Literal["always", "problems", "changes"]
# Whether a run's message reached the channel: `maybe` when the send's outcome is unknown.
Announced = Literal["yes", "maybe", "no"]
ANNOUNCED = ("yes", "maybe", "no")
WINDOW = 48  # runs the rolling window keeps (about a day of half-hourly runs)


@dataclass(frozen=True)
class Streak:
    """Problem runs in a row, ending with the run it belongs to (0 when that run was ok)."""

    count: int = 0
    since: datetime | None = None  # when the first of them ran
    failed: bool = False  # every one of them failed or was cancelled (job-status)
    cancelled: int = 0  # how many of them were cancelled

    def to_json(self) -> dict[str, Any]:
        since = self.since.isoformat() if self.since else None
        return {
            "count": self.count,
            "since": since,
            "failed": self.failed,
            "cancelled": self.cancelled,
        }

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Streak:
        since = data.get("since")
        count = _count(data.get("count"))
        return cls(
            count=count,
            since=_time(since) if since is not None else None,
            failed=data.get("failed") is True,
            cancelled=min(_count(data.get("cancelled", 0)), count),
        )


@dataclass(frozen=True, kw_only=True)
class Point:
    """One run in the rolling window: its key figures and levels, nothing else (no texts)."""

    time: datetime
    severity: Level
    failed: bool
    figures: dict[str, float | None]
    levels: dict[str, Level | None]

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "severity": self.severity,
            "failed": self.failed,
            "figures": self.figures,
            "levels": self.levels,
        }

    @classmethod
    def parse(cls, data: Any) -> Point:
        if not isinstance(data, dict):
            raise ValueError("a window entry is not an object")
        return cls(
            time=_time(data.get("time")),
            severity=_level(data.get("severity"), required=True),  # type: ignore[arg-type]
            failed=data.get("failed") is True,
            figures={str(k)[:40]: _figure(v) for k, v in _object(data, "figures").items()},
            levels={str(k)[:40]: _level(v) for k, v in _object(data, "levels").items()},
        )


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What one run showed: no error texts, no secrets."""

    kind: str
    time: datetime
    run_id: str
    attempt: int
    severity: Level
    failed: bool
    levels: dict[str, Level | None]
    figures: dict[str, float | None]
    streak: Streak
    detail: dict[str, str] = field(default_factory=dict)  # the watchdog's problem per workflow
    announced: Announced = "yes"
    owed: Streak | None = None  # a streak whose end this run had to announce and could not
    # The last runs, oldest first, this one last (at most WINDOW); empty: this run alone.
    window: tuple[Point, ...] = ()

    @property
    def point(self) -> Point:
        """This run as a point of the window."""
        return Point(
            time=self.time,
            severity=self.severity,
            failed=self.failed,
            figures=dict(self.figures),
            levels=dict(self.levels),
        )

    @property
    def runs(self) -> tuple[Point, ...]:
        """The window as carried: a snapshot without one (every release before it) is a
        window of one, its own run."""
        return self.window or (self.point,)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "report": self.kind,
                "time": self.time.isoformat(),
                "run_id": self.run_id,
                "attempt": self.attempt,
                "severity": self.severity,
                "failed": self.failed,
                "levels": self.levels,
                "figures": self.figures,
                "streak": self.streak.to_json(),
                "detail": self.detail,
                "announced": self.announced,
                "owed": self.owed.to_json() if self.owed else None,
                "window": [point.to_json() for point in self.window],
            },
            indent=1,
        )

    @classmethod
    def parse(cls, raw: bytes, kind: str) -> Snapshot:
        """Strictly: any surprise is a ValueError that names it."""
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a version-1 snapshot")
        if data.get("report") != kind:
            raise ValueError(f"a snapshot of a {data.get('report')!r} report")
        owed, announced = data.get("owed"), data.get("announced", "yes")
        if announced not in ANNOUNCED:
            raise ValueError(f"an unknown announcement {announced!r}")
        return cls(
            kind=kind,
            time=_time(data.get("time")),
            run_id=str(data.get("run_id", "")),
            attempt=int(data.get("attempt", 1)),
            severity=_level(data.get("severity"), required=True),  # type: ignore[arg-type]
            failed=data.get("failed") is True,
            levels={str(k): _level(v) for k, v in _object(data, "levels").items()},
            figures={str(k): _figure(v) for k, v in _object(data, "figures").items()},
            streak=Streak.parse(_object(data, "streak")),
            announced=announced,
            owed=Streak.parse(_object(data, "owed")) if owed is not None else None,
            detail={str(k): str(v)[:40] for k, v in data.get("detail", {}).items()}
            if isinstance(data.get("detail", {}), dict)
            else {},
            window=_window(data.get("window", [])),
        )


def _window(data: Any) -> tuple[Point, ...]:
    if not isinstance(data, list):
        raise ValueError("the window is not a list")
    return tuple(Point.parse(item) for item in data[-WINDOW:])


def carried(previous: Snapshot | None, point: Point) -> tuple[Point, ...]:
    """This run's window: the previous run's, then this run, the oldest dropped past WINDOW."""
    earlier = previous.runs if previous else ()
    return (*earlier, point)[-WINDOW:]


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not an object")
    return value


def _time(value: Any) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    if stamp is None or stamp.tzinfo is None:
        raise ValueError("a time without a zone")
    if not 2000 <= stamp.astimezone(UTC).year <= 2999:  # shown in any zone later: no overflow
        raise ValueError(f"a time out of range ({value})")
    return stamp


def _level(value: Any, required: bool = False) -> Level | None:
    if value is None and not required:
        return None
    if value not in LEVELS:
        raise ValueError(f"an unknown level {value!r}")
    return value  # type: ignore[no-any-return]


def _figure(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("a figure that is not a number")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**6:
        raise ValueError("a streak that is not a count")
    return value


def advance(previous: Snapshot | None, severity: Level, job_status: str, time: datetime) -> Streak:
    """This run's streak: the previous one plus this run when it had a problem, else none.
    Every run counts, delivered or not: its snapshot is kept whatever became of the message."""
    if severity == "ok":
        return Streak()
    failed, cancelled = job_status != "success", int(job_status == "cancelled")
    if previous and previous.streak.count and previous.streak.since:
        before = previous.streak
        return Streak(
            before.count + 1, before.since, before.failed and failed, before.cancelled + cancelled
        )
    return Streak(1, time, failed, cancelled)


def ended(previous: Snapshot | None, streak: Streak) -> Streak | None:
    """The problem streak this run's recovery announces: the previous run's, or one whose
    recovery the previous run could not deliver; None when there is nothing to announce."""
    if previous is None or streak.count:
        return None
    if previous.streak.count:
        return previous.streak
    return previous.owed


def settle(snapshot: Snapshot, outcome: str, recovered: Streak | None) -> Snapshot:
    """The snapshot as kept, once the message's fate is known: a recovery that certainly did
    not reach the channel stays owed to the next run; one that may have (the send's outcome
    is unknown) is not announced twice."""
    announced: Announced = (
        "yes" if outcome == "delivered" else "maybe" if outcome == "unknown" else "no"
    )
    owed = recovered if recovered and announced == "no" and outcome != "quiet" else None
    return replace(snapshot, announced=announced, owed=owed)


def quiet(
    notify_on: NotifyOn,
    severity: Level,
    levels: Mapping[str, Level | None],
    previous: Snapshot | None,
    *,
    recovered: Streak | None,
    gauges: frozenset[str],
) -> Quiet:
    """Why a report is not worth a message (insight.md), or '' to post it. A problem always
    posts, and so does the end of one (`recovered`, from `ended`)."""
    problem = severity != "ok"
    if notify_on == "always" or problem or recovered:
        return ""
    changed = previous is None or {k: v for k, v in levels.items() if k in gauges} != {
        k: v for k, v in previous.levels.items() if k in gauges
    }
    if notify_on == "changes" and changed:
        return ""
    return "ok" if notify_on == "problems" else "unchanged"


def worth_a_message(severity: Level, detail: Mapping[str, str], previous: Snapshot | None) -> bool:
    """The watchdog's rule: post when something is wrong and it is news (a new or different
    problem, or no earlier snapshot), and once when all is well again; stay quiet while all
    stays well or the same problems persist."""
    if previous is None:
        return severity != "ok"
    if severity == "ok":
        return previous.severity != "ok"
    return dict(detail) != previous.detail
