"""What the README promises, held to the code's own numbers."""

from __future__ import annotations

import re

import yaml

from echo_notify import github, history, posting, watchdog
from echo_notify.echo import Policy
from tests.helpers import ROOT
from tests.sequences import PROMISES

README = (ROOT / "README.md").read_text()
DELIVERY = (ROOT / "docs" / "delivery.md").read_text()


def test_the_bound_on_the_whole_step_names_every_part() -> None:
    rows = {
        "the job link": github.JOB_LINK_LIMIT,
        "the previous run's snapshot": history.LOOKUP_BUDGET,
        "the watchdog's reading of the workflows": watchdog.WATCH_LIMIT,
        "the heartbeat": posting.HEARTBEAT_LIMIT,
    }
    table = [line for line in DELIVERY.splitlines() if line.startswith("| the ")]
    for part, seconds in rows.items():
        assert any(
            row.startswith(f"| {part} ") and row.endswith(f"| {seconds:g} s |") for row in table
        ), part
    exchange = Policy(deadline=5).min_exchange
    assert f"`timeout-seconds` + {exchange:g} s" in DELIVERY
    total = 2 * exchange + github.JOB_LINK_LIMIT + history.LOOKUP_BUDGET + posting.HEARTBEAT_LIMIT
    assert f"= {total:g} s" in DELIVERY


def test_the_example_pipelines_never_share_a_concurrency_group() -> None:
    """GitHub keeps one pending run per group and cancels it for a newer one: a drain pending
    behind a sync would be dropped without a report. Each workflow has its own group."""
    groups = [
        yaml.safe_load(path.read_text()).get("concurrency", {}).get("group")
        for path in sorted((ROOT / "examples" / "workflows").glob("*.yml"))
    ]
    named = [group for group in groups if group]
    assert named and all(group == "${{ github.workflow }}" for group in named), groups


def test_the_metrics_file_is_named_one_way_everywhere() -> None:
    """The scripts take `--metrics-out FILE`, the workflows pass it, the docs show it."""
    migrating = (ROOT / "docs" / "migrating.md").read_text()
    assert "METRICS_OUT" not in migrating and '"--metrics-out"' in migrating
    for path in (ROOT / "examples" / "workflows").glob("*.yml"):
        text = path.read_text()
        for out in re.findall(r"--metrics-out (\S+)", text):
            assert f"metrics-file: {out}" in text, path.name


def test_every_report_snippet_sets_report() -> None:
    """A crash that writes no file counts in its report's streak, and gets its recovery, only
    when the step names its report: the snippets people copy set it, as the examples do."""
    docs = {"README.md": README, "docs/migrating.md": (ROOT / "docs" / "migrating.md").read_text()}
    found = 0
    for name, text in docs.items():
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
            for step in re.split(r"\n(?=- )", block):
                if "metrics-file:" in step:
                    found += 1
                    assert re.search(r"\n    report: (sync|drain|poll)\b", step), (name, step)
    assert found >= 2


def test_the_readme_states_every_promise_the_sequences_check() -> None:
    """The README's numbered promises are the ones tests/sequences.py checks after every run."""
    section = README.split("## Alerting you can trust", 1)[1].split("\n#", 1)[0]
    stated = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, flags=re.MULTILINE)
    assert [name.lower() for name in stated] == list(PROMISES)


def test_every_relative_link_of_the_docs_resolves() -> None:
    """The README and the docs pages link each other, the examples and the code: each link
    and picture names a file that is there (and an anchor a heading of its page)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
        for target in targets:
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), (page.name, target)
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
                slugs = {
                    re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings
                }
                assert anchor in slugs, (page.name, target)
