"""Test helpers shared by every level: a scripted Echo and the runner's environment.

`runner_env` follows actions/runner for a Docker action (see tests/spec/runner-contract.md):
every input declared in action.yml becomes INPUT_<NAME> (hyphens kept, empty when unset),
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY are fresh files, and `parse_outputs` reads the output
file the way the runner does.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import BaseServer
from typing import Any, BinaryIO, ClassVar, TypeVar

import pytest
import yaml

from echo_notify.echo_server import EchoServer, Handler, Store

S = TypeVar("S", bound=BaseServer)
T = TypeVar("T")
# A wall clock for runs of the examples: 4:05 PM EST on the day of sync.json and drain.json,
# so their times show without a date and without a "these metrics are old" line.
EXAMPLE_DAY = datetime(2026, 1, 15, 21, 5, tzinfo=UTC)


def example_day() -> datetime:
    return EXAMPLE_DAY


ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "metrics"
GOLDEN = ROOT / "tests" / "golden"


def golden_message(name: str) -> str:
    """The message part of a golden file (after its `title:` line and a blank line)."""
    return (GOLDEN / name).read_text().split("\n\n", 1)[1]


@dataclass
class Fault:
    """One scripted answer: a status, or a transport failure, or a hostile way of answering."""

    # status | raw (any body) | reset (no answer, no work) | late (work done, answer after
    # `delay`) | lost (work done, then the connection is reset instead of answered) |
    # done (work done, then `status` answered instead of the real answer, e.g. a gateway's 504) |
    # hang (request read, nothing done, no answer for `delay` s) |
    # drip (the whole answer, `status` and `body`, one byte every `delay` s) |
    # drip-body (status line and headers at once, then the body one byte every `delay` s) |
    # huge (`status` with a JSON body of `size` bytes, as fast as the client reads) |
    # hints (`103 Early Hints` first, then the real answer) |
    # broken (work done, then the real status and a body cut short) |
    # garbled (work done, then the real status and a body that claims gzip and is not)
    kind: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    size: int = 0


class ScriptedHandler(Handler):
    server: ScriptedEcho

    def before(self, record: dict[str, Any]) -> bool:
        step = "send" if record["path"].endswith("/send") else "create"
        script = self.server.script[step]
        fault = script.popleft() if script else None
        self.late, self.lost, self.instead = 0.0, False, None
        if fault is None:
            return True
        if fault.delay and fault.kind not in ("late", "hang", "drip", "drip-body"):
            self.pause(fault.delay)  # a sleeping host holds the connection while it wakes
        if fault.kind == "status":
            self.reply(fault.status, fault.body or {"error": "scripted"}, fault.headers)
            return False
        if fault.kind == "raw":
            data = fault.body.encode() if isinstance(fault.body, str) else b""
            self.send_response(fault.status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return False
        if fault.kind == "reset":
            self.drop()
            return False
        if fault.kind == "hang":
            self.pause(fault.delay)
            self.drop()
            return False
        if fault.kind in ("drip", "drip-body"):
            self.drip(fault)
            return False
        if fault.kind == "huge":
            self.huge(fault)
            return False
        if fault.kind == "hints":
            self.send_response_only(103)
            self.send_header("Link", "</style.css>; rel=preload; as=style")
            self.end_headers()
            self.wfile.flush()
            return True
        assert fault.kind in ("late", "lost", "done", "broken", "garbled"), fault.kind
        self.late = fault.delay if fault.kind == "late" else 0.0
        self.lost = fault.kind == "lost"
        self.instead = fault if fault.kind in ("done", "broken", "garbled") else None
        return True

    def pause(self, seconds: float) -> None:
        """Sleep, but end early when the test's server shuts down."""
        self.server.closing.wait(seconds)

    def drop(self) -> None:
        """Close with a TCP reset and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def drip(self, fault: Fault) -> None:
        body = json.dumps(fault.body or {"id": "msg_1"}).encode()
        head = dripping_head(fault.status, len(body))
        if fault.kind == "drip-body":
            self.wfile.write(head)
            head = b""
        self.close_connection = True
        server = self.server

        def count() -> None:
            server.dripped += 1

        drip(self.wfile, head + body, fault.delay, server.closing, count)

    def huge(self, fault: Fault) -> None:
        prefix, suffix = b'{"id": "msg_1", "pad": "', b'"}'
        pad = fault.size - len(prefix) - len(suffix)
        self.send_response(fault.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(fault.size))
        self.end_headers()
        self.close_connection = True
        chunk = b"x" * 65536
        try:
            self.wfile.write(prefix)
            while pad > 0 and not self.server.closing.is_set():
                part = chunk[: min(pad, len(chunk))]
                self.wfile.write(part)
                self.server.streamed += len(part)
                pad -= len(part)
            self.wfile.write(suffix)
        except OSError:
            return  # the client stopped reading

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if self.late:
            self.pause(self.late)  # the work is done; the answer comes after the client gave up
        if self.lost:
            self.drop()
            return
        if self.instead is not None:
            fault, self.instead = self.instead, None
            if fault.kind in ("broken", "garbled"):
                self.damaged(status, fault.kind)
                return
            status, body, headers = fault.status, fault.body or {"error": "scripted"}, None
        with suppress(OSError):
            super().reply(status, body, headers)

    def damaged(self, status: int, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if kind == "garbled":
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b'{"id": "msg')  # and no more: the connection closes
        self.close_connection = True


class ScriptedStore(Store):
    """Hands out the scripted ids first (Echo's ids are opaque strings)."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token, out=io.StringIO())
        self.ids: deque[str] = deque()

    def new_id(self) -> str:
        return self.ids.popleft() if self.ids else super().new_id()


class ScriptedEcho(EchoServer):
    def __init__(self, token: str = "") -> None:
        self.closing = threading.Event()
        self.dripped = 0  # bytes sent by drip faults
        self.streamed = 0  # body bytes sent by huge faults
        super().__init__(0, ScriptedStore(token), ScriptedHandler)
        self.script: dict[str, deque[Fault]] = {"create": deque(), "send": deque()}

    def fail(self, step: str, *faults: Fault) -> None:
        self.script[step].extend(faults)

    def name_next(self, *ids: str) -> None:
        """The ids the next creates get."""
        assert isinstance(self.store, ScriptedStore)
        self.store.ids.extend(ids)

    def server_close(self) -> None:
        self.closing.set()  # ends drips, hangs and late answers still running
        super().server_close()

    @property
    def created(self) -> int:
        return len(self.store.messages)

    @property
    def sends(self) -> list[str]:
        return list(self.store.sent)

    @property
    def send_requests(self) -> int:
        return len([r for r in self.store.requests if r["path"].endswith("/send")])


def dripping_head(status: int, length: int) -> bytes:
    return (
        f"HTTP/1.1 {status} Dripping\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def drip(
    out: BinaryIO,
    data: bytes,
    delay: float,
    closing: threading.Event,
    each: Callable[[], None] = lambda: None,
) -> None:
    """An answer a byte at a time, ``delay`` s apart (a read timeout restarts with each byte),
    until sent, the server closes, or the client gives up; ``each`` counts a byte sent."""
    for byte in data:
        if closing.wait(delay):
            return
        try:
            out.write(bytes([byte]))
            out.flush()
        except OSError:
            return  # the client gave up
        each()


@contextmanager
def running(server: S) -> Iterator[S]:
    """Serve on a thread for the duration of the block (any socketserver: Echo, GitHub, files)."""
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def action_inputs(action: Path = ROOT) -> dict[str, dict[str, Any]]:
    return copy.deepcopy(_inputs(action / "action.yml", (action / "action.yml").stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _inputs(path: Path, _changed: int) -> dict[str, dict[str, Any]]:
    """An action's inputs, read once per version of the file (runs in sequence read it often)."""
    return yaml.safe_load(path.read_text())["inputs"]  # type: ignore[no-any-return]


def runner_env(
    workspace: Path,
    files: Path,
    inputs: dict[str, str],
    *,
    github_token: str = "",
    extra: dict[str, str] | None = None,
    action: Path = ROOT,
) -> dict[str, str]:
    """The environment the GitHub runner gives a Docker action's process (the inputs of the
    action.yml in ``action``: the report's, or the watchdog's)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(files / "home")}
    declared = action_inputs(action)
    for name, spec in declared.items():
        default = str(spec.get("default", ""))
        if default == "${{ github.token }}":
            default = github_token
        elif default == "${{ toJSON(matrix) }}":
            default = "null"  # a job without a matrix, as the runner expands it
        env["INPUT_" + name.replace(" ", "_").upper()] = inputs.get(name, default)
    unknown = set(inputs) - set(declared)
    assert not unknown, f"not declared in action.yml: {unknown}"
    for name in ("set_output", "step_summary"):
        (files / name).write_text("")
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(files / "set_output"),
            "GITHUB_STEP_SUMMARY": str(files / "step_summary"),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "http://127.0.0.1:9",  # discard port: nothing leaves the machine
            "GITHUB_REPOSITORY": "acme/cold-email",
            "GITHUB_RUN_ID": "123456",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_RUN_NUMBER": "42",
            "GITHUB_JOB": "sync",
            "RUNNER_NAME": "GitHub Actions 7",
            "RUNNER_OS": "Linux",
        }
    )
    env.update(extra or {})
    return env


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner reads it: name=value lines and name<<DELIM heredocs."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            while lines[i] != delimiter:
                value.append(lines[i])
                i += 1
            i += 1
            outputs[name] = "\n".join(value)
        else:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def bodies(server: EchoServer) -> list[tuple[str, Any]]:
    return [
        (r["path"], json.loads(r["body"]) if r["body"] else None) for r in server.store.requests
    ]


OUR_COMMANDS = (
    "add-mask",
    "group",
    "endgroup",
    "stop-commands",
    "debug",
    "notice",
    "warning",
    "error",
)


def stray_commands(log: str) -> list[str]:
    """Lines the runner would read as workflow commands that the action did not mean.

    Follows actions/runner: `::cmd` after leading whitespace, legacy `##[cmd` anywhere in a
    line, nothing between `::stop-commands::TOKEN` and `::TOKEN::` but that resume line.
    """
    stray, resume = [], None
    for line in log.splitlines():
        stripped = line.lstrip()
        if resume is not None:
            if stripped == resume:
                resume = None
            continue
        if "##[" in line:
            stray.append(line)
        elif stripped.startswith("::"):
            command = stripped[2:].split("::", 1)[0].split(" ", 1)[0]
            if command not in OUR_COMMANDS:
                stray.append(line)
            elif command == "stop-commands":
                resume = f"::{stripped.split('::')[2]}::"
    return stray


def printed_message(log: str) -> str:
    """The rendered message, as printed between the stop-commands markers."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    resume = f"::{lines[start].split('::')[2]}::"
    end = lines.index(resume, start)
    return "\n".join(lines[start + 1 : end])


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
    """A JSON answer from a fake server's handler."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


JOBS = "/api/v3/repos/acme/cold-email/actions/runs/123456/attempts/1/jobs"


class FakeGitHub(BaseHTTPRequestHandler):
    """GitHub's REST API, as far as the job-link lookup uses it; answers set per test."""

    answers: ClassVar[dict[str, tuple[int, object]]] = {}
    seen: ClassVar[list[tuple[str, str]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        FakeGitHub.seen.append((path, self.headers.get("Authorization", "")))
        send_json(self, *self.answers.get(path, (404, {"message": "Not Found"})))


@contextmanager
def fake_github(answers: dict[str, tuple[int, object]] | None = None) -> Iterator[str]:
    """Serve FakeGitHub on 127.0.0.1; yields the API base URL (GitHub Enterprise style)."""
    FakeGitHub.seen = []
    FakeGitHub.answers = answers or {}
    with running(ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"


def ends_within(seconds: float, work: Callable[[], T]) -> T:
    """``work()``'s result, failing the test when it still runs after ``seconds``: a step held
    by a dripping server fails at once instead of holding the suite for minutes."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(work())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, name="ends-within", daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds:g} s"
    if failed:
        raise failed[0]
    return done[0]


MERMAID = ROOT / "build" / "mermaid"
# A test that parses charts with the real mermaid.js, which scripts/test installs.
needs_mermaid = pytest.mark.skipif(
    not (MERMAID / "node_modules" / "mermaid").is_dir() or not shutil.which("node"),
    reason="scripts/test installs mermaid.js in build/mermaid",
)


def mermaid_charts(markdown: str) -> list[str]:
    """The Mermaid diagrams in a job summary."""
    return [
        block.removeprefix("mermaid").strip("\n")
        for block in markdown.split("```")[1::2]
        if block.startswith("mermaid")
    ]


def mermaid_parse(diagrams: list[str]) -> subprocess.CompletedProcess[str]:
    """Each diagram parsed by mermaid.js itself (scripts/mermaid-parse.mjs): its type printed
    on a line, or a parse error and a non-zero exit."""
    return subprocess.run(
        ["node", "--input-type=module"],
        check=False,
        input=(ROOT / "scripts" / "mermaid-parse.mjs").read_text(),
        cwd=MERMAID,
        env={**os.environ, "MERMAID_DIAGRAMS": json.dumps(diagrams)},
        capture_output=True,
        text=True,
        timeout=120,
    )
