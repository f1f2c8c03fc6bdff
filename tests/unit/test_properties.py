"""Properties over arbitrary metrics-shaped files, through main() as the runner runs it."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echo_notify.main import main
from tests.helpers import example_day, parse_outputs, printed_message, runner_env, stray_commands
from tests.strategies import metrics

RUN_LINK = "<https://github.com/acme/cold-email/actions/runs/123456|View Logs>"


def run_dry(data: dict[str, Any], fmt: str = "slack") -> tuple[int, str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "files").mkdir()
        (root / "m.json").write_text(json.dumps(data))
        env = runner_env(
            root, root / "files", {"metrics-file": "m.json", "dry-run": "true", "format": fmt}
        )
        out = io.StringIO()
        code = main(env, out, now=example_day)
        return code, out.getvalue(), parse_outputs((root / "files" / "set_output").read_text())


def without_fields(message: str) -> str:
    """The message less the inline code that names a gauge's bad fields (the `code` filter's)."""
    return re.sub(r"(?m)^(⚠️ .* cannot be judged: bad data in ).*$", r"\1", message)


def check(data: dict[str, Any]) -> None:
    """What must hold for any file: no crash, no stray command, no markup from data."""
    code, log, outputs = run_dry(data)
    assert code == 0, log
    assert "Traceback" not in log and "Unexpected internal error" not in log, log
    assert stray_commands(log) == [], log
    assert outputs["report"] in ("sync", "drain", "poll")
    message = printed_message(log)
    assert len(message) <= 3000
    rest = message.replace(RUN_LINK, "")
    assert "<" not in rest and ">" not in rest, message
    assert not re.search(r"&(?!amp;|lt;|gt;)", rest), message
    # Nothing invisible or reordering from data; no terminal escapes anywhere in the log.
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff]", log)
    # Data never becomes a link: outside inline code, no scheme, domain or address survives.
    # (Our code spans are whole lines, `• `error``, and the fields a gauge cannot be judged
    # for; a fenced backtick from data opens none.)
    prose = re.sub(r"^• `[^`\n]*`$", "", without_fields(rest), flags=re.MULTILINE)
    assert not re.search(r"://|[A-Za-z0-9-]\.[A-Za-z]|\w@\w", prose), message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(metrics("sync"), metrics("drain"), metrics("poll")))
def test_any_metrics_file_renders_safely(data: dict[str, Any]) -> None:
    check(data)


@settings(max_examples=50, deadline=None)
@given(metrics("sync"))
def test_markdown_output_has_no_raw_markup_from_data(data: dict[str, Any]) -> None:
    code, log, _ = run_dry(data, "markdown")
    assert code == 0 and stray_commands(log) == []
    message = printed_message(log)
    # Every markup character left unescaped must be the template's own.
    # Errors are inline code: literal inside, with no backtick of their own to break out.
    bare = re.sub(r"^• `[^`\n]*`  $", "", without_fields(message), flags=re.MULTILINE)
    bare = re.sub(r"\\[\\`*_\[\]<>&|~#]", "", bare).replace(" | ", " ")
    bare = bare.replace("capacity: ~", "")  # the template's own | and ~
    bare = bare.replace("](<https://github.com/acme/cold-email/actions/runs/123456>)", "")
    assert not re.search(r"[<>`|~]", bare), message
    assert "https://" not in bare.replace("[View Logs", ""), message
