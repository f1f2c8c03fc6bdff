"""The watchdog's weekly digest through main(): three weeks of a sync's snapshots and ten days
of a drain's in the fake GitHub API (tests/pipeline.py: the long memory and the window as the
reports keep them), then the watchdog's checks with `digest-weekly`, which read them back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.fake_github import Actions, fake_actions
from tests.helpers import GOLDEN, ScriptedEcho, mermaid_charts, mermaid_parse, needs_mermaid
from tests.pipeline import (
    PIPELINES,
    WEEKLY_MORNING,
    Check,
    Pipeline,
    Watchdog,
    sync,
    three_workflows,
    weeks_of_pipelines,
)

MONDAY = WEEKLY_MORNING


@pytest.fixture
def actions() -> Iterator[Actions]:
    with fake_actions(Actions(workflows=three_workflows())) as state:
        weeks_of_pipelines(state)
        yield state


@pytest.fixture
def dog(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Watchdog:
    return Watchdog(tmp_path, echo, actions)


def check(dog: Watchdog, when: datetime, **inputs: str) -> Check:
    return dog.check(
        0, when=when, **{"workflows": PIPELINES, "digest-weekly": "Mon 09:00", **inputs}
    )


def posted(dog: Watchdog, headline: str) -> list[str]:
    return [
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and headline in r["body"]
    ]


def weeklies(dog: Watchdog) -> list[str]:
    return posted(dog, "Weekly digest")


def golden(name: str, actual: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.write_text(actual)
    assert actual == path.read_text()


def test_a_week_beside_the_last_in_one_weekly_digest(
    dog: Watchdog, request: pytest.FixtureRequest
) -> None:
    done = check(dog, MONDAY)
    assert done.code == 0, done.log
    (weekly,) = weeklies(dog)
    lines = weekly.splitlines()
    assert lines[0] == "🗓 *Weekly digest: the last 7 days* | Jan 19, 9:00 AM EST"
    # 84 syncs a week (every 2 hours), one problem this week (Tue 4 AM), one last week.
    assert (
        "• Sync: 84 runs, 1 with problems in 1 hour · last week 84 runs, 1 with problems in 1 hour"
    ) in lines
    assert "   1,218 leads added · ▲ 16% vs last week (1,050)" in lines
    assert (
        "   Verification 94.9% on average · ▼ 1.1 pts vs last week (96.0%); "
        "worst 84.0% (Tue 4 AM) · ▼ 4.0 pts vs last week (88.0%)"
    ) in lines
    assert "   Capacity now 66.5% used · ▲ 5.2 pts vs a week before (61.3%)" in lines
    assert (
        "   🔎 2 unusual hours: Tue 4 AM verification 84.0% (usually 94.0–98.0%); "
        "Thu 6 PM verification 91.0% (usually 94.5–98.5%)"
    ) in lines
    # The drain's history starts 10 days back: no arrows against a week it does not know.
    assert "its history starts at Jan 9, 8:00 AM, so last week is unknown" in weekly
    drain = weekly[weekly.index("• Drain") : weekly.index("Inventory now")]
    assert "▲" not in drain and "▼" not in drain and "last week (" not in drain
    assert "   13,440 leads removed" in lines
    # Its inventory a week before is known all the same: the hour is in its memory.
    assert "   Inventory now 1,080 leads · ▼ 7% vs a week before (1,164)" in lines
    assert "• ❓ No report history in its last 5 runs" in weekly  # the poller: said, not guessed
    assert done.outputs["digest-weekly-id"] == dog.echo.sends[-1]
    assert done.outputs["digest-id"] == ""  # no `digest-at`: no daily one
    assert "```mermaid" not in weekly  # the chart is the job summary's alone
    golden("weekly.slack.txt", weekly, request)
    summary = done.summary[done.summary.index("🗓") :]
    assert summary.count("```mermaid") == 1  # the sync's: the drain has no last week
    golden("weekly.summary.md", summary, request)


def test_once_a_week_at_the_first_check_at_or_after_the_time(dog: Watchdog) -> None:
    early = check(dog, MONDAY - timedelta(minutes=15))
    assert weeklies(dog) == [] and early.outputs["digest-weekly-id"] == ""
    first = check(dog, MONDAY + timedelta(minutes=15))
    assert len(weeklies(dog)) == 1 and first.outputs["digest-weekly-id"]
    for later in (timedelta(hours=1), timedelta(days=1), timedelta(days=6, hours=23)):
        assert check(dog, MONDAY + later).outputs["digest-weekly-id"] == ""
    again = check(dog, MONDAY + timedelta(days=7))
    assert len(weeklies(dog)) == 2 and again.outputs["digest-weekly-id"]


def test_daily_and_weekly_due_at_one_check_are_two_messages(
    dog: Watchdog, actions: Actions
) -> None:
    done = check(dog, MONDAY, **{"digest-at": "09:00"})
    assert done.code == 0, done.log
    (daily,), (weekly,) = posted(dog, "Daily digest"), weeklies(dog)
    assert done.outputs["digest-id"] and done.outputs["digest-weekly-id"]
    assert done.outputs["digest-id"] != done.outputs["digest-weekly-id"]
    assert posted(dog, "digest") == [daily, weekly]  # the day's first
    summary = done.summary
    assert summary.index("Daily digest delivered") < summary.index("Weekly digest delivered")
    # The reports' snapshots were read once for both.
    downloads = [path for path, _ in actions.downloads]
    assert len(downloads) == len(set(downloads)) == 2
    assert check(dog, MONDAY + timedelta(hours=1), **{"digest-at": "09:00"}).content == ""


def test_muted_dry_and_unread_checks_post_no_weekly_digest(dog: Watchdog, actions: Actions) -> None:
    muted = check(dog, MONDAY, **{"mute-until": "2026-01-19 12:00"})
    dry = check(dog, MONDAY + timedelta(hours=1), **{"dry-run": "true"})
    assert weeklies(dog) == [] and muted.outputs["digest-weekly-id"] == ""
    assert "🗓 *Weekly digest: the last 7 days*" in dry.log  # rendered, shown, not sent
    assert "🧪 **Dry run**: the weekly digest was rendered only." in dry.summary
    # The watchdog's own snapshot cannot be read: whether this week's went out is unknown.
    for run in actions.workflows[-1].runs:
        for artifact in run.artifacts:
            artifact.data = b"not a zip"
    unread = check(dog, MONDAY + timedelta(hours=2))
    assert weeklies(dog) == [] and unread.outputs["digest-weekly-id"] == ""
    assert "no weekly digest this time" in unread.log
    assert "after the next Mon 09:00" in unread.log


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"digest-weekly": "Monday"}, "Input 'digest-weekly' must be a weekday and a time"),
        ({"digest-weekly": "Mon 9am"}, "like `Mon 09:00`"),
        (
            {"history": "false"},
            "Input 'digest-weekly' needs `history: true`: the watchdog remembers in its history "
            "that this week's digest went out",
        ),
    ],
)
def test_bad_digest_weekly_inputs_are_named(
    dog: Watchdog, inputs: dict[str, str], named: str
) -> None:
    done = check(dog, MONDAY, **inputs)
    assert done.code == 1
    assert named in done.log


def test_a_bug_in_the_weekly_digest_costs_it_only(
    dog: Watchdog, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise KeyError("kind")

    monkeypatch.setattr("echo_notify.weekly.variables", broken)
    done = check(dog, MONDAY, **{"digest-at": "09:00"})
    assert done.code == 0 and done.outputs["digest-id"]  # the daily one went out
    assert weeklies(dog) == [] and done.outputs["digest-weekly-id"] == ""
    (warning,) = [line for line in done.log.splitlines() if "weekly digest failed" in line]
    assert "Unexpected internal error (KeyError)" in warning
    monkeypatch.undo()
    assert check(dog, MONDAY + timedelta(hours=1)).outputs["digest-weekly-id"]  # tried again


@needs_mermaid
def test_the_weekly_chart_parses_with_mermaid(dog: Watchdog) -> None:
    charts = mermaid_charts(check(dog, MONDAY).summary)
    assert len(charts) == 1 and "line [" in charts[0]
    done = mermaid_parse(charts)
    assert done.returncode == 0 and done.stdout.split() == ["xychart"], done.stderr


def test_the_snapshots_real_runs_keep_are_read_back(tmp_path: Path, echo: ScriptedEcho) -> None:
    """Fifteen days of syncs every 6 hours through main() (the window keeps the last 48, the
    long memory the 12 before them), then the weekly digest reads the last one's snapshot:
    the weeks hold the runs the reports kept, by the hour."""
    with fake_actions(Actions(workflows=three_workflows()[:1])) as actions:
        pipeline = Pipeline(tmp_path, echo, actions)
        start = MONDAY - timedelta(days=15)
        for i in range(60):
            verified = 90 if i >= 33 else 96  # this week's 27 runs lower (from Jan 12, 3 PM)
            pipeline.run(sync(verified), 0, when=start + timedelta(hours=6 * i))
        dog = Watchdog(tmp_path, echo, actions)
        done = check(dog, MONDAY, workflows="cold-email-sync.yml: 1d")
    assert done.code == 0, done.log
    (weekly,) = weeklies(dog)
    assert "• Sync: 27 runs, none with problems · last week 28 runs, none with problems" in weekly
    assert (
        "   Verification 90.0% on average · ▼ 6.0 pts vs last week (96.0%); "
        "worst 90.0% (Mon 3 PM) · ▼ 6.0 pts vs last week (96.0%)"
    ) in weekly.splitlines()
