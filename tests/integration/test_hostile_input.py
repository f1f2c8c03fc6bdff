"""Hostile and broken input, table-driven: each case's annotation, exit code and delivery.

Every case also checks that nothing printed can act as a workflow command, that no token
leaks anywhere, and that no traceback reaches the log.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from echo_notify.main import main
from tests.helpers import (
    Fault,
    ScriptedEcho,
    example_day,
    parse_outputs,
    runner_env,
    stray_commands,
)

TOKEN = "tok-Hostile-9f8e7d"
SYNC = {"capacity_status": {"current_inventory": 10, "max_capacity": 100}}


@dataclass
class Case:
    name: str
    content: bytes | str | dict[str, object] | Callable[[Path], None] | None
    exit: int
    annotation: str  # a fragment of the one annotation expected ('' when none)
    delivered: bool  # a message reached the channel (for a metrics failure: the alert)
    inputs: dict[str, str] = field(default_factory=dict)
    echo: list[Fault] = field(default_factory=list)


def deep(levels: int) -> str:
    return '{"capacity_status": {}, "x": ' + "[" * levels + "]" * levels + "}"


CASES = [
    Case(
        "missing file",
        None,
        0,
        "::warning title=Echo Notify%3A metrics file unreadable::"
        "Metrics file '{path}' does not exist",
        True,
    ),
    Case("empty file", "", 0, "is empty", True),
    Case("directory", lambda p: p.mkdir(), 0, "is a directory", True),
    Case(
        "unreadable path",
        "x",
        0,
        "cannot be read: File name too long",
        True,
        inputs={"metrics-file": "m" * 300 + ".json"},
    ),
    Case(
        "not UTF-8",
        b'{"capacity_status": "\xff"}',
        0,
        "is not UTF-8 text (bad byte at offset 21)",
        True,
    ),
    Case(
        "invalid JSON",
        '{\n  "capacity_status": {,\n}',
        0,
        "is not valid JSON: Expecting property name enclosed in double quotes at line 2, column 23",
        True,
    ),
    Case("a list", "[1, 2]", 0, "must hold a JSON object ({...}), not a list", True),
    Case("10,000 levels deep", deep(10_000), 0, "is nested too deeply", True),
    Case(
        "fail-on-error makes it fatal",
        "",
        1,
        "::error title=Echo Notify%3A metrics file",
        True,
        inputs={"fail-on-error": "true"},
    ),
    Case(
        "NaN and Infinity",
        '{"capacity_status": {"current_inventory": NaN, "max_capacity": Infinity}}',
        0,
        "capacity_status.current_inventory: expected a finite number, got nan",
        True,
    ),
    Case(
        "booleans as numbers",
        {"capacity_status": {"current_inventory": True}},
        0,
        "capacity_status.current_inventory: expected a number, got true",
        True,
    ),
    Case(
        "negative counts",
        {"capacity_status": {"max_capacity": -1}},
        0,
        "capacity_status.max_capacity: expected zero or more, got -1",
        True,
    ),
    Case(
        "huge integer",
        '{"capacity_status": {"current_inventory": ' + "7" * 5000 + "}}",
        0,
        "capacity_status.current_inventory: expected a number, got a number of 5,000 "
        "characters (777777777777…)",
        True,
    ),
    Case(
        "nested garbage in a field",
        {"capacity_status": {"current_inventory": {"a": [1]}}},
        0,
        "capacity_status.current_inventory: expected a number, got an object",
        True,
    ),
    Case(
        "commands in values",
        {"capacity_status": {"current_inventory": "::add-mask::x\n##[error]y"}},
        0,
        'expected a number, got "::add-mask::x\\n#\u200b#[error]y"',
        True,
    ),
    Case(
        "commands and pings in errors",
        {
            **SYNC,
            "errors": [
                "::set-env name=PATH::/evil",
                "<!channel> ##[error]forged\n::error::x",
                "%0A::warning::y",
            ],
        },
        0,
        "",
        True,
    ),
    Case(
        "7 MB of errors",
        lambda p: p.write_text(json.dumps({**SYNC, "errors": ["e" * 1000] * 7_000})),
        0,
        "",
        True,
    ),
    Case(
        "50 MB of errors",
        lambda p: p.write_text(json.dumps({**SYNC, "errors": ["e" * 1000] * 50_000})),
        0,
        "is larger than 8 MiB, the most a metrics file may hold",
        True,  # the no-metrics alert
    ),
    Case("a named pipe", os.mkfifo, 0, "is a named pipe (FIFO), not a regular file", True),
    Case("ambiguous report", {"foo": 1}, 0, "Cannot tell which report to render", True),
    Case(
        "Echo answers with commands",
        SYNC,
        0,
        'HTTP 422 Unprocessable Entity, answer: \'{"error": "::error::pwned',
        False,
        echo=[Fault("status", 422, body={"error": "::error::pwned\n##[set-output name=x]y"})],
    ),
    Case(
        "Echo echoes the token",
        SYNC,
        0,
        'answer: \'{"error": "bad token ***"}\'',
        False,
        echo=[Fault("status", 401, body={"error": f"bad token {TOKEN}"})],
    ),
    Case(
        "template that loops for ever",
        SYNC,
        1,
        "loop.j2', line 1: rendering took over",
        True,  # the built-in report instead
        inputs={"template": "loop.j2"},
    ),
    Case(
        "template that renders megabytes",
        SYNC,
        1,
        "renders more than 1,000,000",
        True,  # the built-in report instead
        inputs={"template": "big.j2"},
    ),
    Case(
        "template building a huge value",
        SYNC,
        1,
        "would build a value over 1 MB",
        True,  # the built-in report instead
        inputs={"template": "huge.j2"},
    ),
    Case(
        "template reaching outside the data",
        SYNC,
        1,
        "access to attribute '__init__' of 'dict' object is unsafe",
        True,  # the built-in report instead
        inputs={"template": "escape.j2"},
    ),
]

NO_REPORT = {  # nothing to render: the short no-metrics alert goes out instead
    "missing file",
    "empty file",
    "directory",
    "unreadable path",
    "not UTF-8",
    "invalid JSON",
    "a list",
    "10,000 levels deep",
    "fail-on-error makes it fatal",
    "ambiguous report",
}

TEMPLATES = {
    "loop.j2": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "big.j2": "{% for a in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    "huge.j2": "{{ 'x' * 100000000 }}",
    "escape.j2": "{{ m.__init__.__globals__ }}{{ cycler.__init__.__globals__.os.system('id') }}",
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input(
    case: Case, echo: ScriptedEcho, workspace: Path, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "loop" in case.name:
        monkeypatch.setattr("echo_notify.render.TIME_LIMIT", 0.5)
    path = workspace / case.inputs.get("metrics-file", "m.json")
    if callable(case.content):
        case.content(path)
    elif isinstance(case.content, dict):
        path.write_text(json.dumps(case.content))
    elif isinstance(case.content, bytes):
        path.write_bytes(case.content)
    elif isinstance(case.content, str) and len(path.name) < 255:
        path.write_text(case.content)
    for name, text in TEMPLATES.items():
        (workspace / name).write_text(text)
    echo.fail("create", *case.echo)
    env = runner_env(
        workspace,
        files,
        {"metrics-file": path.name, "echo-url": echo.url, "echo-token": TOKEN, **case.inputs},
    )
    out = io.StringIO()
    assert main(env, out, now=example_day) == case.exit
    log = out.getvalue()
    annotations = [
        line for line in log.splitlines() if line.startswith(("::warning", "::error", "::notice"))
    ]
    if case.annotation:
        assert len(annotations) == 1, annotations
        assert case.annotation.replace("{path}", str(path)) in annotations[0]
    else:
        assert annotations == []
    outputs = parse_outputs((files / "set_output").read_text())
    assert outputs["delivered"] == ("true" if case.delivered else "false")
    if case.name in NO_REPORT:
        # No report to render: the short no-metrics alert went out instead.
        assert outputs["report"] == "unknown"
        assert "No metrics to report" in json.loads(echo.store.requests[0]["body"])["content"]
    assert len(echo.sends) == (1 if case.delivered else 0)
    assert "Traceback" not in log
    assert stray_commands(log) == []
    summary = (files / "step_summary").read_text()
    visible = [line for line in log.splitlines() if not line.startswith("::add-mask::")]
    for text in ("\n".join(visible), summary, json.dumps(outputs), *echo.store.messages):
        assert TOKEN not in text
    if case.delivered:
        content = next(iter(echo.store.messages.values()))["content"]
        assert "<!channel>" not in content and len(content) <= 3000
