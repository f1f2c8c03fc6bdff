"""Build the action's image offline and run it exactly as the GitHub runner (or act) does."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import ROOT, parse_outputs, runner_env, running

BASE = os.environ.get("ECHO_NOTIFY_BASE_IMAGE", "python:3.12-slim")
# Overridable so several clones can share one Docker engine.
TAG = os.environ.get("ECHO_NOTIFY_TEST_TAG", "echo-notify:test")
WHEEL_PORT = 38765


def docker(
    *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},  # act and older runners build without BuildKit
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"docker {' '.join(args[:3])} … failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return done


def require_engine() -> None:
    try:
        done = subprocess.run(
            ["docker", "info"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(
            f"No Docker client/engine ({exc}). Run scripts/docker-engine (or scripts/test)."
        )
    if done.returncode != 0:
        pytest.fail(
            "The Docker engine does not answer, so the container tests cannot run. "
            f"Run scripts/docker-engine (or scripts/test). docker info said:\n{done.stderr[-1500:]}"
        )
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        pytest.fail(
            f"Base image {BASE} is missing and no registry can be reached: build the stand-in "
            "with scripts/docker-base and set ECHO_NOTIFY_BASE_IMAGE=echo-notify-base:bookworm "
            "(scripts/test does both)."
        )


@contextmanager
def wheel_server(wheels: Path) -> Iterator[str]:
    """The host's wheels on 127.0.0.1: the build container has no package index."""
    handler = functools.partial(QuietFiles, directory=str(wheels))
    try:  # a fixed port keeps the build argument, and so Docker's layer cache, the same
        server = http.server.ThreadingHTTPServer(("127.0.0.1", WHEEL_PORT), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with running(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/"


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def download_wheels(dest: Path) -> None:
    version = docker(
        "run",
        "--rm",
        "--network",
        "host",
        "--entrypoint",
        "python3",
        BASE,
        "-c",
        "import sys; print('%d.%d' % sys.version_info[:2])",
    ).stdout.strip()
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if version != host:
        pytest.fail(f"Base image has Python {version}, the host {host}: wheels would not match.")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "-r",
            str(ROOT / "requirements.txt"),
            "-d",
            str(dest),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"pip download of the image's wheels failed:\n{done.stderr[-3000:]}")


def digest(context: Path) -> str:
    """The source digest the release workflow labels the image with."""
    return subprocess.run(
        ["bash", str(ROOT / "resolve-image.sh"), "digest", str(context)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def build(tag: str = TAG, context: Path = ROOT, no_cache: bool = False) -> float:
    """Build offline; returns the seconds `docker build` itself took."""
    wheels = ROOT / "build" / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    download_wheels(wheels)
    with wheel_server(wheels) as url:
        start = time.perf_counter()
        docker(
            "build",
            "--network",
            "host",
            *(["--no-cache"] if no_cache else []),
            "--build-arg",
            f"BASE_IMAGE={BASE}",
            "--build-arg",
            f"SOURCE_DIGEST={digest(context)}",
            "--build-arg",
            "PIP_NO_INDEX=1",
            "--build-arg",
            f"PIP_FIND_LINKS={url}",
            "-t",
            tag,
            str(context),
        )
        return time.perf_counter() - start


def run_as_runner(
    image: str,
    tmp: Path,
    inputs: dict[str, str],
    *,
    extra: dict[str, str] | None = None,
    github_token: str = "",
    action_args: tuple[str, ...] = (),
    action_yml: Path | None = None,
) -> tuple[int, str, dict[str, str], str]:
    """`docker run` as actions/runner's ContainerActionHandler does for a Docker action (its
    `runs.args` after the image; inputs declared by ``action_yml``, the root's by default)."""
    host = {
        name: tmp / name
        for name in (
            "workspace",
            "runner_temp",
            "_github_home",
            "_github_workflow",
            "_runner_file_commands",
        )
    }
    for path in host.values():
        path.mkdir(parents=True, exist_ok=True)
    (host["_github_workflow"] / "event.json").write_text("{}")
    env = runner_env(
        host["workspace"],
        host["_runner_file_commands"],
        inputs,
        github_token=github_token,
        extra=extra,
        action=action_yml or ROOT,
    )
    env.pop("PATH", None)  # the runner passes PATH only when a workflow set it
    env.pop("HOME")
    env.update(
        {
            "HOME": "/github/home",
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "RUNNER_TEMP": "/github/runner_temp",
            **(extra or {}),
        }
    )
    mounts = {
        host["workspace"]: "/github/workspace",
        host["runner_temp"]: "/github/runner_temp",
        host["_github_home"]: "/github/home",
        host["_github_workflow"]: "/github/workflow",
        host["_runner_file_commands"]: "/github/file_commands",
    }
    # The runner rewrites any env value under a mounted host folder to the container path.
    for name, value in env.items():
        for source, target in mounts.items():
            if value == str(source) or value.startswith(f"{source}/"):
                env[name] = target + value[len(str(source)) :]
    args = ["run", "--workdir", "/github/workspace", "--rm", "--network", "host"]
    for name, value in env.items():
        args += ["-e", f"{name}={value}"]
    args += ["-e", "GITHUB_ACTIONS=true", "-e", "CI=true"]
    for source, target in mounts.items():
        args += ["-v", f"{source}:{target}"]
    done = docker(*args, image, *action_args, check=False, timeout=300)
    files = host["_runner_file_commands"]
    return (
        done.returncode,
        done.stdout + done.stderr,
        parse_outputs((files / "set_output").read_text()),
        (files / "step_summary").read_text(),
    )


def run_as_act(image: str, tmp: Path, inputs: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """`docker run` as nektos/act does: host paths, ACT=true, outputs under /var/run/act."""
    workspace, act = tmp / "ws", tmp / "act"
    workspace.mkdir(parents=True, exist_ok=True)
    (act / "workflow").mkdir(parents=True, exist_ok=True)
    (act / "workflow" / "outputcmd.txt").write_text("")
    (act / "workflow" / "SUMMARY.md").write_text("")
    (act / "workflow" / "event.json").write_text("{}")
    env = {"INPUT_" + k.upper(): v for k, v in inputs.items()}
    env.update(
        {
            "ACT": "true",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_RUN_ID": "1",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_RUN_NUMBER": "1",
            "GITHUB_REPOSITORY": "acme/cold-email",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": "/var/run/act/workflow/outputcmd.txt",
            "GITHUB_STEP_SUMMARY": "/var/run/act/workflow/SUMMARY.md",
            "GITHUB_EVENT_PATH": "/var/run/act/workflow/event.json",
            "RUNNER_TEMP": "/tmp",
        }
    )
    args = [
        "run",
        "--workdir",
        str(workspace),
        "--rm",
        "--network",
        "host",
        "-v",
        f"{workspace}:{workspace}",
        "-v",
        f"{act}:/var/run/act",
    ]
    for name, value in env.items():
        args += ["-e", f"{name}={value}"]
    done = docker(*args, image, check=False, timeout=300)
    outputs = parse_outputs((act / "workflow" / "outputcmd.txt").read_text())
    return done.returncode, done.stdout + done.stderr, outputs
