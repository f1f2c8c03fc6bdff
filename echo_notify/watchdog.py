"""The watchdog (insight.md): notice silence. For each watched workflow, through PyGithub: is it
disabled, and did it succeed on the default branch within its `max-age`? One message when
something is wrong (or changes), one when all is well again; nothing while all stays well."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from . import cancel, history
from .config import Watch
from .errors import ActionError
from .report import QUIET_DEFAULTS, Context, Model, date_shown
from .state import Level, Point, advance, carried, ended

if TYPE_CHECKING:
    from github import Github
    from github.WorkflowRun import WorkflowRun

Problem = Literal["", "disabled", "stale", "never", "missing"]
DISABLED = ("disabled_inactivity", "disabled_manually")
WATCH_LIMIT = 60.0  # seconds for reading every watched workflow (3 small requests each)
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

    @property
    def level(self) -> Level:
        return "critical" if self.problem else "ok"


class WatchError(ActionError):
    """The GitHub API cannot be read at all: no verdict about any workflow."""

    title = "Echo Notify watchdog: cannot read the workflows"


def check(
    client: Github, repository: str, watches: tuple[Watch, ...], now: datetime
) -> list[Finding]:
    """Every workflow's finding, read within WATCH_LIMIT s all told: PyGithub's timeout
    restarts with every byte, so only one bounded wait holds an API that drips its answers."""
    from github import GithubException  # noqa: PLC0415 -- slow import, needed only here

    def read() -> list[Finding]:
        repo = client.get_repo(repository)
        branch = repo.default_branch
        return [_check(repo, branch, watch, now) for watch in watches]

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


def _check(repo: Any, branch: str, watch: Watch, now: datetime) -> Finding:
    from github import UnknownObjectException  # noqa: PLC0415

    try:
        workflow = repo.get_workflow(watch.workflow)
        name, state = workflow.name, workflow.state
    except UnknownObjectException:
        return Finding(workflow=watch.workflow, name=watch.workflow, problem="missing")
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


def model(findings: list[Finding], ctx: Context, branch_hint: str = "") -> Model:
    """The watchdog's message: the problems, or (when they just cleared) all well again."""
    levels: dict[str, Level | None] = {f.workflow: f.level for f in findings}
    severity: Level = "critical" if any(f.problem for f in findings) else "ok"
    streak = advance(ctx.previous, severity, "success", ctx.now)
    recovered = ended(ctx.previous, streak)
    now = ctx.now.astimezone(ctx.timezone)
    shown = [shown_finding(f, ctx) for f in findings]
    variables = {
        "report": "watchdog",
        "time": now,
        "date": "",
        "severity": severity,
        "findings": shown,
        "problems": [f for f in shown if f["problem"]],
        "recovered": recovered is not None,
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
        recovered=recovered,
        detail={f.workflow: f.problem for f in findings if f.problem},
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
    }
