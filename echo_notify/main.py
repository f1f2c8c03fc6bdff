"""The whole flow: inputs → metrics → report → Echo → outputs. Start reading at ``action``."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import requests

from . import cancel, digest, history, report, state, watchdog
from . import metrics as metrics_file
from .config import Config, enabled, github_context, load_config
from .echo import Echo, Policy
from .errors import ActionError, DeliveryError, InputError, MetricsError, Outcome, TemplateError
from .github import Runner, api_client, job_link, run_link
from .history import HistoryError
from .render import WHOLE, Safe, compose, render, slack_entities
from .state import REASONS, Decision, Quiet, Snapshot
from .text import SECRETS


@dataclass
class Result:
    """What the step reports back, whatever happened."""

    report: str = ""  # sync, drain, poll; unknown for the no-metrics alert
    severity: str = ""
    run_url: str = ""
    message_id: str = ""
    attempts: int = 0
    outcome: Outcome = "failed"
    error: str = ""
    markdown: str = ""
    problems: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)  # warnings the summary repeats
    quiet: Quiet = ""  # why `notify-on` kept this run from the channel
    history_artifact: str = ""  # the snapshot left for the composite to upload, by its name
    alerting: dict[str, Any] = field(default_factory=dict)  # the decision, for the summary
    # The report's values the job summary shows above and below it (alert, gauges, chart).
    insight: dict[str, Any] = field(default_factory=dict)
    digest_id: str = ""  # the watchdog's daily digest: Echo's message id when it went out
    digest_markdown: str = ""  # the digest as the job summary shows it
    digest_failed: bool = False  # it was due and did not go out: fails with fail-on-error

    def outputs(self) -> dict[str, str]:
        digest_id = {"digest-id": self.digest_id} if self.report == "watchdog" else {}
        return {
            "message-id": self.message_id,
            "delivered": "true" if self.outcome == "delivered" else "false",
            "report": self.report,
            "severity": self.severity,
            "run-url": self.run_url,
            "attempts": str(self.attempts),
            # `if: posted == 'true'` must mean the channel got a message: not when disabled,
            # a dry run, an input error, quiet, a failed delivery or one of unknown outcome.
            "posted": "true" if self.outcome == "delivered" else "false",
            "reason": REASONS.get(self.quiet, ""),
            "history-artifact": self.history_artifact,
            **digest_id,
        }


def action(
    config: Config,
    runner: Runner,
    echo: Echo,
    *,
    find_job_link: Callable[[], str | None],
    recall: Callable[[str], Recalled],
    now: datetime,
    result: Result,
) -> None:
    """Fills ``result`` as it goes, so a failure half-way still reports what is known."""
    result.run_url = run_link(config.github)
    if result.run_url and not config.github.act and not config.dry_run:  # a dry run calls nothing
        result.run_url = find_job_link() or result.run_url
    ctx = report.Context(
        timezone=config.timezone,
        job_status=config.job_status,
        now=now,
        run_url=result.run_url,
        local_run=config.github.act,
        thresholds=config.thresholds,
        run_id=config.github.run_id,
        attempt=config.github.run_attempt,
    )
    try:
        data = metrics_file.load(config.metrics_file, config.report, now)
    except MetricsError as exc:
        # No report to render is when the pipeline most likely broke: the team still hears.
        result.report = "unknown"
        found = recall(config.report)
        ctx = replace(ctx, previous=found.snapshot)
        model = report.alert(
            ctx,
            report=config.report,
            workflow=config.github.workflow,
            path=exc.path,
            reason=exc.reason,
        )
        conclude(config, runner, echo, model, result, ctx=ctx, shared=found.shared, alert_for=exc)
        raise
    if not result.run_url and not config.github.act:  # outside Actions: the file's own link
        result.run_url = run_link(config.github, data.data.get("github_run_url"))
        ctx = replace(ctx, run_url=result.run_url)
    result.report, result.problems = data.report, tuple(data.problems)
    if data.mismatch:
        runner.annotate("warning", "Echo Notify: report does not match the file", data.mismatch)
        result.notes.append(data.mismatch)
    if data.problems:
        shown = "; ".join(data.problems[:10])
        more = f"; and {len(data.problems) - 10} more" if len(data.problems) > 10 else ""
        runner.annotate(
            "warning",
            "Echo Notify: bad values in the metrics file",
            f"{len(data.problems)} field(s) shown as n/a: {shown}{more}. Fix the pipeline step "
            "that writes the file; the rest of the report goes out as usual.",
        )
    found = recall(data.report)
    ctx = replace(ctx, previous=found.snapshot)
    model = report.build(data, ctx)
    conclude(config, runner, echo, model, result, ctx=ctx, shared=found.shared)


def watch(
    config: Config,
    runner: Runner,
    echo: Echo,
    *,
    recall: Callable[[str], Recalled],
    now: datetime,
    result: Result,
) -> None:
    """The watchdog's flow: check the workflows, compare with the previous check, post news."""
    result.report, result.run_url = "watchdog", run_link(config.github)
    client = api_client(config.github, config.github_token, act_too=True, per_page=100)
    if client is None:  # load_config made sure of the token: the repository is what lacks
        raise InputError(
            "The watchdog needs GITHUB_REPOSITORY (owner/name) to know whose workflows to check: "
            "GitHub Actions and act set it; in a plain shell, set it yourself."
        )
    rules = watchdog.Rules(grace=config.grace, missed_runs=config.missed_runs)
    findings = watchdog.check(client, config.github.repository, config.workflows, now, rules)
    for finding in findings:
        if finding.note:
            runner.annotate(
                "notice", "Echo Notify watchdog: a workflow file was not read", finding.note
            )
    found = recall("watchdog")
    previous = found.snapshot
    ctx = report.Context(
        timezone=config.timezone,
        job_status="success",
        now=now,
        run_url=result.run_url,
        local_run=config.github.act,
        previous=previous,
    )
    model = watchdog.model(findings, ctx)
    # Up to when digests are done, kept in the snapshot until one goes out.
    done = digest.since(previous, now, config.timezone, unread=found.unread)
    muted = config.mute_until is not None and now < config.mute_until
    if digest.due(config.digest_at, done, now, config.timezone) and not muted:
        if found.unread:  # whether today's went out is unknown: never twice a day
            done = now
            runner.annotate(
                "warning",
                "Echo Notify watchdog: no daily digest this time",
                "The watchdog's own snapshot, which says whether today's digest went out, "
                "could not be read, so none is posted rather than one twice. The next one goes "
                f"out at the first check after the next {config.digest_at:%H:%M}.",
            )
        else:

            def variables() -> dict[str, Any]:
                repository = config.github.repository
                reads = digest.read(client, repository, findings)
                pages = f"{config.github.server_url}/{repository}/actions/workflows"
                return digest.variables(findings, reads, ctx, pages, model.window)

            if send_digest(config, runner, echo, result, variables):
                done = now
    last = done if config.digest_at else None
    if model.severity == "warning":  # only the switch-off countdown: said once a day at most
        config = replace(config, remind_every=max(config.remind_every, watchdog.DAY))
    conclude(
        config,
        runner,
        echo,
        replace(model, digest=last),
        result,
        ctx=ctx,
        shared=found.shared,
        watching=True,
    )
    bad = [f"Input 'workflows', line {f.line} ({f.text}): {f.error}." for f in findings if f.error]
    if bad:  # everything else was checked and said: the step still fails, naming each line
        raise InputError("\n".join(bad))


def send_digest(
    config: Config,
    runner: Runner,
    echo: Echo,
    result: Result,
    variables: Callable[[], dict[str, Any]],
) -> bool:
    """Read the watched workflows' histories (``variables``) and post the digest; True when it
    went out, or may have (never twice a day). A failed one is a warning (an error with
    `fail-on-error`), and the next check tries again; a bug in it costs the digest only."""
    try:
        return post_digest(config, runner, echo, variables(), result)
    except Exception as exc:  # noqa: BLE001 -- the watchdog's own message still goes out
        result.digest_failed = True
        runner.annotate(
            "warning",
            "Echo Notify watchdog: daily digest failed",
            f"Unexpected internal error ({type(exc).__name__}); report it. The check went "
            "on, and the next one tries the digest again.",
        )
        return False


def post_digest(
    config: Config, runner: Runner, echo: Echo, variables: dict[str, Any], result: Result
) -> bool:
    """Render the digest, show it in the log and the summary, and deliver it."""
    title, content = compose("digest.j2", variables, config.format)
    result.digest_markdown = render("digest.j2", {**variables, "limit": WHOLE}, "markdown")[1]
    title = slack_entities(title) if config.format == "slack" else title
    runner.block(f"Daily digest: {title}", content)
    if config.dry_run:
        return False
    try:
        delivery = echo.deliver(title, content, config.recipients)
    except DeliveryError as exc:
        result.digest_failed = True
        again = (
            "It may have reached the channel, so it is not posted again today."
            if exc.outcome == "unknown"
            else "The next check tries again."
        )
        runner.annotate(
            "error" if config.fail_on_error else "warning",
            "Echo Notify watchdog: daily digest not delivered",
            f"{exc} {again}",
        )
        return exc.outcome == "unknown"
    result.digest_id = delivery.message_id
    runner.log(f"Daily digest delivered as Echo message {delivery.message_id}")
    return True


def conclude(
    config: Config,
    runner: Runner,
    echo: Echo,
    model: report.Model,
    result: Result,
    *,
    ctx: report.Context,
    shared: bool,
    alert_for: MetricsError | None = None,
    watching: bool = False,
) -> None:
    """Post the message unless the notify policy says not to (state.decide), keep this run's
    snapshot whatever became of the message (every run counts once in its history), and tell
    the dead-man check when real, current data was posted or rightly withheld."""
    previous = ctx.previous
    this = model.snapshot("", 1)
    facts = state.facts(previous, this, ctx.now, gauges=report.GAUGES)
    decision = state.decide(config.policy, previous.channel if previous else state.Channel(), facts)
    if watching and decision.quiet == "ok":
        decision = replace(decision, quiet="well")
    mention = config.mention if state.pings(config.mention_on, model.severity, decision) else ""
    model = report.alerting(model, decision, ctx, mention)
    result.quiet = decision.quiet
    result.alerting = explained(config, decision, ctx, model)
    if config.mute_until and config.mute_until <= ctx.now:
        runner.annotate(
            "notice",
            "Echo Notify: the mute is over",
            f"`mute-until` ({config.mute_until:%Y-%m-%d %H:%M}) is in the past, so this run is "
            "not muted. Empty the input (or the repository variable that feeds it) to silence "
            "this notice.",
        )
    outcome: Outcome = "failed"
    try:
        broken = publish(config, runner, echo, model, result, alert_for=alert_for)
        outcome = result.outcome
    except DeliveryError as exc:
        outcome = exc.outcome
        raise
    except cancel.Cancelled as stop:  # a send on its way may have posted
        outcome = "unknown" if stop.in_flight == "send" else result.outcome
        raise
    finally:
        if keeps_history(config) and not shared:  # a name taken: the other step's history
            keep(config, runner, model, outcome, decision, result=result)
    if config.heartbeat_url and outcome in ("delivered", "quiet") and model.current:
        heartbeat(config.heartbeat_url, echo.session, runner)
    if broken:
        raise broken


def explained(
    config: Config, decision: Decision, ctx: report.Context, model: report.Model
) -> dict[str, Any]:
    """What the summary says of the decision, its times in `timezone`."""
    zone, now = config.timezone, ctx.now.astimezone(config.timezone)
    shown: dict[str, Any] = {"alert_after": config.alert_after, "held": model.streak.count}
    for name, moment in (
        ("mute_until", config.mute_until),
        ("told", decision.told.time if decision.told else None),
        ("due", decision.due),
    ):
        local = moment.astimezone(zone) if moment else None
        shown[name] = local
        shown[name.removesuffix("_until") + "_date"] = (
            report.date_shown(local, now) if local else ""
        )
    return shown


def keeps_history(config: Config) -> bool:
    return config.history and not config.dry_run and not config.github.act


def without_history_on_ghes(config: Config, runner: Runner) -> Config:
    """History needs artifacts; where they cannot work, run without it and say so once."""
    if not keeps_history(config) or history.artifacts_work(config.github.server_url):
        return config
    runner.annotate(
        "notice",
        "Echo Notify: no history on GitHub Enterprise Server",
        "This run keeps no snapshot and reads none: the artifacts that carry it from run to "
        "run (actions/upload-artifact v4 and later) do not work on GitHub Enterprise Server. "
        "Reports go out as usual, without trends, streaks or back-to-normal messages. Set "
        "`history: false` to silence this notice."
        + (" No daily digest either: it reads the reports' snapshots." if config.digest_at else ""),
    )
    return replace(config, history=False, digest_at=None)


def keep(
    config: Config,
    runner: Runner,
    model: report.Model,
    outcome: Outcome,
    decision: Decision,
    *,
    result: Result,
) -> None:
    """Leave this run's snapshot for the composite to upload (the `history-artifact` output
    names it); a failure costs the next run its trends (a notice), never this run's result."""
    run = config.github
    if run.runner_temp is None or model.kind not in history.KINDS:
        return
    channel = decision.after(outcome)
    snapshot = replace(
        model.snapshot(run.run_id, run.run_attempt),
        announced="yes" if outcome == "delivered" else "maybe" if outcome == "unknown" else "no",
        told=channel.told,
        owed=channel.owed,
        muted=channel.muted,
    )
    snapshot = replace(snapshot, leg=config.leg)
    name = history.artifact_name(run.job, model.kind, config.history_key)
    try:
        history.write(run.runner_temp / "echo-notify" / name, snapshot)
        result.history_artifact = name
    except OSError as exc:
        runner.annotate(
            "notice",
            "Echo Notify: snapshot not kept",
            f"This run's snapshot could not be written to RUNNER_TEMP ({exc.strerror or exc}); "
            "the next run will have no trends. Nothing else changed.",
        )


@dataclass(frozen=True)
class Recalled:
    """What the look-up of the previous run found: its snapshot (None: none, or unread),
    whether the look-up failed (so what the snapshot would say is unknown), and whether
    another step of this run keeps a snapshot under this step's name (then this one keeps
    none)."""

    snapshot: Snapshot | None = None
    unread: bool = False
    shared: bool = False


def previous_snapshot(config: Config, runner: Runner, kind: str) -> Recalled:
    """The previous run's snapshot for trends (one notice when the look-up failed)."""
    ctx = config.github
    if not keeps_history(config) or kind not in history.KINDS:
        return Recalled()
    client = api_client(ctx, config.github_token)
    if client is None or not ctx.run_id:
        return Recalled()  # not in a workflow run, or no token: nothing to look up
    try:
        name = history.artifact_name(ctx.job, kind, config.history_key)
        found = history.lookup(
            client, ctx.repository, ctx.run_id, attempt=ctx.run_attempt, name=name, kind=kind
        )
    except HistoryError as exc:
        runner.annotate("notice", "Echo Notify: no trends this run", f"No trends this run: {exc}.")
        return Recalled(unread=True, shared=isinstance(exc, history.SharedNameError))
    if found is None:
        runner.log("No earlier snapshot of this report in the workflow's last runs: no trends yet")
    return Recalled(found)


def heartbeat(url: str, session: requests.Session, runner: Runner) -> None:
    """Ping the outside dead-man check; a failed ping is a notice, never a failure."""

    def ping() -> int:
        with session.get(url, timeout=(5, 10), allow_redirects=False, stream=True) as answer:
            return answer.status_code  # the body is never read

    try:  # at most HEARTBEAT_LIMIT s, however slowly the check answers
        status = cancel.within(HEARTBEAT_LIMIT, ping, "echo-notify-heartbeat")
        why = "" if status < 300 else f"HTTP {status}"  # a redirect never reached the check
    except (requests.RequestException, TimeoutError) as exc:
        why = type(exc).__name__  # the exception's text would quote the URL's secret path
    if why:
        runner.annotate(
            "notice",
            "Echo Notify: heartbeat not sent",
            f"The ping to `heartbeat-url` failed ({why}); the outside check may report this run "
            "as missing. Check the URL (the final one, if it redirects).",
        )


def publish(
    config: Config,
    runner: Runner,
    echo: Echo,
    model: report.Model,
    result: Result,
    *,
    alert_for: MetricsError | None = None,
) -> TemplateError | None:
    """Render the message (and its Markdown for the summary), print it, deliver it; a broken
    custom template is returned to raise once the run is done (the built-in report went out)."""
    result.severity = model.severity
    result.insight = {name: model.variables.get(name) for name in INSIGHT}
    user = None if alert_for else config.template  # a custom template gets real reports only
    try:
        title, content = message(config, model, result, user)
        broken = None
    except TemplateError as exc:  # the team still gets the report: the built-in one
        title, content = message(config, model, result, None)
        broken = TemplateError(f"{exc}. The built-in report was posted instead: fix the template.")
    runner.block(f"Report: {title}", content)
    if config.dry_run:
        result.outcome = "dry-run"
    elif result.quiet:
        result.outcome = "quiet"
        runner.log(f"Not posted ({REASONS[result.quiet]}): the job summary says why")
    else:
        deliver(config, runner, echo, (title, content), result, alert_for=alert_for)
    return broken


# What the job summary takes from the report's variables (the no-metrics alert has a few).
INSIGHT = (
    "report",
    "severity",
    "job_status",
    "levels",
    "gauges",
    "data",
    "unjudged",
    "problems",  # the watchdog's findings
    "age_hours",
    "error_count",
    "over_capacity",
    "handover",
    "reason",
    "file",
    "window",
    "trend",
)


def message(
    config: Config, model: report.Model, result: Result, user: Path | None
) -> tuple[str, str]:
    """The title and message in the `format`; the same report in Markdown for the summary."""
    template = model.template
    title, content = compose(template, model.variables, config.format, user)
    result.markdown = (
        content
        if config.format == "markdown"
        else render(template, model.variables, "markdown", user)[1]
    )
    title = config.title or title
    if config.format == "slack":  # a title with data in it: no ping, no forged link
        title = slack_entities(title)
    return title, content


def deliver(
    config: Config,
    runner: Runner,
    echo: Echo,
    message: tuple[str, str],
    result: Result,
    *,
    alert_for: MetricsError | None,
) -> None:
    """Post the message; a failed no-metrics alert only adds to the metrics failure."""
    title, content = message
    try:
        delivery = echo.deliver(title, content, config.recipients)
    except DeliveryError as exc:
        if alert_for is None:
            raise
        result.attempts, result.message_id, result.outcome = (
            exc.attempts,
            exc.message_id,
            exc.outcome,
        )
        alert_for.args = (f"{alert_for} The no-metrics alert was not delivered either: {exc}",)
        return
    result.message_id, result.attempts = delivery.message_id, delivery.attempts
    result.outcome = "delivered"
    runner.log(f"Delivered to {', '.join(config.recipients)} as Echo message {delivery.message_id}")


def finish(
    config: Config | None, runner: Runner, result: Result, failure: ActionError | None
) -> int:
    """The one place that turns a result or an error into outputs, summary and exit code."""
    fail_on_error = config.fail_on_error if config else False
    exit_code = 0
    if isinstance(failure, DeliveryError):
        result.attempts, result.message_id = failure.attempts, failure.message_id
        result.outcome = failure.outcome
    if failure is not None:
        result.error = str(failure)
        fatal = isinstance(failure, InputError) or fail_on_error
        runner.annotate("error" if fatal else "warning", failure.title, str(failure))
        exit_code = 1 if fatal else 0
    if result.digest_failed and fail_on_error:
        exit_code = 1
    variables: dict[str, Any] = {
        "report_markdown": Safe(result.markdown),
        "delivery": result,
        "problems": result.problems,
        "recipients": config.recipients if config else (),
        "notify_on": config.notify_on if config else "always",
        "alerting": result.alerting,
        "limit": WHOLE,  # the whole explanation: only GitHub's 1 MiB limit applies
        "insight": result.insight,
        "digest_markdown": Safe(result.digest_markdown),
    }

    def outputs() -> None:
        runner.set_outputs(result.outputs())

    def summary() -> None:
        runner.summary(render("summary.j2", variables, "markdown")[1])

    for name, write in (("outputs", outputs), ("job summary", summary)):
        try:
            write()
        except Exception as exc:  # noqa: BLE001 -- the exit path must not end in a traceback
            cause = exc.strerror if isinstance(exc, OSError) else None
            sent = (
                "it was not sent again" if result.outcome == "delivered" else "nothing else changed"
            )
            runner.annotate(
                "error" if fail_on_error else "warning",
                f"Echo Notify: could not write the {name}",
                f"Writing the step's {name} failed ({cause or type(exc).__name__}); the report "
                f"outcome was {result.outcome} and {sent}. Check the runner's disk and the "
                "GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files.",
            )
            exit_code = max(exit_code, 1 if fail_on_error else 0)
    return exit_code


NOW = partial(datetime.now, UTC)
HEARTBEAT_LIMIT = 15.0  # seconds for the dead-man ping, whatever the check's host does


def main(
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    *,
    argv: Sequence[str] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = NOW,
) -> int:
    """The process: real clients built here and handed to ``action`` (or to ``watch`` when
    ``argv`` is `watchdog`, as the watchdog action runs the image); tests may pass a clock."""
    watching = list(argv) == ["watchdog"]
    SECRETS.set(())  # this run's, once the inputs are read (a test may run main() again)
    env = os.environ if env is None else env
    runner = Runner(github_context(env), out or utf8(sys.stdout))
    result = Result()
    config: Config | None = None
    failure: ActionError | None = None
    try:
        with cancel.armed():  # SIGTERM/SIGINT stop the work here (cancel.py)
            if not enabled(env):
                result.outcome = "skipped"
                runner.annotate("notice", "Echo Notify", "Skipped: `enabled` is false.")
            else:
                config = load_config(env, watchdog=watching, now=now())
                SECRETS.set(config.secrets)  # redacted from all that is shown, before any cut
                runner.mask(config.secrets)
                config = without_history_on_ghes(config, runner)
                echo = Echo(
                    config.echo_url,
                    config.echo_token,
                    session=requests.Session(),
                    policy=Policy(deadline=config.timeout_seconds),
                    log=runner.log,
                    clock=clock,
                    sleep=sleep,
                )
                recall = partial(previous_snapshot, config, runner)
                if watching:
                    watch(config, runner, echo, recall=recall, now=now(), result=result)
                else:
                    action(
                        config,
                        runner,
                        echo,
                        find_job_link=lambda: job_link(
                            config.github, config.github_token, runner.debug
                        ),
                        recall=recall,
                        now=now(),
                        result=result,
                    )
    except cancel.Cancelled as stop:
        failure = stop.failure(result)
    except ActionError as exc:
        failure = exc
    except Exception as exc:  # noqa: BLE001 -- a bug must not break the user's pipeline
        if runner.ctx.debug:  # RUNNER_DEBUG=1
            runner.debug("".join(traceback.format_exception(exc)))
        failure = ActionError(f"Unexpected internal error ({type(exc).__name__}); report it.")
    return cancel.exit_code(finish(config, runner, result, failure))


def utf8(stream: TextIO) -> TextIO:
    """The log in UTF-8 whatever the locale (PYTHONIOENCODING=ascii must not stop delivery)."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")
    return stream
