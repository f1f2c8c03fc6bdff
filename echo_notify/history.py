"""The run-to-run snapshot (docs/history-and-trends.md): written for the composite to upload
as an artifact, found again in the workflow's earlier runs through PyGithub on the next run.

Every failure to find or read the previous snapshot means "no trends this run": the caller
gets a reason for one notice, and nothing else changes.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from . import cancel, state
from .errors import CorruptError, HistoryError, SharedNameError
from .state import Snapshot

if TYPE_CHECKING:
    from github import Github
    from github.Artifact import Artifact
    from github.WorkflowRun import WorkflowRun

# Earlier runs of the workflow searched for a snapshot: one page of the list. A run that ended
# before the newest snapshot found so far was kept is passed over without listing its artifacts.
# The watchdog's snapshot also says whether today's digest went out, so a few checks that kept
# none (an outage, dry runs) must not lose it.
RUNS_LOOKED_AT = 30
ARTIFACT_LIMIT = 1024 * 1024  # bytes of the zipped artifact; a snapshot is under 1 KB
SNAPSHOT_LIMIT = 1024 * 1024  # bytes of the snapshot inside it (a watchdog of many workflows)
LOOKUP_BUDGET = 15.0  # seconds for the whole look-up; the report must not wait on history
REPORTS = ("sync", "drain", "poll")
# What keeps a snapshot; `auto`: a crash with `report: auto` before the job kept any report's.
KINDS = (*REPORTS, "auto", "watchdog")


def artifacts_work(server_url: str) -> bool:
    """Whether `actions/upload-artifact` v4+ works on this server: github.com and GHE.com do,
    GitHub Enterprise Server does not (its README says to use v3 there). The same test as
    actions/toolkit's `isGhes()`, on the runner's GITHUB_SERVER_URL."""
    host = (urlsplit(server_url).hostname or "").lower()
    return host == "github.com" or host.endswith((".ghe.com", ".localhost"))


def artifact_name(job: str, kind: str, key: str = "") -> str:
    """One artifact per job, report and `history-key` (a matrix leg, or a named step), so two
    reports in one workflow never share one. The composite uploads what the output names."""
    return f"echo-notify-{job}-{kind}" + (f"-{key}" if key else "")


def write(folder: Path, snapshot: Snapshot) -> Path:
    """Leave the snapshot in FOLDER, which the composite's upload step uploads (the file at
    the artifact's root, `<kind>.json`, as every earlier release wrote it)."""
    path = folder / f"{snapshot.kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(snapshot.to_json(), encoding="utf-8")
    return path


def lookup(
    client: Github,
    repository: str,
    run_id: str,
    *,
    attempt: int = 1,
    names: Mapping[str, str],
) -> Snapshot | None:
    """The snapshot with one of ``names`` (name: its kind; one name but for a crashed
    `report: auto`, which continues whichever report its job kept last) kept last, by the time
    GitHub created its artifact, in the last runs of this run's workflow on its branch, an
    earlier attempt of this run among them: the previous run is the one that kept its snapshot
    last, whatever order the runs are listed in (a re-run of an older run keeps the newest).
    None when none of them has one (a first run, expired artifacts). One of this very attempt
    means another step or matrix leg keeps its history under the same name: a SharedNameError,
    never mixed in. A snapshot that cannot be read gives way to the one kept before it; none
    readable: a CorruptError.

    The look-up runs on a thread that is given up after LOOKUP_BUDGET seconds: a slow API or a
    storage host that trickles its answer (a read timeout restarts with every byte) must not
    hold the report."""
    try:
        return cancel.within(
            LOOKUP_BUDGET,
            lambda: _lookup(client, repository, run_id, attempt, names=names),
            "echo-notify-history",
        )
    except TimeoutError:
        raise HistoryError(f"the look-up took over {LOOKUP_BUDGET:g} s and was given up") from None


def own(run: WorkflowRun, repository: str) -> bool:
    """Whether a run ran this repository's code: a pull request from a fork (whose branch is
    called `main` too) runs the workflow with the fork's code and writes the fork's numbers.
    A deleted fork's run has no head repository."""
    head = run.head_repository
    return head is not None and head.full_name == repository


def _lookup(
    client: Github, repository: str, run_id: str, attempt: int, *, names: Mapping[str, str]
) -> Snapshot | None:
    from github import GithubException  # noqa: PLC0415 -- slow import, needed only here

    try:
        repo = client.get_repo(repository)
        run = repo.get_workflow_run(int(run_id))
        runs = repo.get_workflow(run.workflow_id).get_runs(branch=run.head_branch)
        ours = [r for r in itertools.islice(runs, RUNS_LOOKED_AT + 1) if own(r, repository)]
        return _newest(client, ours, run.id, attempt, names=names)
    except GithubException as exc:
        if exc.status in (401, 403):
            raise HistoryError(
                f"the GitHub API refused to list this workflow's runs (HTTP {exc.status}): give "
                "the job `permissions: actions: read`, or set `history: false`"
            ) from None
        raise HistoryError(f"the GitHub API answered HTTP {exc.status}") from None
    except HistoryError:
        raise
    except Exception as exc:  # noqa: BLE001 -- any failure is "no trends", never a failed step
        raise HistoryError(f"the look-up failed ({type(exc).__name__})") from None


def _newest(
    client: Github,
    runs: list[WorkflowRun],
    run_id: int,
    attempt: int,
    *,
    names: Mapping[str, str],
    passed: frozenset[int] = frozenset(),
) -> Snapshot | None:
    """Of the runs' snapshots with one of ``names`` (name: kind), the one kept last; one that
    cannot be read gives way to the one kept before it (``passed``: those already tried)."""
    newest: Artifact | None = None
    for other in runs:
        done = other.status == "completed" and other.id != run_id
        if newest and done and other.updated_at < newest.created_at:
            continue  # it ended before the newest one was kept: it holds none newer
        for found in _artifacts(other, names, passed):
            if other.id == run_id and _download(client, found, names).attempt >= attempt:
                raise SharedNameError(
                    f"another step or matrix leg of this run already keeps a snapshot called "
                    f"{found.name}, so their histories would mix: this step keeps none. Give "
                    "each report step of one kind (and each watchdog step) in a job its own "
                    "`history-key`"
                )
            if newest is None or found.created_at > newest.created_at:
                newest = found  # the snapshot kept last: a re-run of an older run's too
    if newest is None:
        return None
    passed |= {newest.id}
    try:
        snapshot = _download(client, newest, names)
    except CorruptError:
        older = _newest(client, runs, run_id, attempt, names=names, passed=passed)
        if older is None:
            raise
        return older
    if snapshot.blind:  # kept after a failed look-up: joined to the last one before it
        with contextlib.suppress(HistoryError):  # else it is what there is
            before = _newest(client, runs, run_id, attempt, names=names, passed=passed)
            if before is not None and snapshot.kind in (before.kind, "auto"):
                return state.resumed(snapshot, before)
    return snapshot


def _artifacts(
    run: WorkflowRun, names: Mapping[str, str], passed: frozenset[int]
) -> list[Artifact]:
    """The run's unexpired snapshots with one of ``names``, but those ``passed``."""
    return [
        a for a in run.get_artifacts() if a.name in names and not a.expired and a.id not in passed
    ]


def _download(client: Github, artifact: Artifact, names: Mapping[str, str]) -> Snapshot:
    if artifact.size_in_bytes > ARTIFACT_LIMIT:
        raise CorruptError(
            f"the previous snapshot is {artifact.size_in_bytes:,} bytes, over "
            f"the {ARTIFACT_LIMIT:,} a snapshot can be"
        )
    return unzip(fetch(client, artifact.archive_download_url), names[artifact.name])


def fetch(client: Github, url: str) -> bytes:
    """An artifact's zip, at most ARTIFACT_LIMIT bytes. The API (through PyGithub's
    requester, with the token) answers with a redirect to a storage host; that one is fetched
    without the token, like actions/toolkit does. PyGithub's own redirect-following refuses
    hosts outside github.com, such as GitHub's blob storage."""
    status, headers, _ = client.requester.requestJson("GET", url)
    location = headers.get("location", "")
    if status != 302 or not location.startswith(("https://", "http://127.0.0.1:")):
        raise HistoryError(f"the artifact download answered HTTP {status}, not a redirect")
    import requests  # noqa: PLC0415 -- loaded by PyGithub already; a dry run reads no history

    data = bytearray()
    with requests.get(location, stream=True, timeout=(5, 10), allow_redirects=False) as answer:
        if answer.status_code != 200:
            raise HistoryError(f"the artifact's storage answered HTTP {answer.status_code}")
        for chunk in answer.iter_content(64 * 1024):
            data += chunk
            if len(data) > ARTIFACT_LIMIT:
                raise HistoryError(
                    f"the previous snapshot's download is over {ARTIFACT_LIMIT:,} bytes"
                )
    return bytes(data)


def unzip(data: bytes, kind: str) -> Snapshot:
    """The `<kind>.json` snapshot in an artifact's zip, read strictly (a HistoryError)."""
    import zipfile  # noqa: PLC0415 -- only with the API: a dry run reads no snapshot

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.getinfo(f"{kind}.json")
            if member.file_size > SNAPSHOT_LIMIT:
                raise CorruptError(f"the previous snapshot is over {SNAPSHOT_LIMIT:,} bytes")
            with archive.open(member) as handle:
                raw = handle.read(SNAPSHOT_LIMIT + 1)
        if len(raw) > SNAPSHOT_LIMIT:
            raise CorruptError(f"the previous snapshot is over {SNAPSHOT_LIMIT:,} bytes")
        return Snapshot.parse(raw, kind)
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise CorruptError(f"the previous snapshot cannot be read ({exc})") from None
