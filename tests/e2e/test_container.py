"""The real image, built offline and run as GitHub's runner and act run it (marker: docker)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.composite import image_files, source_digest
from tests.e2e.docker import TAG, build, docker, require_engine, run_as_act, run_as_runner
from tests.fake_github import Actions, Run, Workflow, fake_actions
from tests.helpers import EXAMPLES, ROOT, Fault, ScriptedEcho, golden_message

pytestmark = pytest.mark.docker
TOKEN = "echo-s3cret-in-container"


@pytest.fixture(scope="session")
def image() -> str:
    require_engine()
    build()
    return TAG


def workspace_with_examples(tmp_path: Path) -> Path:
    """The examples, with sync.json written just now (the container reads the real clock)."""
    shutil.copytree(EXAMPLES, tmp_path / "workspace")
    sync = tmp_path / "workspace" / "sync.json"
    data = json.loads(sync.read_text())
    data["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    sync.write_text(json.dumps(data))
    return tmp_path


def after_headline(content: str) -> str:
    return content.split("\n", 1)[1]


def test_sync_report_delivered_from_the_container(
    image: str, echo: ScriptedEcho, tmp_path: Path
) -> None:
    tmp = workspace_with_examples(tmp_path)
    code, log, outputs, summary = run_as_runner(
        image,
        tmp,
        {"metrics-file": "sync.json", "echo-url": echo.url, "echo-token": TOKEN},
    )
    assert code == 0, log
    assert outputs["delivered"] == "true" and outputs["message-id"] == "msg_1"
    assert outputs["report"] == "sync" and outputs["attempts"] == "2"
    assert outputs["run-url"] == "https://github.com/acme/cold-email/actions/runs/123456"
    sent = json.loads(echo.store.requests[0]["body"])
    # Time zone data present: the title carries New York's abbreviation for today.
    assert re.fullmatch(r"Cold Email Sync Complete - \d{1,2}:\d\d [AP]M E[SD]T", sent["title"])
    assert after_headline(sent["content"] + "\n") == after_headline(
        golden_message("sync.slack.txt")
    )
    assert echo.store.requests[0]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "**Cold Email Sync Complete**" in summary and "✅ **Delivered**" in summary
    assert "Traceback" not in log
    assert all(
        TOKEN not in line for line in log.splitlines() if not line.startswith("::add-mask::")
    )


def test_drain_report_with_a_workflow_path_override(
    image: str, echo: ScriptedEcho, tmp_path: Path
) -> None:
    # A PATH set through GITHUB_ENV replaces the image's PATH: the entrypoint must not need it.
    tmp = workspace_with_examples(tmp_path)
    code, log, outputs, summary = run_as_runner(
        image,
        tmp,
        {"metrics-file": "drain.json", "echo-url": echo.url},
        extra={"PATH": "/opt/hostedtoolcache/node/bin", "GITHUB_RUN_ATTEMPT": "2"},
    )
    assert code == 0, log
    assert outputs["delivered"] == "true" and outputs["report"] == "drain"
    assert outputs["run-url"].endswith("/runs/123456/attempts/2")
    assert json.loads(echo.store.requests[0]["body"])["content"].startswith("🧹 *Cold Email Drain")
    assert "**Cold Email Drain Complete**" in summary


@pytest.mark.parametrize(("fail_on_error", "code"), [("false", 0), ("true", 1)])
def test_delivery_failure_in_the_container(
    image: str, echo: ScriptedEcho, tmp_path: Path, fail_on_error: str, code: int
) -> None:
    echo.fail("create", Fault("status", 403))
    tmp = workspace_with_examples(tmp_path)
    result, log, outputs, summary = run_as_runner(
        image,
        tmp,
        {"metrics-file": "sync.json", "echo-url": echo.url, "fail-on-error": fail_on_error},
    )
    assert result == code, log
    assert "report not delivered::Echo create failed: HTTP 403" in log
    assert outputs["delivered"] == "false" and "❌ **Not delivered**" in summary
    assert "Traceback" not in log


def test_run_the_way_act_does(image: str, echo: ScriptedEcho, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "ws")
    code, log, outputs = run_as_act(
        image, tmp_path, {"metrics-file": "sync.json", "echo-url": echo.url, "channel": "#dev"}
    )
    assert code == 0, log
    assert outputs["delivered"] == "true" and outputs["run-url"] == ""
    sent = json.loads(echo.store.requests[0]["body"])
    assert sent["content"].endswith("\n🧪 Local run (act)") and sent["recipients"] == ["#dev"]


def test_time_zone_data_in_the_image(image: str) -> None:
    code = (
        "from datetime import datetime, timezone; from zoneinfo import ZoneInfo; "
        "z = ZoneInfo('America/New_York'); "
        "print(datetime(2026, 1, 15, 19, tzinfo=timezone.utc).astimezone(z).tzname(), "
        "datetime(2026, 7, 15, 19, tzinfo=timezone.utc).astimezone(z).tzname())"
    )
    done = docker(
        "run", "--rm", "--network", "host", "--entrypoint", "/venv/bin/python", image, "-c", code
    )
    assert done.stdout.split() == ["EST", "EDT"]


def test_image_holds_only_what_it_needs(image: str) -> None:
    listing = docker(
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        image,
        "-c",
        "ls /app; ls /venv/bin; find /venv /app /root -name '*.whl' -o -name '.cache' "
        "2>/dev/null || true",
    ).stdout.split()
    assert listing[:3] == ["echo_notify", "entrypoint.py", "templates"]
    assert not {"pip", "pip3", "tests", "examples"} & set(listing)
    assert not [p for p in listing if p.endswith(".whl")]
    config = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/venv/bin/python", "/app/entrypoint.py"]
    assert config.get("User", "") in ("", "root")
    assert {"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"} <= set(config["Env"])


def test_the_image_holds_the_action_files_its_digest_covers(image: str) -> None:
    # The source digest covers exactly what the image runs; the development Echo stays out.
    listing = docker(
        "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
        "cd /app && find . -type f ! -name '*.pyc' | sort",
    ).stdout.split()  # fmt: skip
    compiled = [n for n in listing if n.startswith("./templates-compiled/")]
    held = sorted(name.removeprefix("./") for name in listing if name not in compiled)
    # Every template compiled at build time (Jinja's bytecode cache; one entry serves both
    # formats: the compiled code is the same, the escaping is looked up when it runs).
    templates = [n for n in image_files() if n.endswith(".j2")]
    assert len(compiled) == len(templates)
    assert held == [n for n in image_files() if n not in ("Dockerfile", "requirements.txt")]
    assert "echo_notify/echo_server.py" not in held
    labels = json.loads(docker("image", "inspect", image).stdout)[0]["Config"]["Labels"]
    assert labels["dev.echo-notify.source-digest"] == source_digest()
    assert {"org.opencontainers.image.source", "org.opencontainers.image.version",
            "org.opencontainers.image.revision"} <= set(labels)  # fmt: skip


def test_no_python_file_is_compiled_when_the_container_starts(image: str, tmp_path: Path) -> None:
    # Bytecode is compiled at build time. With writing allowed for this run, any module Python
    # had to compile from source (ours, a dependency or the standard library) would leave a
    # new .pyc behind.
    tmp = workspace_with_examples(tmp_path)
    probe = (
        "import pathlib, subprocess, sys, time; start = time.time() - 1; "
        "done = subprocess.run([sys.executable, '/app/entrypoint.py']); "
        "new = [str(p) for p in pathlib.Path('/').glob('**/*.pyc') "
        "if '/proc/' not in str(p) and p.stat().st_mtime > start]; "
        "print(done.returncode, new)"
    )
    done = docker(
        "run", "--rm", "--network", "host", "-v", f"{tmp / 'workspace'}:/github/workspace",
        "--workdir", "/github/workspace", "-e", "PYTHONDONTWRITEBYTECODE=",
        "-e", "INPUT_METRICS-FILE=sync.json", "-e", "INPUT_DRY-RUN=true",
        "--entrypoint", "/venv/bin/python", image, "-c", probe,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout[-2000:]


def test_the_watchdog_runs_in_the_same_image(
    image: str, echo: ScriptedEcho, tmp_path: Path
) -> None:
    """As watchdog/action.yml runs it: the same image, `runs.args: [watchdog]`, its own inputs."""
    with fake_actions(Actions(workflows=[])) as actions:
        actions.workflows.append(
            Workflow(
                id=1,
                path=".github/workflows/cold-email-sync.yml",
                name="Cold Email Sync",
                runs=[Run(7, conclusion="failure", created_at="2026-01-15T09:00:00Z")],
            )
        )
        code, log, outputs, summary = run_as_runner(
            image,
            tmp_path,
            {"workflows": "cold-email-sync.yml: 2h", "echo-url": echo.url, "history": "false"},
            github_token="ghs_containerWatch",
            extra={"GITHUB_API_URL": actions.api},
            action_args=("watchdog",),
            action_yml=ROOT / "watchdog",
        )
    assert code == 0, log
    assert outputs["severity"] == "critical" and outputs["delivered"] == "true"
    content = json.loads(echo.store.requests[0]["body"])["content"]
    assert "*Cold Email Sync* has no successful run on the default branch" in content
    assert "Traceback" not in log and "ghs_containerWatch" not in summary
