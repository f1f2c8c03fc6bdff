"""What the README promises, held to the code's own numbers."""

from __future__ import annotations

from echo_notify import github, history, main, watchdog
from echo_notify.echo import Policy
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def test_the_bound_on_the_whole_step_names_every_part() -> None:
    rows = {
        "the job link": github.JOB_LINK_LIMIT,
        "the previous run's snapshot": history.LOOKUP_BUDGET,
        "the watchdog's reading of the workflows": watchdog.WATCH_LIMIT,
        "the heartbeat": main.HEARTBEAT_LIMIT,
    }
    table = [line for line in README.splitlines() if line.startswith("| the ")]
    for part, seconds in rows.items():
        assert any(
            row.startswith(f"| {part} ") and row.endswith(f"| {seconds:g} s |") for row in table
        ), part
    exchange = Policy(deadline=5).min_exchange
    assert f"`timeout-seconds` + {exchange:g} s" in README
    total = 2 * exchange + github.JOB_LINK_LIMIT + history.LOOKUP_BUDGET + main.HEARTBEAT_LIMIT
    assert f"= {total:g} s" in README
