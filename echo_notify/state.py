"""The state between runs, and the policy that reads it (docs/alerting.md): what one run showed
(the snapshot the next run compares with), how problem runs add up to a streak, and whether a
run is worth a message. Pure values and decisions: `history` stores and fetches snapshots,
`report` shows them, `main` acts on the answers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from .choices import NotifyOn
from .ledger import Ledger, keepable

Level = Literal["ok", "warning", "critical"]
LEVELS = ("ok", "warning", "critical")
VERSION = 1
# Why a run posts nothing: notify-on's "ok" and "unchanged"; the watchdog's "well" (all is
# and was well); "reminder" (the same problem, told less than `remind-every` ago), "flapping"
# (a warning that has not held `alert-after` runs, or the end of one never posted) and "muted"
# (`mute-until`).
Quiet = Literal["", "ok", "unchanged", "well", "reminder", "flapping", "muted"]
# The `reason` output: the same, in the words of the interface.
REASONS: dict[str, str] = {
    "ok": "quiet",
    "unchanged": "quiet",
    "well": "quiet",
    "reminder": "reminder-not-due",
    "flapping": "flapping",
    "muted": "muted",
}
# Whether a run's message reached the channel: `maybe` when the send's outcome is unknown.
Announced = Literal["yes", "maybe", "no"]
ANNOUNCED = ("yes", "maybe", "no")
WINDOW = 48  # runs the rolling window keeps (about a day of half-hourly runs)
KEY = 255  # a window entry's names: a figure, a gauge, a watched workflow's file name
PROBLEMS = 1000  # causes a problem's identity keeps: a watchdog's workflows, each a cause


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
            problems={str(k)[:KEY]: str(v)[:40] for k, v in list(problems.items())[:PROBLEMS]},
        )


def signature(
    levels: Mapping[str, Level | None], detail: Mapping[str, str], failed: bool
) -> dict[str, str]:
    """What a problem is, to tell a change from the same problem: each bad gauge's level,
    each cause that is not a gauge (`detail`: no file, no figures, only bad data, stale data,
    errors logged; for the watchdog each workflow's problem), and a failed job."""
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
    run: str = ""  # the run's id: a re-run takes its place
    cancelled: bool = False  # the job was cancelled (`failed` too)
    # False: the long memory has this run already (a re-run of a run the window no longer
    # holds, a stale file read again): shown, never added up again.
    counted: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            **({} if self.counted else {"counted": False}),
            "time": self.time.isoformat(),
            "severity": self.severity,
            "failed": self.failed,
            "figures": self.figures,
            "levels": self.levels,
            "run": self.run,
            "cancelled": self.cancelled,
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
            run=str(data.get("run", ""))[:KEY],
            cancelled=data.get("cancelled") is True,
            counted=data.get("counted") is not False,
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
    weekly: datetime | None = None  # the watchdog's: when its last weekly digest went out
    leg: str = ""  # the matrix leg or named step it belongs to, as the digest names it
    ledger: Ledger = field(default_factory=Ledger)  # the runs before the window, by the hour
    # Kept after a failed look-up: its window and memory start at its own run (`resumed`).
    blind: bool = False

    @property
    def point(self) -> Point:
        """This run as a point of the window."""
        return Point(
            time=self.time,
            severity=self.severity,
            failed=self.failed,
            figures=dict(self.figures),
            levels=dict(self.levels),
            run=self.run_id,
        )

    @property
    def channel(self) -> Channel:
        """What the channel had been told when this run was done."""
        return Channel(told=self.told, owed=self.owed, muted=self.muted)

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
                "weekly": self.weekly.isoformat() if self.weekly else None,
                "leg": self.leg,
                "ledger": self.ledger.to_json(),
                **({"blind": True} if self.blind else {}),
            },
            separators=(",", ":"),  # compact: a watchdog of many workflows keeps 48 checks
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
        weekly = data.get("weekly")  # absent before the weekly digest
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
            window=_window(data.get("window", []), str(data.get("run_id", ""))),
            digest=_time(digest) if digest is not None else None,
            weekly=_time(weekly) if weekly is not None else None,
            leg=str(data.get("leg") or "")[:60],
            ledger=Ledger.parse(data.get("ledger")),
            blind=data.get("blind") is True,
        )
        streak = snapshot.streak
        if "told" not in data and streak.count and (announced != "no" or streak.count > 1):
            # Written before reminders, when every problem run was posted: told at that run,
            # or (its own send failed) at the first of them.
            at = snapshot.time if announced != "no" else streak.since or snapshot.time
            snapshot = replace(snapshot, told=Told(at, snapshot.severity, snapshot.problems))
        if snapshot.owed and snapshot.told is None:  # an owed end, written before it kept `told`
            told = Told(snapshot.owed.since or snapshot.time, "warning", {})
            snapshot = replace(snapshot, told=told)
        return snapshot


def _window(data: Any, run_id: str) -> tuple[Point, ...]:
    if not isinstance(data, list):
        raise ValueError("the window is not a list")
    points = [Point.parse(item) for item in data[-WINDOW:]]
    if points and not points[-1].run:  # written before points named their run: the last is it
        points[-1] = replace(points[-1], run=run_id[:KEY])
    return tuple(points)


def carried(previous: Snapshot | None, point: Point) -> tuple[Point, ...]:
    """This run's window: the previous run's with this run in its place by time (a stale
    file's run among the runs of its time), the oldest dropped past WINDOW; a re-run takes
    the place of its run's earlier attempt."""
    earlier = [
        p for p in (previous.runs if previous else ()) if not (point.run and p.run == point.run)
    ]
    return tuple(sorted((*earlier, point), key=lambda p: p.time))[-WINDOW:]


def archived(
    previous: Snapshot | None, window: tuple[Point, ...], now: datetime, *, this: Point
) -> Ledger:
    """The long memory after this run (``this``): the previous run's, plus the runs that
    left the window (the oldest, or this one when its file is older than every run the window
    holds), not the earlier attempt a re-run replaced."""
    if previous is None:
        return Ledger()
    kept = {p.run for p in window if p.run}
    runs = (*previous.runs, this)
    gone = [p for p in runs if p not in window and not (p.run and p.run in kept)]
    return previous.ledger.add(gone, now)


def counted(
    previous: Snapshot | None, run_id: str, attempt: int, time: datetime, figures: dict[str, Any]
) -> bool:
    """Whether this run adds to the long memory: not when the memory has it already, as a
    re-run of a run the window no longer holds, or as a file an earlier run read (the same
    time and figures: a stale file read again)."""
    if previous is None:
        return True
    if attempt > 1 and attempted(previous, run_id) is None:
        return False
    return not any(  # another run's point (a re-run's earlier attempt it replaces is its own)
        p.time == time and p.figures == figures and not (run_id and p.run == run_id)
        for p in previous.runs
    )


def resumed(blind: Snapshot, older: Snapshot) -> Snapshot:
    """A snapshot kept after a failed look-up (``blind``: its window is its own run, its
    memory empty) with what the last readable snapshot before it knew: the window and the
    memory its run would have carried (what it told the channel stays its own)."""
    point = blind.runs[-1]  # counted once: not when the one before had it already
    fresh = counted(older, blind.run_id, blind.attempt, point.time, point.figures)
    point = replace(point, counted=point.counted and fresh)
    window = carried(older, point)
    now = max(blind.time, older.time, *(p.time for p in older.runs))  # a stale file's is older
    ledger = archived(older, window, now, this=point)
    return replace(blind, window=window, ledger=ledger, blind=older.blind)


def remembered(previous: Snapshot | None, run_id: str, now: datetime) -> Ledger:
    """Every run the previous snapshot knows, by the hour (its long memory and its window),
    but this run's earlier attempt: what this run is compared with."""
    if previous is None:
        return Ledger()
    earlier = (p for p in previous.runs if not (run_id and p.run == run_id))
    return previous.ledger.add(earlier, now)


def attempted(previous: Snapshot | None, run_id: str) -> Point | None:
    """This run's earlier attempt in the previous run's window: this run is a re-run (of the
    latest run, or of an older one), which counts once."""
    if not run_id or previous is None:
        return None
    return next((p for p in reversed(previous.runs) if p.run == run_id), None)


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not an object")
    return value


def _time(value: Any) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    if stamp is None or stamp.tzinfo is None:
        raise ValueError("a time without a zone")
    if not keepable(stamp):
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
    earlier: Point | None = None,
) -> Streak:
    """This run's streak: the previous one plus this run when it had a problem, else none.
    Every run counts, delivered or not: its snapshot is kept whatever became of the message;
    a re-run counts once: it takes the place of its run's ``earlier`` attempt (that attempt's
    cancelled or failed job no longer counts)."""
    if severity == "ok":
        return Streak()
    failed, cancelled = job_status != "success", int(job_status == "cancelled")
    if previous and previous.streak.count and previous.streak.since:
        before = previous.streak
        trail = _trail(previous)
        if earlier is not None and any(p is earlier for p in trail):  # it stands in its place
            others = [p for p in trail if p is not earlier]
            whole = len(trail) >= before.count  # the window holds the whole streak
            count = before.count
            others_failed = before.failed or (whole and all(p.failed for p in others))
            others_cancelled = before.cancelled - earlier.cancelled
        else:
            count, others_failed, others_cancelled = (
                before.count + 1,
                before.failed,
                before.cancelled,
            )
        return Streak(
            count, before.since, others_failed and failed, min(others_cancelled + cancelled, count)
        )
    return Streak(1, time, failed, cancelled)


def _trail(previous: Snapshot) -> list[Point]:
    """The window's last problem runs in a row: the streak's, as far as the window holds it."""
    trail: list[Point] = []
    for point in reversed(previous.runs):
        if point.severity == "ok":
            break
        trail.append(point)
    return trail


# -- the alerting policy: one pure transition ------------------------------------------------
#
# The channel's state is what it was last told. A run brings its facts; the settings say how
# loud to be; `decide` says whether the run posts, which message, and why not; `Decision.after`
# gives the state the next run starts from, once the message's fate is known. The promises it
# keeps are written in docs/alerting.md and checked over random sequences of runs
# (tests/integration/test_alerting_properties.py).


@dataclass(frozen=True, kw_only=True)
class Channel:
    """What the channel was last told: the open problem it heard of (None: as far as it knows
    all is well), the problem streak whose end it has yet to hear (ended, its recovery not
    delivered or muted), and since when a mute has hidden runs (until a message after it)."""

    told: Told | None = None
    owed: Streak | None = None
    muted: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Facts:
    """This run as the policy sees it."""

    severity: Level
    problems: dict[str, str]  # the problem's identity: every cause (`signature`)
    streak: Streak  # problem runs in a row, this one included (`advance`)
    ongoing: bool = False  # the previous run had a problem too: this one goes on with it
    ended: Streak | None = None  # the problem streak this good run ended
    changed: bool = True  # a gauge changed level since the previous run (or none is known)
    now: datetime


@dataclass(frozen=True, kw_only=True)
class Policy:
    """The alerting inputs: how often a standing problem is said again, how long a warning
    must hold before it is said, and until when nothing is said."""

    notify_on: NotifyOn = "always"
    remind_every: timedelta = timedelta(hours=4)  # 0: every problem run (`remind-every: 0`)
    alert_after: int = 1
    mute_until: datetime | None = None


# Which message a run posts: a new problem, a worse one, a changed one that is not worse
# (better but still bad), the same one again (`remind-every`), one a mute hid, the end of one,
# or a plain report (`notify-on: always`, a gauge that changed level, `remind-every: 0`).
Say = Literal["", "new", "worse", "changed", "reminder", "unmuted", "recovery", "report"]


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Whether a run posts (``say``) or why not (``quiet``), and what the message needs."""

    say: Say = "report"
    quiet: Quiet = ""
    channel: Channel = field(default_factory=Channel)  # the state this run started from
    facts: Facts | None = None
    recovered: Streak | None = None  # the streak a recovery announces
    due: datetime | None = None  # when a reminder is due (quiet "reminder")
    muted: datetime | None = None  # this run is muted: since when

    @property
    def reminder(self) -> bool:
        return self.say == "reminder"

    @property
    def unmuted(self) -> datetime | None:
        """A mute hid this problem: since when (the message says the mute is over)."""
        return self.channel.muted if self.say == "unmuted" else None

    @property
    def told(self) -> Told | None:
        return self.channel.told

    @property
    def worse(self) -> bool:
        """A new or worse problem posts: what `mention` is for."""
        told, facts = self.channel.told, self.facts
        if facts is None or facts.severity == "ok" or not self.say:
            return False
        return told is None or _worse(told, facts)

    def after(self, outcome: str) -> Channel:
        """The state the next run starts from. A message that may have reached the channel
        (delivered, or the send's outcome unknown) is what it was told; one that certainly
        did not (failed, quiet, muted, a dry run) leaves it as it was, and a recovery owed."""
        before, facts = self.channel, self.facts
        if facts is None:
            return before
        said = bool(self.say) and outcome in ("delivered", "unknown")
        problem = facts.severity != "ok"
        if self.muted:
            muted: datetime | None = self.muted
        else:  # kept while the problem it hid goes on unsaid
            muted = before.muted if problem and facts.ongoing and not said else None
        if problem:
            told = Told(facts.now, facts.severity, facts.problems) if said else before.told
            return Channel(told=told, muted=muted)
        if said or before.told is None:
            return Channel(muted=muted)
        return Channel(told=before.told, owed=facts.ended or before.owed, muted=muted)


def facts(
    previous: Snapshot | None, this: Snapshot, now: datetime, *, gauges: frozenset[str]
) -> Facts:
    """What the policy needs of this run and the previous one."""
    problem = this.severity != "ok"
    before = previous.streak if previous and previous.streak.count else None

    def shown(levels: Mapping[str, Level | None]) -> dict[str, Level | None]:
        return {k: v for k, v in levels.items() if k in gauges}

    return Facts(
        severity=this.severity,
        problems=this.problems,
        streak=this.streak,
        ongoing=problem and before is not None,
        ended=None if problem else before,
        changed=previous is None or shown(this.levels) != shown(previous.levels),
        now=now,
    )


def decide(policy: Policy, channel: Channel, facts: Facts) -> Decision:
    """The notify policy, one pure transition. In `problems` and `changes` mode a problem
    posts when it starts (a warning once it held `alert-after` runs, critical at once), when it
    changes (any cause), when a mute that hid it ended, and while unchanged once every
    `remind-every`; its end posts when the channel heard of it. A mute keeps everything quiet."""
    now = facts.now
    mute = _muting(policy, now)
    told = channel.told
    recovered = due = None
    if facts.severity != "ok":
        say, why, due = _problem(policy, channel, facts)
    elif told is not None:
        say, why = "recovery", ""
        recovered = facts.ended or channel.owed or Streak(1, told.time)
    elif policy.notify_on == "always" or (policy.notify_on == "changes" and facts.changed):
        say, why = "report", ""
    elif facts.ended and facts.ended.count < policy.alert_after and channel.muted is None:
        say, why = "", "flapping"  # a warning that never held: its end is not news either
    else:
        say, why = "", "ok" if policy.notify_on == "problems" else "unchanged"
    return Decision(
        say="" if mute else say,
        quiet=(why or "muted") if mute else why,  # muted, or quiet for its own reason
        channel=channel,
        facts=facts,
        recovered=recovered,
        due=due,
        muted=(channel.muted or now) if mute else None,
    )


def _problem(policy: Policy, channel: Channel, facts: Facts) -> tuple[Say, Quiet, datetime | None]:
    """A problem run: which message, or why none, and when a reminder is due."""
    told = channel.told
    held = facts.severity == "critical" or facts.streak.count >= policy.alert_after
    if policy.notify_on == "always":
        return ("new" if told is None else _changed(told, facts) or "report"), "", None
    if told is None and not held:
        return "", "flapping", None
    if channel.muted and facts.ongoing and not _muting(policy, facts.now):
        return "unmuted", "", None
    if told is None or _changed(told, facts):
        return ("new" if told is None else _changed(told, facts)), "", None
    if not policy.remind_every:
        return "report", "", None
    due = told.time + policy.remind_every
    return ("reminder", "", due) if facts.now >= due else ("", "reminder", due)


def _muting(policy: Policy, now: datetime) -> bool:
    return policy.mute_until is not None and now < policy.mute_until


def _changed(told: Told, facts: Facts) -> Say:
    """How the problem differs from the one last told: worse, changed, or '' (the same)."""
    if told.severity == facts.severity and told.problems == facts.problems:
        return ""
    return "worse" if _worse(told, facts) else "changed"


def pings(mention_on: str, severity: Level, decision: Decision) -> bool:
    """Whether a posted run's headline carries `mention`: a new or worse problem of the
    severity `mention-on` names; never a reminder, a recovery or a quiet run."""
    wanted = {"critical": ("critical",), "problems": ("warning", "critical")}.get(mention_on, ())
    return decision.worse and severity in wanted


def _rank(value: str) -> int:
    return LEVELS.index(value) if value in LEVELS else 1  # a workflow's problem, a failed job


def _worse(told: Told, facts: Facts) -> bool:
    """A higher severity, a new cause, or a gauge at a worse level than last told."""
    if _rank(facts.severity) > _rank(told.severity):
        return True
    before = told.problems
    return any(k not in before or _rank(v) > _rank(before[k]) for k, v in facts.problems.items())
