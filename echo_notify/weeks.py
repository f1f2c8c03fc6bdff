"""Week over week, and what is normal for this hour (docs/history-and-trends.md): readings of
the long memory (`ledger`, with the window added). Every comparison names the weekday and
hour it compares with, in `timezone`, and there is none when that value is unknown. Values
only: the wording is the templates'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, tzinfo
from statistics import median
from typing import Any

from .ledger import HOUR, WEEK, Ledger, hour_of
from .text import tenths

# The figures each report holds up against their usual values: its key rate, then the run's
# count; and the one it adds up over the day.
COMPARED = {
    "sync": ("verification", "added"),
    "drain": ("deletion", "removed"),
    "poll": ("invalid",),
}
TOTALS = {"sync": "added", "drain": "removed", "poll": "checked"}
RATES = frozenset({"verification", "deletion", "invalid", "utilization"})
HIGH_IS_BAD = frozenset({"invalid", "utilization"})  # for the others a drop is the news
LEARNED = 2  # weeks of an hour known before its values can be unusual
LOOK_BACK = 5  # weeks of an hour a baseline reads
SPREAD = 3.0  # how many (scaled) median absolute deviations either side are usual
MAD_SCALE = 1.4826  # a MAD so scaled estimates a standard deviation
RATE_FLOOR = 2.0  # points: the least half-width of a rate's usual band
COUNT_FLOOR = (0.25, 5.0)  # a count's least half-width: a share of its median, and at least


def same_time(moment: datetime, zone: tzinfo, weeks: int = 1) -> datetime:
    """The same weekday and time on the clock in ``zone``, ``weeks`` before."""
    local = moment.astimezone(zone)
    return (local.replace(tzinfo=None) - weeks * WEEK).replace(tzinfo=zone)


@dataclass(frozen=True)
class Band:
    """What is usual for a figure at one weekday and hour: the median of the previous weeks'
    values at that hour, and the band around it (median ± SPREAD scaled MADs, at least the
    floor). ``weeks``: how many weeks were known."""

    weeks: int
    low: float | None = None
    high: float | None = None
    median: float | None = None

    @property
    def learnt(self) -> bool:
        return self.low is not None

    def unusual(self, figure: str, value: float | None) -> bool:
        """Outside the band on the side that is bad news (a drop in verification, a rise in
        the invalid share); never before the band is learnt."""
        if value is None or self.low is None or self.high is None:
            return False
        shown = tenths(value)
        return shown > self.high if figure in HIGH_IS_BAD else shown < self.low


def band(memory: Ledger, figure: str, moment: datetime, zone: tzinfo) -> Band:
    """The usual band of ``figure`` at ``moment``'s weekday and hour in ``zone``, from the
    same hour of each of the previous LOOK_BACK weeks that has it."""
    values = []
    for weeks in range(1, LOOK_BACK + 1):
        hour = memory.hours.get(hour_of(same_time(moment, zone, weeks)))
        if hour is not None and (value := hour.mean(figure)) is not None:
            values.append(value)
    if len(values) < LEARNED:
        return Band(len(values))
    middle = median(values)
    spread = MAD_SCALE * median(abs(v - middle) for v in values)
    share, least = COUNT_FLOOR
    floor = RATE_FLOOR if figure in RATES else max(share * abs(middle), least)
    width = max(SPREAD * spread, floor)
    low, high = middle - width, middle + width
    top = 100.0 if figure in RATES else high
    return Band(len(values), tenths(max(low, 0.0)), tenths(min(high, top)), middle)


def bands(
    memory: Ledger, figure: str, times: list[datetime], zone: tzinfo
) -> dict[str, list[float]] | None:
    """The usual band of ``figure`` at each of ``times`` (`low` and `high`, a value each):
    None unless every one is learnt (a chart's line has no gaps)."""
    found = [band(memory, figure, moment, zone) for moment in times]
    if not found or not all(b.learnt for b in found):
        return None
    return {"low": [b.low for b in found], "high": [b.high for b in found]}  # type: ignore[misc]


def readings(
    kind: str, past: Ledger, moment: datetime, figures: dict[str, Any], zone: tzinfo
) -> dict[str, Any]:
    """The report's `weeks` variable for a run at ``moment`` with ``figures``, from ``past``
    (every earlier run, by the hour): `ago` (each figure at the same weekday and hour a week
    before, its `change` to this run as shown), `today` (the day's total so far beside last
    week's to the same hour), `usual` (each compared figure's band, once learnt), `unusual`
    (those outside it on the bad side) and `learning` (not learnt yet: the weeks known, and
    from when it will be). `at` and `then` are this hour and last week's, in ``zone``."""
    last = past.hours.get(hour_of(same_time(moment, zone)))
    ago = {}
    for figure, value in figures.items():
        before = last.mean(figure) if last else None
        if value is not None and before is not None:
            change = round(as_shown(figure, value) - as_shown(figure, before), 1)
            ago[figure] = {"value": value, "before": before, "change": change}
    usual, unusual, known = {}, [], []
    for figure in COMPARED.get(kind, ()):
        value = figures.get(figure)
        if value is None:
            continue
        found = band(past, figure, moment, zone)
        known.append(found.weeks)
        if found.learnt:
            usual[figure] = {"low": found.low, "high": found.high}
            if found.unusual(figure, value):
                unusual.append({"figure": figure, "value": value, **usual[figure]})
    learning = None
    if known and min(known) < LEARNED and past.start is not None:  # history on, and read
        weeks = min(known)
        learning = {
            "weeks": weeks,
            "from": _local_hour(same_time(moment, zone, weeks - LEARNED), zone),
        }
    total = TOTALS.get(kind, "")
    return {
        "key": COMPARED[kind][0] if kind in COMPARED else None,
        "at": _local_hour(moment, zone),
        "then": _local_hour(same_time(moment, zone), zone),
        "ago": ago,
        "today": today(past, total, moment, figures.get(total), zone) if total else None,
        "usual": usual,
        "unusual": unusual,
        "learning": learning,
    }


def _local_hour(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the UTC hour ``moment`` is in, on the clock of ``zone``: what a
    comparison by the hour names (9 AM; 9:30 AM where the zone is half an hour off UTC)."""
    return hour_of(moment).astimezone(zone)


def today(
    past: Ledger, figure: str, moment: datetime, value: float | None, zone: tzinfo
) -> dict[str, Any] | None:
    """The day's total of ``figure`` so far (from midnight in ``zone`` to ``moment``, this
    run's ``value`` included) beside the same weekday's a week before to the same point: the
    whole hours before this run's hour on both days, then this hour's runs so far beside as
    many of last week's (its share of that hour). A day starts at its first whole UTC hour
    (in a zone half an hour off UTC, the half hour before it is the day before's). None unless
    the memory reaches back to last week's day and both days have the figure."""
    then = same_time(moment, zone)
    first, first_then = _first_hour(moment, zone), _first_hour(then, zone)
    start = past.start
    if value is None or start is None or start > first_then:
        return None
    hour, hour_then = hour_of(moment), hour_of(then)
    earlier = past.hours.get(hour) if hour >= first else None
    runs = (earlier.counts.get(figure, 0) if earlier else 0) + 1  # this hour's, so far
    so_far = _total(past, figure, first, hour) + (earlier.sums.get(figure, 0) if earlier else 0)
    last = past.hours.get(hour_then) if hour_then >= first_then else None
    share = min(1.0, runs / last.counts[figure]) if last and last.counts.get(figure) else 0.0
    before = _total(past, figure, first_then, hour_then) + (
        last.sums[figure] * share if last and share else 0
    )
    known = any(
        first_then <= at <= hour_then and h.counts.get(figure) for at, h in past.hours.items()
    )
    if not known:
        return None
    so_far += value
    change = round((so_far - before) / before * 100) if before else None
    return {"figure": figure, "value": so_far, "before": before, "change": change}


def _first_hour(moment: datetime, zone: tzinfo) -> datetime:
    """The first whole UTC hour of ``moment``'s day in ``zone``."""
    midnight = datetime.combine(moment.astimezone(zone).date(), time(), tzinfo=zone)
    first = hour_of(midnight)
    return first if first == midnight else first + HOUR


def _total(memory: Ledger, figure: str, first: datetime, before: datetime) -> float:
    """The figure's sum over the hours from ``first`` up to ``before`` (not included)."""
    return sum(
        hour.sums.get(figure, 0) for at, hour in memory.hours.items() if first <= at < before
    )


def as_shown(figure: str, value: float) -> float:
    """A figure at the precision the reports show it: a percentage to one decimal as `percent`
    does, a count whole (or to one decimal when the file gives a fraction, as `count` does)."""
    return tenths(value) if figure in RATES else round(value, 1)
