"""The real act runs workflows that use this action (marker: docker). See tests/e2e/act.py for
what stands in for what cannot run here; everything else is act's own behaviour."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.composite import checkout, source_digest
from tests.e2e.act import (
    STAMP,
    Run,
    act,
    action_checkout,
    git_repository,
    outputs_step,
    require_act,
)
from tests.e2e.conftest import Published
from tests.e2e.docker import BASE, docker
from tests.e2e.test_composite import labelled
from tests.fake_github import Actions, Workflow, fake_actions
from tests.fake_github import Run as ApiRun
from tests.helpers import EXAMPLES, ROOT, ScriptedEcho, bodies, running

pytestmark = pytest.mark.docker
BUILT = "act-github--tmp--generated-actions-echo-notify-dockeraction:latest"


@pytest.fixture(scope="module", autouse=True)
def _act() -> None:
    require_act()


@pytest.fixture
def echo() -> Iterator[ScriptedEcho]:
    with running(ScriptedEcho("demo-token")) as server:
        assert isinstance(server, ScriptedEcho)
        yield server


def secrets(path: Path, echo: ScriptedEcho) -> Path:
    path.write_text(f"ECHO_API_BASE_URL={echo.url}\nECHO_API_TOKEN=demo-token\n")
    return path


def pipeline(
    tmp: Path, step: str, report: str = "sync", with_: str = "", uses: str = "acme/echo-notify@v1"
) -> Path:
    """A pipeline's repository (its own git init) with a workflow like
    examples/workflows/cold-email-sync.yml: a pipeline step, then the report, then a step
    that reads the report's outputs."""
    repo = tmp / "cold-email"
    (repo / "data").mkdir(parents=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    for kind in ("sync", "drain", "poll"):
        shutil.copy(EXAMPLES / f"{kind}.json", repo / "data" / f"{kind}.json")
    extra = "".join(f"\n          {line}" for line in with_.splitlines())
    (repo / ".github" / "workflows" / "pipeline.yml").write_text(
        f"""name: Cold Email {report.title()}
on: workflow_dispatch
permissions:
  contents: read
  actions: read
jobs:
  {report}:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: The pipeline
        shell: bash
        run: |
          {step}
      - name: Report to Slack
        id: report
        if: always()
        uses: {uses}
        with:
          metrics-file: {report}-metrics.json
          report: {report}
          echo-url: ${{{{ secrets.ECHO_API_BASE_URL }}}}
          echo-token: ${{{{ secrets.ECHO_API_TOKEN }}}}
          job-status: ${{{{ job.status }}}}{extra}
      - name: Read the outputs
        if: always()
        run: |
          {outputs_step("report")}
"""
    )
    return git_repository(repo, "acme/cold-email")


WRITE = {
    kind: f"{STAMP} data/{kind}.json > {kind}-metrics.json" for kind in ("sync", "drain", "poll")
}


def run_pipeline(
    tmp: Path,
    echo: ScriptedEcho,
    repo: Path,
    *flags: str,
    ref: str = "v1",
    action: Path | None = None,
) -> Run:
    action = action or action_checkout(tmp)
    return act(
        repo,
        "workflow_dispatch",
        "-W", ".github/workflows/pipeline.yml",
        "--secret-file", str(secrets(tmp / "secrets", echo)),
        "--local-repository", f"acme/echo-notify@{ref}={action}",
        *flags,
        home=tmp / "home",
    )  # fmt: skip


def contents(echo: ScriptedEcho) -> list[str]:
    return [body["content"] for path, body in bodies(echo) if path == "/api/v1/messages"]


def test_a_pipeline_repository_pulls_the_published_image(
    tmp_path: Path, echo: ScriptedEcho, published: Published
) -> None:
    repo = pipeline(tmp_path, WRITE["sync"], with_=f"image: {published.mirror}")
    run = run_pipeline(tmp_path, echo, repo, "--bind")
    assert run.succeeded, run.log[-4000:]
    assert f"Echo Notify image: {published.mirror}@{published.digest}" in run.log
    assert "docker build" not in run.log and BUILT not in run.log  # nothing was built
    assert echo.sends == ["msg_1"]
    assert "Cold Email Sync Complete" in contents(echo)[0]
    assert "🧪 Local run (act)" in contents(echo)[0]
    assert run.outputs == {
        "message-id": "msg_1", "delivered": "true", "report": "sync", "severity": "ok",
        "run-url": "", "attempts": "2", "posted": "true", "reason": "",
        "history-artifact": "",  # history is off under act
    }  # fmt: skip
    assert not (repo / ".github" / ".tmp").exists()  # the generated action is removed


@pytest.mark.parametrize(
    ("step", "job", "headline", "severity"),
    [
        (WRITE["sync"] + "\n          exit 3", "failure", "Cold Email Sync FAILED", "critical"),
        ("exit 3", "failure", "🚨", "critical"),
        ("true", "success", "⚠️", "warning"),
    ],
    ids=["fails-after-writing", "fails-before-writing", "succeeds-without-a-file"],
)
def test_a_failing_pipeline_step_is_reported_and_the_job_keeps_its_result(
    tmp_path: Path,
    echo: ScriptedEcho,
    published: Published,
    step: str,
    job: str,
    headline: str,
    severity: str,
) -> None:
    repo = pipeline(tmp_path, step, with_=f"image: {published.mirror}")
    run = run_pipeline(tmp_path, echo, repo)
    assert run.succeeded is (job == "success"), run.log[-4000:]
    assert ("🏁  Job failed" in run.log) is (job == "failure")
    assert echo.sends == ["msg_1"], run.log[-4000:]
    message = contents(echo)[0]
    assert headline in message, message
    if step != WRITE["sync"] + "\n          exit 3":  # no file: the no-metrics alert names it
        assert "sync-metrics.json" in message.replace("\u200b", "")  # shown as code
        assert run.outputs["report"] == "unknown"
    assert run.outputs["severity"] == severity and run.outputs["delivered"] == "true"


@pytest.mark.parametrize("kind", ["drain", "poll"])
def test_drain_and_poll_reports(
    tmp_path: Path, echo: ScriptedEcho, published: Published, kind: str
) -> None:
    repo = pipeline(tmp_path, WRITE[kind], report=kind, with_=f"image: {published.mirror}")
    run = run_pipeline(tmp_path, echo, repo)
    assert run.succeeded, run.log[-4000:]
    assert run.outputs["report"] == kind and run.outputs["delivered"] == "true"
    title = {"drain": "Cold Email Drain", "poll": "Verification"}[kind]
    assert title in contents(echo)[0]


def test_dry_run_posts_nothing(tmp_path: Path, echo: ScriptedEcho, published: Published) -> None:
    repo = pipeline(tmp_path, WRITE["sync"], with_=f"image: {published.mirror}\ndry-run: true")
    run = run_pipeline(tmp_path, echo, repo)
    assert run.succeeded, run.log[-4000:]
    assert echo.store.requests == []
    assert "Cold Email Sync Complete" in run.log  # printed instead
    assert run.outputs["delivered"] == "false" and run.outputs["attempts"] == "0"


def test_disabled_pulls_and_builds_nothing(
    tmp_path: Path, echo: ScriptedEcho, published: Published
) -> None:
    repo = pipeline(tmp_path, WRITE["sync"], with_=f"image: {published.mirror}\nenabled: FALSE")
    run = run_pipeline(tmp_path, echo, repo)
    assert run.succeeded, run.log[-4000:]
    assert "Skipped: `enabled` is false." in run.log
    assert "Echo Notify image" not in run.log and "No prebuilt image" not in run.log
    assert f"docker pull image={published.mirror}" not in run.log  # act pulls only the job image
    assert "docker build" not in run.log and "dockeraction" not in run.log
    assert echo.store.requests == []
    assert run.outputs == {
        "message-id": "", "delivered": "false", "report": "", "severity": "",
        "run-url": "", "attempts": "0", "posted": "false", "reason": "",
        "history-artifact": "",
    }  # fmt: skip


def test_two_runs_in_a_row_in_one_workspace(
    tmp_path: Path, echo: ScriptedEcho, published: Published
) -> None:
    repo = pipeline(tmp_path, WRITE["sync"], with_=f"image: {published.mirror}")
    action = action_checkout(tmp_path)
    runs = [run_pipeline(tmp_path, echo, repo, "--bind", action=action) for _ in range(2)]
    assert all(run.succeeded for run in runs), runs[-1].log[-4000:]
    assert echo.sends == ["msg_1", "msg_2"]
    assert [run.outputs["message-id"] for run in runs] == ["msg_1", "msg_2"]
    assert not (repo / ".github" / ".tmp").exists()
    assert sorted(p.name for p in (repo / ".github").iterdir()) == ["workflows"]


def test_a_tag_moved_to_other_code_is_built_instead(
    tmp_path: Path, echo: ScriptedEcho, published: Published
) -> None:
    other = "sha256:" + "0" * 64
    labelled(published, "v2", other)
    docker("image", "rm", "--force", BUILT, check=False)
    repo = pipeline(
        tmp_path, WRITE["sync"], with_=f"image: {published.mirror}", uses="acme/echo-notify@v2"
    )
    action = action_checkout(tmp_path)
    run = run_pipeline(tmp_path, echo, repo, ref="v2", action=action)
    assert run.succeeded, run.log[-4000:]
    assert f"it was built from other code (source digest {other}" in run.log
    assert (
        "::warning title=Echo Notify image::No prebuilt image" in run.log
        or "No prebuilt image" in run.log
    )
    assert echo.sends == ["msg_1"]
    label = docker(
        "image",
        "inspect",
        "--format",
        '{{ index .Config.Labels "dev.echo-notify.source-digest" }}',
        BUILT,
    )
    assert label.stdout.strip() == source_digest(action)  # act's build carries this code's digest


def test_a_stale_act_build_of_other_code_is_not_run(tmp_path: Path, echo: ScriptedEcho) -> None:
    """act names its build by the folder only and keeps it with --rebuild=false."""
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "Dockerfile").write_text(
        f'FROM {BASE}\nLABEL dev.echo-notify.source-digest="sha256:stale"\n'
        'ENTRYPOINT ["echo", "stale build ran"]\n'
    )
    docker("build", "-q", "-t", BUILT, str(stale))
    repo = pipeline(tmp_path, WRITE["sync"], uses="acme/echo-notify@main")
    run = run_pipeline(tmp_path, echo, repo, "--rebuild=false", ref="main")
    assert run.succeeded, run.log[-4000:]
    assert "stale build ran" not in run.log
    assert echo.sends == ["msg_1"]


def test_host_mode_stops_at_once_with_one_error(tmp_path: Path, echo: ScriptedEcho) -> None:
    repo = pipeline(tmp_path, WRITE["sync"])
    run = run_pipeline(tmp_path, echo, repo, "-P", "ubuntu-latest=-self-hosted")
    assert not run.succeeded
    errors = re.findall(r"::error title=Echo Notify image::(.*)", run.log)
    assert len(errors) == 1 and "host mode" in errors[0], run.log[-4000:]
    assert "No such container" not in run.log
    assert echo.store.requests == []


def test_the_watchdog_under_act(tmp_path: Path, echo: ScriptedEcho, published: Published) -> None:
    """The watchdog through the composite under act: a line by age, a line by schedule (its
    file read through the API; `grace` and `missed-runs` passed through to the container)."""
    repo = tmp_path / "cold-email"
    (repo / ".github" / "workflows").mkdir(parents=True)
    # act runs on the real clock: a digest time just passed is due (one over 12 h old is not).
    just_before = f"{datetime.now(ZoneInfo('America/New_York')) - timedelta(minutes=5):%H:%M}"
    (repo / ".github" / "workflows" / "pipeline.yml").write_text(
        f"""name: Echo Notify Watchdog
on: workflow_dispatch
jobs:
  watch:
    runs-on: ubuntu-latest
    steps:
      - id: watchdog
        uses: acme/echo-notify/watchdog@v1
        with:
          workflows: |
            cold-email-sync.yml: 2h
            drain-leads.yml
          grace: 5m
          missed-runs: "1"
          echo-url: ${{{{ secrets.ECHO_API_BASE_URL }}}}
          echo-token: ${{{{ secrets.ECHO_API_TOKEN }}}}
          github-token: ghs_actWatch
          digest-at: "{just_before}"
          image: {published.mirror}
      - run: |
          echo "watchdog: severity=${{{{ steps.watchdog.outputs.severity }}}}"
          echo "watchdog: delivered=${{{{ steps.watchdog.outputs.delivered }}}}"
          echo "watchdog: digest-id=${{{{ steps.watchdog.outputs.digest-id }}}}"
"""
    )
    git_repository(repo, "acme/cold-email")
    failed = ApiRun(7, conclusion="failure", created_at="2026-01-15T09:00:00Z")
    workflow = Workflow(
        id=1, path=".github/workflows/cold-email-sync.yml", name="Cold Email Sync", runs=[failed]
    )
    drain = Workflow(
        id=2,
        path=".github/workflows/drain-leads.yml",
        name="Drain Leads",
        file="on:\n  schedule:\n    - cron: '0 * * * *'\n",
        runs=[ApiRun(8, created_at="2026-01-15T09:00:00Z")],
    )
    with fake_actions(Actions(workflows=[workflow, drain], private=True)) as actions:
        run = run_pipeline(tmp_path, echo, repo, "--env", f"GITHUB_API_URL={actions.api}")
    assert run.succeeded, run.log[-4000:]
    assert f"Echo Notify image: {published.mirror}@{published.digest}" in run.log  # no build
    assert "watchdog: severity=critical" in run.log and "watchdog: delivered=true" in run.log
    # The daily digest (`digest-at` passed through the composite, its output mapped back): under
    # act no history is kept, so every check at or after the time posts one.
    said = contents(echo)[-1]  # the watchdog's own message comes after the digest
    assert "*Drain Leads* missed its last " in said and "(every hour; last success " in said
    digest, alert = contents(echo)
    assert digest.startswith("📋 *Daily digest: the last 24 hours*")
    assert "• ❓ No report history in its last 5 runs" in digest
    assert f"watchdog: digest-id={echo.sends[0]}" in run.log
    assert "*Cold Email Sync* has no successful run on the default branch" in alert
    assert "ghs_actWatch" not in run.log


def readme_command() -> list[str]:
    """The act command of docs/local-runs.md, as written there."""
    section = (ROOT / "docs" / "local-runs.md").read_text()
    line = next(line for line in section.splitlines() if line.startswith("act workflow_dispatch"))
    return shlex.split(line)[1:]


@pytest.mark.parametrize(
    ("job", "title"),
    [("sync", "Cold Email Sync Complete"), ("drain", "Cold Email Drain"), ("poll", "Verification")],
)
def test_the_readme_local_run(tmp_path: Path, echo: ScriptedEcho, job: str, title: str) -> None:
    """README "Local runs" from a clone of this repository: its act command, the example
    secrets pointing at this test's Echo; the harness adds only the offline flags (act.py)."""
    clone = git_repository(checkout(tmp_path / "echo-notify"), "acme/echo-notify")
    example = (clone / "examples" / "act" / "secrets.example").read_text()
    (clone / ".secrets").write_text(example.replace("http://localhost:8080", echo.url))
    args = readme_command()
    args[args.index("-j") + 1] = job
    run = act(clone, *args, home=tmp_path / "home")
    assert run.succeeded, run.log[-4000:]
    assert "No prebuilt image for this run" in run.log  # `uses: ./` builds the Dockerfile
    assert echo.sends == ["msg_1"]
    content = contents(echo)[0]
    assert title in content and "🧪 Local run (act)" in content
    assert " old" not in content  # stamped with the run's time: no "These metrics are … old"


def test_matrix_legs_each_report(tmp_path: Path, echo: ScriptedEcho, published: Published) -> None:
    """`history-key` defaults to toJSON(matrix): act expands it per leg, the program takes it."""
    repo = pipeline(tmp_path, WRITE["sync"], with_=f"image: {published.mirror}")
    workflow = repo / ".github" / "workflows" / "pipeline.yml"
    workflow.write_text(
        workflow.read_text().replace(
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
            "        campaign: [smb, midsize]\n      max-parallel: 1\n",
        )
    )
    run = run_pipeline(tmp_path, echo, repo)
    assert run.code == 0 and run.log.count("🏁  Job succeeded") == 2, run.log[-4000:]
    assert len(echo.sends) == 2
    assert "history-key" not in run.log.replace("history-key:", "")  # no input error
