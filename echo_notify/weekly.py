"""The weekly digest (docs/watchdog.md): once a week, at the watchdog's first check at or after
`digest-weekly` (a weekday and a time in `timezone`), each watched workflow's reports this week
beside last week, read from the long memory their snapshots carry (`ledger`, with the window
added: every run by the UTC hour, six weeks). This week is the 7 x 24 hours before the check,
last week the 7 x 24 before those, by the hour a run started in. Values only: the wording is
weekly.j2's."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from .config import WeeklyAt
from .digest import LATE, READ_LIMIT, RUNS_LOOKED_AT, Read, shown_reports
from .ledger import HOUR, WEEK, Hour, Ledger, hour_of
from .report import HIGH_IS_BAD, Context, date_shown
from .state import Snapshot
from .trend import KEY
from .watchdog import Finding, shown_finding
from .weeks import COMPARED, RATES, TOTALS, as_shown, band, same_time

DAY = timedelta(days=1)
# Each report's capacity figure: the newest hour's this week beside the same hour a week before.
CAPACITY = {"sync": "utilization", "drain": "inventory", "poll": "pending"}


def latest(when: WeeklyAt, now: datetime, zone: ZoneInfo) -> datetime:
    """The latest weekly moment at or before ``now``, in UTC: this week's, or (its time still
    ahead) last week's. A time the clocks skip is the one it turns into, as the daily digest's."""
    today = now.astimezone(zone).date()
    day = today - timedelta(days=(today.weekday() - when.weekday) % 7)
    moment = datetime.combine(day, when.time, tzinfo=zone).astimezone(UTC)
    if moment > now:
        moment = datetime.combine(day - WEEK, when.time, tzinfo=zone).astimezone(UTC)
    return moment


def due(when: WeeklyAt | None, since: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Whether this check posts the weekly digest: the latest weekly moment is after ``since``
    (digest.since, with `weekly`) and at most LATE ago, as the daily digest's rule."""
    if when is None:
        return False
    moment = latest(when, now, zone)
    return since < moment and now - moment <= LATE


def week(kind: str, memory: Ledger, end: datetime, zone: tzinfo) -> dict[str, Any]:
    """One report's hours that started in the 7 x 24 hours up to ``end``, added up: runs,
    problem runs, problem hours (an hour with any), the total (leads added or removed,
    verifications checked), the key rate's average over its runs and its worst, with the hour
    of the worst in ``zone``."""
    hours = _within(memory, end - WEEK, end)
    key, total = KEY[kind], TOTALS[kind]
    rated = sum(h.counts.get(key, 0) for h in hours.values())
    totals = [t for h in hours.values() if (t := h.total(total)) is not None]
    pick = max if key in HIGH_IS_BAD else min
    worst = [(h.worst[key], at) for at, h in hours.items() if key in h.worst]
    found = pick(worst, key=lambda w: w[0]) if worst else None
    return {
        "runs": sum(h.runs for h in hours.values()),
        "problems": sum(h.problems for h in hours.values()),
        "problem_hours": sum(h.problems > 0 for h in hours.values()),
        "total": sum(totals) if totals else None,
        "average": sum(h.sums.get(key, 0) for h in hours.values()) / rated if rated else None,
        "worst": found[0] if found else None,
        "worst_at": found[1].astimezone(zone) if found else None,
    }


def compare(kind: str, memory: Ledger, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """One report's week beside the week before, from ``memory`` (every run by the hour):
    `this` and `last` (`week`; last None when the memory does not reach back to its start,
    and then `since`, the first hour it knows), their `change` (the total in %, the key rate's
    average and worst in points as shown; None without last week), `capacity`, the `unusual`
    hours (`learnt`: whether any hour this week had a usual band yet) and the summary's
    `chart`."""
    key = KEY[kind]
    this = week(kind, memory, now, zone)
    last = week(kind, memory, now - WEEK, zone) if reaches(memory, now - 2 * WEEK) else None
    change = None
    if last is not None:
        change = {
            "total": _percent(this["total"], last["total"]),
            "average": _points(key, this["average"], last["average"]),
            "worst": _points(key, this["worst"], last["worst"]),
        }
    start = memory.start.astimezone(zone) if memory.start and last is None else None
    local = now.astimezone(zone)
    unusual, learnt = unusual_hours(kind, memory, now, zone)
    return {
        "kind": kind,
        "key": key,
        "this": this,
        "last": last,
        "change": change,
        "since": start,
        "since_date": date_shown(start, local) if start else "",
        "capacity": capacity(kind, memory, now, zone),
        "unusual": unusual,
        "learnt": learnt,
        "chart": chart(kind, memory, now, zone),
    }


def reaches(memory: Ledger, moment: datetime) -> bool:
    """Whether the memory knows the hours after ``moment``: its first hour is at most two of
    the report's usual intervals (an hour at least) after the first of them."""
    if memory.start is None:
        return False
    known = list(memory.hours)
    gaps = [(b - a) / HOUR for a, b in itertools.pairwise(known)]
    slack = max(2 * median(gaps), 1) * HOUR if gaps else HOUR
    return memory.start <= hour_of(moment) + HOUR + slack


def capacity(kind: str, memory: Ledger, now: datetime, zone: tzinfo) -> dict[str, Any] | None:
    """The report's capacity figure (sync's utilization, drain's inventory, poll's pending)
    in the newest hour this week that has it, beside the same weekday and hour a week before
    in ``zone`` (None: unknown), and the change (points for a rate, % for a count)."""
    figure = CAPACITY[kind]
    hours = _within(memory, now - WEEK, now)
    newest = max((at for at, h in hours.items() if h.mean(figure) is not None), default=None)
    if newest is None:
        return None
    value = hours[newest].mean(figure)
    then = memory.hours.get(hour_of(same_time(newest, zone)))
    before = then.mean(figure) if then else None
    rate = figure in RATES
    change = _points(figure, value, before) if rate else _percent(value, before)
    return {"figure": figure, "value": value, "before": before, "change": change}


def unusual_hours(
    kind: str, memory: Ledger, now: datetime, zone: tzinfo
) -> tuple[list[dict[str, Any]], bool]:
    """This week's hours whose mean of a compared figure (weeks.COMPARED) is outside its usual
    band for that weekday and hour (weeks.band, from the weeks before it) on the bad side, in
    time order, each with its hour in ``zone``; and whether any hour's band was learnt."""
    found, learnt = [], False
    for at, hour in _within(memory, now - WEEK, now).items():
        for figure in COMPARED[kind]:
            value = hour.mean(figure)
            if value is None:
                continue
            usual = band(memory, figure, at, zone)
            learnt = learnt or usual.learnt
            if usual.unusual(figure, value):
                found.append(
                    {
                        "at": at.astimezone(zone),
                        "figure": figure,
                        "value": value,
                        "low": usual.low,
                        "high": usual.high,
                    }
                )
    return found, learnt


def chart(kind: str, memory: Ledger, now: datetime, zone: tzinfo) -> dict[str, Any] | None:
    """The key rate by day in ``zone``: the 7 whole days before today beside the 7 before
    those, weekday by weekday, only the days both weeks have (a chart's line has no gaps) and
    only once the memory reaches back to the first of them; None below two such days."""
    key = KEY[kind]
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=7 - i) for i in range(7)]
    first = datetime.combine(days[0] - WEEK, time(), tzinfo=zone)
    if not reaches(memory, first - HOUR):
        return None
    means = _by_day(memory, key, zone)
    both = [d for d in days if d in means and d - WEEK in means]
    if len(both) < 2:
        return None
    return {
        "labels": [f"{d:%a}" for d in both],
        "this": [means[d] for d in both],
        "last": [means[d - WEEK] for d in both],
        "this_from": days[0],
        "this_to": days[-1],
        "last_from": days[0] - WEEK,
        "last_to": days[-1] - WEEK,
    }


def variables(
    findings: list[Finding], reads: dict[str, Read], ctx: Context, workflows_url: str
) -> dict[str, Any]:
    """The weekly digest's template variables: each watched workflow as the watchdog found it
    now, its page, and each of its reports' week beside the week before (`compare`), or why
    there is none."""
    zone, now = ctx.timezone, ctx.now
    shown = []
    for finding in findings:
        found = reads.get(finding.workflow)
        reports, unread = shown_reports(found, _describe(now, zone))
        shown.append(
            {
                **shown_finding(finding, ctx),
                "url": f"{workflows_url}/{finding.workflow}",
                "reports": reports,
                "unread": unread,
                "error": found.error if found else "",
            }
        )
    shown.sort(key=lambda w: not w["problem"])  # what needs attention first, whatever is cut
    local = now.astimezone(zone)
    return {
        "report": "weekly",
        "looked_at": RUNS_LOOKED_AT,
        "read_limit": READ_LIMIT,
        "time": local,
        "this_from": (now - WEEK).astimezone(zone),
        "last_from": (now - 2 * WEEK).astimezone(zone),
        "workflows": shown,
        "late": [w for w in shown if w["problem"]],
        "run_url": ctx.run_url,
        "local_run": ctx.local_run,
        "summary": False,
    }


def _describe(now: datetime, zone: tzinfo) -> Callable[[str, Snapshot], dict[str, Any]]:
    """One report's week as `compare` reads it from its snapshot, and its newest run."""

    def describe(kind: str, snapshot: Snapshot) -> dict[str, Any]:
        memory = snapshot.ledger.add(snapshot.runs, now)  # the runs before the window, and it
        newest = max(p.time for p in snapshot.runs).astimezone(zone)
        return {
            **compare(kind, memory, now, zone),
            "newest": newest,
            "newest_date": date_shown(newest, now.astimezone(zone)),
        }

    return describe


def _within(memory: Ledger, start: datetime, end: datetime) -> dict[datetime, Hour]:
    """The hours that started after ``start`` and at or before ``end``."""
    return {at: hour for at, hour in memory.hours.items() if start < at <= end}


def _by_day(memory: Ledger, figure: str, zone: tzinfo) -> dict[date, float]:
    """``figure``'s mean over each day's runs in ``zone`` that have it."""
    sums: dict[date, float] = defaultdict(float)
    counts: dict[date, int] = defaultdict(int)
    for at, hour in memory.hours.items():
        if hour.counts.get(figure):
            day = at.astimezone(zone).date()
            sums[day] += hour.sums[figure]
            counts[day] += hour.counts[figure]
    return {day: sums[day] / counts[day] for day in sums}


def _percent(value: float | None, before: float | None) -> int | None:
    """The change from ``before`` to ``value`` in whole %: None when either is unknown or
    ``before`` is 0."""
    if value is None or not before:
        return None
    return round((value - before) / before * 100)


def _points(figure: str, value: float | None, before: float | None) -> float | None:
    """The change of a rate in points, from the values as shown (one decimal)."""
    if value is None or before is None:
        return None
    return round(as_shown(figure, value) - as_shown(figure, before), 1)
