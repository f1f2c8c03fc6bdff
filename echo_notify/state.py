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
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Level = Literal["ok", "warning", "critical"]
LEVELS = ("ok", "warning", "critical")
VERSION = 1
# Why a run posts nothing: notify-on's "ok" and "unchanged"; the watchdog's "well" (all is
# and was well) and "same" (the same problems as at the previous check); "reminder" (the same
# problem, told less than `remind-every` ago), "flapping" (a warning that has not held
# `alert-after` runs, or the end of one never posted) and "muted" (`mute-until`).
Quiet = Literal["", "ok", "unchanged", "well", "same", "reminder", "flapping", "muted"]
# The `reason` output: the same, in the words of the interface.
REASONS: dict[str, str] = {
    "ok": "quiet",
    "unchanged": "quiet",
    "well": "quiet",
    "same": "reminder-not-due",
    "reminder": "reminder-not-due",
    "flapping": "flapping",
    "muted": "muted",
}
NotifyOn = Literal["always", "problems", "changes"]
# Whether a run's message reached the channel: `maybe` when the send's outcome is unknown.
Announced = Literal["yes", "maybe", "no"]
ANNOUNCED = ("yes", "maybe", "no")
WINDOW = 48  # runs the rolling window keeps (about a day of half-hourly runs)
KEY = 255  # a window entry's names: a figure, a gauge, a watched workflow's file name


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


@dataclass(frozen=True)
class Told:
    """The last message about the problem standing at a run: when it went out, and what it
    said (the severity, and each bad gauge's level or watched workflow's problem)."""

    time: datetime
    severity: Level
    problems: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "severity": self.severity, "problems": self.problems}

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Told:
        problems = _object(data, "problems")
        return cls(
            time=_time(data.get("time")),
            severity=_level(data.get("severity"), required=True),  # type: ignore[arg-type]
            problems={str(k): str(v)[:40] for k, v in list(problems.items())[:50]},
        )


def signature(
    levels: Mapping[str, Level | None], detail: Mapping[str, str], failed: bool
) -> dict[str, str]:
    """What a problem is, to tell a change from the same problem: each bad gauge's level,
    each watched workflow's problem, and a failed job."""
    bad = {k: str(v) for k, v in levels.items() if v in ("warning", "critical")}
    return {**bad, **detail, **({"job": "failed"} if failed else {})}


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
            figures={str(k)[:KEY]: _figure(v) for k, v in _object(data, "figures").items()},
            levels={str(k)[:KEY]: _level(v) for k, v in _object(data, "levels").items()},
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
    told: Told | None = None  # the last message about the problem standing at this run
    muted: datetime | None = None  # muted since (`mute-until`), until a message said so
    # The last runs, oldest first, this one last (at most WINDOW); empty: this run alone.
    window: tuple[Point, ...] = ()
    digest: datetime | None = None  # the watchdog's: when its last daily digest went out
    leg: str = ""  # the matrix leg or named step it belongs to, as the digest names it

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

    @property
    def problems(self) -> dict[str, str]:
        return signature(self.levels, self.detail, self.failed)

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
                "told": self.told.to_json() if self.told else None,
                "muted": self.muted.isoformat() if self.muted else None,
                "window": [point.to_json() for point in self.window],
                "digest": self.digest.isoformat() if self.digest else None,
                "leg": self.leg,
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
        told, muted, digest = data.get("told"), data.get("muted"), data.get("digest")
        snapshot = cls(
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
            told=Told.parse(_object(data, "told")) if told is not None else None,
            muted=_time(muted) if muted is not None else None,
            window=_window(data.get("window", [])),
            digest=_time(digest) if digest is not None else None,
            leg=str(data.get("leg") or "")[:60],
        )
        if "told" not in data and snapshot.streak.count and announced != "no":
            # Written before reminders (every problem run was posted): told at that run.
            snapshot = replace(
                snapshot, told=Told(snapshot.time, snapshot.severity, snapshot.problems)
            )
        return snapshot


def _window(data: Any) -> tuple[Point, ...]:
    if not isinstance(data, list):
        raise ValueError("the window is not a list")
    return tuple(Point.parse(item) for item in data[-WINDOW:])


def carried(previous: Snapshot | None, point: Point, *, rerun: bool = False) -> tuple[Point, ...]:
    """This run's window: the previous run's, then this run, the oldest dropped past WINDOW;
    a re-run (``previous`` is an earlier attempt of this run) replaces that attempt's point."""
    earlier = previous.runs if previous else ()
    return (*(earlier[:-1] if rerun else earlier), point)[-WINDOW:]


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


def advance(
    previous: Snapshot | None,
    severity: Level,
    job_status: str,
    time: datetime,
    *,
    rerun: bool = False,
) -> Streak:
    """This run's streak: the previous one plus this run when it had a problem, else none.
    Every run counts, delivered or not: its snapshot is kept whatever became of the message;
    a re-run counts once (it takes the place of the attempt before it)."""
    if severity == "ok":
        return Streak()
    failed, cancelled = job_status != "success", int(job_status == "cancelled")
    if previous and previous.streak.count and previous.streak.since:
        before = previous.streak
        count = before.count + (not rerun)
        return Streak(
            count, before.since, before.failed and failed, min(before.cancelled + cancelled, count)
        )
    return Streak(1, time, failed, cancelled)


def ended(previous: Snapshot | None, streak: Streak) -> Streak | None:
    """The problem streak this run's recovery announces: the previous run's when a message
    told of it, or one whose recovery an earlier run could not deliver (or was muted); None
    when there is nothing to announce (a recovery only for a problem that was posted)."""
    if previous is None or streak.count:
        return None
    if previous.streak.count:
        return previous.streak if previous.told else None
    return previous.owed


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The alerting inputs: how often a standing problem is said again, how long a warning
    must hold before it is said, and until when nothing is said."""

    notify_on: NotifyOn = "always"
    remind_every: timedelta = timedelta(hours=4)  # 0: every problem run (`remind-every: 0`)
    alert_after: int = 1
    mute_until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Whether a run posts (``quiet`` says why not) and what its message is."""

    quiet: Quiet = ""
    reminder: bool = False  # the same problem, said again: the message says so
    worse: bool = False  # a new problem, or a worse one: what `mention` is for
    told: Told | None = None  # the last message about the standing problem, before this run
    muted: datetime | None = None  # this run is muted: since when
    unmuted: datetime | None = None  # a mute ended before this run: since when it was
    due: datetime | None = None  # when a reminder would be due (quiet "reminder")
    at: datetime | None = None  # the run's clock: when its message went out


def decide(
    policy: Policy,
    this: Snapshot,
    previous: Snapshot | None,
    now: datetime,
    *,
    recovered: Streak | None,
    gauges: frozenset[str],
) -> Decision:
    """The notify policy (insight.md), one pure decision. In `problems` and `changes` mode a
    problem posts when it starts (a warning once it held `alert-after` runs, critical at
    once), when it changes, when a mute that hid it ended, and while unchanged once every
    `remind-every`; its end posts only when it was posted. A mute keeps everything quiet."""
    problem = this.severity != "ok"
    told = previous.told if previous and previous.streak.count and problem else None
    mute = policy.mute_until if policy.mute_until and now < policy.mute_until else None
    muted = ((previous.muted if previous else None) or now) if mute else None
    unmuted = previous.muted if previous and previous.muted and not mute else None
    why: Quiet = ""
    reminder = False
    due = None
    if policy.notify_on != "always" and problem:
        held = this.severity == "critical" or this.streak.count >= policy.alert_after
        if told is None:
            why = "" if held else "flapping"
        elif told.severity != this.severity or told.problems != this.problems or unmuted:
            why = ""
        elif policy.remind_every:
            due = told.time + policy.remind_every
            reminder = now >= due
            why = "" if reminder else "reminder"
    elif not problem:
        why = quiet(
            policy.notify_on,
            this.severity,
            this.levels,
            previous,
            recovered=recovered,
            gauges=gauges,
        )
        if why and previous and previous.streak.count and previous.told is None:
            why = "flapping" if previous.muted is None else why  # a warning that never held
    if not why and mute:
        why = "muted"
    return Decision(
        quiet=why,
        reminder=reminder and not why,
        worse=problem and not why and (told is None or _worse(told, this)),
        told=told,
        muted=muted,
        unmuted=unmuted,
        due=due,
        at=now,
    )


def pings(mention_on: str, severity: Level, decision: Decision) -> bool:
    """Whether a posted run's headline carries `mention`: a new or worse problem of the
    severity `mention-on` names; never a reminder, a recovery or a quiet run."""
    wanted = {"critical": ("critical",), "problems": ("warning", "critical")}.get(mention_on, ())
    return decision.worse and severity in wanted


def _rank(value: str) -> int:
    return LEVELS.index(value) if value in LEVELS else 1  # a workflow's problem, a failed job


def _worse(told: Told, this: Snapshot) -> bool:
    """A higher severity, a new problem, or a gauge at a worse level than last told."""
    if _rank(this.severity) > _rank(told.severity):
        return True
    before = told.problems
    return any(k not in before or _rank(v) > _rank(before[k]) for k, v in this.problems.items())


def settle(
    snapshot: Snapshot, outcome: str, recovered: Streak | None, decision: Decision | None = None
) -> Snapshot:
    """The snapshot as kept, once the message's fate is known: a recovery that certainly did
    not reach the channel (or was muted) stays owed to the next run; one that may have (the
    send's outcome is unknown) is not announced twice. A problem's message that may have
    landed is what the next reminder counts from; one that did not leaves the last one."""
    decision = decision or Decision()
    announced: Announced = (
        "yes" if outcome == "delivered" else "maybe" if outcome == "unknown" else "no"
    )
    hidden = outcome != "quiet" or decision.quiet == "muted"
    owed = recovered if recovered and announced == "no" and hidden else None
    told = None
    muted = decision.muted
    if snapshot.streak.count:
        if announced != "no":
            told = Told(decision.at or snapshot.time, snapshot.severity, snapshot.problems)
        else:
            told = decision.told
            muted = muted or decision.unmuted  # not said yet: the next message says it
    return replace(snapshot, announced=announced, owed=owed, told=told, muted=muted)


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
