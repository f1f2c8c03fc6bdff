"""GitHub's own parser, @actions/workflow-parser, as scripts/test's lint stage runs it: bundled
by scripts/test into build/parse-actions/parse.cjs (source: scripts/parse-actions/parse.mjs)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT

BUNDLE = ROOT / "build" / "parse-actions" / "parse.cjs"


def parse(*files: Path | str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The parser on FILES (action.yml/action.yaml read as actions, the rest as workflows)."""
    if not BUNDLE.is_file():
        pytest.fail(f"{BUNDLE.relative_to(ROOT)} is missing: scripts/test builds it (lint stage).")
    return subprocess.run(
        ["node", str(BUNDLE), *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def generated(root: Path, dest: Path) -> list[Path]:
    """The Docker actions the resolve step of the checkout ROOT writes, on each of its paths."""
    done = subprocess.run(
        [str(root / "scripts" / "parse-actions" / "generated"), str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(dest.glob("*/action.yml"))
