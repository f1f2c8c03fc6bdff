"""The composite action.yml as the runner runs it, step by step (tests/spec/runner-contract.md).

actions/runner checks an action out to `_actions/<owner>/<repo>/<ref>` (act to
`<cache>/<owner>-<repo>@<ref>`), evaluates a step's `env:` before running it (where
`github.action_repository`/`github.action_ref` are right), runs `run:` steps with bash and
`GITHUB_ACTION_PATH` set, and reads a local `uses: ./…` against the workspace when that step
starts. `run_composite` does exactly that with the steps of the root action.yml, so the tests
exercise its real `env:`, `with:`, outputs and cleanup, not a copy of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import ROOT, parse_outputs

Expression = re.compile(r"\$\{\{\s*([a-zA-Z_.()\s|-]+?)\s*\}\}")
Operand = re.compile(r"([a-z_]+)\.([a-z0-9_.-]+)")
# The Docker client's settings: which engine, context and configuration the caller's `docker`
# uses. An env built from scratch keeps them, or on a shared host the resolve step would pull on
# the default engine instead of the caller's.
DOCKER_CLIENT = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
)


def docker_client() -> dict[str, str]:
    """The caller's Docker client settings that are set."""
    return {name: os.environ[name] for name in DOCKER_CLIENT if name in os.environ}


def action_yml(path: Path = ROOT) -> dict[str, Any]:
    return yaml.safe_load((path / "action.yml").read_text())  # type: ignore[no-any-return]


def image_files(root: Path = ROOT) -> list[str]:
    """What the image is built from, as reviewed here (resolve-image.sh reads .dockerignore)."""
    files = ["Dockerfile", "requirements.txt", "entrypoint.py"]
    files += [f"echo_notify/{p.name}" for p in (root / "echo_notify").glob("*.py")]
    files += [f"templates/{p.name}" for p in (root / "templates").glob("*.j2")]
    files.remove("echo_notify/echo_server.py")  # the development Echo stays out of the image
    return sorted(files)


def source_digest(root: Path = ROOT) -> str:
    """The source digest, computed independently of resolve-image.sh."""
    lines = "".join(
        f"{hashlib.sha256((root / name).read_bytes()).hexdigest()}  {name}\n"
        for name in image_files(root)
    )
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def checkout(dest: Path) -> Path:
    """The action's files as the runner downloads them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@dataclass
class Resolved:
    code: int
    log: str
    generated: Path  # the generated action's folder

    @property
    def action(self) -> dict[str, Any]:
        return action_yml(self.generated)

    @property
    def image(self) -> str:
        return str(self.action["runs"]["image"])

    @property
    def first_line(self) -> str:
        return self.log.splitlines()[0] if self.log else ""


def evaluate(text: str, contexts: dict[str, dict[str, str]]) -> str:
    """The `${{ context.name }}` and `${{ a.b || c.d }}` expressions our action.yml uses."""

    def value(operand: str) -> str:
        if operand.strip() == "toJSON(matrix)":
            return "null"  # a job without a matrix
        found = Operand.fullmatch(operand.strip())
        assert found, f"an expression the replay does not know: {operand}"
        return contexts.get(found[1], {}).get(found[2], "")

    def first(match: re.Match[str]) -> str:
        return next(filter(None, map(value, match[1].split("||"))), "")

    return Expression.sub(first, text)


def run_step(
    step: dict[str, Any], contexts: dict[str, dict[str, str]], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A `run:` step: its env: evaluated first, then bash with the runner's variables."""
    step_env = {k: evaluate(str(v), contexts) for k, v in step.get("env", {}).items()}
    step_env["GITHUB_OUTPUT"] = env.get("GITHUB_OUTPUT", "/dev/null")
    return subprocess.run(
        [
            "bash",
            "-e",
            "-c",
            step["run"],
        ],  # `shell: bash` is `bash --noprofile --norc -eo pipefail`
        env={**env, **step_env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_composite(
    action_path: Path,
    workspace: Path,
    inputs: dict[str, str],
    *,
    repository: str,
    ref: str,
    container: Callable[[str, dict[str, str]], tuple[int, str, dict[str, str]]],
    extra_env: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, str]]:
    """Every step of the checkout's action.yml in order; `container(image, with)` runs the
    generated Docker action. Returns the exit code, the log and the composite's outputs."""
    action = action_yml(action_path)
    declared = action["inputs"]
    contexts: dict[str, dict[str, str]] = {
        "inputs": {k: inputs.get(k, str(v.get("default", ""))) for k, v in declared.items()},
        "github": {"action_repository": repository, "action_ref": ref, "token": ""},
        "runner": {"os": "Linux"},
    }
    contexts["inputs"] = {
        k: evaluate(v, contexts) for k, v in contexts["inputs"].items()
    }  # defaults like ${{ github.token }}
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workspace.parent),
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_OS": "Linux",
        **docker_client(),
        **(extra_env or {}),
    }
    log, code, steps_outputs, failed = [], 0, {}, False
    for step in action["runs"]["steps"]:
        condition = step.get("if", "success()")
        if condition == "runner.os != 'Linux'":
            continue  # evaluated as the runner would on Linux
        if failed and condition != "always()":
            continue
        skipped = contexts.get("steps", {}).get("image.outputs.skip") == "true"
        if condition == "steps.image.outputs.skip != 'true'" and skipped:
            continue  # `enabled: false`
        if "uses" in step and not step["uses"].startswith("./"):
            # A published action (the snapshot upload): GitHub's artifact service is not here,
            # so the replay records what the runner would pass it.
            with_ = {k: evaluate(str(v), contexts) for k, v in step.get("with", {}).items()}
            log.append(f"[{step['uses'].split('@')[0]}] {json.dumps(with_, sort_keys=True)}\n")
            continue
        if "uses" in step:
            folder = workspace / step["uses"].removeprefix("./")
            generated = action_yml(folder)
            with_ = {k: evaluate(str(v), contexts) for k, v in step.get("with", {}).items()}
            unknown = set(with_) - set(generated["inputs"])
            assert not unknown, f"the runner would warn: undeclared inputs {unknown}"
            image = str(generated["runs"]["image"])
            result, out, outputs = container(
                image if image == "Dockerfile" else image.removeprefix("docker://"), with_
            )
            steps_outputs[step["id"]] = outputs
        else:
            (workspace.parent / "step_output").write_text("")
            env["GITHUB_OUTPUT"] = str(workspace.parent / "step_output")
            done = run_step(step, contexts, env)
            result, out = done.returncode, done.stdout + done.stderr
            if "id" in step:
                steps_outputs[step["id"]] = parse_outputs(
                    (workspace.parent / "step_output").read_text()
                )
        contexts["steps"] = {
            f"{sid}.outputs.{name}": value
            for sid, found in steps_outputs.items()
            for name, value in found.items()
        }
        log.append(out)
        if result != 0 and not failed:
            failed, code = True, result
    outputs = {
        name: evaluate(str(spec["value"]), contexts) for name, spec in action["outputs"].items()
    }
    return code, "".join(log), outputs


def resolve(
    action_path: Path,
    workspace: Path,
    *,
    repository: str = "",
    ref: str = "",
    image: str = "",
    extra_env: dict[str, str] | None = None,
) -> Resolved:
    """Only the resolve step of action.yml, with the values the runner gives it."""
    action = action_yml(action_path)
    step = next(s for s in action["runs"]["steps"] if "resolve-image.sh" in s.get("run", ""))
    contexts = {
        "inputs": {"image": image},
        "github": {"action_repository": repository, "action_ref": ref},
    }
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_WORKSPACE": str(workspace),
        **docker_client(),
        **(extra_env or {}),
    }
    done = run_step(step, contexts, env)
    return Resolved(
        done.returncode,
        done.stdout + done.stderr,
        workspace / evaluate(step["env"]["GENERATED"], {}),
    )
