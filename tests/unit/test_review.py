"""Hostile review of the resolve step: failing tests."""

from __future__ import annotations

import io
from pathlib import Path

from echo_notify.main import main
from tests.composite import action_yml, checkout, resolve, run_step
from tests.helpers import parse_outputs, runner_env


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
