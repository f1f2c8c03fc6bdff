"""Every error of the action, in one tree: `EchoNotifyError` and below it the failures a user
reads in an annotation (`ActionError`), the reasons a run has no history (`HistoryError`), and
the internal signals of a stage that gave up (a timeout, an unusable schedule). Cancellation is
the one exception outside the tree: `cancel.Cancelled`, a BaseException like
KeyboardInterrupt, so that no `except Exception` can swallow it."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Outcome = Literal["delivered", "dry-run", "quiet", "failed", "unknown", "skipped"]
# Why a metrics file gave no report: the no-metrics alert words each one (templates/alert.j2).
NoMetrics = Literal["missing", "empty", "unreadable", "invalid", "unrecognised"]


class EchoNotifyError(Exception):
    """The root of the action's own errors."""


class ActionError(EchoNotifyError):
    """Base of every expected failure; ``title`` heads the annotation."""

    title = "Echo Notify failed"


class InputError(ActionError):
    """A wrong input: always fails the step."""

    title = "Echo Notify: invalid input"


class MetricsError(ActionError):
    """The metrics file cannot be rendered at all; ``reason`` says why in one word."""

    title = "Echo Notify: metrics file unreadable"

    def __init__(self, message: str, *, path: Path, reason: NoMetrics = "unreadable") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class TemplateError(InputError):
    """A template failed to load or render: like any wrong input, it fails the step."""

    title = "Echo Notify: template error"


class DeliveryError(ActionError):
    """Echo did not take the report. ``outcome`` is ``failed`` or ``unknown``."""

    title = "Echo Notify: report not delivered"

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        message_id: str = "",
        outcome: Outcome = "failed",
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.message_id = message_id
        self.outcome = outcome


class CancelledError(DeliveryError):
    """The delivery ended because the step was cancelled (cancel.Cancelled)."""

    title = "Echo Notify: cancelled"


class WatchError(ActionError):
    """The GitHub API cannot be read at all: no verdict about any workflow."""

    title = "Echo Notify watchdog: cannot read the workflows"


class HistoryError(EchoNotifyError):
    """Why there are no trends this run; the message is the notice's."""


class SharedNameError(HistoryError):
    """This run already keeps a snapshot under this step's name: another step's or leg's."""


class CorruptError(HistoryError):
    """No snapshot that was found can be read: there is no history to carry on."""


class ScheduleError(EchoNotifyError, ValueError):
    """A workflow file's schedule cannot be used: the text says why, naming the cron or zone."""


class OverdueError(EchoNotifyError):
    """An attempt's time ran out before its answer was complete."""


class TemplateTimeoutError(EchoNotifyError):
    """A template took longer than its time limit to render."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"rendering took over {self.seconds:g} seconds (an endless or huge loop?)"
