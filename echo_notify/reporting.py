"""The report's flow: the metrics file read, the report built (or the no-metrics alert when
there is no report), then posted as every run is (`posting.conclude`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from . import metrics as metrics_file
from . import report
from .config import Config
from .errors import MetricsError
from .github import Runner, run_link
from .posting import Recalled, Result, conclude

if TYPE_CHECKING:
    from .echo import Echo


def action(
    config: Config,
    runner: Runner,
    echo: Callable[[], Echo],
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
        unusual=config.unusual,
    )
    try:
        data = metrics_file.load(config.metrics_file, config.report, now)
    except MetricsError as exc:
        # No report to render is when the pipeline most likely broke: the team still hears.
        result.report = "unknown"
        found = recall(config.report)  # `auto`: the report this job kept last, if any
        ctx = replace(ctx, previous=found.snapshot)
        model = report.alert(
            ctx,
            report=found.snapshot.kind if found.snapshot else config.report,
            workflow=config.github.workflow,
            path=exc.path,
            reason=exc.reason,
        )
        conclude(config, runner, echo, model, result, ctx=ctx, found=found, alert_for=exc)
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
    conclude(config, runner, echo, model, result, ctx=ctx, found=found)
