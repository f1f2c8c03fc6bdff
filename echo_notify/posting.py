"""What every run does with its message once it has one: decide (the alerting policy), post it
(render, print, deliver), keep this run's snapshot for the next one, ping the heartbeat; and
the look-up of the previous run's snapshot. Both flows (`reporting`, `watching`) end here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import cancel, history, report, state
from .config import Config
from .errors import (
    DeliveryError,
    HistoryError,
    MetricsError,
    Outcome,
    SharedNameError,
    TemplateError,
)
from .github import Runner, api_client
from .render import compose, render, slack_entities
from .state import REASONS, Decision, Quiet, Snapshot

if TYPE_CHECKING:
    import requests

    from .echo import Echo

HEARTBEAT_LIMIT = 15.0  # seconds for the dead-man ping, whatever the check's host does


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
    weekly_id: str = ""  # the watchdog's weekly digest: Echo's message id when it went out
    weekly_markdown: str = ""  # the weekly digest as the job summary shows it

    def outputs(self) -> dict[str, str]:
        digest_id = (
            {"digest-id": self.digest_id, "digest-weekly-id": self.weekly_id}
            if self.report == "watchdog"
            else {}
        )
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


def conclude(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
    model: report.Model,
    result: Result,
    *,
    ctx: report.Context,
    found: Recalled,
    alert_for: MetricsError | None = None,
    watching: bool = False,
) -> None:
    """Post the message unless the notify policy says not to (state.decide), keep this run's
    snapshot whatever became of the message (every run counts once in its history), and tell
    the dead-man check when real, current data was posted or rightly withheld."""
    previous = ctx.previous
    this = model.snapshot("", 1)
    facts = state.facts(previous, this, ctx.now, gauges=report.GAUGES)
    policy = state.Policy(
        notify_on=config.notify_on,
        remind_every=config.remind_every,
        alert_after=config.alert_after,
        mute_until=config.mute_until,
    )
    decision = state.decide(policy, previous.channel if previous else state.Channel(), facts)
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
        outcome, broken = publish(config, runner, echo, model, result, alert_for=alert_for)
        result.outcome = outcome
    except DeliveryError as exc:
        outcome = exc.outcome
        raise
    except cancel.Cancelled as stop:  # a send on its way may have posted
        outcome = "unknown" if stop.in_flight == "send" else result.outcome
        raise
    finally:
        if keeps_history(config) and found.keeps(decision.after(outcome)):
            keep(config, runner, model, outcome, decision, result=result, blind=found.unread)
    if config.heartbeat_url and outcome in ("delivered", "quiet") and model.current:
        heartbeat(config.heartbeat_url, echo().session, runner)
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
        + (
            " No digest either: it reads the reports' snapshots."
            if config.digest_at or config.digest_weekly
            else ""
        ),
    )
    return replace(config, history=False, digest_at=None, digest_weekly=None)


def keep(
    config: Config,
    runner: Runner,
    model: report.Model,
    outcome: Outcome,
    decision: Decision,
    *,
    result: Result,
    blind: bool = False,
) -> None:
    """Leave this run's snapshot for the composite to upload (the `history-artifact` output
    names it); a failure costs the next run its trends (a notice), never this run's result.
    ``blind``: the look-up failed, so it knows no run before its own (the next look-up joins
    the last snapshot it can read to it)."""
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
        leg=config.leg,
        blind=blind,
    )
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
    whether the look-up failed (so what the channel was told is unknown), and whether another
    step of this run keeps a snapshot under this step's name."""

    snapshot: Snapshot | None = None
    unread: bool = False
    shared: bool = False

    def keeps(self, channel: state.Channel) -> bool:
        """Whether this run keeps its snapshot, once it knows what it told the channel. Never
        under another step's name; after a failed look-up only when it told of a problem (then
        that is the channel's last word): else the next run goes on from the last snapshot it
        can read, which knows what the channel was told."""
        return not self.shared and (not self.unread or channel.told is not None)


def previous_snapshot(config: Config, runner: Runner, kind: str) -> Recalled:
    """The previous run's snapshot for trends (one notice when the look-up failed). `auto` (a
    crash before the report was known) continues whichever report the job kept last."""
    ctx = config.github
    if not keeps_history(config) or kind not in history.KINDS:
        return Recalled()
    kinds: tuple[str, ...] = (kind,)
    if config.report == "auto" and kind != "watchdog":  # a crash before the report was known
        # continues the report its job kept last, or keeps an `auto` snapshot when there is none
        kinds = (*history.REPORTS, "auto") if kind == "auto" else (kind, "auto")
    client = api_client(ctx, config.github_token)
    if client is None or not ctx.run_id:
        return Recalled()  # not in a workflow run, or no token: nothing to look up
    names = {history.artifact_name(ctx.job, k, config.history_key): k for k in kinds}
    try:
        found = history.lookup(
            client, ctx.repository, ctx.run_id, attempt=ctx.run_attempt, names=names
        )
    except HistoryError as exc:
        runner.annotate("notice", "Echo Notify: no trends this run", f"No trends this run: {exc}.")
        return Recalled(unread=True, shared=isinstance(exc, SharedNameError))
    if found is None:
        runner.log("No earlier snapshot of this report in the workflow's last runs: no trends yet")
    return Recalled(found)


def heartbeat(url: str, session: requests.Session, runner: Runner) -> None:
    """Ping the outside dead-man check; a failed ping is a notice, never a failure."""
    import requests  # noqa: PLC0415 -- loaded with the Echo client already (echo().session)

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
    echo: Callable[[], Echo],
    model: report.Model,
    result: Result,
    *,
    alert_for: MetricsError | None = None,
) -> tuple[Outcome, TemplateError | None]:
    """Render the message (and its Markdown for the summary), print it, deliver it: what became
    of it, and a broken custom template to raise once the run is done (the built-in report went
    out)."""
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
        return "dry-run", broken
    if result.quiet:
        runner.log(f"Not posted ({REASONS[result.quiet]}): the job summary says why")
        return "quiet", broken
    return deliver(config, runner, echo, (title, content), result, alert_for=alert_for), broken


# What the job summary takes from the report's variables (the no-metrics alert has a few).
INSIGHT = (
    "weeks",
    "unusual",
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
    echo: Callable[[], Echo],
    message: tuple[str, str],
    result: Result,
    *,
    alert_for: MetricsError | None,
) -> Outcome:
    """Post the message: delivered, or (a no-metrics alert, which only adds to the metrics
    failure) what became of it; a report's failed delivery raises."""
    title, content = message
    try:
        delivery = echo().deliver(title, content, config.recipients)
    except DeliveryError as exc:
        if alert_for is None:
            raise
        result.attempts, result.message_id = exc.attempts, exc.message_id
        alert_for.args = (f"{alert_for} The no-metrics alert was not delivered either: {exc}",)
        return exc.outcome
    result.message_id, result.attempts = delivery.message_id, delivery.attempts
    runner.log(f"Delivered to {', '.join(config.recipients)} as Echo message {delivery.message_id}")
    return "delivered"
