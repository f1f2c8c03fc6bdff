"""The daily digest over sequences of checks and runs: when it is due (the skipped and the
repeated hour, late evenings, a paused or muted watchdog, a look-up that failed), what it reads
(a report whose job skipped the newest run, artifacts that are no history), what it says (many
workflows, long names, checks every 15 minutes, re-runs and stale files counted once, a history
lost mid-day) and two watchdogs in one job. Each docstring says what a user saw before and what
is right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.errors import HistoryError
from echo_notify.state import Level, Point, Snapshot, Streak
from tests.fake_github import Actions, Artifact, Run, Workflow, fake_actions, zipped
from tests.helpers import Fault, ScriptedEcho
from tests.pipeline import NEW_YORK, Check, Pipeline, Watchdog, sync

__all__ = ["actions", "dog"]  # the first review's fixtures: a fake API and a watchdog


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
        raise HistoryError("the GitHub API answered HTTP 502")

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
                raise HistoryError("the GitHub API answered HTTP 502")

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


# == the cases found once those were fixed =======================================================


def watched(actions: Actions, finished: datetime) -> None:
    """A watched `sync.yml` (allowed 1 day) whose newest run finished at ``finished``."""
    flow = Workflow(id=1, path=".github/workflows/sync.yml", name="Sync")
    flow.runs.insert(0, Run(4000, created_at=finished.astimezone(UTC).isoformat()))
    actions.workflows.insert(0, flow)


def check_sync(dog: Watchdog, when: datetime, **inputs: str) -> Check:
    """A check of the watched `sync.yml` alone."""
    return dog.check(0, when=when, **{"workflows": "sync.yml: 1d", **inputs})


def posted(*checks: Check) -> list[Check]:
    """The checks whose digest went out (Echo gave it an id)."""
    return [c for c in checks if c.outputs.get("digest-id")]


def broken_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    from echo_notify import history  # noqa: PLC0415

    def broken(*args: object, **kwargs: object) -> None:
        raise HistoryError("the GitHub API answered HTTP 502")

    monkeypatch.setattr(history, "lookup", broken)


# -- 1. when it is due ------------------------------------------------------------------------


def test_a_watchdog_resumed_before_digest_at_posts_once_that_morning(
    actions: Actions, dog: Watchdog
) -> None:
    """`digest-at: "09:00"`, hourly checks. The watchdog workflow is disabled for two days (or
    GitHub pauses its schedule) and enabled again on Jan 16 at 8:30 AM. The 8:30 check posts
    the digest due at 9:00 the day before (yesterday's 9:00 is after the remembered time), and
    the 9:05 check posts today's: two digests of the same 24 hours, 35 minutes apart. The
    same with a `mute-until` that ends at 8:00 AM, or Echo down from 9:00 until 8:30 the next
    morning. Right: one digest that morning (the 8:30 one stands for today's, or the 8:30
    check waits for 9:00)."""
    watched(actions, ny(1, 16, 8))
    inputs = {"digest-at": "09:00"}
    assert posted(check_sync(dog, ny(1, 13, 9, 5), **inputs))  # then paused
    morning = [check_sync(dog, when, **inputs) for when in (ny(1, 16, 8, 30), ny(1, 16, 9, 5))]
    assert len(posted(*morning)) == 1, "two digests of the same day, 35 minutes apart"


def test_a_mute_that_ends_before_digest_at_posts_one_digest(
    actions: Actions, dog: Watchdog
) -> None:
    """A weekend maintenance mute, `mute-until: 2026-01-19 08:00` (Monday), `digest-at:
    "09:00"`, hourly checks. Saturday's and Sunday's digests are held back; the 8:00 AM check
    on Monday posts the held one, and the 9:00 AM check posts Monday's: two digests an hour
    apart, each of the last 24 hours. Right: one digest that Monday morning."""
    watched(actions, ny(1, 19, 7))
    inputs = {"digest-at": "09:00"}
    assert posted(check_sync(dog, ny(1, 16, 9), **inputs))  # Friday's
    muted = {**inputs, "mute-until": "2026-01-19 08:00"}
    for when in (ny(1, 17, 9), ny(1, 18, 9), ny(1, 19, 7)):
        assert not posted(check_sync(dog, when, **muted))
    monday = [
        check_sync(dog, when, **muted) for when in (ny(1, 19, 8), ny(1, 19, 9), ny(1, 19, 10))
    ]
    assert len(posted(*monday)) == 1, "two digests on Monday morning, an hour apart"


def test_checks_that_kept_no_snapshot_post_no_second_digest(
    actions: Actions, dog: Watchdog
) -> None:
    """The 9:00 check posts the digest. From 10:00 to 15:00 the checks keep no snapshot (a
    repository variable turns `dry-run` on while a channel is tested; or an input error, or
    an Actions outage, as the first review's look-up test named: "six checks in a row that
    kept no snapshot"). At 16:00 the look-up finds no snapshot in the last runs, which is not
    a failure (no `history_unread`), so `since` is this day's midnight and the digest posts
    AGAIN the same day. Right: never twice a day; a watchdog that finds no snapshot of its
    own is not one that never posted today (hold it back as for a failed look-up)."""
    watched(actions, ny(1, 16, 8))
    inputs = {"digest-at": "09:00"}
    first = check_sync(dog, ny(1, 16, 9), **inputs)
    assert posted(first)
    for hour in range(10, 16):
        check_sync(dog, ny(1, 16, hour), **{**inputs, "dry-run": "true"})
    again = check_sync(dog, ny(1, 16, 16), **inputs)
    assert not posted(again), "the same day's digest posted a second time"


def test_a_failed_digest_then_a_failed_look_up_still_reaches_the_channel_or_says_not(
    actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 9:00 check's digest is refused by Echo (HTTP 400): "daily digest not delivered ...
    The next check tries again." At 10:00 the look-up of the watchdog's own snapshot fails once
    (a 502): the check skips the digest and keeps `digest` = 10:00 as if it had gone out, with
    only a log line ("No daily digest this time"). The 11:00 check reads that snapshot: done.
    No digest that day, the warning's promise was false, and nothing but a log line says so
    (the notice is "No trends this run"). The same without the failed delivery: one 502 at the
    first check after `digest-at` silently costs the day's digest. Right: the digest goes out
    later that day (the 10:00 check's unknown is not "done": a later check with its history
    read can tell), or at the least the skipping check warns that today's digest may not go
    out."""
    from echo_notify import history  # noqa: PLC0415

    watched(actions, ny(1, 16, 8))
    inputs = {"digest-at": "09:00"}
    assert posted(check_sync(dog, ny(1, 15, 9), **inputs))
    dog.echo.fail("create", Fault("status", status=400, body={"error": "bad"}))
    refused = check_sync(dog, ny(1, 16, 9), **inputs)
    assert "The next check tries again." in refused.log
    lookup = history.lookup
    broken_lookup(monkeypatch)
    skipped = check_sync(dog, ny(1, 16, 10), **inputs)
    monkeypatch.setattr(history, "lookup", lookup)
    later = [check_sync(dog, ny(1, 16, hour), **inputs) for hour in range(11, 24)]
    warned = any(
        line.startswith(("::warning", "::error")) and "digest" in line.lower()
        for line in skipped.log.splitlines()
    )
    assert posted(*later) or warned, "no digest on Jan 16, and no warning said so"


def test_a_failed_look_up_past_midnight_does_not_lose_the_late_evening_digest(
    actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`digest-at: "23:30"`, hourly checks at :20: the digest goes out at 00:20 (the fix of the
    first review). On Jan 17 the 00:20 check's look-up of its own snapshot fails once (a 502):
    `since` falls back to that day's midnight, after 23:30, so the digest is not even due; the
    check keeps midnight as done, and 01:20 agrees. Jan 16's digest never goes out, and not
    even the "No daily digest this time" log line is written. Right: Jan 16's digest goes
    out at a later check, or the skipping check says (a warning) that it was held back."""
    from echo_notify import history  # noqa: PLC0415

    watched(actions, ny(1, 16, 20))
    inputs = {"digest-at": "23:30"}
    assert posted(check_sync(dog, ny(1, 15, 23, 40), **inputs))  # Jan 15's
    check_sync(dog, ny(1, 16, 22, 20), **inputs)
    check_sync(dog, ny(1, 16, 23, 20), **inputs)
    lookup = history.lookup
    broken_lookup(monkeypatch)
    skipped = check_sync(dog, ny(1, 17, 0, 20), **inputs)
    monkeypatch.setattr(history, "lookup", lookup)
    later = [check_sync(dog, ny(1, 17, hour, 20), **inputs) for hour in range(1, 6)]
    warned = any(
        line.startswith(("::warning", "::error")) and "digest" in line.lower()
        for line in skipped.log.splitlines()
    )
    assert posted(skipped, *later) or warned, "Jan 16's digest silently lost"


# -- 2. a re-run counts once: the same timestamp ----------------------------------------------


@pytest.fixture
def pipeline(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Pipeline:
    actions.workflows.insert(
        0, Workflow(id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync")
    )
    return Pipeline(tmp_path, echo, actions)


def test_runs_of_a_metrics_file_that_stopped_updating_are_each_a_run(
    pipeline: Pipeline, dog: Watchdog
) -> None:
    """An hourly sync whose job reads its metrics from storage another system writes: that
    writer stops at 2:00 AM, so every run from 3:00 reports the same file (the same timestamp),
    which is exactly what the stale-data warning (over 6 hours old) is for. `carried` now
    drops every earlier point with the same time, so the 10 runs from 3:00 to 12:00 leave one
    point: the digest at 1 PM says "Sync: 3 runs, 1 with problems" for a day of 13 runs, 4 of
    them with problems (stale), and the report's own trend line says "1 of the last 3 runs
    had problems" beside "4th sync with problems in a row". Right: only a re-run of the same run
    (an earlier attempt of it: the previous snapshot's run id) replaces its point; another run
    of the same file is another run."""
    for hour in range(0, 3):
        pipeline.run(sync(95), 0, when=ny(1, 16, hour))
    for hour in range(3, 13):
        last = pipeline.run(sync(95), 0, when=ny(1, 16, 2), now=ny(1, 16, hour))
    check_sync(dog, ny(1, 16, 13), workflows="cold-email-sync.yml: 2h", **{"digest-at": "09:00"})
    (text,) = [
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    ]
    line = next(x for x in text.splitlines() if x.startswith("• Sync:"))
    assert "4th sync with problems in a row" in last.content, last.content
    assert "1 of the last 3 syncs had problems" not in last.content, last.content
    assert line.startswith("• Sync: 13 runs, 4 with problems"), line  # "3 runs, 1 with problems"


def test_a_re_run_of_the_same_metrics_is_not_a_second_problem_run(
    pipeline: Pipeline, echo: ScriptedEcho
) -> None:
    """A sync at 8:00 with a warning (verification 85%): the report fails to reach Echo (HTTP
    400), the user clicks "Re-run failed jobs", and attempt 2 reports the very same metrics
    file. The window now counts it once (the fix), but the streak still counts it twice: the
    re-run's message says "2nd sync with problems in a row (since 8:00 AM)" for one run, above
    a trend line that counts one problem run (and `alert-after: 2` fires on a re-run alone).
    Right: a re-run of the same metrics is the same run, in the streak as in the window."""
    for hour in range(4, 8):
        pipeline.run(sync(95), 0, when=ny(1, 16, hour))
    echo.fail("create", Fault("status", status=400, body={"error": "bad"}))
    pipeline.run(sync(85), 0, when=ny(1, 16, 8))
    again = pipeline.run(sync(85), 0, when=ny(1, 16, 8), attempt=2, now=ny(1, 16, 8, 20))
    assert again.content, "the re-run's report went out"
    assert "1 of the last 5 syncs had problems" in again.content, again.content
    assert "2nd sync with problems in a row" not in again.content, again.content


# -- 3. two watchdogs in one job --------------------------------------------------------------


def test_a_second_watchdog_step_in_the_job_posts_its_digest(
    tmp_path: Path, actions: Actions, dog: Watchdog
) -> None:
    """One `watch` job, two watchdog steps (production workflows to #prod, staging ones to
    #staging), each with `digest-at: "09:00"`. The watchdog has no `history-key`, so both keep
    `echo-notify-watch-watchdog`: the second step's look-up finds the first step's snapshot in
    this very run (a SharedNameError, "history unread"), and the fix for a failed look-up then
    holds its digest back at every check, every day: #staging never gets one, and only a log
    line says so (the notice advises a `history-key` the watchdog does not have). Before the
    fix it posted one at every check. Right: the second step's digest goes out once a day (its
    own history name), or an input error / warning that says two watchdog steps cannot share a
    job."""
    watched(actions, ny(1, 16, 8))

    class SameRun:
        """The fake API for the second step: the run the first step is in, not a new one."""

        workflows = [Workflow(id=0, path=".github/workflows/unused.yml")]

        def __getattr__(self, name: str) -> object:
            return getattr(actions, name)

    step = Watchdog.__new__(Watchdog)  # the second step: its own work folder, the same run
    step.tmp, step.echo = tmp_path / "second-step", dog.echo
    step.actions = SameRun()  # type: ignore[assignment]
    third = Watchdog.__new__(Watchdog)  # a third step, with no history of its own
    third.tmp, third.echo = tmp_path / "third-step", dog.echo
    third.actions = SameRun()  # type: ignore[assignment]
    first: list[Check] = []
    second: list[Check] = []
    shared: list[Check] = []
    for when in (ny(1, 16, 9), ny(1, 16, 10), ny(1, 17, 9), ny(1, 17, 10)):
        first.append(check_sync(dog, when, **{"digest-at": "09:00"}))
        step.run_id = dog.run_id - 1  # the same run, the same attempt
        staging = {"channel": "#staging", "digest-at": "09:00"}
        second.append(check_sync(step, when, **staging, **{"history-key": "staging"}))
        third.run_id = dog.run_id - 1
        shared.append(check_sync(third, when, **staging))
    assert len(posted(*first)) == 2
    # Fixed: the watchdog has a `history-key` now; a step without its own says why at every
    # check after the time (a look-up that failed once says it once: the next reads it).
    assert len(posted(*second)) == 2, "the second watchdog step never posts its digest"
    assert posted(*shared) == []
    warned = [c for c in shared if "no daily digest this time" in c.log]
    assert len(warned) == 4 and "its own `history-key`" in warned[0].log
