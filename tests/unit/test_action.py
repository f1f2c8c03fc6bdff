"""action.yml's structure and the resolve step's choices that need no registry.

The pulls, the fallbacks that need one and the runs of the chosen image are in
tests/e2e/test_composite.py.
"""

from __future__ import annotations

import io
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from echo_notify import history
from echo_notify.main import main
from echo_notify.state import Snapshot, Streak
from tests.composite import (
    action_yml,
    checkout,
    image_files,
    resolve,
    run_composite,
    run_step,
    source_digest,
)
from tests.helpers import ROOT, parse_outputs, runner_env, stray_commands

ACTION = action_yml()
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
RUN = next(step for step in STEPS if "uses" in step)


@pytest.fixture(scope="module")
def action(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action checked out where the runner puts it."""
    dest = tmp_path_factory.mktemp("runner") / "_actions" / "acme" / "echo-notify" / "v1"
    return checkout(dest)


def test_a_composite_that_stops_off_linux_and_always_cleans_up() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert STEPS[0]["if"] == "runner.os != 'Linux'"
    assert "resolve-image.sh" in STEPS[1]["run"]
    assert STEPS[-1]["if"] == "always()" and "rm -rf" in STEPS[-1]["run"]
    assert all(step.get("shell", "bash") == "bash" for step in STEPS)


def test_every_input_is_passed_through() -> None:
    assert RUN["with"] == {name: f"${{{{ inputs.{name} }}}}" for name in ACTION["inputs"]}


def test_every_output_is_mapped_from_the_container_step() -> None:
    mapped = {name: spec.get("value") for name, spec in ACTION["outputs"].items()}
    # The resolve step (id image) gives them when `enabled: false` skips the container step.
    assert mapped == {
        name: f"${{{{ steps.{RUN['id']}.outputs.{name} || steps.image.outputs.{name} }}}}"
        for name in mapped
    }


def test_the_generated_folder_is_one_path() -> None:
    # `uses:` takes no expressions: the literal must equal what the resolve step writes and the
    # cleanup removes.
    folders = {step["env"]["GENERATED"] for step in STEPS if "GENERATED" in step.get("env", {})}
    assert folders == {RUN["uses"].removeprefix("./")}
    assert RUN["uses"].startswith("./.github/.tmp/")


def test_the_resolve_step_reads_the_action_ref_in_env_only() -> None:
    # github.action_ref / action_repository are empty inside run: and with: of a composite.
    step = STEPS[1]
    assert step["env"]["ACTION_REF"] == "${{ github.action_ref }}"
    assert step["env"]["ACTION_REPOSITORY"] == "${{ github.action_repository }}"
    assert step["env"]["MIRROR"] == "${{ inputs.image }}"
    assert "${{" not in step["run"]


def test_the_generated_action_declares_the_roots_inputs_and_outputs(
    action: Path, tmp_path: Path
) -> None:
    resolved = resolve(action, tmp_path)
    assert resolved.code == 0, resolved.log
    generated = resolved.action
    assert generated["inputs"] == ACTION["inputs"]
    assert generated["outputs"] == {
        name: {k: v for k, v in spec.items() if k != "value"}
        for name, spec in ACTION["outputs"].items()
    }
    assert generated["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_an_input_added_to_the_root_reaches_the_generated_action(tmp_path: Path) -> None:
    action = checkout(tmp_path / "action")
    root = action / "action.yml"
    text = root.read_text()
    root.write_text(
        text.replace(
            "\noutputs:\n",
            "  notify-on:\n    description: What is worth a message.\n    default: always\n"
            "\noutputs:\n  posted:\n    description: false when not worth a message.\n",
        )
    )
    resolved = resolve(action, tmp_path / "ws")
    assert resolved.action["inputs"]["notify-on"] == {
        "description": "What is worth a message.",
        "default": "always",
    }
    assert resolved.action["inputs"] == action_yml(action)["inputs"]
    assert "posted" in resolved.action["outputs"]


def test_no_ref_builds_the_dockerfile_with_a_notice(action: Path, tmp_path: Path) -> None:
    resolved = resolve(action, tmp_path)
    assert resolved.code == 0
    assert resolved.log.splitlines() == [
        "::notice title=Echo Notify image::No prebuilt image for this run: the runner gave no "
        "action ref (a local action, or one run by another action). Building the image from "
        "the Dockerfile instead (about 30 s)."
    ]
    copied = sorted(
        str(p.relative_to(resolved.generated)) for p in resolved.generated.rglob("*") if p.is_file()
    )
    assert copied == sorted([*image_files(), ".dockerignore", "action.yml"])
    assert "echo_notify/echo_server.py" not in copied


def test_the_digest_covers_exactly_the_image_files(action: Path, tmp_path: Path) -> None:
    def digest(path: Path) -> str:
        return subprocess.run(
            ["bash", str(ROOT / "resolve-image.sh"), "digest", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert digest(action) == source_digest(action) == source_digest(ROOT)
    copy = checkout(tmp_path / "copy")
    for unrelated in ("README.md", "echo_notify/echo_server.py", "action.yml"):
        with (copy / unrelated).open("a") as handle:
            handle.write("\n# not in the image\n")
    (copy / "image-ref.txt").write_text("ghcr.io/acme/echo-notify@sha256:" + "0" * 64)
    assert digest(copy) == digest(action)
    for name in ("templates/sync.j2", "Dockerfile", "requirements.txt", "echo_notify/echo.py"):
        changed = checkout(tmp_path / name.replace("/", "-"))
        with (changed / name).open("a") as handle:
            handle.write("\n")
        assert digest(changed) == source_digest(changed) != digest(action), name


@pytest.mark.parametrize(
    "value",
    [
        "Registry.example.com/team/echo-notify",
        "registry.example.com/team/echo-notify:v1",
        "registry.example.com/team/echo-notify@sha256:" + "a" * 64,
        "registry.example.com//echo-notify",
        "registry example.com/echo-notify",
        "https://registry.example.com/echo-notify",
        "mirror/echo-notify\n::error::injected",
    ],
)
def test_a_bad_image_input_is_passed_over_for_the_program_to_name(
    action: Path, tmp_path: Path, value: str
) -> None:
    """The resolve step goes on without it; the program's input error names it, whole, with
    the summary and the outputs (test_config: test_a_bad_image_is_an_input_error)."""
    resolved = resolve(action, tmp_path, repository="acme/echo-notify", ref="v1", image=value)
    assert resolved.code == 0
    assert "the image input is not an image name" in resolved.log
    assert "::error" not in resolved.log.replace("::error::injected", "")
    assert resolved.generated.exists()


@pytest.mark.parametrize(
    ("repository", "ref", "reason"),
    [
        ("", "v1", "the runner gave no action ref"),
        ("acme/echo-notify", "", "the runner gave no action ref"),
        ("other/outer", "v3", "the action ref names another action (other/outer@v3; we run"),
        ("acme/echo-notify", "v1+build", "the ref v1+build cannot be an image tag"),
    ],
)
def test_refs_that_name_no_image_of_ours(
    tmp_path: Path, repository: str, ref: str, reason: str
) -> None:
    path = "/".join(["_actions", "acme", "echo-notify", *(ref or "v1").split("/")])
    action = checkout(tmp_path / path)
    resolved = resolve(action, tmp_path / "ws", repository=repository, ref=ref)
    assert resolved.code == 0
    assert resolved.first_line.startswith("::notice title=Echo Notify image::")
    assert reason in resolved.first_line and resolved.image == "Dockerfile"


def test_no_docker_command_builds_instead(tmp_path: Path) -> None:
    tools = tmp_path / "bin"  # the runner's tools, less docker
    tools.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for tool in Path(folder).glob("*") if Path(folder).is_dir() else []:
            if tool.name != "docker" and not (tools / tool.name).exists():
                (tools / tool.name).symlink_to(tool)
    action = checkout(tmp_path / "_actions" / "acme" / "echo-notify" / "v1")
    resolved = resolve(
        action,
        tmp_path / "ws",
        repository="acme/echo-notify",
        ref="v1",
        extra_env={"PATH": str(tools)},
    )
    assert resolved.code == 0, resolved.log
    assert "no docker command on this runner" in resolved.first_line
    assert resolved.image == "Dockerfile"


def test_the_harness_keeps_the_callers_docker_engine(
    action: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a shared host the e2e tests must pull and build on the engine the caller names, not on
    # the default one: the resolve step's env (built from scratch) keeps the client's settings.
    client = {
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",
        "DOCKER_CONTEXT": "shared",
        "DOCKER_CONFIG": "/nonexistent/config",
    }
    for name, value in client.items():
        monkeypatch.setenv(name, value)
    tools = tmp_path / "bin"  # a docker that names the engine it was pointed at
    tools.mkdir()
    (tools / "docker").write_text(
        '#!/bin/sh\necho "no engine at $DOCKER_HOST ($DOCKER_CONTEXT, $DOCKER_CONFIG)" >&2\n'
        "exit 1\n"
    )
    (tools / "docker").chmod(0o755)
    path = {"PATH": f"{tools}:{os.environ['PATH']}"}
    named = (
        "pull failed: no engine at unix:///nonexistent/docker.sock (shared, /nonexistent/config)"
    )
    resolved = resolve(
        action, tmp_path / "ws", repository="acme/echo-notify", ref="v1", extra_env=path
    )
    assert named in resolved.first_line, resolved.log
    code, log, _ = run_composite(
        action,
        tmp_path / "ws2",
        {"metrics-file": "sync.json"},
        repository="acme/echo-notify",
        ref="v1",
        container=lambda image, inputs: (0, f"ran {image}\n", {}),
        extra_env=path,
    )
    assert code == 0 and named in log.splitlines()[0], log


@pytest.mark.parametrize(
    "content", ["latest", "ghcr.io/acme/echo-notify:v1", "x@sha256:abc\n::error::injected\n"]
)
def test_a_broken_image_ref_file_is_a_warning(tmp_path: Path, content: str) -> None:
    action = checkout(tmp_path / "action")
    (action / "image-ref.txt").write_text(content)
    resolved = resolve(action, tmp_path / "ws")
    assert resolved.first_line.startswith("::warning title=Echo Notify image::")
    assert "image-ref.txt holds no image@sha256 reference" in resolved.first_line
    assert len(resolved.log.splitlines()) == 1 and not stray_commands(resolved.log)


def test_off_linux_the_action_stops_with_one_error(tmp_path: Path) -> None:
    done = run_step(STEPS[0], {}, {"PATH": os.environ["PATH"], "RUNNER_OS": "Windows"})
    assert done.returncode == 1
    assert done.stdout.startswith("::error title=Echo Notify::Echo Notify runs a Docker container")
    assert "(this one is Windows)" in done.stdout


def test_cleanup_removes_the_generated_action_only(action: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / ".github" / "workflows" / "sync.yml").write_text("on: push\n")
    assert resolve(action, workspace).generated.is_dir()
    env = {"PATH": os.environ["PATH"], "GITHUB_WORKSPACE": str(workspace)}
    assert run_step(STEPS[-1], {}, env).returncode == 0
    assert sorted(str(p.relative_to(workspace)) for p in workspace.rglob("*")) == [
        ".github",
        ".github/workflows",
        ".github/workflows/sync.yml",
    ]


# Where artifacts work (history.artifacts_work): the upload step runs only there, so on GitHub
# Enterprise Server the job never fails on it.
UPLOAD_IF = (
    "always() && steps.run.outputs.history-artifact != '' && "
    "(github.server_url == 'https://github.com' || "
    "endsWith(github.server_url, '.ghe.com') || endsWith(github.server_url, '.localhost'))"
)


@pytest.mark.parametrize(
    ("server", "works"),
    [
        ("https://github.com", True),
        ("https://acme.ghe.com", True),
        ("https://github.localhost", True),
        ("https://github.acme.internal", False),
        ("https://ghes.example.com", False),
        ("https://notgithub.com", False),
    ],
)
def test_the_upload_runs_where_the_program_keeps_history(server: str, works: bool) -> None:
    """The `if:` of both upload steps, read as GitHub evaluates it (case-insensitive string
    comparison), agrees with the program's own test."""
    url = server.lower()
    evaluated = url == "https://github.com" or url.endswith((".ghe.com", ".localhost"))
    assert evaluated == works == history.artifacts_work(server)
    watchdog = next(s for s in WATCHDOG_STEPS if "upload-artifact" in s.get("uses", ""))
    assert watchdog["if"] == UPLOAD_IF


def test_the_snapshot_upload_matches_what_the_program_writes(tmp_path: Path) -> None:
    """The composite uploads exactly the file `history.write` leaves, under the artifact name
    `history.lookup` looks for on the next run (docs/history-and-trends.md)."""
    upload = next(s for s in STEPS if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == UPLOAD_IF
    assert upload["with"]["if-no-files-found"] == "ignore"
    output = "${{ steps.run.outputs.history-artifact }}"
    assert upload["with"]["name"] == output  # the name the program looks up next run
    name = history.artifact_name("JOB", "sync", "backfill")
    snapshot = Snapshot(
        kind="sync",
        time=datetime.now(UTC),
        run_id="1",
        attempt=1,
        severity="ok",
        failed=False,
        levels={},
        figures={},
        streak=Streak(),
    )
    written = history.write(tmp_path / "echo-notify" / name, snapshot)
    folder = upload["with"]["path"].replace("${{ runner.temp }}", str(tmp_path))
    assert Path(folder.replace(output, name)) == written.parent  # uploaded at the root:
    assert written.name == "sync.json"  # the member every release's look-up reads
    for step in WATCHDOG_STEPS:  # the watchdog's upload is the same
        if "upload-artifact" in step.get("uses", ""):
            assert step["with"]["name"] == output and step["with"]["path"] == upload["with"]["path"]
    steps = [s.get("name") for s in STEPS]
    assert steps.index(upload["name"]) == steps.index(RUN["name"]) + 1  # right after the report


WATCHDOG = action_yml(ROOT / "watchdog")
WATCHDOG_STEPS: list[dict[str, Any]] = WATCHDOG["runs"]["steps"]


def test_the_watchdog_passes_every_input_and_maps_every_output() -> None:
    run = next(step for step in WATCHDOG_STEPS if step.get("id") == "run")
    assert run["with"] == {name: f"${{{{ inputs.{name} }}}}" for name in WATCHDOG["inputs"]}
    mapped = {name: spec["value"] for name, spec in WATCHDOG["outputs"].items()}
    assert mapped == {
        name: f"${{{{ steps.run.outputs.{name} || steps.image.outputs.{name} }}}}"
        for name in mapped
    }
    # Its outputs are the report action's names, and its own daily and weekly digests'.
    assert set(mapped) - {"digest-id", "digest-weekly-id"} <= set(ACTION["outputs"])
    assert WATCHDOG_STEPS[0]["if"] == "runner.os != 'Linux'"
    assert WATCHDOG_STEPS[-1]["if"] == "always()" and "rm -rf" in WATCHDOG_STEPS[-1]["run"]


def test_the_watchdog_runs_the_same_image_with_its_own_inputs(action: Path, tmp_path: Path) -> None:
    done = resolve(action / "watchdog", tmp_path)  # no ref: the Dockerfile, with its notice
    assert done.code == 0, done.log
    generated = done.action
    assert generated["inputs"] == WATCHDOG["inputs"]
    assert set(generated["outputs"]) == set(WATCHDOG["outputs"])
    assert generated["runs"] == {"using": "docker", "image": "Dockerfile", "args": ["watchdog"]}
    # The build context is the repository's, the same files the report action builds from.
    # … with this code's digest as the label's default (no runner passes build args).
    labelled = (
        (ROOT / "Dockerfile")
        .read_text()
        .replace('ARG SOURCE_DIGEST=""', f'ARG SOURCE_DIGEST="{source_digest(ROOT)}"')
    )
    assert (done.generated / "Dockerfile").read_text() == labelled
    assert (done.generated / "entrypoint.py").exists()
    assert done.generated.name == "echo-notify-watchdog"


# -- the resolve step: what a job's env and act's spelling cannot change ----------------------


def test_a_jobs_env_does_not_steer_the_report_actions_resolve_step(tmp_path: Path) -> None:
    """ARGS, SPEC, ACTION_ROOT and (new) SUBDIR are read by resolve-image.sh but set only by
    watchdog/action.yml: in the report action a job's env (or GITHUB_ENV) supplies them. A job
    with `env: ARGS: watchdog` gets the watchdog run instead of its report; `ARGS: it's`
    writes an action.yml that does not parse."""
    action = checkout(tmp_path / "_actions" / "acme" / "echo-notify" / "v1")
    workspace = tmp_path / "work"
    workspace.mkdir()
    done = resolve(action, workspace, extra_env={"ARGS": "watchdog"})
    assert done.code == 0, done.log
    assert "args" not in done.action["runs"], done.action["runs"]


def test_enabled_false_gives_the_same_outputs_from_the_resolve_step_and_the_program(
    tmp_path: Path,
) -> None:
    """resolve-image.sh says it writes "the same notice and outputs as the program's" for
    `enabled: false`, and the composite maps `steps.run.outputs.X || steps.image.outputs.X`.
    The program (the image run directly, the demo, any runner where the container step runs)
    says posted=true; the resolve step says posted=false."""

    action = checkout(tmp_path / "_actions" / "acme" / "echo-notify" / "v1")
    workspace = tmp_path / "work"
    workspace.mkdir()
    out_file = tmp_path / "resolve-output"

    step = next(
        s for s in action_yml(action)["runs"]["steps"] if "resolve-image.sh" in s.get("run", "")
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "GITHUB_ACTION_PATH": str(action),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(out_file),
    }
    out_file.write_text("")
    done = run_step(step, {"inputs": {"enabled": "false"}}, env)
    assert done.returncode == 0, done.stdout + done.stderr
    composite = parse_outputs(out_file.read_text())
    composite.pop("skip")

    files = tmp_path / "files"
    (files / "home").mkdir(parents=True)
    program_env = runner_env(workspace, files, {"metrics-file": "m.json", "enabled": "false"})
    assert main(program_env, io.StringIO()) == 0
    program = parse_outputs((files / "set_output").read_text())
    assert composite == program


def test_act_in_any_case_is_act_for_the_resolve_step(tmp_path: Path) -> None:
    """The program reads ACT=TRUE as act (config.github_context); so does the resolve step:
    act's host-mode layout stops it with its one error."""
    action = checkout(tmp_path / "act" / "acme-echo-notify@v1")
    workspace = tmp_path / "work"
    workspace.mkdir()
    cache = tmp_path / "cache"
    done = resolve(
        action,
        workspace,
        extra_env={
            "ACT": "TRUE",
            "RUNNER_TOOL_CACHE": str(cache / "tool_cache"),
            "RUNNER_TEMP": str(cache / "0a1b2c3d" / "tmp"),
        },
    )
    assert done.code == 1 and "host mode" in done.log, done.log
