"""GitHub's Actions REST API for one repository, as far as PyGithub's look-ups of runs and
artifacts go, plus the storage host that artifact downloads redirect to. As GitHub's REST API
does, it also serves the repository (`default_branch`, `private`, `pushed_at`), the list of
its workflows, a workflow file's text at a ref (`GET /repos/{owner}/{repo}/contents/{path}`,
base64 in JSON), and a workflow's runs filtered by `created=>=…` and paged by `per_page` and
`page`, the next page named in a `Link` header.

The API answers on `localhost` and the storage on `127.0.0.1`: two host names, as on GitHub
(api.github.com redirects to a blob store), so a token that follows the redirect is a leak the
storage records.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.helpers import drip, dripping_head, running, send_json

REPO = "/api/v3/repos/acme/cold-email"


@dataclass
class Artifact:
    name: str
    data: bytes  # the zip, as storage serves it
    expired: bool = False
    size: int | None = None  # what the API says, when it lies
    created_at: str = "2026-01-01T00:00:00Z"  # when it was uploaded (tests that set none: long ago)


@dataclass
class Run:
    id: int
    artifacts: list[Artifact] = field(default_factory=list)
    conclusion: str = "success"
    created_at: str = "2026-01-15T20:00:00Z"
    head_repository: str | None = "acme/cold-email"  # a fork's names its own; None: deleted
    updated_at: str = ""  # its last change (a re-run, an upload); '' : when it was created


@dataclass
class Workflow:
    id: int = 7
    path: str = ".github/workflows/cold-email-sync.yml"
    state: str = "active"
    runs: list[Run] = field(default_factory=list)  # newest first
    name: str = ""
    # The workflow file's text on the default branch (None: no such file there).
    file: str | None = "on: workflow_dispatch\njobs: {}\n"


@dataclass
class Actions:
    """The state the fake API serves; tests change it between runs."""

    workflows: list[Workflow] = field(default_factory=lambda: [Workflow()])
    status: int = 200  # e.g. 403 for a token without `actions: read`
    api: str = ""
    storage: str = ""
    seen: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization) at the API
    drip: float = 0.0  # seconds between the bytes of every API answer (each read is quick)
    closing: threading.Event = field(default_factory=threading.Event)  # ends drips at teardown
    downloads: list[tuple[str, str]] = field(default_factory=list)  # the same at storage
    private: bool = False
    pushed_at: str = "2026-01-14T12:00:00Z"  # the repository's last push
    broken_files: dict[str, int] = field(default_factory=dict)  # file name: HTTP status

    def workflow_of(self, run_id: int) -> Workflow | None:
        return next((w for w in self.workflows if any(r.id == run_id for r in w.runs)), None)

    def upload(
        self, run_id: int, name: str, member: str, content: bytes, now: datetime | None = None
    ) -> None:
        """What the composite's upload step does: zip the snapshot into the run's artifact."""
        workflow = self.workflow_of(run_id)
        assert workflow is not None
        run = next(r for r in workflow.runs if r.id == run_id)
        created = stamp(now) if now else Artifact.created_at
        run.artifacts.append(Artifact(name, zipped(member, content), created_at=created))


def stamp(moment: datetime) -> str:
    """A time as the REST API writes it: UTC, to the second, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zipped(member: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, content)
    return buffer.getvalue()


class ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
    link: str
    status_override: int

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state = self.server.state
        self.link, self.status_override = "", 0  # this request's (a connection may carry more)
        path = self.path.split("?")[0]
        state.seen.append((path, self.headers.get("Authorization", "")))
        if state.status != 200:
            self.answer(state.status, {"message": "Resource not accessible by integration"})
            return
        query = dict(parse_qsl(self.path.partition("?")[2]))
        found = self.route(state, path, query)
        if found is None:
            self.answer(404, {"message": "Not Found"})
        elif isinstance(found, str):
            self.send_response(302)
            self.send_header("Location", found)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.answer(200, found)

    def route(
        self, state: Actions, path: str, query: dict[str, str]
    ) -> dict[str, Any] | str | None:
        if path == REPO:
            return {
                "full_name": "acme/cold-email",
                "url": f"{state.api}/repos/acme/cold-email",
                "default_branch": "main",
                "private": state.private,
                "pushed_at": state.pushed_at,
            }
        if path.startswith(REPO + "/contents/"):
            return self.contents(state, path.removeprefix(REPO + "/contents/"))
        if path == REPO + "/actions/workflows":
            items = [workflow_json(state, w) for w in state.workflows]
            return {"total_count": len(items), "workflows": items}
        parts = path.removeprefix(REPO + "/actions/").split("/")
        if parts[0] == "runs" and len(parts) == 2:
            workflow = state.workflow_of(int(parts[1]))
            return None if workflow is None else run_json(state, workflow, int(parts[1]))
        if parts[0] == "runs" and parts[2:] == ["artifacts"]:
            workflow = state.workflow_of(int(parts[1]))
            run = (
                next((r for r in workflow.runs if r.id == int(parts[1])), None)
                if workflow
                else None
            )
            if run is None:
                return None
            items = [artifact_json(state, run.id, i, a) for i, a in enumerate(run.artifacts)]
            return {"total_count": len(items), "artifacts": items}
        if parts[0] == "workflows" and len(parts) >= 2:
            workflow = next(
                (
                    w
                    for w in state.workflows
                    if str(w.id) == parts[1] or w.path.endswith("/" + parts[1])
                ),
                None,
            )
            if workflow is None:
                return None
            if parts[2:] == ["runs"]:
                wanted = query.get("status")  # the API's filter: `success` is a conclusion
                since = query.get("created", "").removeprefix(">=")
                runs = [
                    run_json(state, workflow, r.id)
                    for r in workflow.runs
                    if (wanted is None or r.conclusion == wanted)
                    and (not since or _moment(r.created_at) >= _moment(since))
                ]
                return self.page(runs, query, path)
            return workflow_json(state, workflow)
        if parts[0] == "artifacts" and parts[2:] == ["zip"]:
            return f"{state.storage}/blob/{parts[1]}"
        return None

    def contents(self, state: Actions, path: str) -> dict[str, Any] | None:
        """A workflow file as the contents API gives it; a broken one answers its status."""
        workflow = next((w for w in state.workflows if w.path == path), None)
        name = path.rsplit("/", 1)[-1]
        if name in state.broken_files:
            self.status_override = state.broken_files[name]
            return {"message": "Server Error"}
        if workflow is None or workflow.file is None:
            return None
        data = workflow.file.encode()
        return {
            "type": "file",
            "encoding": "base64",
            "name": name,
            "path": path,
            "size": len(data),
            "sha": "0" * 40,
            "content": base64.b64encode(data).decode(),
            "url": f"{state.api}/repos/acme/cold-email/contents/{path}",
        }

    def page(self, runs: list[dict[str, Any]], query: dict[str, str], path: str) -> Any:
        """One page of runs (GitHub's `per_page`, default 30, and `page`); `Link` names the
        next page when there is one."""
        size, number = int(query.get("per_page", 30)), int(query.get("page", 1))
        shown = runs[(number - 1) * size : number * size]
        if number * size < len(runs):
            after = urlencode({**query, "page": number + 1})
            host = self.server.state.api.removesuffix("/api/v3")
            self.link = f'<{host}{path}?{after}>; rel="next"'
        return {"total_count": len(runs), "workflow_runs": shown}

    def answer(self, status: int, body: object) -> None:
        state = self.server.state
        status, link = self.status_override or status, self.link
        if link and not state.drip:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)
            return
        if not state.drip:
            send_json(self, status, body)
            return
        data = json.dumps(body).encode()
        self.close_connection = True
        drip(self.wfile, dripping_head(status, len(data)) + data, state.drip, state.closing)


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def run_json(state: Actions, workflow: Workflow, run_id: int) -> dict[str, Any]:
    run = next(r for r in workflow.runs if r.id == run_id)
    url = f"{state.api}/repos/acme/cold-email/actions/runs/{run_id}"
    return {
        "id": run_id,
        "url": url,
        "artifacts_url": f"{url}/artifacts",
        "html_url": f"https://github.com/acme/cold-email/actions/runs/{run_id}",
        "workflow_id": workflow.id,
        "head_branch": "main",
        "head_repository": {"full_name": run.head_repository, "url": f"{state.api}/repos/x"}
        if run.head_repository
        else None,
        "status": "completed",
        "conclusion": run.conclusion,
        "created_at": run.created_at,
        "updated_at": run.updated_at or run.created_at,
        "run_started_at": run.created_at,
    }


def workflow_json(state: Actions, workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "url": f"{state.api}/repos/acme/cold-email/actions/workflows/{workflow.id}",
        "path": workflow.path,
        "state": workflow.state,
        "name": workflow.name or workflow.path.rsplit("/", 1)[-1],
    }


def artifact_json(state: Actions, run_id: int, index: int, artifact: Artifact) -> dict[str, Any]:
    key = f"{run_id}-{index}"
    return {
        "id": run_id * 100 + index,
        "name": artifact.name,
        "expired": artifact.expired,
        "size_in_bytes": artifact.size if artifact.size is not None else len(artifact.data),
        "created_at": artifact.created_at,
        "updated_at": artifact.created_at,
        "archive_download_url": f"{state.api}/repos/acme/cold-email/actions/artifacts/{key}/zip",
    }


class StorageHandler(BaseHTTPRequestHandler):
    server: StorageServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state = self.server.state
        state.downloads.append((self.path, self.headers.get("Authorization", "")))
        run_id, index = self.path.removeprefix("/blob/").split("-")
        workflow = state.workflow_of(int(run_id))
        assert workflow is not None
        run = next(r for r in workflow.runs if r.id == int(run_id))
        data = run.artifacts[int(index)].data
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: Actions) -> None:
        super().__init__(("localhost", 0), ApiHandler)
        self.state = state


class StorageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: Actions) -> None:
        super().__init__(("127.0.0.1", 0), StorageHandler)
        self.state = state


@contextmanager
def fake_actions(state: Actions | None = None) -> Iterator[Actions]:
    """Serve the API (GitHub Enterprise style base URL: state.api) and the storage host."""
    state = state or Actions()
    with running(ApiServer(state)) as api, running(StorageServer(state)) as storage:
        state.api = f"http://localhost:{api.server_address[1]}/api/v3"
        state.storage = f"http://127.0.0.1:{storage.server_address[1]}"
        try:
            yield state
        finally:
            state.closing.set()
