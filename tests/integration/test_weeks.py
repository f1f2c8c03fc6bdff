"""Five simulated weeks of two-hourly syncs through ``main()`` in New York (the clocks go back
on the fifth Sunday): the snapshot, carried by the fake GitHub API from run to run, remembers
the weeks by the hour, and the reports compare with last week and with what is usual for the
weekday and hour (docs/history-and-trends.md)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from echo_notify.state import Snapshot
from tests.fake_github import fake_actions
from tests.helpers import (
    EXAMPLES,
    ScriptedEcho,
    mermaid_charts,
    mermaid_parse,
    needs_mermaid,
    running,
)
from tests.pipeline import NEW_YORK, Pipeline, Step

START = datetime(2026, 10, 5, 0, 0, tzinfo=NEW_YORK)  # a Monday
EVERY = timedelta(hours=2)
WEEK5 = START + timedelta(weeks=4)  # Monday Nov 2, the day after the clocks went back
# What week 5 brings besides the usual: the run's time, its verification and leads added,
# and its inputs.
DROP = WEEK5 + timedelta(days=1, hours=10)  # Tuesday 10 AM: 92.0%, within the thresholds
RISE = WEEK5 + timedelta(days=2, hours=2)  # Wednesday 2 AM: 99.0% at night
FEW = WEEK5 + timedelta(days=3, hours=12)  # Thursday noon: 30 leads instead of ~120
LOUD = WEEK5 + timedelta(days=4, hours=10)  # Friday 10 AM: 92.0% with `unusual: warning`
AFTER = LOUD + EVERY
HELD = [WEEK5 + timedelta(days=5, hours=h) for h in (10, 12, 14)]  # Saturday: 92.0% for hours
PROBLEMS = {"unusual": "warning", "notify-on": "problems"}
SPECIAL: dict[datetime, tuple[float | None, int | None, dict[str, str]]] = {
    DROP: (92.0, None, {}),
    RISE: (99.0, None, {}),
    FEW: (None, 30, {}),
    LOUD: (92.0, None, PROBLEMS),
    AFTER: (None, None, PROBLEMS),
    **{moment: (92.0, None, PROBLEMS) for moment in HELD},
    HELD[-1] + EVERY: (None, None, PROBLEMS),
}


def night(moment: datetime) -> bool:
    return not 7 <= moment.astimezone(NEW_YORK).hour < 21


def sync_at(moment: datetime, verified: float | None, added: int | None) -> dict[str, object]:
    """A sync with the pipeline's daily rhythm: few leads and lower verification at night,
    a tenth of a point of wobble so that no two weeks are quite alike."""
    data = json.loads((EXAMPLES / "sync.json").read_text())
    wobble = (moment.toordinal() * 7 + moment.hour) % 5 / 10
    rate = verified if verified is not None else (91.0 if night(moment) else 96.0) + wobble
    leads = added if added is not None else 10 if night(moment) else 120
    data["leads_processed"] = {
        "total_attempted": leads,
        "smb_campaign": {"campaign_name": "SMB Campaign", "leads_added": leads},
    }
    data["verification_results"] = {"success_rate_percentage": rate}
    data["capacity_status"] = {"current_inventory": 5000, "max_capacity": 24000}
    data.pop("async_verification", None)
    return data


@pytest.fixture(scope="module")
def weeks(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[datetime, Step], Pipeline]]:
    """Every run of the five weeks, by its time (on the clock in New York)."""
    with fake_actions() as actions, running(ScriptedEcho()) as echo:
        assert isinstance(echo, ScriptedEcho)
        pipeline = Pipeline(Path(tmp_path_factory.mktemp("weeks")), echo, actions)
        steps, moment = {}, START
        while moment < START + timedelta(weeks=5):
            verified, added, inputs = SPECIAL.get(moment, (None, None, {}))
            steps[moment] = pipeline.run(sync_at(moment, verified, added), 0, when=moment, **inputs)
            moment += EVERY  # on the clock: 2 AM follows midnight on Nov 1 too
        yield steps, pipeline


def lines(step: Step, mark: str) -> list[str]:
    return [line for line in step.content.splitlines() if line.startswith(mark)]


def test_the_first_week_compares_with_nothing(weeks: tuple[dict[datetime, Step], Pipeline]) -> None:
    steps, _ = weeks
    first_week = [step for moment, step in steps.items() if moment < START + timedelta(weeks=1)]
    assert all(step.code == 0 for step in steps.values())
    assert not any(lines(step, "📅") or lines(step, "🔎") for step in first_week)
    assert "Same hour last week" not in steps[START + timedelta(hours=8)].summary
    a_week_later = steps[START + timedelta(weeks=1, hours=8)].summary
    assert "| Same hour last week (Mon 8 AM) | Usual for this hour |" in a_week_later


def test_a_week_later_each_report_says_how_it_compares(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    tuesday = START + timedelta(weeks=1, days=1, hours=10)
    assert lines(steps[tuesday], "📅") == [
        "📅 Verification 96.4% · ▲ 0.4 pts vs last Tue 10 AM (96.0%)",
        "📅 Leads added today: 280 · the same as last Tue to this hour (280)",
    ]
    row = "| Verification success | 96.4% | ✅ ok | ▲ 0.2 pts | 96.0% (▲ 0.4 pts) | – |"
    assert row in steps[tuesday].summary


def test_the_usual_is_learnt_in_two_weeks_and_said_only_in_the_summary(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    monday = START + timedelta(hours=8)
    learning = "🔎 Still learning what is usual for Mondays at 8 AM: {} of 2 weeks known."
    assert learning.format(0) in steps[monday].summary
    assert "pointed out from Oct 19, 8:00 AM EDT." in steps[monday].summary
    assert learning.format(1) in steps[monday + timedelta(weeks=1)].summary
    assert "Still learning" not in steps[monday + timedelta(weeks=2)].summary
    assert not any("learning" in step.content for step in steps.values())


def test_quiet_nights_and_weekends_are_not_unusual(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    """From the third week on, nights at 91% and 10 leads are as usual as days at 96% and
    120, across the clock change too: only the runs week 5 made odd are flagged."""
    steps, _ = weeks
    flagged = {moment for moment, step in steps.items() if lines(step, "🔎")}
    assert flagged == {DROP, FEW, LOUD, HELD[0], HELD[2]}  # HELD[1] was quiet: a reminder


def test_a_drop_is_unusual_and_a_rise_is_not(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    drop = lines(steps[DROP], "🔎")
    assert drop == ["🔎 Unusual for a Tuesday at 10 AM: verification 92.0% (usually 94.2–98.2%)"]
    assert steps[DROP].outputs["severity"] == "ok"  # information only, by default
    assert lines(steps[FEW], "🔎") == [
        "🔎 Unusual for a Thursday at 12 PM: leads added 30 (usually 90–150)"
    ]
    assert not lines(steps[RISE], "🔎")
    assert "· ▲ 7.9 pts vs last Wed 2 AM (91.1%)" in steps[RISE].content


def test_unusual_as_a_warning_is_posted_and_its_end_too(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    loud, after = steps[LOUD], steps[AFTER]
    assert loud.outputs["severity"] == "warning" and loud.outputs["posted"] == "true"
    assert "🔎 Unusual for a Friday at 10 AM: verification 92.0%" in loud.content
    assert "> [!WARNING]" in loud.summary
    assert "> - Verification 92.0% is unusual for a Friday at 10 AM (usually " in loud.summary
    assert "is unusual for" not in steps[DROP].summary  # information only: no alert there
    assert after.outputs["severity"] == "ok" and after.outputs["posted"] == "true"
    assert "✅" in after.content.splitlines()[0] or "back to normal" in after.content.lower()


def test_an_unusual_hour_that_goes_on_is_a_reminder(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    posted = [steps[moment].outputs["posted"] for moment in HELD]
    assert posted == ["true", "false", "true"]  # new; told 2 h ago; `remind-every: 4h`
    assert lines(steps[HELD[-1]], "🔁") == [
        "🔁 Still: verification unusual for the hour since 10:00 AM "
        "(3rd sync with problems in a row)"
    ]
    assert "Back to normal" in steps[HELD[-1] + EVERY].content


def test_the_summary_charts_the_usual_band(weeks: tuple[dict[datetime, Step], Pipeline]) -> None:
    steps, _ = weeks
    summary = steps[FEW].summary
    chart = summary.split("```mermaid", 1)[1].split("```", 1)[0]
    assert "grey: usual for the weekday and hour" in chart
    assert len(re.findall(r"^\s+line \[", chart, re.M)) == 3


@needs_mermaid
def test_the_chart_with_its_band_parses_with_mermaid(
    weeks: tuple[dict[datetime, Step], Pipeline],
) -> None:
    steps, _ = weeks
    charts = [mermaid_charts(steps[moment].summary)[0] for moment in (DROP, FEW, LOUD)]
    done = mermaid_parse(charts)
    assert done.returncode == 0 and done.stdout.split() == ["xychart"] * 3, done.stderr


def test_five_weeks_of_memory_are_small(weeks: tuple[dict[datetime, Step], Pipeline]) -> None:
    """The snapshot after five weeks holds every hour of them, and stays small."""
    _, pipeline = weeks
    run = pipeline.actions.workflows[0].runs[0]
    archive = run.artifacts[0].data
    snapshot = Snapshot.parse(zipfile.ZipFile(io.BytesIO(archive)).read("sync.json"), "sync")
    memory = snapshot.ledger.add(snapshot.runs, snapshot.time)
    assert sum(hour.runs for hour in memory.hours.values()) == 5 * 7 * 12
    assert len(archive) < 32 * 1024


def test_without_history_nothing_is_learnt_or_compared(pipeline: Pipeline) -> None:
    """`history: false` keeps no memory: no week columns, and no learning notice forever."""
    for hours in (0, 2):
        moment = START + timedelta(weeks=1, hours=hours)
        step = pipeline.run(sync_at(moment, None, None), 0, when=moment, history="false")
    assert step.code == 0 and "Still learning" not in step.summary
    assert "Same hour last week" not in step.summary and not lines(step, "📅")
