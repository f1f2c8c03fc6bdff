"""Talking to the runner: workflow commands, output and summary files, the run link."""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal, TextIO

from . import cancel
from .config import GitHubContext

if TYPE_CHECKING:
    from github import Github
from .text import clean, cut, one_line, redact

Level = Literal["debug", "notice", "warning", "error"]
SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary above 1 MiB
ANNOTATION_LIMIT = 4000  # characters; the whole text is in the job summary
JOB_LINK_LIMIT = 5.0  # seconds for the job-link look-up, however slowly the API answers


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Runner:
    """Everything the action prints or writes for the runner goes through here."""

    def __init__(self, ctx: GitHubContext, out: TextIO) -> None:
        self.ctx = ctx
        self.out = out
        self.secrets: tuple[str, ...] = ()

    def mask(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(secrets)
        if self.ctx.actions:
            for secret in self.secrets:
                for line in secret.splitlines():
                    self._print(f"::add-mask::{escape_data(line)}")

    def clean(self, text: str) -> str:
        """No escapes or invisible characters, secrets out; the legacy `##[command` form (read
        anywhere in a line) broken up."""
        return redact(clean(text), self.secrets).replace("##[", "#\u200b#[")

    def log(self, message: str) -> None:
        """One line of our own; data inside it cannot start a workflow command."""
        self._print(self.clean(one_line(message)))

    def debug(self, message: str) -> None:
        if self.ctx.actions:
            self._print(f"::debug::{escape_data(self.clean(message))}")
        elif self.ctx.debug:
            self.log(f"debug: {message}")

    def annotate(self, level: Level, title: str, message: str) -> None:
        message, title = cut(self.clean(message), ANNOTATION_LIMIT), self.clean(title)
        if self.ctx.actions:
            self._print(f"::{level} title={escape_property(title)}::{escape_data(message)}")
        else:
            self._print(f"{level.capitalize()}: {title}: {one_line(message)}")

    def block(self, title: str, text: str) -> None:
        """Print untrusted multi-line text so the runner reads no command in it."""
        title, text = self.clean(title), redact(text, self.secrets)
        if not self.ctx.actions:
            self._print(f"--- {title} ---\n{text}\n---")
            return
        token = random_tokens.token_hex(16)
        self._print(f"::group::{escape_data(title)}")
        self._print(f"::stop-commands::{token}")
        self._print(text)
        self._print(f"::{token}::")
        self._print("::endgroup::")

    def set_outputs(self, outputs: dict[str, str]) -> None:
        if self.ctx.output_file is None:
            self.block("Outputs", "\n".join(f"{k}={v}" for k, v in outputs.items()))
            return
        lines = []
        for name, value in outputs.items():
            # As random as the toolkit's uuid4, without importing uuid (and platform): a few ms.
            delimiter = f"ghadelimiter_{random_tokens.token_hex(16)}"
            # No redaction: outputs carry no secrets by construction, and redacting a short
            # token would corrupt a value that merely contains it.
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        with self.ctx.output_file.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines))

    def summary(self, markdown: str) -> None:
        markdown = redact(markdown, self.secrets)
        data = markdown.encode("utf-8")
        if len(data) > SUMMARY_LIMIT - 1024:
            cut = data[: SUMMARY_LIMIT - 1024].decode("utf-8", "ignore")
            markdown = cut + "\n\n… (cut to stay under GitHub's 1 MiB summary limit)\n"
        if self.ctx.summary_file is None:
            self.block("Job summary", markdown)
            return
        with self.ctx.summary_file.open("a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def run_link(ctx: GitHubContext, fallback: object = None) -> str:
    """The run's page (attempt-aware); the metrics file's link only when there is no run id."""
    if ctx.act:
        return ""  # a local run has no page on github.com
    if ctx.run_id and ctx.repository:
        url = f"{ctx.server_url}/{ctx.repository}/actions/runs/{ctx.run_id}"
        return url + (f"/attempts/{ctx.run_attempt}" if ctx.run_attempt > 1 else "")
    if isinstance(fallback, str) and fallback.startswith("https://"):
        return fallback.strip()
    return ""


def api_client(
    ctx: GitHubContext, token: str, *, act_too: bool = False, per_page: int = 10
) -> Github | None:
    """PyGithub for the run's repository; None without a token, or under act (no such run)
    unless ``act_too`` (the watchdog reads the real repository's workflows from a local run);
    ``per_page``: the watchdog reads a day of runs, 100 a page (GitHub's largest)."""
    if not token or (ctx.act and not act_too) or not ctx.repository:
        return None
    from github import Auth, Github  # noqa: PLC0415 -- slow import, needed only here

    return Github(
        base_url=ctx.api_url,
        auth=Auth.Token(token),
        timeout=5,
        retry=None,
        seconds_between_requests=None,
        per_page=per_page,
        lazy=True,  # objects fetch themselves when read: only the calls the look-ups need
    )


def job_link(ctx: GitHubContext, token: str, debug: Callable[[str], None]) -> str | None:
    """This job's own page, found through the API; None (and a debug line) on any failure.
    At most JOB_LINK_LIMIT s: PyGithub's timeout restarts with every byte of the answer."""
    client = api_client(ctx, token)
    if client is None or not ctx.run_id or not ctx.runner_name:
        return None
    path = f"/repos/{ctx.repository}/actions/runs/{ctx.run_id}/attempts/{ctx.run_attempt}/jobs"
    try:
        _, data = cancel.within(
            JOB_LINK_LIMIT,
            lambda: client.requester.requestJsonAndCheck("GET", path, parameters={"per_page": 100}),
            "echo-notify-job-link",
        )
        for job in data.get("jobs", []):
            url = job.get("html_url")
            if (
                job.get("runner_name") == ctx.runner_name
                and job.get("status") == "in_progress"
                and isinstance(url, str)
                and url.startswith(ctx.server_url + "/")
            ):
                return url
        debug("job link: no in-progress job on this runner in the API's answer")
    except Exception as exc:  # noqa: BLE001 -- any failure falls back to the run link
        debug(f"job link lookup failed ({type(exc).__name__}); using the run link")
    return None
