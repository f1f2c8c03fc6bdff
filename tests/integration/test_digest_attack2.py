"""Second hostile review of the daily digest, after the fixes of test_digest_attack.py: each test
is a defect a user would hit with the fixes in, written failing. Its docstring says what the
user sees and what is right."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fake_github import Actions, Run, Workflow
from tests.helpers import Fault, ScriptedEcho
from tests.integration.test_digest_attack import actions, dog, ny
from tests.pipeline import Check, Pipeline, Watchdog, sync

__all__ = ["actions", "dog"]  # the first review's fixtures: a fake API and a watchdog


def watched(actions: Actions, finished: datetime) -> None:
    """A watched `sync.yml` (allowed 1 day) whose newest run finished at ``finished``."""
    flow = Workflow(id=1, path=".github/workflows/sync.yml", name="Sync")
    flow.runs.insert(0, Run(4000, created_at=finished.astimezone(UTC).isoformat()))
    actions.workflows.insert(0, flow)


def check(dog: Watchdog, when: datetime, **inputs: str) -> Check:
    return dog.check(0, when=when, **{"workflows": "sync.yml: 1d", **inputs})


def posted(*checks: Check) -> list[Check]:
    """The checks whose digest went out (Echo gave it an id)."""
    return [c for c in checks if c.outputs.get("digest-id")]


def broken_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    from echo_notify import history  # noqa: PLC0415

    def broken(*args: object, **kwargs: object) -> None:
        raise history.HistoryError("the GitHub API answered HTTP 502")

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
    assert posted(check(dog, ny(1, 13, 9, 5), **inputs))  # then paused
    morning = [check(dog, when, **inputs) for when in (ny(1, 16, 8, 30), ny(1, 16, 9, 5))]
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
    assert posted(check(dog, ny(1, 16, 9), **inputs))  # Friday's
    muted = {**inputs, "mute-until": "2026-01-19 08:00"}
    for when in (ny(1, 17, 9), ny(1, 18, 9), ny(1, 19, 7)):
        assert not posted(check(dog, when, **muted))
    monday = [check(dog, when, **muted) for when in (ny(1, 19, 8), ny(1, 19, 9), ny(1, 19, 10))]
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
    first = check(dog, ny(1, 16, 9), **inputs)
    assert posted(first)
    for hour in range(10, 16):
        check(dog, ny(1, 16, hour), **{**inputs, "dry-run": "true"})
    again = check(dog, ny(1, 16, 16), **inputs)
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
    assert posted(check(dog, ny(1, 15, 9), **inputs))
    dog.echo.fail("create", Fault("status", status=400, body={"error": "bad"}))
    refused = check(dog, ny(1, 16, 9), **inputs)
    assert "The next check tries again." in refused.log
    lookup = history.lookup
    broken_lookup(monkeypatch)
    skipped = check(dog, ny(1, 16, 10), **inputs)
    monkeypatch.setattr(history, "lookup", lookup)
    later = [check(dog, ny(1, 16, hour), **inputs) for hour in range(11, 24)]
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
    assert posted(check(dog, ny(1, 15, 23, 40), **inputs))  # Jan 15's
    check(dog, ny(1, 16, 22, 20), **inputs)
    check(dog, ny(1, 16, 23, 20), **inputs)
    lookup = history.lookup
    broken_lookup(monkeypatch)
    skipped = check(dog, ny(1, 17, 0, 20), **inputs)
    monkeypatch.setattr(history, "lookup", lookup)
    later = [check(dog, ny(1, 17, hour, 20), **inputs) for hour in range(1, 6)]
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
    check(dog, ny(1, 16, 13), workflows="cold-email-sync.yml: 2h", **{"digest-at": "09:00"})
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
        first.append(check(dog, when, **{"digest-at": "09:00"}))
        step.run_id = dog.run_id - 1  # the same run, the same attempt
        staging = {"channel": "#staging", "digest-at": "09:00"}
        second.append(check(step, when, **staging, **{"history-key": "staging"}))
        third.run_id = dog.run_id - 1
        shared.append(check(third, when, **staging))
    assert len(posted(*first)) == 2
    # Fixed: the watchdog has a `history-key` now; a step without its own says why at every
    # check after the time (a look-up that failed once says it once: the next reads it).
    assert len(posted(*second)) == 2, "the second watchdog step never posts its digest"
    assert posted(*shared) == []
    warned = [c for c in shared if "no daily digest this time" in c.log]
    assert len(warned) == 4 and "its own `history-key`" in warned[0].log
