"""A workflow's schedule, as GitHub reads it from the workflow file, and the runs it made due.

GitHub's rules (docs.github.com, "Events that trigger workflows", `schedule`, and "Workflow
syntax", `on.schedule`): each entry of `on.schedule` has a `cron` in POSIX five-field syntax,
evaluated in UTC unless the entry names an IANA `timezone`; when a clock change skips a time,
the run moves to the next valid time (2:30 AM becomes 3:00 AM). cronsim (healthchecks.io's
cron library) follows the same rule for a fixed time of day, and takes the first of a
repeated one. GitHub may start a scheduled run late, or drop it, when Actions is busy.

The workflow file is read as the small part of YAML that an `on.schedule` needs (block or
flow style, quoted or not, comments); anchors and aliases are not followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import CasingTypeEnum, ExpressionDescriptor, Options
from cronsim import CronSim, CronSimError

from .errors import ScheduleError
from .text import clean, cut, one_line

FIELDS = ("minute", "hour", "day of the month", "month", "day of the week")
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")


@dataclass(frozen=True)
class Cron:
    """One `on.schedule` entry."""

    expression: str
    zone: tzinfo  # UTC unless the entry names a `timezone`
    zone_name: str = ""  # as written; '' for UTC

    def after(self, start: datetime) -> CronSim:
        """Its times after ``start``, in its zone."""
        return CronSim(self.expression, start.astimezone(self.zone))


def read(text: str) -> tuple[Cron, ...]:
    """The schedule of a workflow file; () when it has none. A bad cron or time zone is a
    ScheduleError that quotes it."""
    return tuple(_cron(expression, zone) for expression, zone in entries(text))


def _cron(expression: str, zone_name: str) -> Cron:
    fields = expression.split()
    quoted = repr(cut(one_line(clean(expression)), 60))  # as written, within reason
    if len(fields) != 5:
        raise ScheduleError(
            f"the cron {quoted} has {len(fields)} fields; GitHub takes 5 "
            "(minute, hour, day of the month, month, day of the week)"
        )
    for i, field in enumerate(fields):  # one field at a time, to name the bad one
        probe = ["*"] * 5
        probe[i] = field
        try:
            CronSim(" ".join(probe), datetime(2026, 1, 1, tzinfo=UTC))
        except CronSimError:
            raise ScheduleError(
                f"the cron {quoted} has a bad {FIELDS[i]} (the {ORDINALS[i]} field)"
            ) from None
    try:
        CronSim(expression, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ScheduleError(f"the cron {quoted} cannot be read ({exc})") from None
    if not zone_name:
        return Cron(expression, UTC)
    try:
        return Cron(expression, ZoneInfo(zone_name), zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        shown = repr(cut(one_line(clean(zone_name)), 60))
        raise ScheduleError(
            f"the timezone {shown} is not an IANA time zone (e.g. America/New_York)"
        ) from None


def due(crons: tuple[Cron, ...], start: datetime, end: datetime) -> list[datetime]:
    """Every time a run was due from ``start`` to ``end`` (both included), in UTC, in order;
    two entries due at the same moment are one run."""
    found: set[datetime] = set()
    for cron in crons:
        for moment in cron.after(start - timedelta(seconds=1)):
            if moment > end:
                break
            found.add(moment.astimezone(UTC))
    return sorted(found)


def back(crons: tuple[Cron, ...], end: datetime, count: int, limit: datetime) -> datetime:
    """The ``count``-th due time before ``end`` (or ``limit``, when fewer come after it)."""
    step = timedelta(days=1)
    start = end - step
    while start > limit:
        times = due(crons, start, end)
        if len(times) >= count:
            return times[-count]
        step *= 2
        start = end - step
    return limit


def words(crons: tuple[Cron, ...]) -> str:
    """The schedule in words (cron-descriptor's English): `every 30 minutes`, `at 09:00 AM,
    Monday through Friday, America/New_York`; several entries joined by `; `."""
    said = []
    for cron in crons:
        options = Options(CasingTypeEnum.Sentence, locale_code="en_US")
        text = str(ExpressionDescriptor(cron.expression, options).get_description())
        text = text[:1].lower() + text[1:]
        if cron.zone_name:
            text += f", {cron.zone_name}"
        elif cron.expression.split()[1] != "*" and not text.startswith("every"):
            text += ", UTC"  # a time of day: say whose
        said.append(text)
    return "; ".join(said)


Status = Literal["on time", "late", "missed", "waiting"]


@dataclass(frozen=True)
class Due:
    """A run the schedule made due, and what became of it."""

    time: datetime
    status: Status  # waiting: no run yet, and the next one is not due yet
    delay: timedelta | None = None  # from the due time to the run that answered it


def judge(
    times: list[datetime], starts: list[datetime], now: datetime, grace: timedelta
) -> list[Due]:
    """Each due time with its fate: the first run created from it until the next one is due
    answers it, on time within ``grace`` and late after; none by then, it was missed."""
    starts = sorted(starts)
    out = []
    for i, moment in enumerate(times):
        following = times[i + 1] if i + 1 < len(times) else None
        answer = next(
            (s for s in starts if s >= moment and (following is None or s < following)), None
        )
        if answer is not None:
            delay = answer - moment
            out.append(Due(moment, "late" if delay > grace else "on time", delay))
        elif following is not None and following <= now:
            out.append(Due(moment, "missed"))
        else:
            out.append(Due(moment, "waiting"))
    return out


def missed_in_a_row(judged: list[Due]) -> int:
    """The newest run of the schedule missed, and the ones before it, until one that ran."""
    count = 0
    for entry in reversed(judged):
        if entry.status == "waiting":
            continue
        if entry.status != "missed":
            break
        count += 1
    return count


_ON = re.compile(r"""^(?:on|"on"|'on')\s*:(.*)$""")
_SCHEDULE = re.compile(r"""^(\s*)(?:schedule|"schedule"|'schedule')\s*:(.*)$""")
_KEY = re.compile(
    r"""(?:^|[\s{,\-])(cron|timezone|"cron"|"timezone")\s*:\s*"""
    r"""('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^,}\n#]+)"""
)


def entries(text: str) -> list[tuple[str, str]]:
    """(cron, timezone) of each `on.schedule` entry of a workflow file; [] without one."""
    lines = [_uncomment(line) for line in text.splitlines()]
    section = _on(lines)
    if section is None:
        return []
    body = _schedule(section)
    if body is None:
        return []
    found: list[tuple[str, str]] = []
    for item in re.split(r"(?m)^\s*-\s|(?<=[\[,])\s*(?=\{)|\{", body):
        keys = {m.group(1).strip("\"'"): _scalar(m.group(2)) for m in _KEY.finditer(item)}
        if keys.get("cron"):
            found.append((keys["cron"], keys.get("timezone", "")))
    return found


def _on(lines: list[str]) -> str | None:
    """The text of the top-level `on:` key (its inline value and indented lines)."""
    for i, line in enumerate(lines):
        match = _ON.match(line)
        if not match:
            continue
        block = [match.group(1)]
        for following in lines[i + 1 :]:
            if following.strip() and not following[:1].isspace():
                break
            block.append(following)
        return "\n".join(block)
    return None


def _schedule(section: str) -> str | None:
    """The text of `schedule:` within `on:` (block style), or the flow mapping's part."""
    lines = section.splitlines()
    for i, line in enumerate(lines):
        match = _SCHEDULE.match(line)
        if match:
            indent = len(match.group(1))
            block = [match.group(2)]
            for following in lines[i + 1 :]:
                stripped = following.strip()
                depth = len(following) - len(following.lstrip())
                if stripped and depth <= indent and not stripped.startswith("-"):
                    break
                if stripped.startswith("-") and depth < indent:
                    break
                block.append(following)
            return "\n".join(block)
    flow = re.search(r"""(?:schedule|"schedule"|'schedule')\s*:\s*(\[.*)""", section, re.S)
    return flow.group(1) if flow else None


def _uncomment(line: str) -> str:
    """The line without its comment (a `#` after a space, outside quotes)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line


def _scalar(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value
