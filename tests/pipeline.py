"""Runs of one workflow through ``main()`` as the runner and the composite make them: each run
writes its metrics, runs the action, then uploads the snapshot the way the composite's upload
step does (same name, `overwrite: true`), to a fake GitHub API the next run reads it from."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from echo_notify.ledger import Ledger
from echo_notify.main import main
from echo_notify.state import WINDOW, Level, Point, Snapshot, Streak
from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, stamp, zipped
from tests.helpers import EXAMPLES, ROOT, ScriptedEcho, parse_outputs, runner_env, running

TOKEN = "ghs_insightToken42"
WATCHED = "cold-email-sync.yml: 2h\ndrain-leads.yml: 5h"
NEW_YORK = ZoneInfo("America/New_York")


@dataclass
class Step:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    content: str  # what reached the channel ('' when nothing did)


class Pipeline:
    """Runs of one workflow's `sync` job (GITHUB_JOB); a test may run other reports too."""

    def __init__(self, tmp: Path, echo: ScriptedEcho, actions: Actions) -> None:
        self.tmp, self.echo, self.actions = tmp, echo, actions
        self.run_id = 1000
        self.sent = 0
        self.steps = 0
        self.workflow = 0  # which of actions.workflows the runs belong to

    def run(
        self,
        metrics: dict[str, object] | None,
        hour: int,
        *,
        attempt: int = 1,
        rerun_of: int | None = None,
        again: bool = False,
        when: datetime | None = None,
        now: datetime | None = None,
        env: dict[str, str] | None = None,
        timestamp: str | None = None,
        **inputs: str,
    ) -> Step:
        """One run (``attempt`` above 1: a re-run of the latest one, or of run ``rerun_of``;
        ``again``: another step of the latest run, or another leg of its matrix) at ``hour``
        o'clock in New York on Jan 15, 2026 (or ``when``), the clock reading ``now`` (else the
        same time);
        ``None`` metrics: the pipeline crashed before writing its file; ``timestamp``: the
        file's, as written (else the run's time)."""
        stamp = when or datetime(2026, 1, 15, hour, 0, tzinfo=NEW_YORK)
        if attempt == 1 and not again:
            self.run_id += 1
            run = Run(self.run_id, created_at=stamp.isoformat())
            self.actions.workflows[self.workflow].runs.insert(0, run)
        self.steps += 1
        run_id = rerun_of or self.run_id
        work = self.tmp / f"run-{run_id}-{attempt}-{self.steps}"
        (work / "files" / "home").mkdir(parents=True)
        (work / "temp").mkdir()
        if metrics is not None:
            written = timestamp or stamp.isoformat()
            (work / "m.json").write_text(json.dumps({**metrics, "timestamp": written}))
        environment = runner_env(
            work,
            work / "files",
            {"metrics-file": "m.json", "echo-url": self.echo.url, **inputs},
            github_token=TOKEN,
            extra={
                "GITHUB_API_URL": self.actions.api,
                "GITHUB_RUN_ID": str(run_id),
                "GITHUB_RUN_ATTEMPT": str(attempt),
                "RUNNER_TEMP": str(work / "temp"),
                **(env or {}),
            },
        )
        out = io.StringIO()
        code = main(environment, out, now=lambda: now or stamp)
        self.upload(work, run_id, now or stamp)
        requests = self.echo.store.requests
        sent = [
            json.loads(r["body"])["content"] for r in requests if r["path"] == "/api/v1/messages"
        ]
        content = sent[-1] if len(sent) > self.sent else ""
        self.sent = len(sent)
        return Step(
            code,
            out.getvalue(),
            parse_outputs((work / "files" / "set_output").read_text()),
            (work / "files" / "step_summary").read_text(),
            content,
        )

    def upload(self, work: Path, run_id: int, now: datetime) -> None:
        """The composite's upload step: the artifact the `history-artifact` output names, from
        the folder of that name (`if-no-files-found: ignore`, `overwrite: true`: the old one
        deleted, a new one created now)."""
        outputs = parse_outputs((work / "files" / "set_output").read_text())
        name = outputs.get("history-artifact", "")
        files = list((work / "temp" / "echo-notify" / name).glob("*.json")) if name else []
        if not files:
            return
        run = next(r for r in self.actions.workflows[self.workflow].runs if r.id == run_id)
        run.artifacts = [a for a in run.artifacts if a.name != name]
        content = zipped(files[0].name, files[0].read_bytes())
        run.artifacts.append(Artifact(name, content, created_at=stamp(now)))
        run.updated_at = stamp(now)


@dataclass
class Check:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    content: str


class Watchdog:
    """Hourly checks of the same workflow; the composite's upload step emulated after each."""

    def __init__(self, tmp: Path, echo: ScriptedEcho, actions: Actions) -> None:
        self.tmp, self.echo, self.actions = tmp, echo, actions
        self.run_id = 5000
        self.actions.workflows.append(Workflow(id=99, path=".github/workflows/watchdog.yml"))

    def check(self, hour: int, *, when: datetime | None = None, **inputs: str) -> Check:
        """A check at ``hour`` o'clock in New York on Jan 15, 2026 (or ``when``)."""
        self.run_id += 1
        self.actions.workflows[-1].runs.insert(0, Run(self.run_id))
        work = self.tmp / f"check-{self.run_id}"
        (work / "files" / "home").mkdir(parents=True)
        (work / "temp").mkdir()
        env = runner_env(
            work,
            work / "files",
            {"workflows": WATCHED, "echo-url": self.echo.url, **inputs},
            github_token=TOKEN,
            action=ROOT / "watchdog",
            extra={
                "GITHUB_API_URL": self.actions.api,
                "GITHUB_RUN_ID": str(self.run_id),
                "GITHUB_JOB": "watch",
                "RUNNER_TEMP": str(work / "temp"),
            },
        )
        before = len(self.echo.store.requests)
        out = io.StringIO()
        now = when or datetime(2026, 1, 15, hour, 0, tzinfo=NEW_YORK)
        code = main(env, out, argv=["watchdog"], now=lambda: now)
        outputs = parse_outputs((work / "files" / "set_output").read_text())
        name = outputs.get("history-artifact", "")  # what the composite's upload step uploads
        snapshot = work / "temp" / "echo-notify" / name / "watchdog.json"
        if name and snapshot.exists():
            self.actions.upload(self.run_id, name, "watchdog.json", snapshot.read_bytes(), now)
        created = [
            json.loads(r["body"])["content"]
            for r in self.echo.store.requests[before:]
            if r["path"] == "/api/v1/messages"
        ]
        return Check(
            code,
            out.getvalue(),
            parse_outputs((work / "files" / "set_output").read_text()),
            (work / "files" / "step_summary").read_text(),
            created[-1] if created else "",
        )


def sync(verified: int, inventory: int = 1342) -> dict[str, object]:
    data = json.loads((EXAMPLES / "sync.json").read_text())
    data["capacity_status"] = {"current_inventory": inventory, "max_capacity": 24000}
    data["verification_results"] = {"total_attempted": 100, "verified_successful": verified}
    data["final_inventory"] = {}
    return data  # type: ignore[no-any-return]


class Heartbeats(BaseHTTPRequestHandler):
    """A dead-man check: records each ping's path."""

    seen: ClassVar[list[str]] = []
    status: ClassVar[int] = 200

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        Heartbeats.seen.append(self.path)
        self.send_response(Heartbeats.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")


# -- a day of the three pipelines, for the watchdog's daily digest ----------------------------

PIPELINES = "cold-email-sync.yml: 2h\ndrain-leads.yml: 3h\nverification-poller.yml: 2h"
DAY_START = datetime(2026, 1, 15, 9, 30, tzinfo=NEW_YORK)  # the day before the digest
VERIFIED = [95, 94, 93, 90, 86, 84, 79, 81, 88, 92, 93, 94]  # repeated: one sync an hour


def three_workflows() -> list[Workflow]:
    return [
        Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync"),
        Workflow(id=2, path=".github/workflows/drain-leads.yml", name="Drain Leads"),
        Workflow(id=3, path=".github/workflows/verification-poller.yml", name="Poller"),
    ]


def a_day_of_pipelines(pipeline: Pipeline, actions: Actions) -> None:
    """Through main(), into three_workflows(): 24 hourly syncs (verification sliding and back,
    one without the figure), 12 drains every two hours (one under the warning line), and a
    poller whose runs keep no history."""
    for hour in range(24):
        when = DAY_START + timedelta(hours=hour)
        pipeline.workflow = 0
        metrics = sync(VERIFIED[hour % 12], inventory=12000 + 100 * hour)
        if hour == 13:
            metrics["verification_results"] = {}
        pipeline.run(metrics, 0, when=when)
        if hour % 2 == 0:
            pipeline.workflow = 1
            drain = json.loads((EXAMPLES / "drain.json").read_text())
            drain["deletion_results"] = {"success_rate_percentage": 91.0 if hour == 6 else 98.5}
            pipeline.run(drain, 0, when=when, report="drain")
    poller = actions.workflows[2]
    poller.runs.insert(0, Run(7000, created_at=(DAY_START + timedelta(hours=23)).isoformat()))


DIGEST_MORNING = datetime(2026, 1, 16, 9, 0, tzinfo=NEW_YORK)  # the check after that day


@contextmanager
def digest_morning(tmp: Path) -> Iterator[Watchdog]:
    """A day of the three pipelines played into a fake GitHub API, and the watchdog (its
    Echo on loopback) whose check at DIGEST_MORNING reads them back: the gallery's digest,
    the digest's benchmark."""
    with (
        running(ScriptedEcho()) as echo,
        fake_actions(Actions(workflows=three_workflows())) as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        a_day_of_pipelines(Pipeline(tmp, echo, actions), actions)
        yield Watchdog(tmp, echo, actions)


# -- three weeks of the pipelines, for the watchdog's weekly digest ---------------------------

WEEKLY_MORNING = datetime(2026, 1, 19, 9, 0, tzinfo=NEW_YORK)  # a Monday
UNUSUAL = {  # this week's odd runs: Tue 4 AM and Thu 6 PM in New York
    datetime(2026, 1, 13, 4, 0, tzinfo=NEW_YORK): 84.0,
    datetime(2026, 1, 15, 18, 0, tzinfo=NEW_YORK): 91.0,
}
LAST_WEEK_BAD = datetime(2026, 1, 7, 14, 0, tzinfo=NEW_YORK)  # Wed 2 PM, last week


def report_history(kind: str, runs: list[Point], now: datetime) -> Snapshot:
    """The snapshot a report's last run keeps after ``runs`` (oldest first): its last WINDOW
    runs in the window, the ones before in the long memory, as state.archived adds them up."""
    window, older = tuple(runs[-WINDOW:]), runs[:-WINDOW]
    last = window[-1]
    return Snapshot(
        kind=kind,
        time=last.time,
        run_id="1",
        attempt=1,
        severity=last.severity,
        failed=last.failed,
        levels={},
        figures=dict(last.figures),
        streak=Streak(),
        window=window,
        ledger=Ledger().add(older, now),
    )


def weeks_of_syncs(end: datetime, days: int) -> list[Point]:
    """A sync every 2 hours for ``days`` days up to ``end``: verification about 96 % (a point
    lower this week; the two UNUSUAL runs and LAST_WEEK_BAD under 90 %, problem runs), more
    leads added this week, inventory growing."""
    runs = []
    count = days * 12
    for i in range(count + 1):
        at = end - timedelta(hours=2 * (count - i))
        this_week = at > end - timedelta(days=7)
        verified = 96.0 + (0.5, -0.5, 1.0, -1.0, 0.0, 0.5)[i % 6] - (1.0 if this_week else 0.0)
        verified = UNUSUAL.get(at, 88.0 if at == LAST_WEEK_BAD else verified)
        inventory = 12000 + 15 * i
        figures: dict[str, float | None] = {
            "verification": verified,
            "added": (13 if this_week else 11) + i % 4,
            "inventory": inventory,
            "utilization": round(inventory / 24000 * 100, 1),
        }
        severity: Level = "warning" if verified < 90 else "ok"
        runs.append(Point(time=at, severity=severity, failed=False, figures=figures, levels={}))
    return runs


def seed_history(actions: Actions, end: datetime, days: int) -> int:
    """The snapshot a sync job's newest run (at ``end``) keeps after ``days`` days of
    two-hourly syncs (`weeks_of_syncs`), as the first workflow's newest run: the runs it knows."""
    runs = weeks_of_syncs(end, days)
    data = zipped("sync.json", report_history("sync", runs, end).to_json().encode())
    artifact = Artifact("echo-notify-sync-sync", data, created_at=stamp(end))
    actions.workflows[0].runs.insert(0, Run(900, [artifact], created_at=stamp(end)))
    return len(runs)


def days_of_drains(end: datetime, days: int) -> list[Point]:
    """A drain every 2 hours for ``days`` days up to ``end``: deletion success about 98 %."""
    count = days * 12
    return [
        Point(
            time=end - timedelta(hours=2 * (count - i)),
            severity="ok",
            failed=False,
            figures={"deletion": 98.0 + (i % 3) * 0.5, "removed": 160, "inventory": 1200 - i},
            levels={},
        )
        for i in range(count + 1)
    ]


def weeks_of_pipelines(actions: Actions, now: datetime = WEEKLY_MORNING) -> None:
    """Into three_workflows(), each report's snapshot as its newest run (an hour before
    ``now``) keeps it: three weeks of syncs, ten days of drains (its history starts within
    last week), and a poller that keeps no history. Built as values: three weeks of runs
    through main() would take a minute."""
    newest = now - timedelta(hours=1)
    histories = [
        ("sync", report_history("sync", weeks_of_syncs(newest, 22), newest)),
        ("drain", report_history("drain", days_of_drains(newest, 10), newest)),
    ]
    for i, (kind, snapshot) in enumerate(histories):
        data = zipped(f"{kind}.json", snapshot.to_json().encode())
        artifact = Artifact(f"echo-notify-{kind}-{kind}", data, created_at=stamp(newest))
        run = Run(9100 + i, [artifact], created_at=stamp(newest))
        actions.workflows[i].runs.insert(0, run)
    poller = actions.workflows[2]
    poller.runs.insert(0, Run(7100, created_at=stamp(newest)))


@contextmanager
def weekly_morning(tmp: Path) -> Iterator[Watchdog]:
    """Three weeks of the three pipelines' snapshots in a fake GitHub API, and the watchdog
    (its Echo on loopback) whose check at WEEKLY_MORNING reads them back: the gallery's
    weekly digest."""
    with (
        running(ScriptedEcho()) as echo,
        fake_actions(Actions(workflows=three_workflows())) as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        weeks_of_pipelines(actions)
        yield Watchdog(tmp, echo, actions)
