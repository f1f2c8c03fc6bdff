"""Random sequences of runs through main(), and the alerting promises checked after each run
(docs/alerting.md, "Promises"). Shared by the property tests (hypothesis drives the steps) and
`benchmarks.alerting` (a seeded random generator drives them, 10,000 sequences).

Each run is played as the runner and the composite make it (tests/pipeline.py): the fake
GitHub API carries each run's snapshot to the next, Echo is a real HTTP server on loopback, the
clock is the test's. The oracle reads only what the channel got (Echo's record of the
messages and sends) and the step's outputs and log: never the program's own state."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

from tests.fake_github import Actions
from tests.helpers import Fault, ScriptedEcho
from tests.pipeline import NEW_YORK, Pipeline, sync

Kind = Literal[
    "ok", "warning", "critical", "error", "nofigures", "stale", "nofile", "failed", "cancelled"
]
KINDS: tuple[Kind, ...] = get_args(Kind)
CRITICAL = frozenset({"critical", "failed", "cancelled"})  # posted at once, whatever alert-after
JOB = {"failed": "failure", "cancelled": "cancelled"}  # job-status
# The problem each kind is (a cancelled job is a failed one, as far as what is wrong goes).
CAUSE: dict[Kind, str] = {kind: kind for kind in KINDS} | {"cancelled": "failed"}
Which = Literal["new", "newest", "older"]  # a new run, a re-run of the newest, of an older one
Fault_ = Literal["none", "unknown", "refused"]  # the send's fate: Echo posted it, or refused
# Where a sequence starts: an ordinary day, and just before each clock change in New York.
STARTS = (
    datetime(2026, 1, 15, 8, 0, tzinfo=NEW_YORK),
    datetime(2026, 3, 7, 23, 0, tzinfo=NEW_YORK),
    datetime(2026, 10, 31, 23, 0, tzinfo=NEW_YORK),
)
PROMISES = (
    "never blind",
    "a change is said",
    "never twice",
    "no repeat",
    "the owed recovery",
    "muted is quiet",
    "posted means sent",
    "calm after calm is quiet",
    "mentions only news",
    "no traceback",
)
MENTION = "<!here>"


@dataclass(frozen=True)
class Settings:
    notify_on: str = "problems"
    remind_every: int = 4  # hours; 0: every problem run
    alert_after: int = 1
    start: int = 0  # which of STARTS
    report: str = "sync"  # or auto: a crash with no file goes on with the job's last report

    def inputs(self) -> dict[str, str]:
        return {
            "notify-on": self.notify_on,
            "remind-every": f"{self.remind_every}h" if self.remind_every else "0",
            "alert-after": str(self.alert_after),
            "report": self.report,
            "mention": MENTION,
            "mention-on": "problems",
        }


@dataclass(frozen=True)
class Step:
    kind: Kind
    which: Which = "new"
    fault: Fault_ = "none"
    minutes: int = 30  # since the previous run
    mute_hours: int = 0  # from this run on, muted for so many hours (0: the mute stays as it was)
    back: int = 1  # a re-run of an older run: how many runs back (1: the one before the newest)
    blind: bool = False  # the GitHub API refuses this run's look-up (HTTP 403)


@dataclass
class Tally:
    """Per promise: how many runs it applied to, and the violations found (what and when)."""

    exercised: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


def metrics(kind: Kind) -> dict[str, object] | None:
    if kind == "nofile":
        return None
    if kind == "nofigures":
        return {"errors": []}
    verified = {"warning": 85, "critical": 70}.get(kind, 95)
    data = sync(verified)
    data["errors"] = ["SMB campaign: rate limited"] if kind == "error" else []
    return data


class Sequence:
    """One sequence of runs of a sync pipeline, with what the channel has heard so far."""

    def __init__(self, tmp: Path, echo: ScriptedEcho, actions: Actions, settings: Settings) -> None:
        self.pipeline = Pipeline(tmp, echo, actions)
        self.echo, self.settings = echo, settings
        self.now = STARTS[settings.start].astimezone(UTC)  # real time: across clock changes too
        self.mute_until: datetime | None = None
        self.attempts: dict[int, int] = {}  # run id -> its latest attempt
        self.tally = Tally()
        self.runs = 0
        # What the channel heard, read from Echo's record alone.
        self.last: str = ""  # "problem", "recovery", "report" or '' (nothing yet)
        self.last_problem: datetime | None = None
        self.told: str | None = None  # the cause of the last problem message
        self.muted_since_told = False  # a muted run came after the last problem message
        self.previous: Kind | None = None  # the kind of the run before (by execution)
        self.fresh = 0  # problem runs in a row since the last blind one, re-runs not counted

    def play(self, step: Step) -> None:
        self.runs += 1
        self.now += timedelta(minutes=step.minutes)
        if step.mute_hours:
            self.mute_until = self.now + timedelta(hours=step.mute_hours)
        muted = False
        inputs = self.settings.inputs()
        if self.mute_until is not None:  # the variable stays set once the mute is over
            written = f"{self.mute_until.astimezone(NEW_YORK):%Y-%m-%d %H:%M}"
            inputs["mute-until"] = written  # read back in `timezone`, as the program reads it
            until = datetime.strptime(written, "%Y-%m-%d %H:%M").replace(tzinfo=NEW_YORK)
            muted = self.now < until
        if step.kind in JOB:
            inputs["job-status"] = JOB[step.kind]
        if step.fault == "refused":
            self.echo.fail("create", Fault("status", 403))
        elif step.fault == "unknown":
            self.echo.fail("send", Fault("done", 504))  # posted; the gateway timed out
        run_id, attempt = self._which(step.which, step.back)
        sends, creates = len(self.echo.sends), self._creates()
        self.pipeline.actions.status = 403 if step.blind else 200
        when = self.now - timedelta(days=2) if step.kind == "stale" else self.now
        result = self.pipeline.run(
            metrics(step.kind),
            0,
            when=when,
            now=self.now,
            attempt=attempt,
            rerun_of=run_id if attempt > 1 else None,
            **inputs,
        )
        self.pipeline.actions.status = 200
        self.echo.script["create"].clear()
        self.echo.script["send"].clear()
        sent = len(self.echo.sends) > sends
        content = result.content if self._creates() > creates else ""
        self._check(step, muted, result.code, result.log, result.outputs, sent, content)
        self._hear(step, muted, sent, content, result.outputs.get("severity", ""))

    def _which(self, which: Which, back: int) -> tuple[int | None, int]:
        """The run id a re-run re-runs (None: a new run) and its attempt."""
        known = sorted(self.attempts)
        if which == "new" or not known:
            self.attempts[self.pipeline.run_id + 1] = 1
            return None, 1
        run_id = known[-1] if which == "newest" else known[max(0, len(known) - 1 - back)]
        self.attempts[run_id] += 1
        return run_id, self.attempts[run_id]

    def _creates(self) -> int:
        return sum(r["path"] == "/api/v1/messages" for r in self.echo.store.requests)

    def _check(
        self,
        step: Step,
        muted: bool,
        code: int,
        log: str,
        outputs: dict[str, str],
        sent: bool,
        content: str,
    ) -> None:
        problem = step.kind != "ok"
        recovery = "Back to normal" in content
        fresh = 0 if step.blind else self.fresh
        held = step.kind in CRITICAL or fresh + (step.which == "new") >= self.settings.alert_after
        clean = step.fault == "none"
        seeing = not step.blind  # a run that cannot read the history knows nothing told
        self._promise(
            "no traceback",
            True,
            code == 0
            and "internal error" not in log
            and "could not write" not in log
            and "Traceback" not in log,
        )
        self._promise("muted is quiet", muted, not sent and not content)
        self._promise(
            "posted means sent",
            True,
            (outputs.get("posted") == "true") == (sent and clean),
        )
        self._promise("never twice", recovery, self.last == "problem")
        self._promise(
            "the owed recovery",
            not problem and not muted and clean and seeing and self.last == "problem",
            recovery and sent,
        )
        self._promise(
            "calm after calm is quiet",
            self.settings.notify_on == "problems"
            and not problem
            and self.previous == "ok"
            and self.last != "problem",
            not content,
        )
        if problem and not muted and held and clean:
            self._promise("a change is said", self.told != CAUSE[step.kind], sent)
            every = timedelta(hours=self.settings.remind_every)
            last = self.now if sent else self.last_problem
            recent = last is not None and (self.now - last < every if every else last == self.now)
            said = sent and not recovery  # a problem message, not a Back to normal
            self._promise("never blind", True, recent and (said or self.last == "problem"))
        self._promise(
            "mentions only news",
            MENTION in content,
            problem and "🔁" not in content and not recovery,
        )
        self._promise(
            "no repeat",
            problem
            and seeing
            and self.settings.remind_every > 0
            and self.last == "problem"
            and self.told == CAUSE[step.kind]
            and not self.muted_since_told
            and self.last_problem is not None
            and self.now - self.last_problem < timedelta(hours=self.settings.remind_every),
            not content,
        )

    def _promise(self, name: str, applies: bool, kept: bool) -> None:
        if not applies:
            return
        self.tally.exercised[name] += 1
        if not kept:
            self.tally.violations.append(f"{name} at run {self.runs} ({self.now:%Y-%m-%d %H:%M})")

    def _hear(self, step: Step, muted: bool, sent: bool, content: str, severity: str) -> None:
        """What the channel heard of this run: a message reached it when its send did."""
        if muted:
            self.muted_since_told = True
        if sent:
            if "Back to normal" in content:
                self.last, self.told = "recovery", None
            elif step.kind != "ok":
                self.last, self.told, self.last_problem = "problem", CAUSE[step.kind], self.now
                self.muted_since_told = False
            elif self.last != "problem":
                self.last = "report"
        problem = step.kind != "ok"
        self.fresh = 0 if not problem or step.blind else self.fresh + (step.which == "new")
        self.previous = step.kind


def describe(settings: Settings, steps: list[Step]) -> str:
    """A sequence in one line per run, to replay a counter-example by hand."""
    return json.dumps({"settings": settings.__dict__, "steps": [s.__dict__ for s in steps]})
