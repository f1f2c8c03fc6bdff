"""The gallery's pages (scripts/gallery takes their pictures): each case is a day of runs of one
report through ``main()``, as the runner and the composite make them (tests/pipeline.py: the
fake GitHub API on loopback carries the snapshot from run to run, a local Echo takes the
messages), the clock fixed. The last run uses an example metrics file as it is; the earlier runs
only vary the report's key figure so the window has a trend. Each case gives two pages: what
Echo received, through a Slack mrkdwn preview, and the job summary, as Markdown for the browser
to render (scripts/gallery-page.js).

Usage: python scripts/gallery.py OUT  (writes OUT/<case>.slack.html, OUT/<case>.summary.html)
"""

from __future__ import annotations

import html
import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_github import fake_actions  # noqa: E402 -- after the path: the repository's own
from tests.helpers import EXAMPLES, ScriptedEcho, running  # noqa: E402
from tests.pipeline import (  # noqa: E402
    DIGEST_MORNING,
    PIPELINES,
    WEEKLY_MORNING,
    Pipeline,
    digest_morning,
    seed_history,
    weekly_morning,
)

Metrics = dict[str, object]


@dataclass(frozen=True)
class Case:
    name: str
    metrics: str  # the example file the last run reads, as it is
    report: str
    earlier: list[float | None]  # the key figure of the runs before it, one an hour
    vary: Callable[[Metrics, float | None], None]
    inputs: dict[str, str]

    @property
    def job(self) -> str:  # GITHUB_JOB: GitHub heads the job summary with it
        return self.report


def verification(data: Metrics, value: float | None) -> None:
    data["verification_results"] = (
        {} if value is None else {"total_attempted": 100, "verified_successful": round(value)}
    )
    data["errors"] = []


def deletion(data: Metrics, value: float | None) -> None:
    data["deletion_results"] = {} if value is None else {"success_rate_percentage": value}


def invalid(data: Metrics, value: float | None) -> None:
    breakdown = data["status_breakdown"]
    assert isinstance(breakdown, dict)
    data["status_breakdown"] = {**breakdown, "invalid": None if value is None else round(value)}


CASES = [
    Case("sync", "sync.json", "sync", [95, 94, 96, 93, None, 91, 94, 95], verification, {}),
    Case("drain", "drain.json", "drain", [98.8, 97.9, 99.1, 96.4, 98.0, 97.2, 98.5, 99.0],
         deletion, {}),
    Case("poll", "poll.json", "poll", [6, 7, 5, 9, 8, 14, 7, 6], invalid, {}),
    Case("sync-bad-day", "sync-bad-day.json", "sync", [95, 93, 90, 91, 87, 85, 82, 79],
         verification, {"job-status": "failure"}),
]  # fmt: skip
LAST_HOUR = 16  # the last run at 4 PM in New York on Jan 15, 2026 (tests/pipeline.py's day)


@dataclass(frozen=True)
class Shown:
    slack: str  # the content Echo received
    summary: str  # the job summary, as GITHUB_STEP_SUMMARY holds it


def run(case: Case) -> Shown:
    example = json.loads((EXAMPLES / case.metrics).read_text())
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(ScriptedEcho()) as echo,
        fake_actions() as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        pipeline = Pipeline(Path(tmp), echo, actions)
        job = {"GITHUB_JOB": case.job}
        first = LAST_HOUR - len(case.earlier)
        for hour, value in enumerate(case.earlier, start=first):
            data = json.loads(json.dumps(example))
            case.vary(data, value)
            pipeline.run(data, hour, env=job, report=case.report)
        step = pipeline.run(example, LAST_HOUR, env=job, report=case.report, **case.inputs)
    if step.code != 0 or not step.content:
        sys.exit(f"gallery: the {case.name} run failed (exit {step.code}):\n{step.log}")
    return Shown(step.content, step.summary)


def run_digest() -> Shown:
    """The watchdog's daily digest at 9 AM on Jan 16, after a day of the three pipelines
    (tests/pipeline.py, the day the digest's golden files show)."""
    with tempfile.TemporaryDirectory() as tmp, digest_morning(Path(tmp)) as dog:
        check = dog.check(0, when=DIGEST_MORNING, workflows=PIPELINES, **{"digest-at": "09:00"})
    if check.code != 0 or not check.outputs.get("digest-id"):
        sys.exit(f"gallery: the digest's check failed (exit {check.code}):\n{check.log}")
    return Shown(check.content, check.summary)


def run_weekly() -> Shown:
    """The watchdog's weekly digest at 9 AM on Monday, Jan 19, after three weeks of the
    pipelines' snapshots (tests/pipeline.py, the weeks the weekly digest's golden files show)."""
    with tempfile.TemporaryDirectory() as tmp, weekly_morning(Path(tmp)) as dog:
        check = dog.check(
            0, when=WEEKLY_MORNING, workflows=PIPELINES, **{"digest-weekly": "Mon 09:00"}
        )
    if check.code != 0 or not check.outputs.get("digest-weekly-id"):
        sys.exit(f"gallery: the weekly digest's check failed (exit {check.code}):\n{check.log}")
    return Shown(check.content, check.summary)


def run_weeks() -> Shown:
    """The sync report at 9 AM on Monday, Jan 19, after three weeks of syncs every 2 hours
    (tests/pipeline.py's weeks, carried in the snapshot): the example file, its capacity that
    of those weeks, beside last Monday at 9 AM and what is usual for Mondays at 9 AM."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(ScriptedEcho()) as echo,
        fake_actions() as actions,
    ):
        assert isinstance(echo, ScriptedEcho)
        seed_history(actions, WEEKLY_MORNING - timedelta(hours=2), 21)
        pipeline = Pipeline(Path(tmp), echo, actions)
        example = json.loads((EXAMPLES / "sync.json").read_text())
        example["capacity_status"] = {"current_inventory": 15800, "max_capacity": 24000}
        step = pipeline.run(example, 0, when=WEEKLY_MORNING, env={"GITHUB_JOB": "sync"})
    if step.code != 0 or "📅" not in step.content:
        sys.exit(f"gallery: the three weeks' sync failed (exit {step.code}):\n{step.log}")
    return Shown(step.content, step.summary)


# -- Slack mrkdwn, as Slack shows it ----------------------------------------------------------
# https://api.slack.com/reference/surfaces/formatting: *bold*, _italic_, ~strike~, `code`,
# <url|text> links, <!here>-style mentions; &amp; &lt; &gt; are the only entities.

TOKEN = re.compile(r"`([^`\n]+)`|<([^<>\n]+)>")
EMPHASIS = [  # a marker opens after a non-word character and closes before one
    (re.compile(rf"(?<![\w{m}]){m}(?=\S)([^\n{m}]*?\S){m}(?![\w{m}])"), tag)
    for m, tag in (("\\*", "b"), ("_", "i"), ("~", "s"))
]


def unescape(text: str) -> str:
    """Slack's three entities read back (and only those)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    return html.escape(unescape(text), quote=False)


def angle(inner: str) -> str:
    if inner.startswith(("!", "@", "#")):  # a mention: Slack shows it highlighted
        label = inner.split("|", 1)[-1] if "|" in inner else inner.lstrip("!@#")
        return f'<span class="mention">@{plain(label)}</span>'
    url, _, label = inner.partition("|")
    return f'<a href="{html.escape(unescape(url))}">{plain(label or url)}</a>'


def mrkdwn(text: str) -> str:
    """Slack message text as HTML: code and <…> first (nothing formats inside them)."""
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        code, inner = match.groups()
        kept.append(f"<code>{plain(code)}</code>" if code is not None else angle(inner))
        return f"\x00{len(kept) - 1}\x00"

    out = plain(TOKEN.sub(hold, text))
    for pattern, tag in EMPHASIS:
        out = pattern.sub(rf"<{tag}>\1</{tag}>", out)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], out)


SLACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}/slack.css"></head>
<body><div class="message">
<div class="avatar">🔔</div>
<div class="body"><div class="meta"><b>Echo Notify</b> <span class="app">APP</span>
<span class="time">{time}</span></div>
<div class="text">{text}</div></div></div>
<script src="{assets}/measure.js"></script></body></html>
"""

SUMMARY_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{assets}/summary.css"></head>
<body><div class="summary"><h2 class="step">{title}</h2><div id="markdown"></div></div>
<script type="application/json" id="source">{source}</script>
<script src="{lib}/marked/lib/marked.umd.js"></script>
<script src="{lib}/mermaid/dist/mermaid.min.js"></script>
<script src="{assets}/gallery-page.js"></script></body></html>
"""


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    assets = ROOT / "scripts" / "gallery-assets"
    lib = out.parent / "node_modules"
    pictures = [
        (c.name, c.job, "4:00 PM", partial(run, c), f"examples/metrics/{c.metrics}") for c in CASES
    ]
    pictures.append(("digest", "watch", "9:00 AM", run_digest, "a day of the three pipelines"))
    pictures.append(("weekly", "watch", "9:00 AM", run_weekly, "three weeks of the pipelines"))
    pictures.append(("sync-weeks", "sync", "9:00 AM", run_weeks, "three weeks of syncs"))
    for name, job, time, make, source in pictures:
        shown = make()
        (out / f"{name}.slack.txt").write_text(shown.slack)
        (out / f"{name}.summary.md").write_text(shown.summary)
        (out / f"{name}.slack.html").write_text(
            SLACK_PAGE.format(
                title=f"{name}: the channel",
                assets=assets.as_uri(),
                time=time,
                text=mrkdwn(shown.slack),
            )
        )
        source_json = json.dumps(shown.summary).replace("<", "\\u003c")  # no </script> in data
        (out / f"{name}.summary.html").write_text(
            SUMMARY_PAGE.format(
                title=f"{job} summary",
                assets=assets.as_uri(),
                lib=lib.resolve().as_uri(),
                source=source_json,
            )
        )
        print(f"gallery: {name}: rendered from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
