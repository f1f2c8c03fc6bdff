"""The watchdog through main(argv=["watchdog"]), as its action runs the image, against the fake
GitHub API: disabled workflows, stale successes, all well (no post), recovery (docs/watchdog.md)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fake_github import Actions, Run, Workflow, fake_actions
from tests.helpers import ScriptedEcho, ends_within
from tests.pipeline import Watchdog

NY = ZoneInfo("America/New_York")


def runs(*spec: tuple[str, str]) -> list[Run]:
    """Runs newest first, as (conclusion, start time in New York on the test day)."""
    out = []
    for i, (conclusion, hhmm) in enumerate(spec):
        start = datetime.fromisoformat(f"2026-01-15T{hhmm}").replace(tzinfo=NY)
        out.append(Run(900 - i, conclusion=conclusion, created_at=start.isoformat()))
    return out


@pytest.fixture
def actions() -> Actions:
    with fake_actions(Actions(workflows=[])) as state:
        state.workflows.extend(
            [
                Workflow(
                    id=1,
                    path=".github/workflows/cold-email-sync.yml",
                    name="Cold Email Sync",
                    runs=runs(("success", "09:00:00")),
                ),
                Workflow(
                    id=2,
                    path=".github/workflows/drain-leads.yml",
                    name="Drain Leads",
                    runs=runs(("success", "10:00:00")),
                ),
            ]
        )
        yield state


@pytest.fixture
def dog(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Watchdog:
    return Watchdog(tmp_path, echo, actions)


def test_all_well_posts_nothing(dog: Watchdog) -> None:
    check = dog.check(10)  # the sync succeeded at 9:00, within 2 h; the drain at 10:00
    assert check.code == 0 and check.outputs["posted"] == "false"
    assert check.outputs["severity"] == "ok" and dog.echo.store.requests == []
    assert "every watched workflow is well" in check.summary
    # The watchdog has no `notify-on`: its log gives its own reason.
    assert "notify-on" not in check.log
    assert "Not posted (quiet)" in check.log and "notify-on" not in check.log  # it has none
    assert "every watched workflow is well, as at the previous check" in check.summary


def test_stale_success_then_recovery(dog: Watchdog, actions: Actions) -> None:
    sync = actions.workflows[0]
    sync.runs = runs(("failure", "13:30:00"), ("failure", "12:00:00"), ("success", "09:00:00"))
    stale = dog.check(14)
    assert stale.outputs["posted"] == "true" and stale.outputs["severity"] == "critical"
    newest = "https://github.com/acme/cold-email/actions/runs/900"
    assert (
        "• 🚨 No successful *Cold Email Sync* since 9:00 AM (5h ago; expected within 2h): "
        f"<{newest}|newest run> (failure)"
    ) in stale.content
    assert stale.content.startswith("🚨 *Watchdog: 1 workflow needs attention* | 2:00 PM EST")

    same = dog.check(15)  # the same problem: posted once, not every hour
    assert same.outputs["posted"] == "false"
    assert "the same problems as posted at 2:00 PM EST" in same.summary
    assert "Not posted (reminder-not-due)" in same.log and "notify-on" not in same.log
    assert "the same problems as posted at 2:00 PM EST" in same.summary

    sync.runs.insert(0, Run(901, conclusion="success", created_at="2026-01-15T15:30:00-05:00"))
    drain = actions.workflows[1]  # its 5 h would run out at 3 PM: it ran again at noon
    drain.runs.insert(0, Run(902, conclusion="success", created_at="2026-01-15T12:00:00-05:00"))
    back = dog.check(16)
    assert back.outputs["posted"] == "true" and back.outputs["severity"] == "ok"
    assert back.content.startswith("✅ *Watchdog: all workflows running again* | 4:00 PM EST")
    assert "• Cold Email Sync: last success 3:30 PM\n" in back.content
    assert len([r for r in dog.echo.store.requests if r["path"].endswith("/send")]) == 2


def test_disabled_workflow_says_how_to_enable_it(dog: Watchdog, actions: Actions) -> None:
    actions.workflows[1].state = "disabled_inactivity"
    check = dog.check(10)
    assert check.outputs["severity"] == "critical"
    assert "*Drain Leads* is disabled after 60 days without activity in the repository" in (
        check.content
    )
    assert "`gh workflow enable drain-leads.yml`" in check.content


def test_a_new_problem_is_news(dog: Watchdog, actions: Actions) -> None:
    actions.workflows[1].state = "disabled_manually"
    assert dog.check(10).outputs["posted"] == "true"
    actions.workflows[0].runs = runs(("success", "06:00:00"))
    second = dog.check(11)
    assert second.outputs["posted"] == "true"
    assert "2 workflows need attention" in second.content and "by hand" in second.content


def test_unknown_workflow_file(dog: Watchdog) -> None:
    check = dog.check(10, workflows="cold-email-sync.yml: 2h\nnightly.yml: 1d")
    assert "`nightly.yml` is not a workflow of this repository" in check.content


def test_no_actions_permission(dog: Watchdog, actions: Actions) -> None:
    actions.status = 403
    check = dog.check(10)
    assert check.code == 0 and check.outputs["delivered"] == "false"
    assert check.outputs["posted"] == "false"  # no message went out
    warnings = [line for line in check.log.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1 and "permissions: actions: read" in warnings[0]


def test_an_api_that_drips_its_answers_cannot_hold_the_check(
    dog: Watchdog, actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A byte every 0.5 s: each read is well inside PyGithub's timeout, their sum is not.
    monkeypatch.setattr("echo_notify.watchdog.WATCH_LIMIT", 1.0)
    monkeypatch.setattr("echo_notify.history.LOOKUP_BUDGET", 1.0)
    actions.drip = 0.5
    check = ends_within(6, lambda: dog.check(10, **{"timeout-seconds": "2"}))
    assert check.code == 0 and check.outputs["delivered"] == "false"
    warnings = [line for line in check.log.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1 and "did not answer within 1 s" in warnings[0]


@pytest.mark.parametrize(
    ("workflows", "message"),
    [
        ("cold email sync", "cannot read the line 'cold email sync'"),
        ("cold-email-sync.yml: soon", "cannot read the line"),
        ("cold-email-sync.yml: 91d", "from 1 minute to 90 days"),
        ("", "names no workflow"),
    ],
)
def test_bad_workflows_input(dog: Watchdog, workflows: str, message: str) -> None:
    check = dog.check(10, workflows=workflows)
    assert check.code == 1 and "Input 'workflows'" in check.log and message in check.log


def test_the_watchdog_reminds_while_a_problem_stands(dog: Watchdog, actions: Actions) -> None:
    actions.workflows[0].runs = runs(("failure", "13:30:00"), ("success", "09:00:00"))
    actions.workflows[1].runs = runs(("success", "14:00:00"))  # the drain stays well
    assert dog.check(14).outputs["posted"] == "true"
    for hour in (15, 16, 17):
        quiet = dog.check(hour)
        assert quiet.outputs["posted"] == "false"
        assert quiet.outputs["reason"] == "reminder-not-due"
    assert "a reminder goes out from 6:00 PM EST (`remind-every`)" in quiet.summary
    reminder = dog.check(18)
    assert reminder.outputs["posted"] == "true"
    assert "🔁 Still: 1 workflow needing attention since 2:00 PM (5th check in a row)" in (
        reminder.content
    )
    assert dog.check(19, **{"remind-every": "1h"}).outputs["posted"] == "true"


def test_the_watchdog_takes_mute_until_and_mention(dog: Watchdog, actions: Actions) -> None:
    actions.workflows[0].runs = runs(("success", "09:00:00"))
    actions.workflows[1].runs = runs(("success", "14:00:00"))
    mute = {"mute-until": "2026-01-15 15:30", "mention": "<!channel>"}
    muted = dog.check(14, **mute)
    assert muted.outputs["posted"] == "false" and muted.outputs["reason"] == "muted"
    assert dog.echo.store.requests == []
    after = dog.check(16, **mute)
    assert after.content.startswith("<!channel> 🚨 *Watchdog: 1 workflow needs attention*")
    assert "🔕 Muted since 2:00 PM: the mute is over, and this is still going on" in after.content


def test_a_long_list_names_some_and_counts_the_rest(dog: Watchdog) -> None:
    """22 watched workflow files that do not exist: the first ten named, then how many more;
    the headline and the link stay."""
    watched = "\n".join(f"nightly-{i:02}.yml: 1d" for i in range(22))
    check = dog.check(10, workflows=watched)
    assert check.content.startswith("🚨 *Watchdog: 22 workflows need attention*")
    named = [line for line in check.content.splitlines() if line.startswith("• ❓")]
    assert len(named) == 10 and "`nightly-09.yml`" in named[-1]
    assert "• …and 12 more workflows" in check.content
    assert "View Logs" in check.content.splitlines()[-1]
