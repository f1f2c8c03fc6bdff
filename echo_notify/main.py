"""The whole flow: inputs → metrics → report → Echo → outputs. Start reading at ``action``."""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import requests

from . import cancel
from . import metrics as metrics_file
from .config import Config, enabled, github_context, load_config
from .echo import Echo, Policy
from .errors import ActionError, DeliveryError, InputError
from .github import Runner, job_link, run_link
from .render import Safe, fit, render


@dataclass
class Result:
    """What the step reports back, whatever happened."""

    report: str = ""
    severity: str = ""
    run_url: str = ""
    message_id: str = ""
    attempts: int = 0
    outcome: str = "failed"  # delivered | dry-run | failed | unknown
    error: str = ""
    markdown: str = ""
    problems: tuple[str, ...] = ()

    def outputs(self) -> dict[str, str]:
        return {
            "message-id": self.message_id,
            "delivered": "true" if self.outcome == "delivered" else "false",
            "report": self.report,
            "severity": self.severity,
            "run-url": self.run_url,
            "attempts": str(self.attempts),
        }


def action(
    config: Config,
    runner: Runner,
    echo: Echo,
    *,
    find_job_link: Callable[[], str | None],
    now: datetime,
    result: Result,
) -> None:
    """Fills ``result`` as it goes, so a failure half-way still reports what is known."""
    data = metrics_file.load(config.metrics_file, config.report, now)
    result.report, result.problems = data.report, tuple(data.problems)
    if data.problems:
        shown = "; ".join(data.problems[:10])
        more = f"; and {len(data.problems) - 10} more" if len(data.problems) > 10 else ""
        runner.annotate(
            "warning",
            "Echo Notify: bad values in the metrics file",
            f"{len(data.problems)} field(s) shown as n/a: {shown}{more}. Fix the pipeline step "
            "that writes the file; the rest of the report goes out as usual.",
        )
    levels, result.severity = metrics_file.assess(data, config.job_status)
    result.run_url = run_link(config.github, data.data.get("github_run_url"))
    if result.run_url and not config.github.act:
        result.run_url = find_job_link() or result.run_url
    variables = report_variables(config, data, levels, result)
    title, content = render(f"{data.report}.j2", variables, config.format, config.template)
    content = fit(content)  # the message only: the job summary has GitHub's larger limit
    result.markdown = (
        content
        if config.format == "markdown"
        else render(f"{data.report}.j2", variables, "markdown", config.template)[1]
    )
    title = config.title or title
    runner.block(f"Report: {title}", content)
    if config.dry_run:
        result.outcome = "dry-run"
        return
    delivery = echo.deliver(title, content, config.recipients)
    result.message_id, result.attempts = delivery.message_id, delivery.attempts
    result.outcome = "delivered"
    runner.log(f"Delivered to {', '.join(config.recipients)} as Echo message {delivery.message_id}")


def report_variables(
    config: Config,
    data: metrics_file.Metrics,
    levels: dict[str, str | None],
    result: Result,
) -> dict[str, Any]:
    """Everything a template can read (documented in the README)."""
    m = data.data
    leads = m["leads_processed"] if data.report == "sync" else {}
    campaigns = [{"key": k, **v} for k, v in leads.items() if k.endswith("_campaign")]
    added = [c["leads_added"] for c in campaigns]
    known_classes = metrics_file.NUMBERS["drain"]["drain_classifications"]
    return {
        "report": data.report,
        "m": m,
        "time": data.timestamp.astimezone(config.timezone),
        "failed": config.job_status != "success",
        "job_status": config.job_status,
        "levels": levels,
        "severity": result.severity,
        "errors": data.errors,
        "campaigns": campaigns,
        "added": sum(added) if added and None not in added else None,
        "extra_classes": [k for k in m.get("drain_classifications", {}) if k not in known_classes],
        "run_url": result.run_url,
        "local_run": config.github.act,
    }


def finish(config: Config, runner: Runner, result: Result, failure: ActionError | None) -> int:
    """The one place that turns a result or an error into outputs, summary and exit code."""
    exit_code = 0
    if isinstance(failure, DeliveryError):
        result.attempts, result.message_id = failure.attempts, failure.message_id
        result.outcome = failure.outcome
    if failure is not None:
        result.error = str(failure)
        fatal = isinstance(failure, InputError) or config.fail_on_error
        runner.annotate("error" if fatal else "warning", failure.title, str(failure))
        exit_code = 1 if fatal else 0
    runner.set_outputs(result.outputs())
    _, summary = render(
        "summary.j2",
        {
            "report_markdown": Safe(result.markdown),
            "delivery": result,
            "problems": result.problems,
            "recipients": config.recipients,
        },
        "markdown",
    )
    runner.summary(summary)
    return exit_code


def main(
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The process: real clients built here and handed to ``action``; tests may pass a clock."""
    env = os.environ if env is None else env
    runner = Runner(github_context(env), out or sys.stdout)
    try:
        if not enabled(env):
            runner.annotate("notice", "Echo Notify", "Skipped: `enabled` is false.")
            return 0
        config = load_config(env)
    except InputError as exc:
        runner.annotate("error", exc.title, str(exc))
        return 1
    runner.mask(config.secrets)
    echo = Echo(
        config.echo_url,
        config.echo_token,
        session=requests.Session(),
        policy=Policy(deadline=config.timeout_seconds),
        log=runner.log,
        clock=clock,
        sleep=sleep,
    )
    result = Result()
    failure: ActionError | None = None
    try:
        with cancel.armed():  # SIGTERM/SIGINT stop the work here (cancel.py)
            action(
                config,
                runner,
                echo,
                find_job_link=lambda: job_link(config.github, config.github_token, runner.debug),
                now=datetime.now(UTC),
                result=result,
            )
    except cancel.Cancelled as stop:
        failure = stop.failure(result)
    except ActionError as exc:
        failure = exc
    except Exception as exc:  # noqa: BLE001 -- a bug must not break the user's pipeline
        if config.github.debug:  # RUNNER_DEBUG=1
            runner.debug("".join(traceback.format_exception(exc)))
        failure = ActionError(f"Unexpected internal error ({type(exc).__name__}); report it.")
    return cancel.exit_code(finish(config, runner, result, failure))
