"""The process: inputs read, clients built, one flow run (`reporting.action`, or
`watching.watch` for the watchdog), then outputs, job summary and exit code (`finish`)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, partial
from typing import TYPE_CHECKING, Any, TextIO

from . import cancel
from .config import Config, enabled, github_context, load_config
from .errors import ActionError, DeliveryError, InputError
from .github import Runner, job_link
from .posting import Result, previous_snapshot, without_history_on_ghes
from .render import WHOLE, Safe, render
from .reporting import action
from .text import SECRETS

if TYPE_CHECKING:
    from .echo import Echo


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
        "weekly_markdown": Safe(result.weekly_markdown),
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


def main(
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    *,
    argv: Sequence[str] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = NOW,
) -> int:
    """The process: real clients built here (Echo's at the first post, `connect`) and handed to
    ``action`` (or to ``watch`` when ``argv`` is `watchdog`, as the watchdog action runs the
    image); tests may pass a clock."""
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
                echo = cache(partial(connect, config, runner, clock, sleep))  # at the first post
                recall = partial(previous_snapshot, config, runner)
                if watching:
                    from .watching import watch  # noqa: PLC0415 -- the watchdog's code, only for it

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
            import traceback  # noqa: PLC0415 -- only for a bug, shown in debug

            runner.debug("".join(traceback.format_exception(exc)))
        failure = ActionError(f"Unexpected internal error ({type(exc).__name__}); report it.")
    return cancel.exit_code(finish(config, runner, result, failure))


def connect(
    config: Config, runner: Runner, clock: Callable[[], float], sleep: Callable[[float], None]
) -> Echo:
    """The Echo client, which main() builds at the first post: a dry run posts nothing, so it
    never loads requests (over half of its start-up)."""
    import requests  # noqa: PLC0415 -- see above

    from .echo import Echo, Policy  # noqa: PLC0415 -- it imports requests

    return Echo(
        config.echo_url,
        config.echo_token,
        session=requests.Session(),
        policy=Policy(deadline=config.timeout_seconds),
        log=runner.log,
        clock=clock,
        sleep=sleep,
    )


def utf8(stream: TextIO) -> TextIO:
    """The log in UTF-8 whatever the locale (PYTHONIOENCODING=ascii must not stop delivery)."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")
    return stream
