"""The README's bad day, played as written through main() (runs every 30 minutes into the fake
GitHub API, which stands in for GitHub's, messages to the local Echo): at each run the channel
sees what the README's table says, and nothing where it says nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.helpers import ROOT
from tests.pipeline import NEW_YORK, Pipeline, sync

INPUTS = {"notify-on": "problems", "alert-after": "2", "mention": "<!here>"}


def table() -> dict[str, str]:
    """Each run's row of the README's bad-day table: time (a range row: each time in it) to
    what the channel sees ('' for nothing), as plain text."""
    text = (ROOT / "docs" / "alerting.md").read_text()
    rows = text.split("A bad day, as the channel sees it")[1].split("\n\n")[1].splitlines()[2:]
    seen = {}
    for row in rows:
        when, sees = (cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:3])
        sees = "" if sees == "nothing" else sees.replace("`", "").replace("\\|", "|")
        first, _, last = when.partition(" – ")
        moment = clock(first)
        while moment <= clock(last or first):
            seen[f"{moment:%-I:%M %p}"] = sees.replace("<br>", "\n")
            moment += timedelta(minutes=30)
    return seen


def clock(text: str) -> datetime:
    return datetime.strptime(f"2026-01-15 {text}", "%Y-%m-%d %I:%M %p").replace(tzinfo=NEW_YORK)


def metrics(moment: datetime) -> dict[str, object]:
    """The day the README tells: verification under 90 % at 8:30 and under 80 % from 9:00,
    capacity past 70 % from 2:00 PM, verification back to 85 % at 3:00 PM, all well at 8:00 PM."""
    hour = moment.hour + moment.minute / 60
    verified = 95 if hour < 8.5 or hour >= 20 else 85 if hour < 9 or hour >= 15 else 79
    return sync(verified, inventory=17000 if 14 <= hour < 20 else 12000)


STORY = (  # the README's telling of the day, which metrics() plays
    "verification drops below 90 % at 8:30 AM and below 80 % at 9:00 AM, capacity passes 70 % "
    "at 2:00 PM, verification climbs back to 85 % at 3:00 PM, all is well at 8:00 PM"
)


def test_the_readme_s_bad_day_is_what_the_channel_sees(pipeline: Pipeline) -> None:
    assert STORY in " ".join((ROOT / "docs" / "alerting.md").read_text().split())
    expected = table()
    assert len(expected) == 25  # 8:00 AM to 8:00 PM
    for shown, sees in expected.items():
        step = pipeline.run(metrics(clock(shown)), 0, when=clock(shown), **INPUTS)
        head = "\n".join(step.content.replace("*", "").splitlines()[: sees.count("\n") + 1])
        assert head == sees, (shown, step.content, step.outputs.get("reason"))
