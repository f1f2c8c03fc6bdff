"""The daily digest (docs/watchdog.md): once a day, at the watchdog's first check at or after
`digest-at` in `timezone`, the last 24 hours of every watched workflow, read from the snapshots
its reports keep (each carries the window of its last runs). What it cannot read, it says."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from statistics import fmean, median
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import cancel, history, state, trend
from .errors import HistoryError
from .report import HIGH_IS_BAD, Context, date_shown
from .state import WINDOW, Point, Snapshot
from .watchdog import OWN_RUNS_LOOKED_AT, Finding, shown_finding
from .weeks import TOTALS

if TYPE_CHECKING:
    from github import Github

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
LATE = timedelta(hours=12)  # a digest still due this long after its time waits for the next
REPORTS = ("sync", "drain", "poll")
RUNS_LOOKED_AT = 5  # a workflow's newest runs searched for its reports' snapshots
READ_LIMIT = 60.0  # seconds for reading every workflow's snapshots; the rest is said unread
PREFIX = "echo-notify-"
NAME = re.compile(r"echo-notify-.+-(sync|drain|poll)(-[A-Za-z0-9._-]{1,40})?")  # artifact_name
NOW_FIGURES = ("utilization", "inventory", "pending")  # the newest run's: capacity now


def due(at: time | None, since: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Whether this check posts the digest: the latest `digest-at` in `zone` at or before now
    is after ``since`` (see `since`) and at most LATE ago (today's, or yesterday's for a time
    late in the evening at the first check past midnight; never one so late that the next one
    is near). A time the clocks skip is the one it
    turns into (2:30 is 3:30 EDT); a repeated one, its first."""
    if at is None:
        return False
    day_ = now.astimezone(zone).date()
    moment = datetime.combine(day_, at, tzinfo=zone).astimezone(UTC)
    if moment > now:
        moment = datetime.combine(day_ - timedelta(days=1), at, tzinfo=zone).astimezone(UTC)
    return since < moment and now - moment <= LATE


def since(
    previous: Snapshot | None, now: datetime, zone: ZoneInfo, *, unread: bool, weekly: bool = False
) -> datetime:
    """Up to when the digests are done (the daily ones, or the ``weekly`` ones): as the
    previous check kept it, or (a check from before `digest-at` or `digest-weekly` was set)
    that check's time; without a previous check, just before this day's midnight in `zone`, so
    only today's time counts (00:00 too). When the look-up of the previous check failed
    (``unread``), unknown: long ago, so any digest due may have gone out."""
    if unread:
        return now - 2 * DAY
    if previous is not None:
        return (previous.weekly if weekly else previous.digest) or previous.time
    midnight = datetime.combine(now.astimezone(zone).date(), time(), tzinfo=zone)
    return midnight - timedelta(microseconds=1)


@dataclass
class Source:
    """One report's snapshot in a workflow: an artifact, or why it could not be read."""

    name: str  # the artifact's name
    kind: str = ""
    snapshot: Snapshot | None = None
    error: str = ""


@dataclass
class Read:
    """What the digest read of one workflow."""

    sources: list[Source] = field(default_factory=list)
    error: str = ""  # why nothing could be read
    done: bool = False


def read(client: Github, repository: str, findings: list[Finding]) -> dict[str, Read]:
    """Every watched workflow's newest report snapshots, within READ_LIMIT s all told; a
    workflow not read by then is left with `done` false (the digest says so)."""
    reads = {f.workflow: Read() for f in findings if f.problem != "missing" and f.workflow != "all"}

    def work() -> None:
        repo = client.get_repo(repository)
        for workflow, found in reads.items():
            _read(client, repo, workflow, found)

    try:
        cancel.within(READ_LIMIT, work, "echo-notify-digest")
    except TimeoutError:
        pass  # what was read is used, the rest is said unread
    except Exception as exc:  # noqa: BLE001 -- the digest says it, the check goes on
        for found in reads.values():
            found.error = found.error or _why(exc)
    return {k: Read(list(v.sources), v.error, v.done) for k, v in reads.items()}


def _read(client: Github, repo: Any, workflow: str, found: Read) -> None:
    """The newest snapshot of each report in the workflow's last runs (a report whose job
    skipped the newest run is in an earlier one); one kept after a failed look-up (`blind`)
    joined to the one of its name kept before it, as the report's own look-up does."""
    try:
        runs = repo.get_workflow(workflow).get_runs(branch=repo.default_branch)
        # A fork's run (its pull request, on its own `main`) holds numbers its author wrote.
        own = (
            r for r in itertools.islice(runs, OWN_RUNS_LOOKED_AT) if history.own(r, repo.full_name)
        )
        seen: set[str] = set()
        blind: dict[str, list[Source]] = {}  # by name: the sources awaiting the one before
        for run in itertools.islice(own, RUNS_LOOKED_AT):
            for artifact in run.get_artifacts():
                name = artifact.name
                if not NAME.fullmatch(name) or artifact.expired:
                    continue
                if name not in seen:
                    seen.add(name)  # the newest of each name
                    found.sources.extend(sources := _sources(client, artifact))
                elif name in blind:
                    sources = blind.pop(name)
                    _resume(sources, _sources(client, artifact))
                else:
                    continue
                if any(s.snapshot and s.snapshot.blind for s in sources):
                    blind[name] = sources
    except Exception as exc:  # noqa: BLE001 -- said in the digest, never a failed check
        found.error = _why(exc)
    found.done = True


def _resume(sources: list[Source], before: list[Source]) -> None:
    """Each blind snapshot of ``sources`` joined to the same report's in ``before``."""
    older = {s.kind: s.snapshot for s in before if s.snapshot}
    for source in sources:
        if source.snapshot and source.snapshot.blind and source.kind in older:
            source.snapshot = state.resumed(source.snapshot, older[source.kind])


def _sources(client: Github, artifact: Any) -> list[Source]:
    name = artifact.name
    if artifact.size_in_bytes > history.ARTIFACT_LIMIT:
        return [Source(name, error=f"its {artifact.size_in_bytes:,} bytes are too many")]
    try:
        data = history.fetch(client, artifact.archive_download_url)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            kinds = [k for k in REPORTS if f"{k}.json" in archive.namelist()]
        return [Source(name, kind, history.unzip(data, kind)) for kind in kinds]
    except HistoryError as exc:
        return [Source(name, error=str(exc).replace("the previous snapshot", "it"))]
    except zipfile.BadZipFile:
        return [Source(name, error="it is not a zip file")]


def _why(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    return f"the GitHub API answered HTTP {status}" if status else type(exc).__name__


def day(kind: str, window: tuple[Point, ...], now: datetime, zone: tzinfo) -> dict[str, Any]:
    """One report's last 24 hours from its window: runs, problem runs, the longest spell of
    them (runs and minutes), the day's total (leads added or removed, verifications checked),
    the key rate's average and worst, and the newest figures (capacity now)."""
    window = tuple(sorted(window, key=lambda p: p.time))  # runs that overlapped: in time order
    runs = [p for p in window if p.time > now - DAY]
    spells = trend.spells(runs)
    longest = max(spells, key=lambda s: (s[1], s[0])) if spells else None
    key, total = trend.KEY[kind], TOTALS[kind]
    rates = [(v, p.time) for p in runs if (v := p.figures.get(key)) is not None]
    pick = max if key in HIGH_IS_BAD else min
    worst = pick(rates, key=lambda r: r[0]) if rates else None
    # A file read again (a re-run of an old run, a stale file) counts once in the total.
    added = [v for p in runs if p.counted and (v := p.figures.get(total)) is not None]
    # The history holds less than the day: its oldest run is well after the day's start (more
    # than two of its usual intervals, an hour at least): lost, or a pipeline new today.
    gaps = [(b.time - a.time).total_seconds() for a, b in itertools.pairwise(window)]
    slack = max(timedelta(seconds=2 * median(gaps)), HOUR) if gaps else HOUR
    short = bool(window) and window[0].time > now - DAY + slack
    newest = runs[-1] if runs else None
    local = now.astimezone(zone)
    return {
        "kind": kind,
        "runs": len(runs),
        "problems": sum(p.severity != "ok" for p in runs),
        "failed": sum(p.failed for p in runs),
        "spark": trend.sparkline([p.figures.get(key) for p in runs]),
        "longest": {"runs": longest[0], "minutes": round(longest[1])} if longest else None,
        "total": sum(added) if added else None,
        "unreported": sum(p.counted and p.figures.get(total) is None for p in runs),
        "average": fmean(r[0] for r in rates) if rates else None,
        "worst": worst[0] if worst else None,
        "worst_time": worst[1].astimezone(zone) if worst else None,
        "worst_date": date_shown(worst[1].astimezone(zone), local) if worst else "",
        "since": window[0].time.astimezone(zone) if short else None,
        "since_date": date_shown(window[0].time.astimezone(zone), local) if short else "",
        "now": {k: newest.figures.get(k) if newest else None for k in NOW_FIGURES},
        "full": len(window) == WINDOW,
        "last": window[-1].time.astimezone(zone) if window else None,
        "last_date": date_shown(window[-1].time.astimezone(zone), local) if window else "",
    }


def scheduled(finding: Finding, now: datetime) -> dict[str, Any] | None:
    """The day's due runs of a workflow judged by its schedule: how many, how many ran, how
    many were missed, how many late and the longest delay in minutes (runs still waiting for
    their time, or the next one, are not counted yet). None without a schedule."""
    day_ = [d for d in finding.due if d.time > now - DAY and d.status != "waiting"]
    if not finding.schedule or not day_:
        return None
    late = [d.delay for d in day_ if d.status == "late" and d.delay is not None]
    return {
        "due": len(day_),
        "ran": sum(d.status != "missed" for d in day_),
        "missed": sum(d.status == "missed" for d in day_),
        "late": len(late),
        "longest": round(max(late).total_seconds() / 60) if late else None,
    }


def shown_reports(
    found: Read | None, describe: Callable[[str, Snapshot], dict[str, Any]]
) -> tuple[list[dict[str, Any]], str]:
    """The reports a workflow's read found, as the digests show them: each one's name, leg and
    kind, or why it could not be read, with ``describe``'s values of its kind and snapshot;
    and why none is shown: slow, error (the read's `error` says), none, or '' when some are."""
    sources = found.sources if found else []
    kinds = [source.kind for source in sources]
    reports = [
        {
            "name": source.name.removeprefix(PREFIX),
            "leg": source.snapshot.leg if source.snapshot else "",
            "kind": source.kind,
            "error": source.error,
            "same_kind": kinds.count(source.kind) > 1,
            **(describe(source.kind, source.snapshot) if source.snapshot else {}),
        }
        for source in sources
    ]
    unread = ""
    if found is not None and not reports:
        unread = "slow" if not found.done else "error" if found.error else "none"
    return reports, unread


def variables(
    findings: list[Finding],
    reads: dict[str, Read],
    ctx: Context,
    workflows_url: str,
    checks: tuple[Point, ...],
) -> dict[str, Any]:
    """The digest's template variables: each watched workflow as the watchdog found it (late,
    disabled) now and at its checks of the day (``checks``, the watchdog's own window), its
    page, and each of its reports' day, or why there is none."""
    today = [p for p in checks if p.time > ctx.now - DAY]
    local = ctx.now.astimezone(ctx.timezone)
    first = min((p.time for p in checks), default=ctx.now).astimezone(ctx.timezone)
    short = first > ctx.now - DAY  # the watchdog's own history holds less than the day
    shown = []
    for finding in findings:
        found = reads.get(finding.workflow)
        reports, unread = shown_reports(
            found, lambda kind, snapshot: day(kind, snapshot.runs, ctx.now, ctx.timezone)
        )
        shown.append(
            {
                **shown_finding(finding, ctx),
                "url": f"{workflows_url}/{finding.workflow}",
                "reports": reports,
                "scheduled": scheduled(finding, ctx.now),
                "unread": unread,
                "error": found.error if found else "",
                "checks": len(today),
                "bad_checks": sum(p.levels.get(finding.workflow) == "critical" for p in today),
            }
        )
    shown.sort(key=lambda w: not w["problem"])  # what needs attention first, whatever is cut
    return {
        "report": "digest",
        "looked_at": RUNS_LOOKED_AT,
        "checks_since": first if short else None,
        "checks_since_date": date_shown(first, local) if short else "",
        "read_limit": READ_LIMIT,
        "time": ctx.now.astimezone(ctx.timezone),
        "workflows": shown,
        "late": [w for w in shown if w["problem"]],
        "run_url": ctx.run_url,
        "local_run": ctx.local_run,
    }
