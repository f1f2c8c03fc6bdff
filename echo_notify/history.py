"""The run-to-run snapshot (insight.md): written for the composite to upload as an artifact,
found again in the workflow's earlier runs through PyGithub on the next run.

Every failure to find or read the previous snapshot means "no trends this run": the caller
gets a reason for one notice, and nothing else changes.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from . import cancel
from .report import Level, Model, Streak

if TYPE_CHECKING:
    from github import Github

VERSION = 1
RUNS_LOOKED_AT = 5  # earlier runs of the workflow searched for a snapshot
ARTIFACT_LIMIT = 1024 * 1024  # bytes of the zipped artifact; a snapshot is under 1 KB
SNAPSHOT_LIMIT = 64 * 1024  # bytes of the snapshot inside it
LOOKUP_BUDGET = 15.0  # seconds for the whole look-up; the report must not wait on history
LEVELS = ("ok", "warning", "critical")
KINDS = ("sync", "drain", "poll", "watchdog")  # what keeps a snapshot


def artifact_name(job: str, kind: str) -> str:
    """One artifact per job and report, so two reports in one workflow do not collide. The
    composite's upload step builds the same name from `github.job` and the `report` output."""
    return f"echo-notify-{job}-{kind}"


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """What one run showed: no error texts, no secrets."""

    kind: str
    time: datetime
    run_id: str
    attempt: int
    severity: Level
    failed: bool
    levels: dict[str, Level | None]
    figures: dict[str, float | None]
    streak: Streak
    detail: dict[str, str] = field(default_factory=dict)  # the watchdog's problem per workflow

    @classmethod
    def of(cls, model: Model, run_id: str, attempt: int) -> Snapshot:
        return cls(
            kind=model.kind,
            time=model.time,
            run_id=run_id,
            attempt=attempt,
            severity=model.severity,
            failed=model.failed,
            levels=dict(model.levels),
            figures=dict(model.figures),
            streak=model.streak,
            detail=dict(model.detail),
        )

    def to_json(self) -> str:
        since = self.streak.since.isoformat() if self.streak.since else None
        return json.dumps(
            {
                "version": VERSION,
                "report": self.kind,
                "time": self.time.isoformat(),
                "run_id": self.run_id,
                "attempt": self.attempt,
                "severity": self.severity,
                "failed": self.failed,
                "levels": self.levels,
                "figures": self.figures,
                "streak": {
                    "count": self.streak.count,
                    "since": since,
                    "failed": self.streak.failed,
                },
                "detail": self.detail,
            },
            indent=1,
        )

    @classmethod
    def parse(cls, raw: bytes, kind: str) -> Snapshot:
        """Strictly: any surprise is a ValueError that names it."""
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a version-1 snapshot")
        if data.get("report") != kind:
            raise ValueError(f"a snapshot of a {data.get('report')!r} report")
        streak = _object(data, "streak")
        since = streak.get("since")
        return cls(
            kind=kind,
            time=_time(data.get("time")),
            run_id=str(data.get("run_id", "")),
            attempt=int(data.get("attempt", 1)),
            severity=_level(data.get("severity"), required=True),  # type: ignore[arg-type]
            failed=data.get("failed") is True,
            levels={str(k): _level(v) for k, v in _object(data, "levels").items()},
            figures={str(k): _figure(v) for k, v in _object(data, "figures").items()},
            streak=Streak(
                count=_count(streak.get("count")),
                since=_time(since) if since is not None else None,
                failed=streak.get("failed") is True,
            ),
            detail={str(k): str(v)[:40] for k, v in data.get("detail", {}).items()}
            if isinstance(data.get("detail", {}), dict)
            else {},
        )


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"{name} is not an object")
    return value


def _time(value: Any) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    if stamp is None or stamp.tzinfo is None:
        raise ValueError("a time without a zone")
    if not 2000 <= stamp.astimezone(UTC).year <= 2999:  # shown in any zone later: no overflow
        raise ValueError(f"a time out of range ({value})")
    return stamp


def _level(value: Any, required: bool = False) -> Level | None:
    if value is None and not required:
        return None
    if value not in LEVELS:
        raise ValueError(f"an unknown level {value!r}")
    return value  # type: ignore[no-any-return]


def _figure(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("a figure that is not a number")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**6:
        raise ValueError("a streak that is not a count")
    return value


def write(folder: Path, snapshot: Snapshot) -> Path:
    """Leave the snapshot where the composite's upload step finds it."""
    path = folder / "echo-notify" / f"{snapshot.kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(snapshot.to_json(), encoding="utf-8")
    return path


class HistoryError(Exception):
    """Why there are no trends this run; the message is the notice's."""


def lookup(
    client: Github,
    repository: str,
    run_id: str,
    *,
    name: str,
    kind: str,
) -> Snapshot | None:
    """The newest snapshot called ``name`` in the earlier runs of this run's workflow on its
    branch; None when none of the last few runs has one (a first run, expired artifacts).

    The look-up runs on a thread that is given up after LOOKUP_BUDGET seconds: a slow API or a
    storage host that trickles its answer (a read timeout restarts with every byte) must not
    hold the report."""
    try:
        return cancel.within(
            LOOKUP_BUDGET,
            lambda: _lookup(client, repository, run_id, name=name, kind=kind),
            "echo-notify-history",
        )
    except TimeoutError:
        raise HistoryError(f"the look-up took over {LOOKUP_BUDGET:g} s and was given up") from None


def _lookup(
    client: Github, repository: str, run_id: str, *, name: str, kind: str
) -> Snapshot | None:
    from github import GithubException  # noqa: PLC0415 -- slow import, needed only here

    try:
        repo = client.get_repo(repository)
        run = repo.get_workflow_run(int(run_id))
        workflow = repo.get_workflow(run.workflow_id)
        for looked, other in enumerate(workflow.get_runs(branch=run.head_branch)):
            if looked > RUNS_LOOKED_AT:
                return None
            if other.id == run.id or other.head_repository.full_name != repository:
                continue  # this run, or a fork's run on a same-named branch: not our history
            for artifact in other.get_artifacts():
                if artifact.name == name and not artifact.expired:
                    if artifact.size_in_bytes > ARTIFACT_LIMIT:
                        raise HistoryError(
                            f"the previous snapshot is {artifact.size_in_bytes:,} bytes, over "
                            f"the {ARTIFACT_LIMIT:,} a snapshot can be"
                        )
                    return _download(client, artifact.archive_download_url, kind)
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
    return None


def _download(client: Github, url: str, kind: str) -> Snapshot:
    """The API (through PyGithub's requester, with the token) answers with a redirect to a
    storage host; that one is fetched without the token, like actions/toolkit does. PyGithub's
    own redirect-following refuses hosts outside github.com, such as GitHub's blob storage."""
    status, headers, _ = client.requester.requestJson("GET", url)
    location = headers.get("location", "")
    if status != 302 or not location.startswith(("https://", "http://127.0.0.1:")):
        raise HistoryError(f"the artifact download answered HTTP {status}, not a redirect")
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
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            member = archive.getinfo(f"{kind}.json")
            if member.file_size > SNAPSHOT_LIMIT:
                raise HistoryError(f"the previous snapshot is over {SNAPSHOT_LIMIT:,} bytes")
            with archive.open(member) as handle:
                raw = handle.read(SNAPSHOT_LIMIT + 1)
        if len(raw) > SNAPSHOT_LIMIT:
            raise HistoryError(f"the previous snapshot is over {SNAPSHOT_LIMIT:,} bytes")
        return Snapshot.parse(raw, kind)
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as exc:
        raise HistoryError(f"the previous snapshot cannot be read ({exc})") from None
