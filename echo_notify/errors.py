"""The action's errors. Each message is what the user reads in the annotation."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Outcome = Literal["delivered", "dry-run", "quiet", "failed", "unknown", "skipped"]
# Why a metrics file gave no report: the no-metrics alert words each one (templates/alert.j2).
NoMetrics = Literal["missing", "empty", "unreadable", "invalid", "unrecognised"]


class ActionError(Exception):
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
