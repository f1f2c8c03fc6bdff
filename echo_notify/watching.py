"""The watchdog's flow: check the watched workflows, compare with the previous check, post
news; once a day, the digest of every watched workflow's last 24 hours; once a week, its last
7 days beside the 7 before them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import digest, report, watchdog, weekly
from .config import WEEKDAYS, Config
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
    # Up to when digests are done (daily, weekly), kept in the snapshot until one goes out.
    zone, unread = config.timezone, found.unread
    done_daily = digest.since(previous, now, zone, unread=unread)
    done_weekly = digest.since(previous, now, zone, unread=unread, weekly=True)
    muted = config.mute_until is not None and now < config.mute_until
    repository = config.github.repository
    pages = f"{config.github.server_url}/{repository}/actions/workflows"
    reads = functools.cache(lambda: digest.read(client, repository, findings))  # once for both

    def daily() -> dict[str, Any]:
        return digest.variables(findings, reads(), ctx, pages, model.window)

    def weekly_() -> dict[str, Any]:
        return weekly.variables(findings, reads(), ctx, pages)

    # Both due at one check: two messages, the day's first.
    if (
        digest.due(config.digest_at, done_daily, now, zone)
        and not muted
        and due_digest(config, runner, echo, result, daily, unread=unread)
    ):
        done_daily = now
    if (
        weekly.due(config.digest_weekly, done_weekly, now, zone)
        and not muted
        and due_digest(config, runner, echo, result, weekly_, unread=unread, week=True)
    ):
        done_weekly = now
    last = done_daily if config.digest_at else None
    last_weekly = done_weekly if config.digest_weekly else None
    if model.severity == "warning":  # only the switch-off countdown: said once a day at most
        config = replace(config, remind_every=max(config.remind_every, watchdog.DAY))
    conclude(
        config,
        runner,
        echo,
        replace(model, digest=last, weekly=last_weekly),
        result,
        ctx=ctx,
        found=found,
        watching=True,
    )
    bad = [f"Input 'workflows', line {f.line} ({f.text}): {f.error}." for f in findings if f.error]
    if bad:  # everything else was checked and said: the step still fails, naming each line
        raise InputError("\n".join(bad))


def due_digest(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
    result: Result,
    variables: Callable[[], dict[str, Any]],
    *,
    unread: bool,
    week: bool = False,
) -> bool:
    """A digest that is due (the daily one, or the weekly one with ``week``): posted, or (the
    watchdog's own snapshot unread, so whether it went out is unknown) not, with a warning;
    True when it is done, never to go out twice."""
    if not unread:
        return send_digest(config, runner, echo, result, variables, week=week)
    what, today = ("weekly", "this week") if week else ("daily", "today")
    weekly_at = config.digest_weekly
    if week and weekly_at:
        when = f"{WEEKDAYS[weekly_at.weekday][:3].capitalize()} {weekly_at.time:%H:%M}"
    else:
        when = f"{config.digest_at:%H:%M}" if config.digest_at else ""
    runner.annotate(
        "warning",
        f"Echo Notify watchdog: no {what} digest this time",
        f"The watchdog's own snapshot, which says whether {today}'s digest went out, could "
        "not be read, so none is posted rather than one twice. The next one goes out at the "
        f"first check after the next {when}.",
    )
    return True


def send_digest(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
    result: Result,
    variables: Callable[[], dict[str, Any]],
    *,
    week: bool = False,
) -> bool:
    """Read the watched workflows' histories (``variables``) and post the digest (the daily one,
    or the weekly one with ``week``); True when it went out, or may have (never twice). A
    failed one is a warning (an error with `fail-on-error`), and the next check tries again; a
    bug in it costs that digest only."""
    try:
        return post_digest(config, runner, echo, variables(), result, week=week)
    except Exception as exc:  # noqa: BLE001 -- the watchdog's own message still goes out
        result.digest_failed = True
        runner.annotate(
            "warning",
            f"Echo Notify watchdog: {'weekly' if week else 'daily'} digest failed",
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
    *,
    week: bool = False,
) -> bool:
    """Render the digest, show it in the log and the summary, and deliver it."""
    template, what = ("weekly.j2", "Weekly") if week else ("digest.j2", "Daily")
    today = "this week" if week else "today"
    title, content = compose(template, variables, config.format)
    markdown = render(template, {**variables, "limit": WHOLE, "summary": True}, "markdown")[1]
    if week:
        result.weekly_markdown = markdown
    else:
        result.digest_markdown = markdown
    title = slack_entities(title) if config.format == "slack" else title
    runner.block(f"{what} digest: {title}", content)
    if config.dry_run:
        return False
    try:
        delivery = echo().deliver(title, content, config.recipients)
    except DeliveryError as exc:
        result.digest_failed = True
        again = (
            f"It may have reached the channel, so it is not posted again {today}."
            if exc.outcome == "unknown"
            else "The next check tries again."
        )
        runner.annotate(
            "error" if config.fail_on_error else "warning",
            f"Echo Notify watchdog: {what.lower()} digest not delivered",
            f"{exc} {again}",
        )
        return exc.outcome == "unknown"
    if week:
        result.weekly_id = delivery.message_id
    else:
        result.digest_id = delivery.message_id
    runner.log(f"{what} digest delivered as Echo message {delivery.message_id}")
    return True
