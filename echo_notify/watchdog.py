"""The watchdog (docs/watchdog.md): notice silence. For each watched workflow, through
PyGithub: is it
disabled; then, by its schedule read from the workflow file, which runs were due and did they
happen (missed in a row, late), or, given an age, did it succeed on the default branch within
it? And will GitHub switch its schedule off soon (a public repository without activity)? One
message when something is wrong (or changes), one when all is well again; nothing while all
stays well."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from . import cancel, history, schedule
from .config import Watch
from .errors import ScheduleError, WatchError
from .report import QUIET_DEFAULTS, Context, Model, date_shown
from .schedule import Due
from .state import LEVELS, Level, Point, advance, carried

if TYPE_CHECKING:
    from github import Github
    from github.WorkflowRun import WorkflowRun

# missed: runs of its schedule missed in a row; unscheduled: its file gives no usable schedule;
# unread: its file could not be read this time, and it had a problem at the previous check.
Problem = Literal["", "disabled", "stale", "never", "missing", "missed", "unscheduled", "unread"]
DISABLED = ("disabled_inactivity", "disabled_manually")
WATCH_LIMIT = 60.0  # seconds for reading every watched workflow (a few small requests each)
DAY = timedelta(days=1)
LOOK_BACK_LIMIT = timedelta(days=35)  # the furthest back a schedule's due runs are judged
# GitHub disables a public repository's scheduled workflows after 60 days without activity
# (docs.github.com, "Disabling and enabling a workflow"); the repository's `pushed_at` is
# the activity read here. The watchdog warns from 10 days before.
SWITCH_OFF = timedelta(days=60)
WARN_FROM = timedelta(days=10)
OWN_RUNS_LOOKED_AT = 100  # runs searched, past those of forks, for the repository's own


@dataclass(frozen=True, kw_only=True)
class Finding:
    workflow: str  # the file name, as in the input
    name: str  # the workflow's own name
    problem: Problem
    state: str = ""
    max_age: str = ""  # as written in the input
    last_success: datetime | None = None
    newest_url: str = ""  # the newest run on the default branch, whatever its result
    newest_result: str = ""
    schedule: str = ""  # the schedule read from the file, in words
    missed: int = 0  # its newest due runs missed in a row
    due: tuple[Due, ...] = ()  # the due runs looked at, oldest first, and their fate
    switch_off: int | None = None  # days until GitHub switches the schedule off (from 10)
    line: int = 0  # the `workflows` line that asked for it
    text: str = ""  # that line, as written
    error: str = ""  # why that line cannot be watched: a bad input
    note: str = ""  # why its file could not be read this time: a notice

    @property
    def level(self) -> Level:
        if self.problem:
            return "critical"
        return "warning" if self.switch_off is not None else "ok"


@dataclass(frozen=True)
class Rules:
    """How a schedule is judged: the `grace` and `missed-runs` inputs."""

    grace: timedelta = timedelta(minutes=10)
    missed_runs: int = 3


@dataclass(frozen=True)
class At:
    """What every workflow's check reads against: the repository, its default branch, the
    clock and the rules."""

    repo: Any
    branch: str
    now: datetime
    rules: Rules


def check(
    client: Github,
    repository: str,
    watches: tuple[Watch, ...],
    now: datetime,
    rules: Rules = Rules(),
) -> list[Finding]:
    """Every workflow's finding, read within WATCH_LIMIT s all told: PyGithub's timeout
    restarts with every byte, so only one bounded wait holds an API that drips its answers."""
    from github import GithubException  # noqa: PLC0415 -- slow import, needed only here

    def read() -> list[Finding]:
        repo = client.get_repo(repository)
        branch = repo.default_branch
        pushed = repo.pushed_at if repo.private is False else None  # public only
        deadline = pushed + SWITCH_OFF if pushed else None
        at = At(repo, branch, now, rules)
        found: list[Finding] = []
        for watch in watches:
            if watch.workflow == "all":
                found.extend(_every_scheduled(at, watch, watches))
            else:
                found.append(_check(at, watch))
        return [_countdown(f, deadline, now) for f in found]

    try:
        return cancel.within(WATCH_LIMIT, read, "echo-notify-watchdog")
    except TimeoutError:
        raise WatchError(
            f"The GitHub API did not answer within {WATCH_LIMIT:g} s, so no workflow was "
            "checked. The next check tries again; check the runner's network and "
            "https://www.githubstatus.com if it goes on."
        ) from None
    except GithubException as exc:
        hint = (
            " Give the job `permissions: actions: read` (and `contents: read`)."
            if exc.status in (401, 403)
            else ""
        )
        raise WatchError(
            f"The GitHub API answered HTTP {exc.status} while reading {repository}'s workflows."
            f"{hint}"
        ) from None
    except Exception as exc:  # noqa: BLE001 -- no verdict without the API; say why, no traceback
        raise WatchError(
            f"The GitHub API could not be reached ({type(exc).__name__}), so no workflow was "
            "checked. Check `GITHUB_API_URL` and the runner's network; the next check tries again."
        ) from None


def _every_scheduled(at: At, line: Watch, watches: tuple[Watch, ...]) -> list[Finding]:
    """`all`: every workflow of the repository whose file has a schedule, but those another
    line names (with their own age); a file that cannot be read is a notice."""
    named = {watch.workflow for watch in watches}
    found = []
    for workflow in at.repo.get_workflows():
        folder, _, name = workflow.path.rpartition("/")
        if folder != ".github/workflows" or name in named:
            continue  # GitHub's own dynamic workflows have no file; a named one is checked as named
        watch = Watch(name, None, "", line.line, line.text)
        finding = _check(at, watch, workflow)
        if finding.problem != "unscheduled":  # no schedule: not a workflow `all` is about
            found.append(finding)
    if not found and not named - {"all"}:
        why = "no workflow of this repository has a schedule (`on.schedule` with a `cron`)"
        found.append(
            Finding(
                workflow="all",
                name="all",
                problem="unscheduled",
                line=line.line,
                text=line.text,
                error=why,
            )
        )
    return found


def _check(at: At, watch: Watch, workflow: Any = None) -> Finding:
    from github import UnknownObjectException  # noqa: PLC0415

    repo, branch, now = at.repo, at.branch, at.now
    try:
        workflow = workflow or repo.get_workflow(watch.workflow)
        name, state = workflow.name, workflow.state
    except UnknownObjectException:
        return Finding(
            workflow=watch.workflow,
            name=watch.workflow,
            problem="missing",
            line=watch.line,
            text=watch.text,
            error=f"{watch.workflow} is not a workflow of this repository",
        )
    if watch.max_age is None:
        return _scheduled(at, watch, workflow)
    newest = _own(workflow.get_runs(branch=branch), repo.full_name)
    success = _own(workflow.get_runs(branch=branch, status="success"), repo.full_name)
    last = _started(success) if success else None
    problem: Problem = ""
    if state in DISABLED:
        problem = "disabled"
    elif last is None:
        problem = "never"
    elif now - last > watch.max_age:
        problem = "stale"
    return Finding(
        workflow=watch.workflow,
        name=name,
        problem=problem,
        state=state,
        max_age=watch.written,
        last_success=last,
        newest_url=newest.html_url if newest else "",
        newest_result=(newest.conclusion or newest.status) if newest else "",
    )


def _own(runs: Iterable[WorkflowRun], repository: str) -> WorkflowRun | None:
    """The newest of the runs that ran this repository's code: a fork's pull request on its
    own `main` is not the pipeline running (history.own)."""
    looked = itertools.islice(runs, OWN_RUNS_LOOKED_AT)
    return next((run for run in looked if history.own(run, repository)), None)


def _started(run: WorkflowRun) -> datetime:
    return run.run_started_at or run.created_at


def _scheduled(at: At, watch: Watch, workflow: Any) -> Finding:
    """A workflow judged by the schedule in its file: its due runs over the look-back (at
    least a day, and back to the due run `missed-runs` + 1 before now, so a weekday schedule
    is judged across a weekend), which came on time, late, or not at all."""
    now, rules, branch = at.now, at.rules, at.branch
    found = Finding(
        workflow=watch.workflow,
        name=workflow.name,
        problem="disabled" if workflow.state in DISABLED else "",
        state=workflow.state,
        line=watch.line,
        text=watch.text,
    )
    crons, error, note = _crons(at, watch, workflow)
    if error:
        return replace(found, problem="unscheduled", error=error)
    if note:  # not read this time: only whether it is disabled is known
        return replace(found, note=note)
    if found.problem:
        return replace(found, schedule=schedule.words(crons))
    limit = max(now - LOOK_BACK_LIMIT, workflow.created_at or now - LOOK_BACK_LIMIT)
    start = min(now - DAY - rules.grace, schedule.back(crons, now, rules.missed_runs + 1, limit))
    start = max(start, limit)
    since = f">={start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    ours = at.repo.full_name  # a fork's pull request on its own `main` is not a run of ours
    listed = workflow.get_runs(branch=branch, created=since)
    runs = [run for run in listed if run.created_at <= now and history.own(run, ours)]
    judged = schedule.judge(
        schedule.due(crons, start, now),
        [run.created_at for run in runs],
        now,
        rules.grace,
    )
    missed = schedule.missed_in_a_row(judged)
    success = next((run for run in runs if run.conclusion == "success"), None)
    newest = runs[0] if runs else None
    if missed >= rules.missed_runs:  # said in the message: look further back when needed
        if success is None:
            success = _own(workflow.get_runs(branch=branch, status="success"), ours)
        if newest is None:
            newest = _own(workflow.get_runs(branch=branch), ours)
    return replace(
        found,
        problem="missed" if missed >= rules.missed_runs else "",
        schedule=schedule.words(crons),
        missed=missed,
        due=tuple(judged),
        last_success=success.created_at if success else None,
        newest_url=newest.html_url if newest else "",
        newest_result=(newest.conclusion or newest.status) if newest else "",
    )


def _crons(at: At, watch: Watch, workflow: Any) -> tuple[tuple[schedule.Cron, ...], str, str]:
    """The schedule in the workflow's file at the default branch; else why the line cannot
    be watched (an input error), or why the file was not read this time (a notice)."""
    from github import GithubException, UnknownObjectException  # noqa: PLC0415

    name = watch.workflow
    try:
        content = at.repo.get_contents(workflow.path, ref=at.branch)
        crons = schedule.read(content.decoded_content.decode("utf-8", errors="replace"))
    except UnknownObjectException:
        return (), f"{name} is not on the default branch ({at.branch})", ""
    except GithubException as exc:
        hint = " Give the job `permissions: contents: read`." if exc.status in (401, 403) else ""
        note = (
            f"The GitHub API answered HTTP {exc.status} for {workflow.path}, so its schedule "
            f"is unknown this time: only whether it is disabled was checked.{hint}"
        )
        return (), "", note
    except ScheduleError as exc:
        return (), f"{name}: {exc}", ""
    except Exception as exc:  # noqa: BLE001 -- e.g. a file over the API's 1 MB: a notice
        note = (
            f"{workflow.path} could not be read ({type(exc).__name__}): only its state was checked."
        )
        return (), "", note
    if not crons:
        why = (
            f"{name} has no schedule (no `on.schedule` with a `cron`): give its line an age, "
            f"e.g. `{name}: 2h`"
        )
        return (), why, ""
    return crons, "", ""


def _countdown(finding: Finding, deadline: datetime | None, now: datetime) -> Finding:
    """A scheduled workflow of a public repository GitHub will switch off within WARN_FROM:
    how many days are left (0: any time now)."""
    if deadline is None or not finding.schedule or finding.state != "active":
        return finding
    left = deadline - now
    if left > WARN_FROM:
        return finding
    return replace(finding, switch_off=max(0, math.ceil(left / DAY)))


def model(findings: list[Finding], ctx: Context, branch_hint: str = "") -> Model:
    """The watchdog's message: the problems, or (when they just cleared) all well again. A
    workflow whose file could not be read this time keeps the problem it had (unknown is not
    well: no all-clear from a failed read)."""
    before = ctx.previous.detail if ctx.previous else {}
    findings = [
        replace(f, problem="unread") if f.note and not f.problem and before.get(f.workflow) else f
        for f in findings
    ]
    levels: dict[str, Level | None] = {f.workflow: f.level for f in findings}
    severity: Level = max((f.level for f in findings), key=LEVELS.index, default="ok")
    streak = advance(ctx.previous, severity, "success", ctx.now)
    now = ctx.now.astimezone(ctx.timezone)
    shown = [shown_finding(f, ctx) for f in findings]
    variables = {
        "report": "watchdog",
        "time": now,
        "date": "",
        "severity": severity,
        "findings": shown,
        "problems": [f for f in shown if f["problem"] or f["switch_off"] is not None],
        "run_url": ctx.run_url,
        "local_run": ctx.local_run,
        "branch": branch_hint,
        **QUIET_DEFAULTS,
    }
    return Model(
        kind="watchdog",
        template="watchdog.j2",
        time=ctx.now,
        severity=severity,
        failed=False,
        levels=levels,
        streak=streak,
        # Each kind of finding is its own problem: the switch-off countdown changes once a day.
        detail={
            **{
                f.workflow: before[f.workflow] if f.problem == "unread" else f.problem
                for f in findings
                if f.problem
            },
            **{
                f"{f.workflow} switch-off": f"{f.switch_off} days"
                for f in findings
                if f.switch_off is not None
            },
        },
        variables=variables,
        # Each check's level per workflow: the daily digest counts the checks that found one late.
        window=carried(
            ctx.previous,
            Point(time=ctx.now, severity=severity, failed=False, figures={}, levels=levels),
        ),
    )


def shown_finding(f: Finding, ctx: Context) -> dict[str, Any]:
    """A finding as the templates read it, its times in `timezone`."""
    now = ctx.now.astimezone(ctx.timezone)
    last = f.last_success.astimezone(ctx.timezone) if f.last_success else None
    return {
        "workflow": f.workflow,
        "name": f.name,
        "problem": f.problem,
        "state": f.state,
        "max_age": f.max_age,
        "last_success": last,
        "date": date_shown(last, now) if last else "",
        "minutes_ago": int((ctx.now - last).total_seconds() // 60) if last else None,
        "newest_url": f.newest_url,
        "newest_result": f.newest_result,
        "schedule": f.schedule,
        "missed": f.missed,
        "switch_off": f.switch_off,
        "error": f.error,
        "line": f.line,
    }
