"""The schedule reader against a real YAML parser (PyYAML, a development tool only), and the
judging of due runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from echo_notify import schedule
from echo_notify.errors import ScheduleError

FILES = [
    "on:\n  schedule:\n    - cron: '*/30 * * * *'\n  workflow_dispatch:\njobs: {}\n",
    '"on":\n  schedule:\n    - cron: "0 */2 * * *"  # every two hours\n',
    "on:\n  schedule:\n    - cron: '0 9 * * 1-5'\n      timezone: America/New_York\n"
    "    - timezone: Europe/Berlin\n      cron: 5 4 * * *\njobs:\n  x:\n    runs-on: a\n",
    "on: {schedule: [{cron: '0 1 * * *', timezone: UTC}, {cron: \"0 2 * * *\"}], push: {}}\n",
    "on:\n  schedule:\n  - cron: '1 2 3 4 5'\n  push:\n    branches: [main]\n",
    "name: x # on: schedule\non:\n  push:\n  schedule: # nightly\n    - cron: '0 3 * * *' # UTC\n",
    "on:\n  push:\n",
    "on: [push, schedule]\n",
    "jobs:\n  a:\n    runs-on: x\n",
]


def parsed(text: str) -> list[tuple[str, str]]:
    data = yaml.safe_load(text)
    on: Any = data.get(True, data.get("on"))  # YAML 1.1 reads a bare `on` as true
    entries = on.get("schedule") if isinstance(on, dict) else None
    return [(e["cron"], e.get("timezone", "")) for e in entries or []]


@pytest.mark.parametrize("text", FILES)
def test_the_reader_agrees_with_a_yaml_parser(text: str) -> None:
    assert schedule.entries(text) == parsed(text)


def test_a_skipped_time_moves_to_the_next_valid_one() -> None:
    crons = schedule.read("on:\n schedule:\n  - cron: '30 2 * * *'\n    timezone: America/New_York")
    due = schedule.due(crons, datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))
    assert [d.strftime("%d %H:%M") for d in due] == ["07 07:30", "08 07:00", "09 06:30"]


def test_judging_due_runs() -> None:
    t0 = datetime(2026, 1, 15, 12, tzinfo=UTC)
    due = [t0 + timedelta(minutes=30 * i) for i in range(5)]
    runs = [t0 + timedelta(minutes=3), t0 + timedelta(minutes=30 + 18), due[4]]
    judged = schedule.judge(due, runs, due[4] + timedelta(minutes=1), timedelta(minutes=10))
    assert [j.status for j in judged] == ["on time", "late", "missed", "missed", "on time"]
    assert judged[1].delay == timedelta(minutes=18)
    assert schedule.missed_in_a_row(judged[:4]) == 2


def test_a_repeated_time_runs_once_and_an_interval_keeps_its_pace() -> None:
    """November 1, 2026: 1:00-2:00 AM happens twice in New York. `30 1 * * *` is due once (the
    first 1:30, EDT); `*/30 * * * *` every 30 minutes of real time through both hours."""
    zone = "    timezone: America/New_York"
    daily = schedule.read(f"on:\n schedule:\n  - cron: '30 1 * * *'\n{zone}")
    start, end = datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert [d.strftime("%H:%M") for d in schedule.due(daily, start, end)] == ["05:30"]
    halves = schedule.read(f"on:\n schedule:\n  - cron: '*/30 * * * *'\n{zone}")
    assert len(schedule.due(halves, start, end)) == 9


def test_an_overlong_cron_is_cut_in_the_error() -> None:
    with pytest.raises(ScheduleError) as caught:
        schedule.read("on:\n schedule:\n  - cron: '" + "1," * 500 + "61 * * * *'")
    assert len(str(caught.value)) < 200 and "bad minute" in str(caught.value)
