"""The watchdog through main(argv=["watchdog"]), as its action runs the image, against the fake
GitHub API: disabled workflows, stale successes, all well (no post), recovery (docs/watchdog.md)."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from echo_notify.main import main
from tests.fake_github import Actions, Run, Workflow, fake_actions
from tests.helpers import (
    EXAMPLE_DAY,
    ROOT,
    ScriptedEcho,
    ends_within,
    runner_env,
    running,
)
from tests.oneshot import GH_TOKEN
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


# -- single runs that once went wrong ------------------------------------------------------------


def test_watchdog_with_github_unreachable_says_what_happened(tmp_path: Path) -> None:
    """A connection error to the API is not a GithubException: it falls to main's catch-all,
    "Unexpected internal error (ConnectionError); report it." -- no cause, no fix, and it
    invites a bug report for a network problem (every annotation says what
    happened, the likely cause and the fix)."""
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    with running(ScriptedEcho()) as echo:
        env = runner_env(
            tmp_path,
            files,
            {"workflows": "cold-email-sync.yml: 2h", "echo-url": echo.url},
            github_token=GH_TOKEN,
            action=ROOT / "watchdog",
            extra={"GITHUB_API_URL": "http://127.0.0.1:9/api/v3"},
        )
        out = io.StringIO()
        main(env, out, argv=["watchdog"], now=lambda: EXAMPLE_DAY)
    log = out.getvalue()
    assert "Unexpected internal error" not in log
    assert "GitHub API" in log


def test_watchdog_stale_age_is_not_rounded_below_the_limit(tmp_path: Path) -> None:
    """45 minutes since the last success with `max-age 30m` reads "(0h ago; expected within
    30m)"; 2h59m with 2h reads "2h ago; expected within 2h": the message seems to contradict
    itself. Fix: show minutes under an hour and never floor onto the limit (or say "over 2h")."""
    now = datetime(2026, 1, 15, 12, 0, tzinfo=NY)
    started = (now - timedelta(minutes=45)).isoformat()
    state = Actions(
        workflows=[Workflow(name="Cold Email Sync", runs=[Run(900, created_at=started)])]
    )
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    with fake_actions(state) as actions, running(ScriptedEcho()) as echo:
        env = runner_env(
            tmp_path,
            files,
            {"workflows": "cold-email-sync.yml: 30m", "echo-url": echo.url},
            github_token=GH_TOKEN,
            action=ROOT / "watchdog",
            extra={"GITHUB_API_URL": actions.api, "RUNNER_TEMP": str(tmp_path)},
        )
        main(env, io.StringIO(), argv=["watchdog"], now=lambda: now)
        content = json.loads(echo.store.requests[0]["body"])["content"]
    assert "No successful *Cold Email Sync* since 11:15 AM" in content
    assert "0h ago" not in content


def test_watchdog_a_stale_workflow_then_disabled_is_news(
    tmp_path: Path, echo: ScriptedEcho
) -> None:
    """Snapshots keep levels only: stale and disabled are both "critical", so when a stale
    workflow is then disabled (GitHub's 60-day rule, or someone turned it off) the watchdog
    stays quiet: "the same problems as at the previous check". The fix needed is different
    (re-enable it, the message that is never sent says how). Fix: keep the problem kind in
    the snapshot's levels (e.g. "critical:disabled") or compare problems."""
    from tests.integration.test_watchdog import runs  # noqa: PLC0415
    from tests.pipeline import Watchdog  # noqa: PLC0415

    sync_runs = runs(("failure", "13:30:00"), ("success", "09:00:00"))
    state = Actions(
        workflows=[
            Workflow(
                id=1, path=".github/workflows/cold-email-sync.yml", name="Sync", runs=sync_runs
            )
        ]
    )
    with fake_actions(state) as actions:
        dog = Watchdog(tmp_path, echo, actions)
        stale = dog.check(14, workflows="cold-email-sync.yml: 2h")
        assert stale.outputs["posted"] == "true" and "No successful" in stale.content
        actions.workflows[0].state = "disabled_inactivity"
        disabled = dog.check(15, workflows="cold-email-sync.yml: 2h")
    assert disabled.outputs["posted"] == "true"
    assert "is disabled after 60 days" in disabled.content


def test_watchdog_outside_actions_names_what_is_missing(tmp_path: Path) -> None:
    """Run locally (a plain shell) without GITHUB_REPOSITORY,
    api_client() returns None and watch() trips `assert client is not None`: "Unexpected
    internal error (AssertionError); report it.", exit 0. Expected: an input error that says
    the watchdog needs GITHUB_REPOSITORY (owner/name) to know what to watch."""
    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    env = runner_env(
        tmp_path,
        files,
        {"workflows": "cold-email-sync.yml: 2h", "dry-run": "true"},
        github_token=GH_TOKEN,
        action=ROOT / "watchdog",
    )
    del env["GITHUB_REPOSITORY"]
    out = io.StringIO()
    code = main(env, out, argv=["watchdog"], now=lambda: EXAMPLE_DAY)
    assert "Unexpected internal error" not in out.getvalue()
    assert "GITHUB_REPOSITORY" in out.getvalue() and code == 1
