"""One run of the action through main() with the runner's exact environment, Echo on loopback,
and what a reader of it sees: the log, the summary, the outputs and the messages Echo was asked
to create. Shared by the tests that check a single run's behaviour."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from echo_notify.main import main
from tests.helpers import (
    EXAMPLE_DAY,
    EXAMPLES,
    ScriptedEcho,
    parse_outputs,
    runner_env,
)

ECHO_TOKEN = "echo-Red7eamT0ken-5f4e3d2c1b0a9988"


GH_TOKEN = "ghs_RedTeamGitHubToken0123456789abcdef"


NY = ZoneInfo("America/New_York")


@dataclass
class Outcome:
    code: int
    log: str
    outputs: dict[str, str]
    summary: str
    messages: list[dict[str, Any]]  # what Echo was asked to create

    @property
    def content(self) -> str:
        return self.messages[-1]["content"] if self.messages else ""

    def visible(self) -> str:
        """Everything a reader of the log, summary, outputs or channel sees."""
        log = "\n".join(x for x in self.log.splitlines() if not x.startswith("::add-mask::"))
        return "\n".join([log, self.summary, json.dumps(self.outputs), json.dumps(self.messages)])


def run(
    echo: ScriptedEcho,
    workspace: Path,
    files: Path,
    metrics: dict[str, Any] | str | None,
    *,
    now: datetime = EXAMPLE_DAY,
    extra: dict[str, str] | None = None,
    **inputs: str,
) -> Outcome:
    path = workspace / "m.json"
    if metrics is not None:
        path.write_text(metrics if isinstance(metrics, str) else json.dumps(metrics))
    given = {"metrics-file": "m.json", "echo-url": echo.url, "echo-token": ECHO_TOKEN}
    given.update({k.replace("_", "-"): v for k, v in inputs.items()})
    env = runner_env(workspace, files, given, github_token=GH_TOKEN, extra=extra)
    out = io.StringIO()
    code = main(env, out, now=lambda: now)
    created = [
        json.loads(r["body"]) for r in echo.store.requests if r["path"] == "/api/v1/messages"
    ]
    return Outcome(
        code,
        out.getvalue(),
        parse_outputs((files / "set_output").read_text()),
        (files / "step_summary").read_text(),
        created,
    )


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())  # type: ignore[no-any-return]


STAMP = "2026-01-15T19:30:00Z"
