"""The watchdog's flow: check the watched workflows, compare with the previous check, post
news; once a day, the digest of every watched workflow's last 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import digest, report, watchdog
from .config import Config
from .errors import DeliveryError, InputError
from .github import Runner, api_client, run_link
from .posting import Recalled, Result, conclude
from .render import WHOLE, compose, render, slack_entities

if TYPE_CHECKING:
    from .echo import Echo


def watch(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
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
        found=found,
        watching=True,
    )
    bad = [f"Input 'workflows', line {f.line} ({f.text}): {f.error}." for f in findings if f.error]
    if bad:  # everything else was checked and said: the step still fails, naming each line
        raise InputError("\n".join(bad))


def send_digest(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
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
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
    variables: dict[str, Any],
    result: Result,
) -> bool:
    """Render the digest, show it in the log and the summary, and deliver it."""
    title, content = compose("digest.j2", variables, config.format)
    result.digest_markdown = render("digest.j2", {**variables, "limit": WHOLE}, "markdown")[1]
    title = slack_entities(title) if config.format == "slack" else title
    runner.block(f"Daily digest: {title}", content)
    if config.dry_run:
        return False
    try:
        delivery = echo().deliver(title, content, config.recipients)
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
