"""The one boundary where the environment becomes a typed, frozen config."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .choices import MENTION, THRESHOLDS, TITLE_LIMIT, Fmt, JobStatus, NotifyOn, Unusual
from .errors import InputError
from .text import clean, cut, one_line

T = TypeVar("T")
TRUE = {"true", "yes", "1"}
FALSE = {"false", "no", "0"}
ReportInput = Literal["sync", "drain", "poll", "auto"]
MentionOn = Literal["critical", "problems", "never"]
# The defaults of action.yml, for runs outside Actions (a test keeps the two equal).
DEFAULTS = {
    "channel": "#sales-cold-email-replies",
    "report": "auto",
    "job-status": "success",
    "timezone": "America/New_York",
    "format": "slack",
    "enabled": "true",
    "dry-run": "false",
    "fail-on-error": "false",
    "timeout-seconds": "180",
    "notify-on": "always",
    "history": "true",
    "remind-every": "4h",
    "alert-after": "1",
    "mention-on": "critical",
    "unusual": "info",
}


@dataclass(frozen=True, kw_only=True)
class GitHubContext:
    """What the runner tells us about the run."""

    actions: bool = False  # GITHUB_ACTIONS=true: workflow commands are understood
    act: bool = False  # running under nektos/act
    server_url: str = ""
    api_url: str = ""
    repository: str = ""
    workflow: str = ""  # the workflow's name, for the no-metrics alert
    job: str = ""  # the job's key in the workflow (GITHUB_JOB): names the run-to-run snapshot
    runner_temp: Path | None = None  # where the snapshot is left for the composite to upload
    run_id: str = ""
    run_attempt: int = 1
    runner_name: str = ""
    workspace: Path = Path()
    output_file: Path | None = None
    summary_file: Path | None = None
    debug: bool = False


@dataclass(frozen=True)
class Watch:
    """One line of the watchdog's `workflows` input: `cold-email-sync.yml` (its schedule read
    from the file), `cold-email-sync.yml: 2h` (an age instead), or `all`."""

    workflow: str  # the file name, or `all`: every workflow of the repository with a schedule
    max_age: timedelta | None = None  # None: judged by the schedule in the file
    written: str = ""  # the age as the user wrote it, for the message
    line: int = 0  # its line in the input, for errors
    text: str = ""  # the line as written


@dataclass(frozen=True)
class WeeklyAt:
    """`digest-weekly`: a weekday (0 is Monday) and a time of day, in `timezone`."""

    weekday: int
    time: time


@dataclass(frozen=True, kw_only=True)
class Config:
    metrics_file: Path  # the workspace itself for the watchdog, which reads no file
    workflows: tuple[Watch, ...] = ()  # the watchdog's: what to watch, and how stale is too stale
    echo_url: str
    echo_token: str = field(repr=False)
    recipients: tuple[str, ...]
    report: ReportInput
    job_status: JobStatus
    title: str
    template: Path | None
    timezone: ZoneInfo
    format: Fmt
    dry_run: bool
    fail_on_error: bool
    timeout_seconds: float
    notify_on: NotifyOn
    thresholds: dict[str, tuple[float, float]]
    history: bool
    history_key: str = ""  # told apart in the snapshot's name: a matrix leg, a named step
    leg: str = ""  # the same as people read it: the leg's matrix values, or the name given
    heartbeat_url: str = field(repr=False)  # a dead-man check's URL is a secret of sorts
    github_token: str = field(repr=False)
    github: GitHubContext
    # Alerting (docs/alerting.md): reminders, flapping, silences, mentions.
    remind_every: timedelta = timedelta(hours=4)
    alert_after: int = 1
    mute_until: datetime | None = None
    mention: str = ""  # Slack mention tokens, checked: `<@U…> <!here>`
    mention_on: MentionOn = "critical"
    unusual: Unusual = "info"  # a figure outside what is usual for the hour: a warning too?
    digest_at: time | None = None  # the watchdog's daily digest, in `timezone`
    digest_weekly: WeeklyAt | None = None  # the watchdog's weekly digest, in `timezone`
    grace: timedelta = timedelta(minutes=10)  # the watchdog's: a due run later than this is late
    missed_runs: int = 3  # the watchdog's: scheduled runs missed in a row that make an alert

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.echo_token, self.github_token, self.heartbeat_url) if s)


class Inputs:
    """Reads ``INPUT_<NAME>`` exactly as the runner exports it (hyphens kept, maybe padded)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def raw(self, name: str) -> str:
        return self.env.get("INPUT_" + name.replace(" ", "_").upper(), "").strip()

    def get(self, name: str) -> str:
        """The input, or its action.yml default when empty (the runner passes '' when unset)."""
        return self.raw(name) or DEFAULTS.get(name, "")

    def flag(self, name: str) -> bool:
        raw = self.get(name)
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise InputError(
            f"Input '{name}' must be true or false (also yes/no/1/0), got {raw!r}. "
            f"Set `{name}: true` or `{name}: false` in the step's `with:`."
        )

    def choice(self, name: str, choices: object) -> Any:
        """One of the names of a Literal type, case-insensitive."""
        names = get_args(choices)
        value = self.get(name).lower()
        if value not in names:
            raise InputError(
                f"Input '{name}' must be one of {', '.join(names)}; got {self.raw(name)!r}."
            )
        return value


def github_context(env: Mapping[str, str]) -> GitHubContext:
    def path(name: str) -> Path | None:
        return Path(env[name]) if env.get(name) else None

    try:
        attempt = max(1, int(env.get("GITHUB_RUN_ATTEMPT", "1") or "1"))
    except ValueError:
        attempt = 1
    return GitHubContext(
        actions=env.get("GITHUB_ACTIONS") == "true",
        act=env.get("ACT", "").lower() == "true",
        server_url=env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        repository=env.get("GITHUB_REPOSITORY", ""),
        workflow=one_line(clean(env.get("GITHUB_WORKFLOW", ""))).strip(),
        job=env.get("GITHUB_JOB", ""),
        runner_temp=path("RUNNER_TEMP"),
        run_id=env.get("GITHUB_RUN_ID", ""),
        run_attempt=attempt,
        runner_name=env.get("RUNNER_NAME", ""),
        workspace=Path(env.get("GITHUB_WORKSPACE") or "."),
        output_file=path("GITHUB_OUTPUT"),
        summary_file=path("GITHUB_STEP_SUMMARY"),
        debug=env.get("RUNNER_DEBUG") == "1",
    )


def enabled(env: Mapping[str, str]) -> bool:
    """Read first and alone: `enabled: false` skips everything, even other bad inputs."""
    return Inputs(env).flag("enabled")


class Problems:
    """Input errors gathered, so one run names every wrong input, not one per run."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def read(self, parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except InputError as exc:
            self.found.extend(str(exc).split("\n"))
            return fallback

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise InputError(self.found[0])
        if self.found:
            raise InputError(
                f"{len(self.found)} problems with the inputs:\n"
                + "\n".join(f"- {problem}" for problem in self.found)
            )


def load_config(
    env: Mapping[str, str], *, watchdog: bool = False, now: datetime | None = None
) -> Config:
    """The report's inputs; with ``watchdog``, the watchdog's (watchdog/action.yml): its
    `workflows` instead of a metrics file. Every wrong input is named in one InputError;
    ``now`` bounds `mute-until`."""
    inputs = Inputs(env)
    github = github_context(env)
    problems = Problems()
    read = problems.read
    # A wrong `dry-run` is one error: `echo-url` is then judged as if it were a dry run.
    dry_run = read(lambda: inputs.flag("dry-run"), True)

    metrics = inputs.get("metrics-file")
    none: tuple[Watch, ...] = ()
    watched = read(lambda: watches(inputs.get("workflows")), none) if watchdog else none
    if not metrics and not watchdog:
        problems.found.append(
            "Input 'metrics-file' is required: set it to the JSON file your pipeline step "
            "wrote, e.g. `metrics-file: sync-metrics.json`."
        )
    if watchdog and not inputs.get("github-token"):
        problems.found.append(
            "Input 'github-token' is empty: the watchdog reads the workflows' runs through the "
            "GitHub API. Leave it at its default (`${{ github.token }}`) and give the job "
            "`permissions: actions: read`."
        )
    template = inputs.get("template")
    if template and not (github.workspace / template).is_file():
        what = "is a directory" if (github.workspace / template).is_dir() else "does not exist"
        problems.found.append(
            f"Template '{github.workspace / template}' {what}: the `template` input must name "
            "a template file (a path relative to the workspace)."
        )
    zone = read(lambda: timezone(inputs.get("timezone")), ZoneInfo("UTC"))
    config = Config(
        metrics_file=github.workspace / metrics,
        workflows=watched,
        echo_url=read(lambda: echo_url(inputs.get("echo-url"), dry_run), ""),
        echo_token=inputs.get("echo-token"),
        recipients=read(lambda: recipients(inputs.get("channel")), ()),
        report=read(lambda: inputs.choice("report", ReportInput), "auto"),
        job_status=read(lambda: inputs.choice("job-status", JobStatus), "success"),
        title=cut(one_line(clean(inputs.get("title"))).strip(), TITLE_LIMIT - 1),
        template=github.workspace / template if template else None,
        timezone=zone,
        format=read(lambda: inputs.choice("format", Fmt), "slack"),
        dry_run=dry_run,
        fail_on_error=read(lambda: inputs.flag("fail-on-error"), False),
        timeout_seconds=read(lambda: timeout(inputs.get("timeout-seconds")), 180.0),
        # The watchdog posts problems and their end, at once; it has neither input.
        notify_on="problems"
        if watchdog
        else read(lambda: inputs.choice("notify-on", NotifyOn), "always"),
        thresholds=read(lambda: thresholds(inputs.get("thresholds")), {}),
        history=read(lambda: inputs.flag("history"), False),
        history_key=read(lambda: history_key(inputs.get("history-key")), ""),
        leg=leg(inputs.get("history-key")),
        heartbeat_url=read(lambda: url("heartbeat-url", inputs.get("heartbeat-url")), ""),
        github_token=inputs.get("github-token"),
        github=github,
        remind_every=read(lambda: every(inputs.get("remind-every")), timedelta(hours=4)),
        alert_after=1
        if watchdog
        else read(lambda: runs("alert-after", inputs.get("alert-after")), 1),
        mute_until=read(lambda: mute_until(inputs.get("mute-until"), zone, now), None),
        mention=read(lambda: mentions(inputs.get("mention")), ""),
        mention_on=read(lambda: inputs.choice("mention-on", MentionOn), "critical"),
        unusual=read(lambda: inputs.choice("unusual", Unusual), "info"),
        digest_at=read(lambda: time_of_day(inputs.get("digest-at")), None),
        digest_weekly=read(lambda: weekly_at(inputs.get("digest-weekly")), None),
        grace=read(lambda: grace(inputs.get("grace") or WATCHDOG_DEFAULTS["grace"]), GRACE),
        missed_runs=read(
            lambda: runs(
                "missed-runs", inputs.get("missed-runs") or WATCHDOG_DEFAULTS["missed-runs"]
            ),
            3,
        ),
    )
    if config.digest_at and inputs.get("history").lower() in FALSE:
        problems.found.append(
            "Input 'digest-at' needs `history: true`: the watchdog remembers in its history "
            "that today's digest went out, and the digest reads the reports' histories. "
            "Without it every check after the time would post one."
        )
    if config.digest_weekly and inputs.get("history").lower() in FALSE:
        problems.found.append(
            "Input 'digest-weekly' needs `history: true`: the watchdog remembers in its history "
            "that this week's digest went out, and the digest reads the reports' histories. "
            "Without it every check in the 12 hours after the time would post one."
        )
    read(lambda: image(inputs.get("image")), "")  # the resolve step used it, or passed it over
    problems.raise_any()
    return config


LEG_LIMIT = 60  # characters of a leg's name in the digest
IMAGE = re.compile(
    r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*"
)


def image(raw: str) -> str:
    """`image`: a registry image without a tag (resolve-image.sh checks the same pattern and
    passes a bad one over, so that this error comes with the summary and the outputs)."""
    if raw and not IMAGE.fullmatch(raw):
        shown = cut(one_line(clean(raw)), 120)
        raise InputError(
            f"Input 'image' is not an image name without a tag: {shown!r}. "
            "Use lower case and no tag or digest, e.g. registry.example.com/team/echo-notify or "
            "localhost:5000/echo-notify; or remove it to use the published image."
        )
    return raw


def history_key(raw: str) -> str:
    """`history-key`: by default the leg's matrix values (action.yml passes toJSON(matrix):
    `null` outside a matrix), kept as a short digest; or a name a user gives a step."""
    matrix = _matrix(raw)
    if matrix is not None:
        canonical = json.dumps(matrix, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12] if matrix else ""
    if raw in ("", "null"):
        return ""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,40}", raw):
        raise InputError(
            f"Input 'history-key' must be a short name (letters, digits, '.', '_', '-'; at most "
            f"40), got {raw[:60]!r}: it names this step's snapshot artifact. In a matrix, leave "
            "the input out (its default tells the legs apart by their values); give each report "
            "step of one kind in a job its own name."
        )
    return raw


def _matrix(raw: str) -> dict[str, Any] | None:
    """The matrix values `history-key` holds by default (action.yml passes toJSON(matrix))."""
    try:
        matrix = json.loads(raw) if raw.startswith("{") else None
    except ValueError:
        return None
    return matrix if isinstance(matrix, dict) else None


def leg(raw: str) -> str:
    """The leg as the digest names it: its matrix values as GitHub lists them in a job's name
    (`smb, 1`), or the `history-key` a user gave; `''` outside a matrix."""
    matrix = _matrix(raw)
    if matrix is not None:
        values = (v if isinstance(v, str) else json.dumps(v) for v in matrix.values())
        return cut(one_line(clean(", ".join(values))), LEG_LIMIT)
    return "" if raw == "null" else cut(one_line(clean(raw)), LEG_LIMIT)


def recipients(raw: str) -> tuple[str, ...]:
    # In order, each once: `#a, #a` must not post twice.
    found = tuple(dict.fromkeys(r.strip() for r in re.split(r"[,\n]", raw) if r.strip()))
    if not found:
        raise InputError("Input 'channel' names no recipient: give a channel like '#sales'.")
    return found


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"Input 'timezone' is not a known IANA time zone: {name!r}. Use a canonical name "
            "such as America/New_York or Europe/Berlin; old aliases like US/Eastern are missing "
            "from some systems' time zone data."
        ) from None


def timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= 3600:
        raise InputError(
            f"Input 'timeout-seconds' must be a number of seconds from 1 to 3600, got {raw!r}."
        )
    return value


def echo_url(raw: str, dry_run: bool) -> str:
    if not raw:
        if dry_run:
            return ""
        raise InputError(
            "Input 'echo-url' is required unless `dry-run: true`: set it to the base URL of "
            "the Echo API, e.g. `echo-url: ${{ secrets.ECHO_API_BASE_URL }}`. If it comes "
            "from a secret, check that the secret exists in this repository."
        )
    parts = urlsplit(url("echo-url", raw))
    if parts.query or parts.fragment:
        raise InputError("Input 'echo-url' must be the API's base URL, without ?query or #.")
    return raw.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_THRESHOLD = re.compile(r"([a-z]+)\s*:\s*(\d+(?:\.\d+)?)\s*%?\s*/\s*(\d+(?:\.\d+)?)\s*%?")


def thresholds(raw: str) -> dict[str, tuple[float, float]]:
    """`gauge: warning/critical` lines over the defaults (choices.THRESHOLDS); each gauge keeps its
    direction (capacity and invalid share are bad when high, the success rates when low).
    `#` lines are comments, as in the watchdog's `workflows`; every bad line is named."""
    limits = dict(THRESHOLDS)
    bad: list[str] = []
    for written in raw.splitlines():
        if written.strip().startswith("#"):
            continue
        for line in (part.strip() for part in re.split(r"[,;]", written)):
            if line:
                problem = _threshold(line, limits)
                bad += [problem] if problem else []
    if bad:
        raise InputError("\n".join(bad))
    return limits


def _threshold(line: str, limits: dict[str, tuple[float, float]]) -> str:
    """Read one `gauge: warning/critical` into ``limits``; what is wrong with it, or ''."""
    match = _THRESHOLD.fullmatch(line.lower())
    gauge = match.group(1) if match else ""
    if not match or gauge not in THRESHOLDS:
        return (
            f"Input 'thresholds': cannot read the line {line!r}. Write one gauge per line as "
            f"`gauge: warning/critical` (percent), gauges: {', '.join(THRESHOLDS)}; "
            "e.g. `capacity: 75/92`."
        )
    warning, critical = float(match.group(2)), float(match.group(3))
    high_is_bad = THRESHOLDS[gauge][1] > THRESHOLDS[gauge][0]
    if max(warning, critical) > 100 or (
        critical <= warning if high_is_bad else critical >= warning
    ):
        order = "warning below critical" if high_is_bad else "warning above critical"
        return (
            f"Input 'thresholds': the line {line!r} does not fit the {gauge} gauge: it needs "
            f"{order}, both from 0 to 100 (the default is "
            f"{THRESHOLDS[gauge][0]:g}/{THRESHOLDS[gauge][1]:g})."
        )
    limits[gauge] = (warning, critical)
    return ""


def url(name: str, raw: str) -> str:
    """An https URL (plain http only for loopback: nothing leaves the machine), no credentials."""
    if not raw:
        return ""
    try:
        parts = urlsplit(raw)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise InputError(f"Input '{name}' is not a valid URL.") from None
    if parts.username or parts.password:
        hint = " pass the token as `echo-token` instead," if name == "echo-url" else ""
        raise InputError(
            f"Input '{name}' must not carry credentials:{hint} so they are masked and never "
            "part of a logged URL."
        )
    if not (parts.scheme == "https" and host) and not (
        parts.scheme == "http" and is_loopback(host)
    ):
        raise InputError(
            f"Input '{name}' must start with https:// (plain http:// is allowed only for "
            "localhost), so nothing is sent in clear text."
        )
    return raw


# The unit in any case (`2H`), as booleans take any case; the file name exactly as written.
_WATCH = re.compile(
    r"([A-Za-z0-9._-]+\.ya?ml)(?:\s*:\s*((\d+(?:\.\d+)?)\s*((?i:min|m|h|d))))?|(all)"
)
UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400}
# The watchdog's own defaults (watchdog/action.yml; a test keeps the two equal).
WATCHDOG_DEFAULTS = {"grace": "10m", "missed-runs": "3"}
GRACE = timedelta(minutes=10)


def watches(raw: str) -> tuple[Watch, ...]:
    """`workflow-file` (its schedule read from the file), `workflow-file: max-age` or `all`
    lines: the workflows the watchdog checks, each once."""
    found: dict[str, Watch] = {}
    for number, line in enumerate((part.strip() for part in raw.splitlines()), start=1):
        if not line or line.startswith("#"):
            continue
        match = _WATCH.fullmatch(line)
        if not match:
            raise InputError(
                f"Input 'workflows': cannot read the line {line!r}. Write one workflow file "
                "per line, its schedule read from the file (`cold-email-sync.yml`), or with "
                "the age of its last success in m, h or d instead (`cold-email-sync.yml: 2h`); "
                "or `all` for every workflow with a schedule."
            )
        name = match.group(1) or "all"
        age = None
        if match.group(2):
            seconds = float(match.group(3)) * UNITS[match.group(4).lower()]
            if not 60 <= seconds <= 90 * 86400:
                raise InputError(
                    f"Input 'workflows': the age in {line!r} must be from 1 minute to 90 days."
                )
            age = timedelta(seconds=seconds)
        found[name] = Watch(name, age, match.group(2) or "", number, line)
    if not found:
        raise InputError(
            "Input 'workflows' names no workflow: give lines like `cold-email-sync.yml` (its "
            "schedule read from the file), `cold-email-sync.yml: 2h`, or `all`."
        )
    return tuple(found.values())


def grace(raw: str) -> timedelta:
    """`grace`: how late a scheduled run may start and still be on time (1 minute to 1 day)."""
    match = _EVERY.fullmatch(raw.strip())
    seconds = float(match.group(1)) * UNITS[match.group(2).lower()] if match else 0
    if not 60 <= seconds <= 86400:
        raise InputError(
            f"Input 'grace' must be a duration from 1 minute to 1 day in m, h or d (e.g. "
            f"`10m`); got {cut(one_line(clean(raw)), 40)!r}."
        )
    return timedelta(seconds=seconds)


_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*(m|min|h|d)", re.IGNORECASE)


def every(raw: str) -> timedelta:
    """`remind-every`: an age like the watchdog's (30m, 4h, 1d, any case), or 0 for every run."""
    if raw.strip() == "0":
        return timedelta(0)
    match = _EVERY.fullmatch(raw.strip())
    seconds = float(match.group(1)) * UNITS[match.group(2).lower()] if match else 0
    if not 60 <= seconds <= 90 * 86400:
        raise InputError(
            f"Input 'remind-every' must be a duration from 1 minute to 90 days in m, h or d "
            f"(e.g. `4h`), or 0 to post every problem run; got {raw!r}."
        )
    return timedelta(seconds=seconds)


def runs(name: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise InputError(f"Input '{name}' must be a number of runs from 1 to 100, got {raw!r}.")
    return int(raw)


MUTE_LIMIT = timedelta(days=14)  # a forgotten mute must not silence the channel for good


def mute_until(raw: str, zone: ZoneInfo, now: datetime | None) -> datetime | None:
    """`mute-until`: a date (its midnight, the start of that day) or a date-time, in
    `timezone`; at most 14 days ahead. One in the past is kept: the run says it is over."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is not None or not 2000 <= moment.year <= 2999:
        raise InputError(
            f"Input 'mute-until' must be a date or a date and time in `timezone`, like "
            f"`2026-01-20` or `2026-01-20 09:00`; got {raw!r}."
        )
    if len(raw.strip()) == 10:
        moment = datetime.combine(moment.date(), time())
    moment = moment.replace(tzinfo=zone)
    if now is not None and moment - now > MUTE_LIMIT:
        raise InputError(
            f"Input 'mute-until' is more than 14 days ahead ({raw!r}): a forgotten mute must "
            "not silence the channel for good. Mute for at most 14 days, and again if needed."
        )
    return moment


def time_of_day(raw: str) -> time | None:
    """`digest-at`: a time of day, HH:MM on the 24-hour clock (in `timezone`)."""
    found = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", raw.strip())
    if raw and not found:
        raise InputError(
            "Input 'digest-at' must be a time of day in `timezone` on the 24-hour clock, like "
            f"`09:00` or `17:30`; got {cut(one_line(clean(raw)), 40)!r}."
        )
    return time(int(found[1]), int(found[2])) if found else None


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekly_at(raw: str) -> WeeklyAt | None:
    """`digest-weekly`: a weekday (`Mon` or `Monday`, any case) and a time of day, HH:MM on
    the 24-hour clock (in `timezone`)."""
    found = re.fullmatch(r"([A-Za-z]+)\s+([01]?[0-9]|2[0-3]):([0-5][0-9])", raw.strip())
    names = {name: day for day, full in enumerate(WEEKDAYS) for name in (full, full[:3])}
    day = names.get(found[1].lower()) if found else None
    if raw.strip() and day is None:
        raise InputError(
            "Input 'digest-weekly' must be a weekday and a time of day in `timezone` on the "
            "24-hour clock, like `Mon 09:00` or `Friday 17:30`; "
            f"got {cut(one_line(clean(raw)), 40)!r}."
        )
    return WeeklyAt(day, time(int(found[2]), int(found[3]))) if found and day is not None else None


def mentions(raw: str) -> str:
    """`mention`: Slack mention tokens only, separated by spaces or commas."""
    tokens = [t for t in re.split(r"[\s,]+", raw) if t]
    for token in tokens:
        if not MENTION.fullmatch(token):
            raise InputError(
                f"Input 'mention' takes Slack mention tokens only: `<@U012AB3CD>` (a user), "
                f"`<!subteam^S012AB3CD>` (a user group), `<!here>` or `<!channel>`; "
                f"got {cut(one_line(clean(token)), 40)!r}."
            )
    return " ".join(dict.fromkeys(tokens))
