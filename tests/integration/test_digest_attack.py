"""Hostile review of the watchdog's daily digest: each test is a defect a user would
have hit, written failing before the fix. Its docstring says what the user saw and what is right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.state import Level, Point, Snapshot, Streak
from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, zipped
from tests.helpers import ScriptedEcho
from tests.pipeline import NEW_YORK, Check, Watchdog


@pytest.fixture
def actions() -> Iterator[Actions]:
    with fake_actions(Actions(workflows=[])) as state:
        yield state


@pytest.fixture
def dog(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Watchdog:
    return Watchdog(tmp_path, echo, actions)


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def digests(dog: Watchdog) -> list[str]:
    return [
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    ]


def point(at: datetime, severity: Level = "ok", **figures: float | None) -> Point:
    return Point(time=at, severity=severity, failed=False, figures=figures, levels={})


def snapshot_zip(kind: str, window: list[Point]) -> bytes:
    """A report's snapshot artifact as the composite uploads it: `<kind>.json` in a zip."""
    last = window[-1]
    snapshot = Snapshot(
        kind=kind,
        time=last.time,
        run_id="1",
        attempt=1,
        severity=last.severity,
        failed=last.failed,
        levels={},
        figures=dict(last.figures),
        streak=Streak(),
        window=tuple(window),
    )
    return zipped(f"{kind}.json", snapshot.to_json().encode())


def hourly_syncs(end: datetime, runs: int = 24) -> list[Point]:
    return [
        point(end - timedelta(hours=runs - 1 - i), added=10, verification=95.0, utilization=50.0)
        for i in range(runs)
    ]


_RUN_IDS = iter(range(20_000, 99_999))


def workflow(
    actions: Actions,
    file: str,
    name: str,
    artifacts: list[Artifact],
    finished: datetime,
    conclusion: str = "success",
) -> Workflow:
    """A watched workflow whose newest run (finished at ``finished``) kept ``artifacts``."""
    flow = Workflow(id=len(actions.workflows) + 1, path=f".github/workflows/{file}", name=name)
    flow.runs.insert(
        0,
        Run(
            next(_RUN_IDS),
            artifacts=artifacts,
            conclusion=conclusion,
            created_at=finished.astimezone(UTC).isoformat(),
        ),
    )
    actions.workflows.insert(len(actions.workflows) - 1, flow)  # before the watchdog's own
    return flow


def check(dog: Watchdog, when: datetime, **inputs: str) -> Check:
    return dog.check(0, when=when, **inputs)


# -- 1. when it is due ------------------------------------------------------------------------


def test_a_digest_at_in_the_skipped_hour_goes_out_once(actions: Actions, dog: Watchdog) -> None:
    """`digest-at: "02:30"`, hourly checks at :20. On Mar 8, 2026 New York skips 2:00-3:00.
    The 3:20 AM EDT check posts the day's digest; the 4:20 AM check posts it AGAIN, because
    `due()` compares the remembered time (7:20 UTC) with a 2:30 that does not exist, which
    zoneinfo reads as 2:30 EST = 7:30 UTC. A user gets two digests that day; right: one
    ("never twice a day")."""
    workflow(actions, "sync.yml", "Sync", [], ny(3, 8, 3))
    inputs = {"workflows": "sync.yml: 1d", "digest-at": "02:30"}
    check(dog, ny(3, 7, 2, 40), **inputs)  # yesterday's digest
    assert len(digests(dog)) == 1
    early = check(dog, ny(3, 8, 3, 20), **inputs)  # 2:30 does not exist: it is 3:30 EDT
    assert early.outputs["digest-id"] == ""
    first = check(dog, ny(3, 8, 4, 20), **inputs)
    assert first.outputs["digest-id"]
    again = check(dog, ny(3, 8, 5, 20), **inputs)
    assert again.outputs["digest-id"] == "", "a second digest on the same day"
    assert len(digests(dog)) == 2


def test_a_late_evening_digest_goes_out_at_the_first_check_past_midnight(
    actions: Actions, dog: Watchdog
) -> None:
    """`digest-at: "23:30"` with the example's hourly cron at :20 (or `23:45` with GitHub's
    usual 10-30 min cron delay): the first check at or after 23:30 is 00:20 the next day, and
    `due()` then compares with the NEW day's 23:30, so no digest ever goes out, with no
    warning. The same loses a digest whose delivery failed at 23:40 ("the next check tries
    again" is not true past midnight). Right: the 00:20 check posts the digest that was due
    at 23:30 (the first check at or after the time, as the README says)."""
    workflow(actions, "sync.yml", "Sync", [], ny(1, 16, 20))
    inputs = {"workflows": "sync.yml: 2d", "digest-at": "23:30"}
    for when in (ny(1, 15, 22, 20), ny(1, 15, 23, 20), ny(1, 16, 0, 20), ny(1, 16, 1, 20)):
        check(dog, when, **inputs)
    assert len(digests(dog)) == 1, "the digest due at 23:30 never went out"


def test_the_first_check_after_digest_at_in_the_repeated_hour_posts() -> None:
    """Nov 1, 2026: New York repeats 1:00-2:00. With `digest-at: "01:30"` the time is first
    reached at 1:30 AM EDT (5:30 UTC); the check at 1:20 AM EST (6:20 UTC) comes after it, yet
    `due()` compares wall clocks (1:20 < 1:30) and posts nothing until 2:20 AM. Low impact:
    an hour late. Right: the first check at or after the time posts."""
    from datetime import time  # noqa: PLC0415

    from echo_notify.digest import due  # noqa: PLC0415

    after = datetime(2026, 11, 1, 6, 20, tzinfo=UTC)  # 1:20 AM EST, after 1:30 AM EDT
    yesterday = datetime(2026, 10, 31, 5, 30, tzinfo=UTC)
    assert due(time(1, 30), yesterday, after, NEW_YORK)


def test_a_failed_look_up_of_the_watchdogs_own_snapshot_posts_no_second_digest(
    actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 9:00 check posts the digest. At 10:00 the look-up of the watchdog's own snapshot
    fails once (a 502 from the API, the artifact storage timing out, or six checks in a row
    that kept no snapshot during an API outage): `previous` is None, so `last` is None and the
    digest is due again: the channel gets the same day's digest twice. Right: a look-up that
    failed is not "no digest went out today" (never twice a day); hold the digest back, or
    at least not post it as if none had gone out."""
    from echo_notify import history  # noqa: PLC0415

    workflow(actions, "sync.yml", "Sync", [], ny(1, 16, 8))
    inputs = {"workflows": "sync.yml: 1d", "digest-at": "09:00"}
    assert check(dog, ny(1, 16, 9), **inputs).outputs["digest-id"]

    def broken(*args: object, **kwargs: object) -> None:
        raise history.HistoryError("the GitHub API answered HTTP 502")

    monkeypatch.setattr(history, "lookup", broken)
    again = check(dog, ny(1, 16, 10), **inputs)
    assert again.outputs["digest-id"] == "", "the same day's digest posted a second time"
    assert len(digests(dog)) == 1


# -- 2. what it reads ---------------------------------------------------------------------------


def test_a_report_whose_job_skipped_the_newest_run_is_read_from_the_run_before(
    actions: Actions, dog: Watchdog
) -> None:
    """One workflow, two report steps: the sync job every hour, the drain job every other run
    (`if:` on the schedule, or a job that only runs when there is something to drain). The
    newest run kept only the sync snapshot; `_read` stops at the newest finished run with any
    `echo-notify-` artifact, so the drain's report is simply missing from the digest: no Drain
    line, no "❓". Right: each report's newest snapshot in the runs looked at (the drain's is in
    the run before), or at least a line saying it was not found."""
    now = ny(1, 16, 9)
    flow = workflow(
        actions,
        "pipeline.yml",
        "Pipeline",
        [
            Artifact(
                "echo-notify-sync-sync",
                snapshot_zip("sync", hourly_syncs(now - timedelta(minutes=50))),
            )
        ],
        now - timedelta(minutes=50),
    )
    drains = [point(now - timedelta(hours=2 * i + 2), removed=5, deletion=99.0) for i in range(12)]
    older = [
        Artifact(
            "echo-notify-sync-sync", snapshot_zip("sync", hourly_syncs(now - timedelta(hours=2)))
        ),
        Artifact("echo-notify-drain-drain", snapshot_zip("drain", drains[::-1])),
    ]
    flow.runs.insert(
        1, Run(next(_RUN_IDS), artifacts=older, created_at=(now - timedelta(hours=2)).isoformat())
    )
    check(dog, now, workflows="pipeline.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "• Sync: 24 runs" in text
    assert "Drain" in text, "the drain report is silently left out of the digest"


def test_an_unrelated_echo_notify_artifact_is_no_history(actions: Actions, dog: Watchdog) -> None:
    """The watched workflow also uploads its own `echo-notify-debug-logs` artifact (5 MB of
    logs; any tool's artifact whose name starts with `echo-notify-`). Every such artifact is
    taken for a report snapshot: the size check comes before any look inside, so the digest
    says "❓ The history `debug-logs` could not be read: its 5,000,000 bytes are too many" every
    day, a false alarm about a history that does not exist. (A small one without a snapshot
    inside is silently skipped, rightly.) Right: only artifacts that can be report snapshots
    (`echo-notify-<job>-<sync|drain|poll>[-key]`) are read, or the big one is skipped."""
    now = ny(1, 16, 9)
    syncs = snapshot_zip("sync", hourly_syncs(now - timedelta(minutes=30)))
    logs = Artifact("echo-notify-debug-logs", b"PK", size=5_000_000)
    workflow(actions, "sync.yml", "Sync", [Artifact("echo-notify-sync-sync", syncs), logs], now)
    check(dog, now, workflows="sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "• Sync: 24 runs" in text
    assert "could not be read" not in text, text


# -- 3. what it says ----------------------------------------------------------------------------


def test_ten_watched_workflows_name_the_late_one_first(actions: Actions, dog: Watchdog) -> None:
    """Ten watched workflows, each with an hourly sync report: the digest is over 3,000
    characters, so it is rendered compact: the first 3 workflows (all fine) and "…and 7 more
    workflows". The one that is late (the 10th in the input) is not named anywhere; the
    headline only says "1 of 10 workflows needs attention now". The digest, whose point is
    the whole picture once a day, hides the one workflow that needs attention. Right: the late
    ones first (or always shown), the healthy ones shortened before them."""
    now = ny(1, 16, 9)
    lines = []
    for i in range(10):
        late = i == 9
        syncs = snapshot_zip("sync", hourly_syncs(now - timedelta(minutes=30)))
        finished = now - timedelta(hours=5 if late else 0, minutes=30)
        workflow(
            actions,
            f"pipeline-{i}.yml",
            f"Pipeline {i}",
            [Artifact("echo-notify-sync-sync", syncs)],
            finished,
        )
        lines.append(f"pipeline-{i}.yml: 2h")
    check(dog, now, workflows="\n".join(lines), **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "1 of 10 workflows needs attention now" in text
    assert "No successful *Pipeline 9*" in text, text


def test_a_long_workflow_file_name_keeps_its_late_checks(actions: Actions, dog: Watchdog) -> None:
    """A watched workflow file name over 40 characters (`scheduled-lead-verification-poller-
    production.yml`, which `workflows` accepts): the watchdog's window keeps each check's level
    per workflow, but `Point.parse` cuts its keys to 40 characters, so every earlier check is
    lost on the way back: the digest says "Late or disabled at 1 of the watchdog's 4 checks"
    when it was late at all 4. Right: 4 of 4 (the same key written and read)."""
    name = "scheduled-lead-verification-poller-production.yml"
    assert len(name) > 40
    workflow(actions, name, "Poller", [], ny(1, 15, 12))  # late since yesterday
    inputs = {"workflows": f"{name}: 2h", "digest-at": "12:00"}
    for hour in (9, 10, 11, 12):
        done = check(dog, ny(1, 16, hour), **inputs)
    (text,) = digests(dog)
    assert done.outputs["digest-id"]
    assert "Late or disabled at 4 of the watchdog's 4 checks" in text, text


def test_checks_every_15_minutes_say_their_count_covers_12_hours(
    actions: Actions, dog: Watchdog
) -> None:
    """A watchdog on `*/15 * * * *`: its own window keeps 48 checks, 12 hours. The digest says
    "Late or disabled at 24 of the watchdog's 48 checks" as if that were the day: the 48
    checks of the first 12 hours (late at all of them here) are gone, with no word of it (the
    reports' own short windows say "its history holds only the last 48, since …"). Right: the
    day's count, or say that the watchdog's checks cover only since 9:15 PM."""
    now = ny(1, 16, 9)
    file = "sync.yml"
    workflow(actions, file, "Sync", [], now - timedelta(minutes=30))
    start = now - timedelta(hours=24) + timedelta(minutes=15)
    levels: dict[str, Level | None] = {}
    window = []
    for i in range(95):  # every 15 minutes since 9:15 yesterday: late for 18 hours, then fine
        at = start + timedelta(minutes=15 * i)
        level: Level = "critical" if i < 72 else "ok"
        levels = {file: level}
        window.append(Point(time=at, severity=level, failed=False, figures={}, levels=levels))
    kept = tuple(window[-47:])  # what the previous check carried (WINDOW, with it)
    previous = Snapshot(
        kind="watchdog",
        time=kept[-1].time,
        run_id="4999",
        attempt=1,
        severity="ok",
        failed=False,
        levels=levels,
        figures={},
        streak=Streak(),
        window=kept,
        digest=now - timedelta(days=1),
    )
    runs = actions.workflows[-1].runs
    runs.insert(0, Run(4999, created_at=kept[-1].time.isoformat()))
    actions.upload(4999, "echo-notify-watch-watchdog", "watchdog.json", previous.to_json().encode())
    check(dog, now, workflows=f"{file}: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    # Fixed by saying so: the count is of the 48 checks it keeps, since 9:15 PM.
    assert "of the watchdog's 48 checks since Jan 15, 9:15 PM (all it keeps)" in text, text


def test_a_re_run_of_the_report_job_counts_once(
    tmp_path: Path, echo: ScriptedEcho, actions: Actions, dog: Watchdog
) -> None:
    """The sync job writes its metrics and uploads them; a separate `notify` job runs Echo
    Notify on them. The notify job failed (Echo was down, `fail-on-error: true`) and the user
    clicks "Re-run failed jobs": attempt 2 reports the very same metrics file (same timestamp)
    and appends a second point to the window. The digest then says "Sync: 2 runs" and adds the
    day's leads twice (one sync that added N leads reads as 2N). Right: a re-run of the same
    run (or the same metrics timestamp) counts once in the day."""
    from tests.pipeline import Pipeline, sync  # noqa: PLC0415

    actions.workflows.insert(
        0, Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync")
    )
    pipeline = Pipeline(tmp_path, echo, actions)
    ran = ny(1, 16, 8)
    pipeline.run(sync(95), 0, when=ran)
    pipeline.run(sync(95), 0, when=ran, attempt=2, now=ran + timedelta(minutes=20))
    check(dog, ny(1, 16, 9), workflows="cold-email-sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "• Sync: 1 run," in text, text  # says "2 runs"
    assert "   92 leads added" in text  # says 184


def test_runs_that_finished_out_of_order_make_no_negative_streak(
    actions: Actions, dog: Watchdog
) -> None:
    """Two runs of one workflow overlap (no `concurrency:` group, or a slow run): the later
    one reports first, the earlier one (its metrics timestamp older) appends its point after
    it, so the window is not in time order. `trend.spells` then measures a problem streak
    backwards: the digest says "(longest: 2 in a row, -60 min)". Right: the window read in
    time order (sorted), never a negative duration."""
    now = ny(1, 16, 9)
    window = [
        point(now - timedelta(hours=3), verification=95.0, added=1),
        point(now - timedelta(hours=1), "critical", verification=70.0, added=1),
        point(now - timedelta(minutes=30), "critical", verification=70.0, added=1),
        point(now - timedelta(hours=2), verification=95.0, added=1),  # the slow earlier run
    ]
    artifact = Artifact("echo-notify-sync-sync", snapshot_zip("sync", window))
    workflow(actions, "sync.yml", "Sync", [artifact], now - timedelta(minutes=30))
    check(dog, now, workflows="sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "-60 min" not in text and " -" not in text, text


def test_a_last_run_without_metrics_says_capacity_not_reported(
    tmp_path: Path, echo: ScriptedEcho, actions: Actions, dog: Watchdog
) -> None:
    """The newest sync crashed before writing its metrics file (`report: sync`): its point in
    the window has no figures at all (report.alert), so `r.now.utilization` is undefined, which
    the template's `is not none` takes for a value: the digest says "Capacity now n/a used
    (n/a leads)". Right: "Capacity now not reported", as for a run that lacked the figure."""
    from tests.pipeline import Pipeline, sync  # noqa: PLC0415

    actions.workflows.insert(
        0, Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync")
    )
    pipeline = Pipeline(tmp_path, echo, actions)
    pipeline.run(sync(95), 0, when=ny(1, 16, 7), report="sync")
    pipeline.run(None, 0, when=ny(1, 16, 8), report="sync")
    check(dog, ny(1, 16, 9), workflows="cold-email-sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    assert "• Sync: 2 runs" in text, text
    assert "n/a used" not in text and "Capacity now not reported" in text, text


def test_a_history_lost_mid_day_says_since_when(
    tmp_path: Path,
    echo: ScriptedEcho,
    actions: Actions,
    dog: Watchdog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Six hourly syncs, the first three with problems; at the fourth the report's look-up of
    its previous snapshot fails once (a 502: "no trends this run"), so its window starts again
    from that run. The digest reads "Sync: 3 runs, none with problems": the morning's three
    problem runs are gone, and nothing says the history covers only since 6:00 AM (a full
    48-run window that is short says "its history holds only the last 48, since …"; a window
    that starts within the day says nothing). Right: say since when the history holds runs
    whenever its oldest run is within the day (or count 6 runs, 3 with problems)."""
    from echo_notify import history  # noqa: PLC0415
    from tests.pipeline import Pipeline, sync  # noqa: PLC0415

    actions.workflows.insert(
        0, Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync")
    )
    pipeline = Pipeline(tmp_path, echo, actions)
    lookup = history.lookup
    for hour in range(3, 9):
        if hour == 6:

            def broken(*args: object, **kwargs: object) -> None:
                raise history.HistoryError("the GitHub API answered HTTP 502")

            monkeypatch.setattr(history, "lookup", broken)
        else:
            monkeypatch.setattr(history, "lookup", lookup)
        pipeline.run(sync(70 if hour < 6 else 95), 0, when=ny(1, 16, hour))
    monkeypatch.setattr(history, "lookup", lookup)
    check(dog, ny(1, 16, 9), workflows="cold-email-sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = digests(dog)
    line = next(x for x in text.splitlines() if x.startswith("• Sync:"))
    # The run that could not read its history keeps none (what the channel was told is
    # unknown to it), so the next one goes on from the 5:00 snapshot: the morning's problem
    # runs stay in the history; the blind run itself is not in it.
    assert line.startswith("• Sync: 5 runs, 3 with problems"), line
