"""The watchdog's daily digest through main(): a day of syncs and drains run through
the action as the composite runs it (each snapshot uploaded to the fake GitHub API), then the
watchdog's checks with `digest-at`, which read those snapshots back through the same API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_github import Actions, Artifact, fake_actions
from tests.helpers import GOLDEN, Fault, ScriptedEcho
from tests.pipeline import (
    NEW_YORK,
    PIPELINES,
    Check,
    Pipeline,
    Watchdog,
    a_day_of_pipelines,
    sync,
    three_workflows,
)

WATCHED = PIPELINES


@pytest.fixture
def actions() -> Iterator[Actions]:
    with fake_actions(Actions(workflows=three_workflows())) as state:
        yield state


@pytest.fixture
def dog(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Watchdog:
    return Watchdog(tmp_path, echo, actions)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=NEW_YORK)


def check(dog: Watchdog, when: datetime, **inputs: str) -> Check:
    return dog.check(0, when=when, **{"workflows": WATCHED, "digest-at": "09:00", **inputs})


def digests(dog: Watchdog) -> list[str]:
    return [
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    ]


def golden(name: str, actual: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(actual)
    assert actual == path.read_text()


def test_a_day_in_one_digest(
    pipeline: Pipeline, actions: Actions, dog: Watchdog, request: pytest.FixtureRequest
) -> None:
    a_day_of_pipelines(pipeline, actions)
    done = check(dog, at(16, 9))
    assert done.code == 0, done.log
    (digest,) = digests(dog)
    lines = digest.splitlines()
    assert lines[0] == "📋 *Daily digest: the last 24 hours* | Jan 16, 9:00 AM EST"
    assert "• Sync: 24 runs, 10 with problems (longest: 5 in a row, 5 h)" in lines
    assert (
        "   2,208 leads added · Verification ██▇▆▄▃▁▂▅▇▇██·▇▆▄▃▁▂▅▇▇█ 88.9% on average, "
        "worst 79.0% at Jan 15, 3:30 PM "
        "· Capacity now 59.6% used (14,300 leads)"
    ) in lines
    assert "• Drain: 12 runs, 1 with problems" in lines  # one alone: no streak to tell
    assert "worst 91.0% at Jan 15, 3:30 PM" in digest
    assert "• ❓ No report history in its last 5 runs" in digest  # the poller: said, not guessed
    link = "<https://github.com/acme/cold-email/actions/workflows/drain-leads.yml|Drain Leads>"
    assert f"*{link}*" in lines
    assert done.outputs["digest-id"] == dog.echo.sends[-1]
    assert done.outputs["posted"] == "false"  # the watchdog's own message: all is well
    golden("digest.slack.txt", digest, request)
    summary = done.summary[done.summary.index("📋") :]
    golden("digest.summary.md", summary, request)


def test_once_a_day_at_the_first_check_at_or_after_the_time(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    early = check(dog, at(16, 8, 45))
    assert digests(dog) == [] and early.outputs["digest-id"] == ""
    first = check(dog, at(16, 9, 15))  # the first check at or after 9:00
    assert len(digests(dog)) == 1 and first.outputs["digest-id"]
    for when in (at(16, 10), at(16, 23, 59), at(17, 8, 59)):
        assert check(dog, when).outputs["digest-id"] == ""
    late = check(dog, at(17, 9, 0))  # the next day: the workflows stopped at 8:30 AM yesterday
    assert len(digests(dog)) == 2 and late.outputs["digest-id"]
    second = digests(dog)[1]
    assert "🚨 3 of 3 workflows need attention now" in second
    assert "• 🚨 No successful *Cold Email Sync* since Jan 16, 8:30 AM" in second
    assert "• ❓ Sync: no run in the last 24 hours (the last: Jan 16, 8:30 AM)" in second
    # The watchdog's own checks since 9:00 yesterday: 9:15 and 10:00 fine, 11:59 PM on late.
    assert "• ⚠️ Late or disabled at 3 of the watchdog's 5 checks" in second


def test_what_it_cannot_read_it_says(
    pipeline: Pipeline, actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_day_of_pipelines(pipeline, actions)
    drains = actions.workflows[1].runs[0]
    drains.artifacts = [Artifact(drains.artifacts[0].name, b"not a zip")]
    actions.workflows[2].state = "disabled_manually"
    check(dog, at(16, 9), workflows=WATCHED + "\nnightly.yml: 1d")
    (digest,) = digests(dog)
    assert "• ❓ The history `sync-drain` could not be read: it is not a zip file" in digest
    assert "*Poller* is disabled by hand" in digest
    assert "`nightly.yml` is not a workflow of this repository" in digest
    assert "🚨 2 of 4 workflows need attention now" in digest
    assert digest.index("nightly.yml") < digest.index("Cold Email Sync")  # problems first
    assert "workflows/nightly.yml" not in digest  # not a workflow: no page to link


def test_a_slow_api_leaves_the_rest_unread(
    pipeline: Pipeline, actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from echo_notify import digest  # noqa: PLC0415

    a_day_of_pipelines(pipeline, actions)
    read = digest._read

    def slow(client: object, repo: object, workflow: str, found: digest.Read) -> None:
        if workflow == "drain-leads.yml":
            time.sleep(3)
        read(client, repo, workflow, found)

    monkeypatch.setattr(digest, "_read", slow)
    monkeypatch.setattr(digest, "READ_LIMIT", 1.0)
    done = check(dog, at(16, 9))
    (text,) = digests(dog)
    assert "• Sync: 24 runs" in text  # read before the time ran out: kept
    assert "• ❓ Its reports' histories were not read: the GitHub API took over 1 s" in text
    assert done.code == 0


def test_a_window_shorter_than_the_day_says_so(pipeline: Pipeline, dog: Watchdog) -> None:
    for run in range(60):  # every 15 minutes: the 48 runs kept cover 12 hours
        pipeline.run(sync(95), 0, when=at(15, 21) + timedelta(minutes=15 * run))
    check(dog, at(16, 12), workflows="cold-email-sync.yml: 2h")
    (digest,) = digests(dog)
    held = "its history holds only the last 48, since 12:00 AM"  # 15 min × 48: 12 hours
    assert f"• Sync: 48 runs, none with problems; {held}" in digest


def test_a_failed_digest_is_tried_again_and_an_unknown_one_is_not(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    dog.echo.fail("create", Fault("status", status=400, body={"error": "bad"}))
    failed = check(dog, at(16, 9))
    assert failed.code == 0 and failed.outputs["digest-id"] == ""
    warning = [line for line in failed.log.splitlines() if "daily digest not delivered" in line]
    assert len(warning) == 1 and "The next check tries again." in warning[0]
    assert "Daily digest not delivered" in failed.summary
    dog.echo.fail("send", Fault("lost"))
    unknown = check(dog, at(16, 10))
    assert unknown.outputs["digest-id"] == ""
    assert "it is not posted again today" in unknown.log
    assert len(digests(dog)) == 2  # the refused one, and the one whose answer was lost
    assert check(dog, at(16, 11)).outputs["digest-id"] == ""  # never twice
    assert len(digests(dog)) == 2
    strict = check(dog, at(17, 9), **{"fail-on-error": "true"})
    assert strict.outputs["digest-id"]  # the next day's, delivered


def test_fail_on_error_fails_the_check_when_the_digest_fails(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    dog.echo.fail("create", Fault("status", status=400, body={"error": "bad"}))
    failed = check(dog, at(16, 9), **{"fail-on-error": "true"})
    assert failed.code == 1
    (error,) = [line for line in failed.log.splitlines() if line.startswith("::error")]
    assert "daily digest not delivered" in error


def test_muted_and_dry_runs_post_no_digest(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    muted = check(dog, at(16, 9), **{"mute-until": "2026-01-16 12:00"})
    dry = check(dog, at(16, 10), **{"dry-run": "true"})
    assert digests(dog) == [] and muted.outputs["digest-id"] == dry.outputs["digest-id"] == ""
    assert "📋 *Daily digest: the last 24 hours*" in dry.log  # rendered, shown, not sent
    assert "🧪 **Dry run**: the daily digest was rendered only." in dry.summary
    after = check(dog, at(16, 12, 30))  # the mute is over, the same day: it goes out
    assert len(digests(dog)) == 1 and after.outputs["digest-id"]


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"digest-at": "9am"}, "Input 'digest-at' must be a time of day"),
        ({"digest-at": "24:00"}, "Input 'digest-at' must be a time of day"),
        (
            {"digest-at": "09:00", "history": "false"},
            "Input 'digest-at' needs `history: true`: the watchdog remembers in its history that "
            "today's digest went out, and the digest reads the reports' histories",
        ),
    ],
)
def test_bad_digest_inputs_are_named(dog: Watchdog, inputs: dict[str, str], named: str) -> None:
    done = check(dog, at(16, 9), **inputs)
    assert done.code == 1
    assert named in done.log


def test_a_bug_in_the_digest_costs_the_digest_only(
    pipeline: Pipeline, actions: Actions, dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    actions.workflows[0].state = "disabled_manually"

    def broken(*args: object) -> None:
        raise KeyError("kind")

    monkeypatch.setattr("echo_notify.digest.variables", broken)
    done = check(dog, at(16, 9))
    assert done.code == 0 and done.outputs["posted"] == "true"  # the watchdog's alert went out
    assert "is disabled by hand" in done.content and digests(dog) == []
    (warning,) = [line for line in done.log.splitlines() if "daily digest failed" in line]
    assert "Unexpected internal error (KeyError)" in warning
    assert check(dog, at(16, 10)).outputs["digest-id"] == ""  # still broken: tried again


def test_many_legs_and_workflows_stay_within_one_message(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    newest = actions.workflows[0].runs[0]
    (kept,) = newest.artifacts
    newest.artifacts = [Artifact(f"{kept.name}-leg{i:02}", kept.data) for i in range(14)]
    check(dog, at(16, 9))
    many = "\n".join(f"nightly-{i}.yml: 1d" for i in range(20))
    check(dog, at(17, 9), workflows=f"{WATCHED}\n{many}")
    legs, workflows = digests(dog)
    assert "• Sync (sync-sync-leg00): 24 runs" in legs
    # 15 histories (the legs and, from the run before, the one they replaced): too long for
    # 10, so the compact 3.
    assert "• …and 12 more report histories" in legs
    # The next day all 23 need attention: the first 10 are shown, the 3 pipelines among them.
    assert workflows.count("is not a workflow of this repository") == 7
    assert "• …and 13 more workflows" in workflows
    for digest in (legs, workflows):
        assert len(digest) <= 3000 and digest.endswith("|View Logs>")


def test_expired_and_oversized_histories(
    pipeline: Pipeline, actions: Actions, dog: Watchdog
) -> None:
    a_day_of_pipelines(pipeline, actions)
    syncs = actions.workflows[0].runs
    for artifact in syncs[0].artifacts:
        artifact.expired = True  # the newest run's: the run before it has the day but its last
    actions.workflows[1].runs[0].artifacts[0].size = 5_000_000  # what the API says
    check(dog, at(16, 9))
    (digest,) = digests(dog)
    assert "• Sync: 23 runs" in digest  # the newest but one snapshot: the day without its last run
    assert "• ❓ The history `sync-drain` could not be read: its 5,000,000 bytes are too many" in (
        digest
    )
