"""The action's errors. Each message is what the user reads in the annotation."""

from __future__ import annotations

from typing import Literal

# What became of the report: outputs, summary and exit path all read this one value.
Outcome = Literal["delivered", "dry-run", "failed", "unknown"]


class ActionError(Exception):
    """Base of every expected failure; ``title`` heads the annotation."""

    title = "Echo Notify failed"


class InputError(ActionError):
    """A wrong input: always fails the step."""

    title = "Echo Notify: invalid input"


class MetricsError(ActionError):
    """The metrics file cannot be rendered at all."""

    title = "Echo Notify: metrics file unreadable"


class TemplateError(InputError):
    """A template failed to load or render: like any wrong input, it fails the step."""

    title = "Echo Notify: template error"


class DeliveryError(ActionError):
    """Echo did not take the report (``outcome`` ``failed``), or may have (``unknown``)."""

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
