"""What GitHub reads at "Set up job", read by GitHub's own parser (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

from tests.composite import checkout
from tests.e2e.parser import generated, parse
from tests.helpers import ROOT

# The line that made every job using the action fail at "Set up job": GitHub
# evaluates `${{ }}` in action metadata, where no `job` context exists.
GOOD = "    description: \"The job's status (pass job.status from the workflow): "
BAD = "    description: Pass ${{ job.status }}; "


def with_the_old_description(action: Path) -> int:
    """Put the old job-status description back into ACTION/action.yml; returns its line."""
    lines = (action / "action.yml").read_text().splitlines(keepends=True)
    [number] = [n for n, line in enumerate(lines, 1) if line.startswith(GOOD)]
    lines[number - 1] = BAD + "failure or cancelled turns the report into a failure alert.\n"
    (action / "action.yml").write_text("".join(lines))
    return number


def test_an_expression_in_an_action_description_is_refused(tmp_path: Path) -> None:
    (tmp_path / "action.yml").write_text((ROOT / "action.yml").read_text())
    line = with_the_old_description(tmp_path)
    done = parse("action.yml", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"action.yml (Line: {line}, Col: 18): Unrecognized named-value: 'job'" in done.stdout
    assert done.stdout.endswith("workflow-parser: 1 files, 1 with errors\n")


def test_the_resolve_step_carries_a_bad_input_into_the_actions_it_writes(tmp_path: Path) -> None:
    action = checkout(tmp_path / "action")
    with_the_old_description(action)
    written = generated(action, tmp_path / "generated")
    done = parse(*written)
    assert done.returncode == 1
    refused = [line.split(" (Line")[0] for line in done.stdout.splitlines() if "'job'" in line]
    assert refused == [str(tmp_path / "generated" / f"report-{path}/action.yml")
                       for path in ("built", "pulled")]  # fmt: skip


def test_a_workflow_error_is_found(tmp_path: Path) -> None:
    workflow = tmp_path / "sync.yml"
    workflow.write_text(
        "on: push\njobs:\n  sync:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: acme/echo-notify@v1\n        width:\n          metrics-file: m.json\n"
    )
    done = parse(workflow)
    assert done.returncode == 1
    assert f"{workflow} (Line: 7, Col: 9): Unexpected value 'width'" in done.stdout


def test_github_accepts_the_actions_the_workflows_and_what_the_resolve_step_writes(
    tmp_path: Path,
) -> None:
    written = generated(ROOT, tmp_path)
    assert [p.parent.name for p in written] == [
        "report-built", "report-pulled", "watchdog-built", "watchdog-pulled"
    ]  # fmt: skip
    files = [
        ROOT / "action.yml",
        ROOT / "watchdog" / "action.yml",
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        *sorted((ROOT / "examples" / "workflows").glob("*.yml")),
        *written,
    ]
    done = parse(*files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"workflow-parser: {len(files)} files, 0 with errors\n"
