"""The values the inputs choose among, and their limits: shared by the boundary (`config`, which
reads and checks the inputs) and the code that acts on them, so the boundary imports no domain
module."""

from __future__ import annotations

import re
from typing import Literal

Fmt = Literal["slack", "markdown"]
JobStatus = Literal["success", "failure", "cancelled"]
NotifyOn = Literal["always", "problems", "changes"]
# What a figure outside its usual band for the weekday and hour is: a line, or a warning too.
Unusual = Literal["info", "warning"]
# Each gauge's (warning, critical) limits, in percent: capacity and invalid share are bad when
# high, the success rates when low (docs/reports.md). The `thresholds` input overrides them.
THRESHOLDS: dict[str, tuple[float, float]] = {
    "capacity": (70, 90),
    "verification": (90, 80),
    "deletion": (95, 80),
    "invalid": (10, 25),
}
TITLE_LIMIT = 150  # characters of a message's title
# Slack's mention tokens, the one markup that pings (`mention`): a user, a user group, @here,
# @channel.
MENTION = re.compile(r"<@[UW][A-Z0-9]{2,20}>|<!subteam\^S[A-Z0-9]{2,20}>|<!here>|<!channel>")
