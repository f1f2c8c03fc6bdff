"""The release workflow's own `run:` steps (read from .github/workflows/release.yml, never
retyped) against a local bare git origin and Debian's docker-registry on loopback standing in
for ghcr.io (marker: docker); then every documented way to pin a release (`vX`, `vX.Y`,
`vX.Y.Z`, and the SHA `git rev-parse vX.Y.Z^{commit}` gives) checked out as the runner checks
an action out, and the resolve step run on it: each must pull the release's image by digest.

What only GitHub's hosted runner does is emulated from its source: actions/checkout with
`fetch-depth: 0` is a full clone checked out at the release's tag (GITHUB_REF refs/tags/…);
`run:` steps are `bash --noprofile --norc -eo pipefail` (actions/runner, ScriptHandlerHelpers:
the `bash` shell's default arguments) in the checkout with the step's `env:` evaluated;
docker/login-action has nothing to do for a registry without auth; docker buildx's
`imagetools` is tests/e2e/imagetools.py behind a `docker` shim.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.composite import checkout, docker_client, evaluate, resolve
from tests.e2e.docker import BASE, TAG, docker, require_engine
from tests.e2e.registry import registry
from tests.helpers import ROOT, parse_outputs

pytestmark = pytest.mark.docker
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
REPOSITORY = "acme/echo-notify"
LABEL = "dev.echo-notify.source-digest"


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.invalid",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd or ROOT),
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout.strip()


@dataclass
class Origin:
    """A bare origin on disk, a clone the maintainers commit and tag in, the registry."""

    tmp: Path
    bare: Path
    work: Path
    host: str
    pulled: set[str] = field(default_factory=set)  # what the resolve step pulled, removed after

    @property
    def image(self) -> str:
        return f"{self.host}/{REPOSITORY}"

    def commit(self, change: str, *, branch: str = "main", start: str = "") -> str:
        """A commit on ``branch`` (from ``start``) changing the image's code, pushed, and its
        image published as `:<sha>` as the build job does on a push to main."""
        if start:
            git("checkout", "--quiet", "-B", branch, start, cwd=self.work)
        else:
            git("checkout", "--quiet", branch, cwd=self.work)
        with (self.work / "entrypoint.py").open("a") as handle:
            handle.write(f"# {change}\n")
        git("commit", "--quiet", "-am", change, cwd=self.work)
        git("push", "--quiet", "origin", branch, cwd=self.work)
        sha = git("rev-parse", "HEAD", cwd=self.work)
        self.publish(sha)
        return sha

    def publish(self, sha: str) -> None:
        """`$IMAGE:<sha>`, labelled with the commit's source digest (and its sha, so each
        commit's image has its own digest): what the build job pushes."""
        digest = subprocess.run(
            ["bash", str(ROOT / "resolve-image.sh"), "digest", str(self.work)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        local = f"{TAG}-release-{sha[:12]}"
        done = subprocess.run(
            ["docker", "build", "--label", f"{LABEL}={digest}", "--label", f"sha={sha}",
             "-t", local, "-"],
            input=f"FROM {BASE}\n", capture_output=True, text=True, check=False,
            env={**os.environ, "DOCKER_BUILDKIT": "0", **docker_client()},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        docker("tag", local, f"{self.image}:{sha}")
        docker("push", f"{self.image}:{sha}")
        docker("image", "rm", local, f"{self.image}:{sha}")

    def tag(self, tag: str, sha: str) -> None:
        git("tag", "-a", tag, sha, "-m", tag, cwd=self.work)
        git("push", "--quiet", "origin", f"refs/tags/{tag}", cwd=self.work)

    def digest_of(self, ref: str) -> str:
        found = subprocess.run(
            [sys.executable, "-m", "tests.e2e.imagetools", "inspect", f"{self.image}:{ref}",
             "--format", "{{ json .Manifest }}"],
            capture_output=True, text=True, check=True, cwd=ROOT,
        ).stdout  # fmt: skip
        return str(yaml.safe_load(found)["digest"])


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[Origin]:
    require_engine()
    bare, work = tmp_path / "origin.git", tmp_path / "maintainer"
    git("init", "--quiet", "--bare", "-b", "main", str(bare))
    checkout(work)  # the repository's files as committed
    git("init", "--quiet", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "Echo Notify", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    (tmp_path / "registry").mkdir()
    with registry(tmp_path / "registry") as host:
        made = Origin(tmp_path, bare, work, host)
        yield made
        if made.pulled:
            docker("image", "rm", *made.pulled, check=False)


def release(origin: Origin, tag: str) -> str:
    """The release job for a published release of ``tag``: its log (it must succeed)."""
    job = WORKFLOW["jobs"]["release"]
    run = origin.tmp / f"release-{tag}-{len(list(origin.tmp.glob('release-*')))}"
    repo, temp, bin_ = run / "repo", run / "temp", run / "bin"
    for folder in (temp, bin_, run / "docker-config"):
        folder.mkdir(parents=True)
    real = shutil.which("docker")
    (bin_ / "docker").write_text(
        "#!/bin/bash\n"
        'if [ "$1 $2" = "buildx imagetools" ]; then shift 2; '
        f'exec {sys.executable} -m tests.e2e.imagetools "$@"; fi\n'
        f'exec {real} "$@"\n'
    )
    (bin_ / "docker").chmod(0o755)
    env = {
        **docker_client(),
        "PATH": f"{bin_}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "HOME": str(run),
        "DOCKER_CONFIG": str(run / "docker-config"),  # `docker logout` touches no one's login
        "GITHUB_REPOSITORY": REPOSITORY,
        "RUNNER_TEMP": str(temp),
        **{k: str(v) for k, v in WORKFLOW.get("env", {}).items()},
        "REGISTRY": origin.host,  # the loopback registry stands in for ghcr.io
    }
    contexts: dict[str, dict[str, str]] = {
        "github": {"event.release.tag_name": tag, "token": "ghs_release"},
    }
    log = []
    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert step["with"]["fetch-depth"] == 0
            git("clone", "--quiet", str(origin.bare), str(repo))
            git("checkout", "--quiet", f"refs/tags/{tag}", cwd=repo)
            continue
        if uses:
            assert uses.split("@")[0] in ("docker/setup-buildx-action", "docker/login-action")
            continue
        assert "if" not in step, step["name"]  # a condition this replay does not evaluate
        output = run / "output"
        output.write_text("")
        step_env = {k: evaluate(str(v), contexts) for k, v in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo, env={**env, **step_env, "GITHUB_OUTPUT": str(output)},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        log.append(f"## {step['name']}\n{done.stdout}{done.stderr}")
        assert done.returncode == 0, "\n".join(log)
        if "id" in step:
            for name, value in parse_outputs(output.read_text()).items():
                contexts.setdefault("steps", {})[f"{step['id']}.outputs.{name}"] = value
    git("fetch", "--quiet", "--force", "--tags", "origin", cwd=origin.work)
    return "\n".join(log)


def pinned(origin: Origin, ref: str) -> str:
    """The image the resolve step pulls for `uses: acme/echo-notify@REF`: the runner downloads
    the repository at REF into _actions/acme/echo-notify/REF (actions/runner, ActionManager)."""
    action = origin.tmp / "_work" / "_actions" / REPOSITORY / ref
    action.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", ref], cwd=origin.bare, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(action)], input=archive, check=True)
    assert (action / "image-ref.txt").is_file(), f"@{ref} carries no image digest"
    resolved = resolve(
        action, origin.tmp / f"ws-{ref}", repository=REPOSITORY, ref=ref,
        extra_env={"ECHO_NOTIFY_PULL_TIMEOUT": "20"},
    )  # fmt: skip
    assert resolved.code == 0 and resolved.first_line.startswith("Echo Notify image: "), (
        resolved.log
    )
    origin.pulled.add(resolved.first_line.split()[3])
    return resolved.first_line.split()[3]


def test_every_documented_pin_of_a_release_pulls_its_image_by_digest(origin: Origin) -> None:
    sha = origin.commit("1.4.0")
    origin.tag("v1.4.0", sha)
    release(origin, "v1.4.0")
    image = f"{origin.image}@{origin.digest_of(sha)}"
    commit = git("rev-parse", "v1.4.0^{commit}", cwd=origin.work)  # the README's full-SHA pin
    assert git("rev-parse", f"{commit}^", cwd=origin.work) == sha  # the tagged code, plus
    assert git("show", f"{commit}:image-ref.txt", cwd=origin.work) == image  # its digest
    for ref in ("v1", "v1.4", "v1.4.0", commit):
        assert pinned(origin, ref) == image, ref
    assert origin.digest_of("v1.4.0") == origin.digest_of(sha)  # retagged, not rebuilt

    release(origin, "v1.4.0")  # the workflow re-run: the same commit, the same pins
    assert git("rev-parse", "v1.4.0^{commit}", cwd=origin.work) == commit


def test_an_older_line_s_patch_release_carries_its_digest(origin: Origin) -> None:
    base = origin.commit("1.4.0")
    origin.tag("v1.4.0", base)
    release(origin, "v1.4.0")
    newer = origin.commit("1.5.0")
    origin.tag("v1.5.0", newer)
    release(origin, "v1.5.0")
    patch = origin.commit("1.4.1", branch="release-1.4", start=base)
    origin.tag("v1.4.1", patch)
    release(origin, "v1.4.1")
    fixed = f"{origin.image}@{origin.digest_of(patch)}"
    commit = git("rev-parse", "v1.4.1^{commit}", cwd=origin.work)
    for ref in ("v1.4", "v1.4.1", commit):
        assert pinned(origin, ref) == fixed, ref
    assert pinned(origin, "v1") == f"{origin.image}@{origin.digest_of(newer)}"  # v1 stays
