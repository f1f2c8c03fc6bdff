"""The watchdog that reads each workflow's schedule from its file, through main() against the
fake GitHub API (which serves the workflow files, the runs and the repository): due runs,
missed runs in a row, `all`, the 60-day switch-off ahead, and every bad line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fake_github import Actions, Run, fake_actions
from tests.helpers import ScriptedEcho
from tests.pipeline import Watchdog, three_workflows

NY = ZoneInfo("America/New_York")
EVERY_30 = "on:\n  schedule:\n    - cron: '*/30 * * * *'\n  workflow_dispatch:\njobs: {}\n"
EVERY_2H = 'name: Drain\n"on":\n  schedule:\n    - cron: "0 */2 * * *"  # every two hours\n'
WATCHED = "cold-email-sync.yml\ndrain-leads.yml"


def every(
    minutes: int, start: datetime, end: datetime, *, skip: tuple[datetime, ...] = ()
) -> list[Run]:
    """Runs newest first, one every ``minutes`` of real time from ``start`` to ``end``, none
    at the times in ``skip``."""
    out: list[Run] = []
    moment = start.astimezone(UTC)
    while moment <= end:
        if moment not in skip:
            out.append(Run(0, created_at=moment.isoformat()))
        moment += timedelta(minutes=minutes)
    return numbered(out)


def numbered(runs: list[Run]) -> list[Run]:
    ordered = sorted(runs, key=lambda r: datetime.fromisoformat(r.created_at), reverse=True)
    for i, run in enumerate(ordered):
        run.id = 3000 - i
    return ordered


def at(day: int, hhmm: str, month: int = 1) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def utc(day: int, hour: int, month: int = 1) -> datetime:
    """The drain runs every two hours of UTC (`0 */2 * * *`): odd hours in New York in winter."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def actions() -> Iterator[Actions]:
    sync, drain = three_workflows()[:2]
    sync.file, sync.runs = EVERY_30, every(30, at(14, "00:00"), at(15, "10:30"))
    drain.file, drain.runs = EVERY_2H, every(120, utc(14, 0), utc(15, 18))
    with fake_actions(Actions(workflows=[sync, drain])) as state:
        yield state


@pytest.fixture
def dog(tmp_path: Path, echo: ScriptedEcho, actions: Actions) -> Watchdog:
    return Watchdog(tmp_path, echo, actions)


def contents_read(actions: Actions) -> list[str]:
    return [path.rsplit("/", 1)[-1] for path, _ in actions.seen if "/contents/" in path]


def test_file_names_alone_read_the_schedules_and_all_is_well(
    dog: Watchdog, actions: Actions
) -> None:
    check = dog.check(11, workflows=WATCHED)
    assert check.code == 0, check.log
    assert check.outputs["severity"] == "ok" and check.outputs["posted"] == "false"
    assert contents_read(actions) == ["cold-email-sync.yml", "drain-leads.yml"]


def test_one_dropped_run_never_alerts(dog: Watchdog, actions: Actions) -> None:
    """GitHub drops a scheduled run now and then: a single one, twice in the day, is normal."""
    actions.workflows[0].runs = every(
        30, at(14, "00:00"), at(15, "10:30"), skip=(at(15, "08:00"), at(15, "10:00"))
    )
    check = dog.check(11, workflows=WATCHED)
    assert check.outputs["severity"] == "ok" and check.outputs["posted"] == "false"


def test_three_missed_in_a_row_alert(dog: Watchdog, actions: Actions) -> None:
    sync = actions.workflows[0]
    sync.runs = every(30, at(14, "00:00"), at(15, "09:00"))  # the last at 9:00, then none
    sync.runs[1].conclusion = "failure"  # 8:30 ran, and failed: ran is not missed
    quiet = dog.check(10, when=at(15, "10:35"), workflows=WATCHED)  # 9:30, 10:00: 2 of 3
    assert quiet.outputs["severity"] == "ok", quiet.content
    alert = dog.check(11, when=at(15, "11:05"), workflows=WATCHED)  # 10:30 as well
    assert alert.outputs["posted"] == "true" and alert.outputs["severity"] == "critical"
    assert (
        "• 🚨 *Cold Email Sync* missed its last 3 runs (every 30 minutes; last success 9:00 AM)"
        in alert.content
    )
    assert "Drain Leads" not in alert.content
    later = dog.check(11, when=at(15, "11:35"), workflows=WATCHED)  # a 4th: the same problem
    assert later.outputs["posted"] == "false" and later.outputs["reason"] == "reminder-not-due"
    relaxed = dog.check(12, workflows=WATCHED, **{"missed-runs": "6"})
    assert relaxed.outputs["severity"] == "ok"


def test_an_hourly_schedule(dog: Watchdog, actions: Actions) -> None:
    sync = actions.workflows[0]
    sync.file = "on:\n  schedule:\n    - cron: '0 * * * *'\n"
    sync.runs = every(60, at(14, "00:00"), at(15, "07:00"))
    check = dog.check(10, when=at(15, "11:05"), workflows=WATCHED)  # 8, 9 and 10 missed
    assert "*Cold Email Sync* missed its last 3 runs (every hour; last success 7:00 AM)" in (
        check.content
    )


def test_a_weekday_schedule_across_a_weekend(dog: Watchdog, actions: Actions) -> None:
    """Monday to Friday at 9:00 New York time, checked on Monday at 9:05: the weekend owes
    no run; the three before it (Wed, Thu, Fri) are what three in a row means."""
    sync = actions.workflows[0]
    sync.file = "on:\n  schedule:\n    - cron: '0 9 * * 1-5'\n      timezone: America/New_York\n"
    weekdays = [at(day, "09:00") for day in (12, 13, 14, 15, 16)]  # Mon Jan 12 to Fri Jan 16
    sync.runs = numbered([Run(0, created_at=d.isoformat()) for d in weekdays])
    actions.workflows[1].runs = every(120, utc(15, 0), utc(19, 14))
    monday = at(19, "09:05")  # Monday's run not in yet, Friday's was the one before it
    assert dog.check(8, when=monday, workflows=WATCHED).outputs["severity"] == "ok"
    sync.runs = numbered([Run(0, created_at=d.isoformat()) for d in weekdays[:2]])  # Mon, Tue
    check = dog.check(8, when=monday + timedelta(minutes=5), workflows=WATCHED)
    assert check.outputs["severity"] == "critical"
    assert (
        "*Cold Email Sync* missed its last 3 runs (at 09:00 AM, Monday through Friday, "
        "America/New_York; last success Jan 13, 9:00 AM): <https://github.com/acme/cold-email/"
    ) in check.content.replace("\u200b", "")  # Slack's `_` broken, as in all data


def test_a_timezone_schedule_across_the_spring_clock_change(
    dog: Watchdog, actions: Actions
) -> None:
    """2:30 AM in New York does not exist on March 8, 2026: GitHub runs it at 3:00 AM EDT
    (the next valid time). That run is the day's: checked at 2:35 AM EDT on March 9 (its run
    not in yet, within the grace), nothing was missed; without it, March 8's was."""
    actions.pushed_at = "2026-03-01T12:00:00Z"
    sync = actions.workflows[0]
    sync.file = "on:\n  schedule:\n    - cron: '30 2 * * *'\n      timezone: 'America/New_York'\n"
    ran = [
        datetime(2026, 3, 6, 7, 31, tzinfo=UTC),  # 2:31 AM EST
        datetime(2026, 3, 7, 7, 31, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 1, tzinfo=UTC),  # 3:01 AM EDT: the skipped 2:30's run
    ]
    sync.runs = numbered([Run(0, created_at=d.isoformat()) for d in ran])
    actions.workflows[1].runs = every(120, utc(5, 0, 3), utc(9, 6, 3))
    inputs = {"workflows": WATCHED, "missed-runs": "1"}  # any missed run would alert
    check = dog.check(0, when=at(9, "02:35", 3), **inputs)
    assert check.outputs["severity"] == "ok", check.content
    sync.runs = sync.runs[1:]
    missed = dog.check(0, when=at(9, "02:36", 3), **inputs)
    assert (
        "*Cold Email Sync* missed its last run (at 02:30 AM, America/New_York; "
        "last success Mar 7, 2:31 AM)"
    ) in missed.content.replace("\u200b", "")


def test_an_explicit_age_still_wins(dog: Watchdog, actions: Actions) -> None:
    actions.workflows[0].runs = every(30, at(14, "00:00"), at(15, "07:00"))
    check = dog.check(10, workflows="cold-email-sync.yml: 6h\ndrain-leads.yml")
    assert check.outputs["severity"] == "ok", check.content
    assert contents_read(actions) == ["drain-leads.yml"]


def test_all_watches_every_workflow_with_a_schedule(dog: Watchdog, actions: Actions) -> None:
    """`all`: both pipelines (their schedules read), not the watchdog's own workflow (no
    schedule); a line naming one of them keeps its own age."""
    actions.workflows[1].runs = every(120, utc(14, 0), utc(15, 8))  # 10, 12, 14 UTC missed
    check = dog.check(9, when=at(15, "11:05"), workflows="all")
    assert "*Drain Leads* missed its last 3 runs (every 2 hours; last success 3:00 AM)" in (
        check.content
    )
    assert "Cold Email Sync" not in check.content
    assert sorted(contents_read(actions)) == [
        "cold-email-sync.yml",
        "drain-leads.yml",
        "watchdog.yml",
    ]
    aged = dog.check(9, when=at(15, "11:10"), workflows="all\ndrain-leads.yml: 12h")
    assert aged.outputs["severity"] == "ok", aged.content


def test_a_file_the_api_cannot_read_is_a_notice(dog: Watchdog, actions: Actions) -> None:
    actions.broken_files["drain-leads.yml"] = 502
    check = dog.check(11, workflows=WATCHED)
    assert check.code == 0 and check.outputs["severity"] == "ok"
    notices = [line for line in check.log.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "drain-leads.yml" in notices[0] and "HTTP 502" in notices[0]
    actions.broken_files["drain-leads.yml"] = 403  # a token without `contents: read`
    check = dog.check(12, workflows=WATCHED)
    assert "HTTP 403" in check.log and "`permissions: contents: read`" in check.log


@pytest.mark.parametrize(
    ("line", "file", "said"),
    [
        ("nightly.yml", None, "nightly.yml is not a workflow of this repository"),
        (
            "cold-email-sync.yml",
            "on:\n  push:\n",
            "cold-email-sync.yml has no schedule (no `on.schedule` with a `cron`): give its "
            "line an age, e.g. `cold-email-sync.yml: 2h`",
        ),
        (
            "cold-email-sync.yml",
            "on:\n  schedule:\n    - cron: '61 * * * *'\n",
            "cold-email-sync.yml: the cron '61 * * * *' has a bad minute (the 1st field)",
        ),
        (
            "cold-email-sync.yml",
            "on:\n  schedule:\n    - cron: '0 9 * *'\n",
            "cold-email-sync.yml: the cron '0 9 * *' has 4 fields; GitHub takes 5",
        ),
        (
            "cold-email-sync.yml",
            "on:\n  schedule:\n    - cron: '0 9 * * *'\n      timezone: Mars/Olympus\n",
            "cold-email-sync.yml: the timezone 'Mars/Olympus' is not an IANA time zone",
        ),
    ],
)
def test_a_bad_line_is_an_error_naming_it_and_loses_nothing_else(
    dog: Watchdog, actions: Actions, line: str, file: str | None, said: str
) -> None:
    actions.workflows[0].file = file
    actions.workflows[1].runs = every(120, utc(14, 0), utc(15, 8))  # drain: 3 missed
    check = dog.check(9, when=at(15, "11:05"), workflows=f"# ours\n{line}\ndrain-leads.yml")
    assert check.code == 1
    errors = [entry for entry in check.log.splitlines() if entry.startswith("::error")]
    assert len(errors) == 1, check.log
    assert f"Input 'workflows', line 2 ({line}): {said}" in errors[0]
    assert "*Drain Leads* missed its last 3 runs" in check.content  # the rest was checked
    assert check.outputs["posted"] == "true"


def test_the_switch_off_countdown_then_the_disabled_alert(dog: Watchdog, actions: Actions) -> None:
    """A public repository last pushed to on Nov 21, 2025 at noon UTC: GitHub switches its
    schedules off 60 days later, Jan 20 at noon UTC. Warned from 10 days before, once a day."""
    actions.pushed_at = "2025-11-21T12:00:00Z"
    actions.workflows[0].runs = every(30, at(8, "00:00"), at(15, "13:30"))
    actions.workflows[1].runs = every(120, utc(8, 0), utc(15, 18))
    inputs = {"workflows": WATCHED, "remind-every": "1h"}
    early = dog.check(0, when=at(9, "12:00"), **inputs)  # 10 days and 19 hours ahead
    assert early.outputs["severity"] == "ok", early.content
    first = dog.check(0, when=at(14, "11:50"), **inputs)
    assert first.outputs["posted"] == "true" and first.outputs["severity"] == "warning"
    assert (
        "⏳ *Cold Email Sync* will be switched off by GitHub in 6 days unless the repository "
        "sees activity"
    ) in first.content
    assert "git commit --allow-empty" in first.content
    again = dog.check(0, when=at(14, "15:50"), **inputs)  # remind-every 1h: still once a day
    assert again.outputs["posted"] == "false", again.content
    next_day = dog.check(0, when=at(15, "11:50"), **inputs)
    assert "switched off by GitHub in 5 days" in next_day.content
    actions.private = True  # a private repository's schedules are never switched off
    assert dog.check(0, when=at(15, "12:50"), **inputs).outputs["severity"] == "ok"
    actions.private = False
    actions.workflows[0].state = "disabled_inactivity"
    off = dog.check(0, when=at(15, "13:50"), **inputs)
    assert "*Cold Email Sync* is disabled after 60 days without activity" in off.content
    assert "`gh workflow enable cold-email-sync.yml`" in off.content


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"grace": "soon"}, "Input 'grace' must be a duration from 1 minute to 1 day"),
        ({"grace": "2d"}, "Input 'grace' must be a duration from 1 minute to 1 day"),
        ({"missed-runs": "0"}, "Input 'missed-runs' must be a number of runs from 1 to 100"),
    ],
)
def test_bad_grace_or_missed_runs(dog: Watchdog, inputs: dict[str, str], said: str) -> None:
    check = dog.check(11, workflows=WATCHED, **inputs)
    assert check.code == 1 and said in check.log and check.content == ""


def digest_of(dog: Watchdog) -> str:
    return next(
        json.loads(r["body"])["content"]
        for r in dog.echo.store.requests
        if r["path"] == "/api/v1/messages" and "Daily digest" in r["body"]
    )


def test_the_digest_counts_the_days_scheduled_runs(dog: Watchdog, actions: Actions) -> None:
    """The sync: every run of the day, two of them late (12 and 18 minutes, past the 10-minute
    grace), one 8 minutes late (within it). The drain: 3 of its 12 missed, never in a row."""
    sync = actions.workflows[0]
    sync.runs = every(30, at(15, "09:30"), at(16, "09:00"))
    for run, minutes in zip(sync.runs[3:6], (12, 8, 18), strict=True):
        late = datetime.fromisoformat(run.created_at) + timedelta(minutes=minutes)
        run.created_at = late.isoformat()
    skipped = (utc(15, 16), utc(15, 22), utc(16, 6))
    actions.workflows[1].runs = every(120, utc(15, 14), utc(16, 14), skip=skipped)
    check = dog.check(9, when=at(16, "09:05"), workflows=WATCHED, **{"digest-at": "09:00"})
    assert check.code == 0 and check.outputs["severity"] == "ok", check.log
    lines = digest_of(dog).splitlines()
    sync_at = next(i for i, line in enumerate(lines) if "|Cold Email Sync>*" in line)
    drain_at = next(i for i, line in enumerate(lines) if "|Drain Leads>*" in line)
    assert "• 🗓 48 of 48 scheduled runs (2 late, longest 18 min)" in lines[sync_at:drain_at]
    assert "• 🗓 9 of 12 scheduled runs: 3 missed" in lines[drain_at:]


def test_an_unread_file_is_no_all_clear(dog: Watchdog, actions: Actions) -> None:
    """A workflow that missed its runs, whose file the API then fails to give: unknown, not
    well. No ✅ all-clear; the standing problem stays the same problem."""
    sync = actions.workflows[0]
    sync.runs = every(30, at(14, "00:00"), at(15, "09:00"))
    assert dog.check(11, when=at(15, "11:05"), workflows=WATCHED).outputs["posted"] == "true"
    actions.broken_files["cold-email-sync.yml"] = 502
    unread = dog.check(11, when=at(15, "11:35"), workflows=WATCHED)
    assert unread.outputs["severity"] == "critical", unread.content
    assert unread.outputs["reason"] == "reminder-not-due"
    reminder = dog.check(16, workflows=WATCHED)
    assert (
        "• ❓ *Cold Email Sync*: its file could not be read this time, so whether its runs "
        "happen is unknown; it needed attention at the previous check"
    ) in reminder.content


def test_all_without_a_scheduled_workflow_is_a_bad_line(dog: Watchdog, actions: Actions) -> None:
    for workflow in actions.workflows:
        workflow.file = "on:\n  push:\n"
    check = dog.check(11, workflows="all")
    assert check.code == 1
    assert (
        "Input 'workflows', line 1 (all): no workflow of this repository has a schedule "
        "(`on.schedule` with a `cron`)"
    ) in check.log


def test_a_reminder_of_another_problem_leaves_the_countdown_to_its_day(
    dog: Watchdog, actions: Actions
) -> None:
    """The switch-off is said once a day; a reminder about missed runs 4 hours later does not
    say it again (its count did not change), the next day's message does."""
    actions.pushed_at = "2025-11-21T12:00:00Z"  # switched off on Jan 20 at noon UTC
    actions.workflows[0].runs = every(30, at(13, "00:00"), at(15, "09:00"))  # silent since 9
    actions.workflows[1].runs = every(120, utc(13, 0), utc(16, 18))
    first = dog.check(0, when=at(15, "11:05"), workflows=WATCHED)
    assert "missed its last 3 runs" in first.content
    assert "*Drain Leads* will be switched off by GitHub in 5 days" in first.content
    reminder = dog.check(0, when=at(15, "15:05"), workflows=WATCHED)
    assert "🔁 Still:" in reminder.content and "missed its last 11 runs" in reminder.content
    assert "switched off" not in reminder.content
    next_day = dog.check(0, when=at(16, "11:05"), workflows=WATCHED)
    assert "*Drain Leads* will be switched off by GitHub in 4 days" in next_day.content
