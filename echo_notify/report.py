"""The report model: what templates receive, every value derived once, levels and severity,
and what changed since the previous run (docs/history-and-trends.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import trend, weeks
from .choices import THRESHOLDS, JobStatus, Unusual
from .errors import NoMetrics
from .ledger import Ledger
from .metrics import DRAIN_CLASSES, POLL_STATUSES, Metrics, Number
from .state import (
    Decision,
    Level,
    Point,
    Snapshot,
    Streak,
    advance,
    archived,
    attempted,
    carried,
    counted,
    remembered,
)
from .text import tenths
from .weeks import as_shown

HIGH_IS_BAD = frozenset({"capacity", "invalid"})
GAUGES = frozenset(THRESHOLDS)  # what `notify-on: changes` compares
# The fields (or whole sections; `.*`: any field in it) each gauge is judged from: when one of
# them is bad data and the gauge has no level, the pipeline's writer broke: not a calm run.
GAUGE_FIELDS: dict[str, tuple[str, ...]] = {
    "capacity": (
        "capacity_status",
        "capacity_status.current_inventory",
        "capacity_status.max_capacity",
        "capacity_status.utilization_percentage",
        "capacity_status.estimated_capacity_remaining",
    ),
    "verification": (
        "verification_results",
        "verification_results.total_attempted",
        "verification_results.verified_successful",
        "verification_results.success_rate_percentage",
    ),
    "deletion": (
        "deletion_results",
        "deletion_results.attempted_deletions",
        "deletion_results.successful_deletions",
        "deletion_results.success_rate_percentage",
    ),
    "invalid": ("verifications_checked", "status_breakdown", "status_breakdown.*"),
}
STALE = timedelta(hours=6)  # older metrics get a line saying how old


@dataclass(frozen=True, kw_only=True)
class Model:
    """A report (or the no-metrics alert) ready to render, and what the next run compares."""

    kind: str  # sync, drain, poll; for the alert the `report` input (maybe auto)
    template: str
    time: datetime
    severity: Level
    failed: bool
    levels: dict[str, Level | None] = field(default_factory=dict)
    figures: dict[str, Number | None] = field(default_factory=dict)  # key numbers shown
    streak: Streak = field(default_factory=Streak)
    # The causes that are not gauges (state.signature): no figures, only bad data, stale data,
    # errors logged, no file; the watchdog's problem per workflow.
    detail: dict[str, str] = field(default_factory=dict)
    current: bool = True  # real, current data (not none, only bad, or stale): heartbeat-worthy
    variables: dict[str, Any] = field(default_factory=dict)
    window: tuple[Point, ...] = ()  # the last runs, this one last (state.carried)
    ledger: Ledger = field(default_factory=Ledger)  # the runs before the window (state.archived)
    digest: datetime | None = None  # the watchdog's last daily digest (state.Snapshot)
    weekly: datetime | None = None  # the watchdog's last weekly digest (state.Snapshot)

    def snapshot(self, run_id: str, attempt: int) -> Snapshot:
        """What the next run compares with: no error texts, no secrets."""
        return Snapshot(
            kind=self.kind,
            time=self.time,
            run_id=run_id,
            attempt=attempt,
            severity=self.severity,
            failed=self.failed,
            levels=dict(self.levels),
            figures=dict(self.figures),
            streak=self.streak,
            detail=dict(self.detail),
            window=self.window,
            digest=self.digest,
            weekly=self.weekly,
            ledger=self.ledger,
        )


@dataclass(frozen=True, kw_only=True)
class Context:
    """What the run adds to the metrics: where and when it is shown, how the job went, the
    limits of the gauges and the previous run's snapshot."""

    timezone: ZoneInfo
    job_status: JobStatus
    now: datetime
    run_url: str
    local_run: bool
    thresholds: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(THRESHOLDS))
    previous: Snapshot | None = None
    run_id: str = ""  # GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT: what makes this run a re-run
    attempt: int = 1
    unusual: Unusual = "info"  # `unusual`: "warning" makes a figure outside what is usual one

    @property
    def earlier(self) -> Point | None:
        """This run's earlier attempt in the previous run's window: this run is a re-run."""
        return attempted(self.previous, self.run_id)


def build(metrics: Metrics, ctx: Context) -> Model:
    """The report's model: common values, the report's own, its gauges and the severity."""
    m = metrics.data
    own = {"sync": _sync, "drain": _drain, "poll": _poll}[metrics.report](m, ctx.thresholds)
    levels: dict[str, Level | None] = own.pop("levels")
    figures: dict[str, Number | None] = own.pop("figures")
    known = {level for level in levels.values() if level}
    # No data, only bad data, a gauge that bad data left unjudged or stale data: the
    # pipeline is broken, never a quiet run.
    data = metrics.data_state
    unjudged = _unjudged(levels, metrics.problems, placeholder=bool(own.get("handover")))
    stale = ctx.now - metrics.timestamp > STALE
    past = remembered(ctx.previous, ctx.run_id, ctx.now)  # every earlier run, by the hour
    new = counted(ctx.previous, ctx.run_id, ctx.attempt, metrics.timestamp, figures)
    shown = figures if new else {**figures, weeks.TOTALS[metrics.report]: None}  # no day total
    readings = weeks.readings(metrics.report, past, metrics.timestamp, shown, ctx.timezone)
    unusual = ",".join(u["figure"] for u in readings["unusual"]) if ctx.unusual == "warning" else ""
    if ctx.job_status != "success" or "critical" in known:
        severity: Level = "critical"
    elif (
        "warning" in known or metrics.error_count or data != "some" or unjudged or stale or unusual
    ):
        severity = "warning"
    else:
        severity = "ok"
    # Since when the problem runs go on: the first one's run, not its file's date (stale).
    streak = advance(ctx.previous, severity, ctx.job_status, ctx.now, earlier=ctx.earlier)
    failed = ctx.job_status != "success"
    point = Point(
        time=metrics.timestamp,
        severity=severity,
        failed=failed,
        figures=figures,
        levels=levels,
        run=ctx.run_id,
        cancelled=ctx.job_status == "cancelled",
        counted=new,
    )
    window = carried(ctx.previous, point)
    causes = {
        "data": "none" if data == "none" else "bad" if data == "bad" else "",
        "stale": "yes" if stale else "",
        "errors": "logged" if metrics.error_count else "",
        "unusual": unusual,  # `unusual: warning`: the figures outside what is usual
    }
    since = _since(ctx, figures, streak, metrics.timestamp)
    variables = {
        **_common(metrics.timestamp, ctx),
        **since,
        "report": metrics.report,
        "m": m,
        "data": data,
        "unjudged": unjudged,
        "levels": levels,
        "severity": severity,
        "errors": metrics.errors,
        "error_count": metrics.error_count,
        **_trend(metrics.report, window, past, ctx.timezone),
        "weeks": readings,
        "unusual": unusual,  # the figures `unusual: warning` made a warning of
        "gauges": trend.gauges(levels, figures, since["change"], ctx.thresholds, HIGH_IS_BAD),
        **own,
    }
    return Model(
        kind=metrics.report,
        template=f"{metrics.report}.j2",
        time=metrics.timestamp,
        severity=severity,
        failed=ctx.job_status != "success",
        levels=levels,
        figures=figures,
        streak=streak,
        detail={cause: value for cause, value in causes.items() if value},
        current=data == "some" and not stale,
        variables=variables,
        window=window,
        ledger=archived(ctx.previous, window, ctx.now, this=point),
    )


def _trend(kind: str, window: tuple[Point, ...], past: Ledger, zone: ZoneInfo) -> dict[str, Any]:
    """The window's trend, and in its chart the key figure's usual band at each run's weekday
    and hour (`band`: None until every run's is learnt)."""
    shown = trend.variables(kind, window, zone)
    chart = shown["trend"]["chart"] if shown["trend"] else None
    if chart:
        chart["band"] = weeks.bands(past, trend.KEY[kind], chart["times"], zone)
    return shown


def _unjudged(
    levels: dict[str, Level | None], problems: list[str], *, placeholder: bool
) -> list[dict[str, Any]]:
    """Each gauge without a level because a field it is judged from is bad data: `gauge` and
    the bad `fields`, as the warning names them. Verification handed over is not judged."""
    bad = [problem.split(": ", 1)[0] for problem in problems]
    found = []
    for gauge, sources in GAUGE_FIELDS.items():
        if gauge not in levels or levels[gauge] is not None:
            continue
        if gauge == "verification" and placeholder:
            continue
        fields = [f for f in bad if f in sources or f.rpartition(".")[0] + ".*" in sources]
        if fields:
            found.append({"gauge": gauge, "fields": list(dict.fromkeys(fields))})
    return found


def alert(ctx: Context, *, report: str, workflow: str, path: Path, reason: NoMetrics) -> Model:
    """The short alert sent when there is no report to render (docs/reports.md)."""
    severity: Level = "warning" if ctx.job_status == "success" else "critical"
    streak = advance(ctx.previous, severity, ctx.job_status, ctx.now, earlier=ctx.earlier)
    failed = ctx.job_status != "success"
    point = Point(
        time=ctx.now,
        severity=severity,
        failed=failed,
        figures={},
        levels={},
        run=ctx.run_id,
        cancelled=ctx.job_status == "cancelled",
    )
    window = carried(ctx.previous, point)
    variables = {
        **_common(ctx.now, ctx),
        **_since(ctx, {}, streak, ctx.now),
        "report": report,  # sync, drain, poll, or auto when only the workflow can name it
        "workflow": workflow,
        "file": path.name,
        "reason": reason,
        "severity": severity,
        "errors": [],
        "error_count": 0,
    }
    return Model(
        kind=report,
        template="alert.j2",
        time=ctx.now,
        severity=severity,
        failed=ctx.job_status != "success",
        streak=streak,
        detail={"file": reason},
        current=False,
        variables=variables,
        window=window,
        ledger=archived(ctx.previous, window, ctx.now, this=point),
    )


def _common(moment: datetime, ctx: Context) -> dict[str, Any]:
    time, now = moment.astimezone(ctx.timezone), ctx.now.astimezone(ctx.timezone)
    age = now - moment
    return {
        "time": time,
        "date": date_shown(time, now),
        "age_hours": int(age.total_seconds() // 3600) if age > STALE else None,
        "failed": ctx.job_status != "success",
        "job_status": ctx.job_status,
        "run_url": ctx.run_url,
        "local_run": ctx.local_run,
        **QUIET_DEFAULTS,
    }


# What `alerting` adds once the notify policy has decided; none of it before.
QUIET_DEFAULTS: dict[str, Any] = {"still": None, "unmuted": None, "mention": "", "recovered": None}


def alerting(model: Model, decision: Decision, ctx: Context, mention: str = "") -> Model:
    """The model with what the decision adds to the message: `still` (a reminder: the
    standing problems, since when, how many runs), `recovered` (the end of a problem the
    channel heard of: how many runs, since when), `unmuted` (a mute hid this problem: since
    when) and `mention` (the tokens for the headline, when this run pings)."""
    zone = model.time.astimezone(ctx.timezone).tzname()
    problem = model.severity != "ok" and not decision.quiet
    still = None
    if decision.reminder:
        gauges = [
            {
                "gauge": gauge,
                "level": level,
                "limit": ctx.thresholds[gauge][level == "critical"] if gauge in GAUGES else None,
                "high": gauge in HIGH_IS_BAD,
            }
            for gauge, level in model.levels.items()
            if level in ("warning", "critical")
        ]
        still = {
            **_shown(model.streak, ctx, zone),
            "gauges": gauges,
            "workflows": model.detail,  # the watchdog's; a report's causes that are not gauges
            "failing": model.failed,  # this run's job failed (`failed`: every run of the streak)
            "causes": [f"{cause}:{value}" for cause, value in model.detail.items()],
        }
    unmuted = None
    if decision.unmuted and problem:
        then = decision.unmuted.astimezone(ctx.timezone)
        now = ctx.now.astimezone(ctx.timezone)
        unmuted = {"since": then, "date": date_shown(then, now), "zone": then.tzname() != zone}
    over = decision.recovered
    recovered = _shown(over, ctx, zone) if over and decision.say == "recovery" else None
    return replace(
        model,
        variables={
            **model.variables,
            "still": still,
            "unmuted": unmuted,
            "mention": mention,
            "recovered": recovered,
        },
    )


def date_shown(moment: datetime, now: datetime) -> str:
    """How much of the date a time needs beside `now`: none, the day, or the year too."""
    return "" if moment.date() == now.date() else "day" if moment.year == now.year else "year"


def _since(
    ctx: Context, figures: dict[str, Number | None], streak: Streak, headline: datetime
) -> dict[str, Any]:
    """`previous`, `change` (per figure: the difference of the values as shown, None when
    none shows or unknown) and `streak` (from the 2nd problem run in a row). An earlier time
    keeps its zone when it differs from the headline's (across a clock change, "1:30 AM"
    alone would read as the headline's zone)."""
    before = ctx.previous
    now = ctx.now.astimezone(ctx.timezone)
    if before is None:
        return {"previous": None, "change": {}, "streak": None}
    zone = headline.astimezone(ctx.timezone).tzname()
    then = before.time.astimezone(ctx.timezone)
    change: dict[str, float | None] = {}
    for name, value in figures.items():
        old = before.figures.get(name)
        if value is None or old is None:
            change[name] = None
            continue
        delta = round(as_shown(name, value) - as_shown(name, old), 1)
        change[name] = delta or None
    return {
        "previous": {
            "time": then,
            "date": date_shown(then, now),
            "zone": then.tzname() != zone,
            "severity": before.severity,
            "levels": before.levels,
            "figures": before.figures,
        },
        "change": change,
        "streak": _shown(streak, ctx, zone) if streak.count >= 2 else None,
    }


def _shown(streak: Streak, ctx: Context, zone: str | None) -> dict[str, Any]:
    since = (streak.since or ctx.now).astimezone(ctx.timezone)
    return {
        "count": streak.count,
        "failed": streak.failed,
        "cancelled": streak.cancelled,
        "since": since,
        "date": date_shown(since, ctx.now.astimezone(ctx.timezone)),
        "zone": since.tzname() != zone,
    }


def level(
    gauge: str, value: Number | None, thresholds: dict[str, tuple[float, float]]
) -> Level | None:
    """ok, warning or critical for a gauge's value; None when the value is unknown."""
    if value is None:
        return None
    value = tenths(value)  # judged as shown
    warning, critical = thresholds[gauge]
    if gauge in HIGH_IS_BAD:
        return "critical" if value >= critical else "warning" if value >= warning else "ok"
    return "critical" if value < critical else "warning" if value < warning else "ok"


def _sync(m: dict[str, Any], limits: dict[str, tuple[float, float]]) -> dict[str, Any]:
    cap, leads = m["capacity_status"], m["leads_processed"]
    campaigns = [
        {"key": k, "name": v["campaign_name"], "leads_added": v["leads_added"]}
        for k, v in leads.items()
        if k.endswith("_campaign")
    ]
    added = [c["leads_added"] for c in campaigns]
    total = sum(added) if added and None not in added else None
    remaining = cap["estimated_capacity_remaining"]
    handover = _handover(m["async_verification"], leads)
    # With verification after the run, its numbers in the file are placeholders.
    rate = None if handover else m["verification_results"]["success_rate_percentage"]
    over = -remaining if remaining is not None and remaining < 0 else None
    return {
        "levels": {  # over capacity is critical, whatever else the file says
            "capacity": "critical"
            if over
            else level("capacity", cap["utilization_percentage"], limits),
            "verification": level("verification", rate, limits),
            "handover": None if not handover else "warning" if handover["broken"] else "ok",
        },
        "figures": {
            "inventory": cap["current_inventory"],
            "utilization": cap["utilization_percentage"],
            "verification": rate,
            "added": total,
        },
        "campaigns": campaigns,
        "added": total,
        "over_capacity": over,
        "handover": handover,
    }


def _handover(status: dict[str, Any], leads: dict[str, Any]) -> dict[str, Any] | None:
    """The hand-over to the asynchronous verification service, or None when the run verified
    leads itself (docs/metrics-file.md: only `triggered`, `lead_count` or `*_verification`
    mean it)."""
    parts = {k: v for k, v in status.items() if k.endswith("_verification")}
    triggered, sent = status["triggered"], status["lead_count"]
    if triggered is None and sent is None and not parts:
        return None
    failed_parts = [
        {
            "name": _short_name(k.removesuffix("_verification"), leads),
            "count": v["verification_count"],
        }
        for k, v in parts.items()
        if v["verification_triggered"] is False and v["verification_count"] != 0
    ]
    counts = [p["count"] for p in failed_parts]
    if failed_parts:
        failed = sum(counts) if None not in counts else None
    else:
        failed = sent if triggered is False else 0
    return {
        "triggered": triggered,
        "sent": sent,
        # Leads left unverified: a warning. Unknown (None) counts as broken when not triggered.
        "broken": bool(failed_parts) or (triggered is False and sent != 0),
        "failed": failed,
        "failed_campaigns": failed_parts,
    }


def _short_name(prefix: str, leads: dict[str, Any]) -> str:
    """`smb` → SMB: the campaign's own name without "Campaign", else the key's words."""
    campaign = leads.get(f"{prefix}_campaign")
    name = campaign.get("campaign_name") if isinstance(campaign, dict) else None
    if name and name.strip():
        return str(name).strip().removesuffix(" Campaign").removesuffix(" campaign")
    words = prefix.replace("_", " ")
    return words.upper() if len(words) <= 3 else words.title()


def _drain(m: dict[str, Any], limits: dict[str, tuple[float, float]]) -> dict[str, Any]:
    breaker = m["circuit_breaker"]["activated"]
    dele = m["deletion_results"]
    return {
        "levels": {
            "deletion": level("deletion", dele["success_rate_percentage"], limits),
            "breaker": "critical" if breaker else None if breaker is None else "ok",
        },
        "figures": {
            "deletion": dele["success_rate_percentage"],
            "removed": m["inventory_impact"]["leads_removed"],
            "inventory": m["inventory_impact"]["new_inventory_total"],
        },
        "extra_classes": [
            k for k in m["drain_classifications"] if k not in (*DRAIN_CLASSES, "total_identified")
        ],
    }


def _poll(m: dict[str, Any], limits: dict[str, tuple[float, float]]) -> dict[str, Any]:
    checked, breakdown = m["verifications_checked"], m["status_breakdown"]
    statuses = [
        {
            "key": key,
            "count": breakdown.get(key),
            "share": breakdown[key] / checked * 100
            if checked and breakdown.get(key) is not None
            else None,
        }
        for key in [*POLL_STATUSES, *(k for k in breakdown if k not in POLL_STATUSES)]
    ]
    invalid = next(s["share"] for s in statuses if s["key"] == "invalid")
    minutes = (m["duration_seconds"] or 0) / 60
    return {
        "levels": {"invalid": level("invalid", invalid, limits)},
        "figures": {"pending": breakdown.get("pending"), "invalid": invalid, "checked": checked},
        "statuses": statuses,
        "rate": checked / minutes if checked is not None and minutes else None,
        "by_campaign": [
            {"name": v["name"] or k, "count": v["count"]}
            for k, v in m["deletion_breakdown"].items()
        ],
    }
