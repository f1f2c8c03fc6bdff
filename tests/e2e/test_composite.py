"""The composite action end to end: a real registry on loopback, the resolve step with the values
the runner gives it, the chosen image run as the runner runs a Docker action (marker: docker).

ghcr.io cannot be reached here: the published image is pushed to Debian's docker-registry on
127.0.0.1 and the `image` input (a mirror) points the resolve step at it, so only the registry's
host differs from a run on GitHub.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.composite import checkout, docker_client, resolve, run_composite, source_digest
from tests.e2e.conftest import REPOSITORY, Published
from tests.e2e.docker import TAG, build, docker, require_engine, run_as_runner
from tests.e2e.registry import free_port, silent_server
from tests.helpers import EXAMPLES, ScriptedEcho, stray_commands

pytestmark = pytest.mark.docker
PULLED = re.compile(
    r"^Echo Notify image: (?P<image>\S+@sha256:[0-9a-f]{64}) \(pulled in [0-9.]+ s; "
    r"built from this checkout's code, sha256:[0-9a-f]{64}\)"
)
INJECTED = "sha256:abc\n::error::injected\n##[error]x"


def runner_checkout(tmp: Path, ref: str) -> Path:
    return checkout(tmp / "_work" / "_actions" / REPOSITORY / ref)


def labelled(published: Published, tag: str, label: str) -> None:
    """Publish our image under TAG with another source-digest label: a tag moved elsewhere."""
    done = subprocess.run(
        [
            "docker",
            "build",
            "--label",
            f"dev.echo-notify.source-digest={label}",
            "-t",
            "moved",
            "-",
        ],
        input=f"FROM {TAG}\n",
        capture_output=True,
        text=True,
        check=False,
        env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin", **docker_client()},
    )
    assert done.returncode == 0, done.stderr
    published.push("moved", tag)
    docker("image", "rm", "moved")


def deliver(tmp: Path, echo: ScriptedEcho):  # type: ignore[no-untyped-def]
    """The generated Docker action's step: build it when it says Dockerfile, then run it."""
    workspace = tmp / "workspace"

    def container(image: str, inputs: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        if image == "Dockerfile":
            image = f"{TAG}-fallback"
            build(image, workspace / ".github/.tmp/.generated-actions/echo-notify")
        else:  # pre-pulled by the resolve step: the runner's `docker run` finds it local
            assert docker("image", "inspect", image, check=False).returncode == 0
        code, log, outputs, _ = run_as_runner(image, tmp, inputs)
        return code, log, outputs

    shutil.copytree(EXAMPLES, workspace)
    return workspace, container


def test_the_published_image_is_pulled_checked_and_run(
    published: Published, echo: ScriptedEcho, tmp_path: Path
) -> None:
    workspace, container = deliver(tmp_path, echo)
    code, log, outputs = run_composite(
        runner_checkout(tmp_path, "v1"),
        workspace,
        {"metrics-file": "sync.json", "echo-url": echo.url, "image": published.mirror},
        repository=REPOSITORY,
        ref="v1",
        container=container,
    )
    assert code == 0, log
    first = PULLED.match(log)
    assert first, log
    assert first["image"] == f"{published.mirror}@{published.digest}"
    assert outputs["delivered"] == "true" and outputs["message-id"] == "msg_1"
    assert outputs["report"] == "sync" and outputs["severity"] and outputs["attempts"] == "2"
    assert echo.sends == ["msg_1"]
    assert not (workspace / ".github").exists()  # cleaned up
    assert "Traceback" not in log and not stray_commands(log)


@pytest.mark.parametrize(
    "layout",
    ["_work/_actions/acme/echo-notify/feature/x", "act/actions/acme-echo-notify@feature-x"],
)
def test_a_ref_with_a_slash_under_the_runners_and_acts_paths(
    published: Published, tmp_path: Path, layout: str
) -> None:
    action = checkout(tmp_path / layout)
    resolved = resolve(
        action, tmp_path / "ws", repository="Acme/Echo-Notify", ref="feature/x",
        image=f"  {published.mirror} ",
    )  # fmt: skip
    assert resolved.code == 0, resolved.log
    match = PULLED.match(resolved.log)
    assert match, resolved.log
    assert resolved.image == f"docker://{match['image']}"
    assert match["image"].startswith(f"{published.mirror}@sha256:")


def test_the_committed_reference_serves_when_the_runner_gives_no_ref(
    published: Published, tmp_path: Path
) -> None:
    # Run from another composite: the runner's ref names the outer action, or nothing.
    action = runner_checkout(tmp_path, "v1")
    (action / "image-ref.txt").write_text(f"ghcr.io/{REPOSITORY}@{published.digest}\n")
    for repository, ref in (("", ""), ("other/outer", "v3"), (REPOSITORY, "v1")):
        resolved = resolve(
            action, tmp_path / "ws", repository=repository, ref=ref, image=published.mirror
        )
        assert resolved.image == f"docker://{published.mirror}@{published.digest}", resolved.log
        assert "passed over" not in resolved.first_line  # the ref is not even looked at
        assert len(resolved.log.splitlines()) == 1


@pytest.mark.parametrize("ref", ["v1", "0123456789abcdef0123456789abcdef01234567"])
def test_a_forged_image_under_the_tag_never_runs_when_a_digest_is_committed(
    published: Published, echo: ScriptedEcho, tmp_path: Path, ref: str
) -> None:
    """Whoever can push re-pushes the tag (:v1, or :<sha> of a full-SHA pin) with an image FROM
    the real one, the same source-digest label, another entrypoint. The release commit names the
    real digest in image-ref.txt: that is pulled, by digest; the tag is never tried."""
    forged = published.mirror + ":forged-" + ref[:7]
    done = subprocess.run(
        ["docker", "build", "-t", forged, "-"],
        input=f'FROM {TAG}\nENTRYPOINT ["sh", "-c", "echo FORGED-IMAGE-RAN; exit 0"]\n',
        capture_output=True, text=True, check=False,
        env={**docker_client(), "DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    published.push(forged, ref)
    docker("image", "rm", forged)
    action = runner_checkout(tmp_path, ref)
    (action / "image-ref.txt").write_text(f"ghcr.io/{REPOSITORY}@{published.digest}\n")
    workspace, container = deliver(tmp_path, echo)
    inputs = {"metrics-file": "sync.json", "echo-url": echo.url, "image": published.mirror}
    code, log, _ = run_composite(
        action, workspace, inputs, repository=REPOSITORY, ref=ref, container=container
    )
    assert code == 0, log
    first = PULLED.match(log)
    assert first and first["image"] == f"{published.mirror}@{published.digest}", log
    assert "FORGED-IMAGE-RAN" not in log and f":{ref}" not in log
    assert echo.sends == ["msg_1"]


def test_a_release_whose_image_is_missing_is_a_warning(
    published: Published, tmp_path: Path
) -> None:
    """A missing branch image is expected (a notice); a release's own image is not (a warning)."""
    action = runner_checkout(tmp_path, "v1")
    (action / "image-ref.txt").write_text(f"ghcr.io/{REPOSITORY}@sha256:{'c' * 64}\n")
    resolved = resolve(
        action, tmp_path / "ws", repository=REPOSITORY, ref="v1", image=published.mirror
    )
    assert resolved.code == 0 and resolved.image == "Dockerfile"
    assert resolved.first_line.startswith("::warning title=Echo Notify image::"), resolved.log


def test_a_missing_tag_builds_instead_with_a_notice(published: Published, tmp_path: Path) -> None:
    resolved = resolve(
        runner_checkout(tmp_path, "v9"), tmp_path / "ws",
        repository=REPOSITORY, ref="v9", image=published.mirror,
    )  # fmt: skip
    assert resolved.code == 0 and resolved.image == "Dockerfile"
    [line] = resolved.log.splitlines()
    assert line.startswith(
        f"::notice title=Echo Notify image::No prebuilt image for this run: "
        f"{published.mirror}:v9: not published (or not public): "
    )
    assert "manifest unknown" in line and line.endswith("(about 30 s).")


def test_a_registry_that_is_down_is_a_warning(tmp_path: Path) -> None:
    mirror = f"127.0.0.1:{free_port()}/{REPOSITORY}"
    resolved = resolve(
        runner_checkout(tmp_path, "v1"), tmp_path / "ws",
        repository=REPOSITORY, ref="v1", image=mirror,
    )  # fmt: skip
    assert resolved.code == 0 and resolved.image == "Dockerfile"
    [line] = resolved.log.splitlines()
    assert line.startswith(f"::warning title=Echo Notify image::No prebuilt image for this run: "
                           f"{mirror}:v1: pull failed: ")  # fmt: skip
    assert "connection refused (tried twice). Building the image" in line


def test_a_registry_that_hangs_is_given_up_on(tmp_path: Path) -> None:
    with silent_server() as host:
        start = time.monotonic()
        resolved = resolve(
            runner_checkout(tmp_path, "v1"), tmp_path / "ws",
            repository=REPOSITORY, ref="v1", image=f"{host}/{REPOSITORY}",
            extra_env={"ECHO_NOTIFY_PULL_TIMEOUT": "2"},
        )  # fmt: skip
        elapsed = time.monotonic() - start
    assert resolved.code == 0 and resolved.image == "Dockerfile"
    assert "the registry did not answer within 2 s (tried twice)" in resolved.first_line
    assert resolved.first_line.startswith("::warning ")
    assert elapsed < 15


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("other code", "it was built from other code (source digest sha256:"),
        ("", "it has no valid dev.echo-notify.source-digest label (0 characters)"),
        ("a" * 100_000, "label (100000 characters)"),
        (INJECTED, f"label ({len(INJECTED)} characters)"),
    ],
)
def test_a_tag_moved_to_other_code_is_not_run(
    published: Published, tmp_path: Path, label: str, said: str
) -> None:
    if label == "other code":
        other = checkout(tmp_path / "other")
        with (other / "echo_notify" / "main.py").open("a") as handle:
            handle.write("\n# another commit\n")
        label = source_digest(other)
    tag = f"moved-{len(label)}"
    labelled(published, tag, label)
    resolved = resolve(
        runner_checkout(tmp_path, tag), tmp_path / "ws",
        repository=REPOSITORY, ref=tag, image=published.mirror,
    )  # fmt: skip
    assert resolved.code == 0 and resolved.image == "Dockerfile"
    [line] = resolved.log.splitlines()
    assert line.startswith("::warning title=Echo Notify image::") and said in line, line
    assert len(line) < 600 and not stray_commands(resolved.log)


def test_the_dockerfile_fallback_builds_and_delivers(echo: ScriptedEcho, tmp_path: Path) -> None:
    require_engine()
    workspace, container = deliver(tmp_path, echo)
    code, log, outputs = run_composite(
        runner_checkout(tmp_path, "v1"),
        workspace,
        {"metrics-file": "drain.json", "echo-url": echo.url},
        repository="",
        ref="",
        container=container,
    )
    assert code == 0, log
    assert log.startswith("::notice title=Echo Notify image::No prebuilt image for this run: ")
    assert outputs["delivered"] == "true" and outputs["report"] == "drain"
    assert json.loads(echo.store.requests[0]["body"])["content"].startswith("🧹 *Cold Email Drain")
    assert not (workspace / ".github").exists()
    docker("image", "rm", f"{TAG}-fallback", check=False)
