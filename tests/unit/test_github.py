from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from echo_notify.config import GitHubContext
from echo_notify.github import Runner, job_link, run_link
from tests.fake_github import Actions, fake_actions
from tests.helpers import JOBS, FakeGitHub, ends_within, fake_github, parse_outputs

CTX = GitHubContext(
    actions=True,
    server_url="https://github.com",
    repository="acme/cold-email",
    run_id="123456",
    runner_name="GitHub Actions 7",
)


@pytest.mark.parametrize(
    ("ctx", "fallback", "url"),
    [
        (CTX, None, "https://github.com/acme/cold-email/actions/runs/123456"),
        (
            GitHubContext(**{**CTX.__dict__, "run_attempt": 3}),
            None,
            "https://github.com/acme/cold-email/actions/runs/123456/attempts/3",
        ),
        (
            GitHubContext(**{**CTX.__dict__, "run_id": ""}),
            "https://ci.example/run/9",
            "https://ci.example/run/9",
        ),
        (GitHubContext(**{**CTX.__dict__, "run_id": ""}), "javascript:alert(1)", ""),
        (GitHubContext(**{**CTX.__dict__, "act": True}), "https://x.y", ""),
        (CTX, "https://ignored.example", "https://github.com/acme/cold-email/actions/runs/123456"),
    ],
)
def test_run_link(ctx: GitHubContext, fallback: object, url: str) -> None:
    assert run_link(ctx, fallback) == url


@pytest.fixture
def api() -> Iterator[str]:
    with fake_github() as url:
        yield url


def jobs(*entries: dict[str, object]) -> dict[str, object]:
    return {"total_count": len(entries), "jobs": list(entries)}


def test_job_link_finds_this_runners_job(api: str) -> None:
    FakeGitHub.answers = {
        JOBS: (
            200,
            jobs(
                {
                    "name": "sync (1)",
                    "status": "in_progress",
                    "runner_name": "GitHub Actions 3",
                    "html_url": "https://github.com/acme/cold-email/actions/runs/123456/job/1",
                },
                {
                    "name": "sync (2)",
                    "status": "in_progress",
                    "runner_name": "GitHub Actions 7",
                    "html_url": "https://github.com/acme/cold-email/actions/runs/123456/job/2",
                },
            ),
        )
    }
    ctx = GitHubContext(**{**CTX.__dict__, "api_url": api})
    debug: list[str] = []
    assert job_link(ctx, "ghs_token", debug.append) == (
        "https://github.com/acme/cold-email/actions/runs/123456/job/2"
    )
    assert FakeGitHub.seen == [(JOBS, "token ghs_token")] and debug == []


@pytest.mark.parametrize(
    "answer",
    [
        (403, {"message": "Resource not accessible by integration"}),
        (500, {"message": "boom"}),
        (
            200,
            jobs(
                {
                    "status": "in_progress",
                    "runner_name": "other",
                    "html_url": "https://github.com/x",
                }
            ),
        ),
        (
            200,
            jobs(
                {
                    "status": "in_progress",
                    "runner_name": "GitHub Actions 7",
                    "html_url": "https://evil.example/job",
                }
            ),
        ),
        (200, ["not", "an", "object"]),
    ],
)
def test_job_link_falls_back_quietly(api: str, answer: tuple[int, object]) -> None:
    FakeGitHub.answers = {JOBS: answer}
    ctx = GitHubContext(**{**CTX.__dict__, "api_url": api})
    debug: list[str] = []
    assert job_link(ctx, "ghs_token", debug.append) is None
    assert len(debug) == 1 and "ghs_token" not in debug[0]


def test_job_link_unreachable_api() -> None:
    ctx = GitHubContext(**{**CTX.__dict__, "api_url": "http://127.0.0.1:9"})
    debug: list[str] = []
    assert job_link(ctx, "t", debug.append) is None
    assert "job link lookup failed" in debug[0]


def test_job_link_gives_up_on_an_api_that_drips_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A byte every 0.5 s: each read is well inside PyGithub's timeout, their sum is not.
    monkeypatch.setattr("echo_notify.github.JOB_LINK_LIMIT", 1.0)
    with fake_actions(Actions(drip=0.5)) as state:
        ctx = GitHubContext(**{**CTX.__dict__, "api_url": state.api})
        debug: list[str] = []
        assert ends_within(4, lambda: job_link(ctx, "t", debug.append)) is None
    assert debug == ["job link lookup failed (TimeoutError); using the run link"]


def test_job_link_needs_a_token_and_a_run() -> None:
    assert job_link(CTX, "", print) is None
    assert job_link(GitHubContext(**{**CTX.__dict__, "act": True}), "t", print) is None


def runner(tmp_path: Path | None = None, actions: bool = True) -> tuple[Runner, io.StringIO]:
    out = io.StringIO()
    files = {}
    if tmp_path:
        files = {"output_file": tmp_path / "out", "summary_file": tmp_path / "summary"}
    return Runner(GitHubContext(actions=actions, **files), out), out  # type: ignore[arg-type]


def test_annotations_escape_data_and_properties() -> None:
    run, out = runner()
    run.annotate("warning", "a: b, c", "50% done\r\nline2 ::set-env name=x::y")
    assert out.getvalue() == (
        "::warning title=a%3A b%2C c::50%25 done%0D%0Aline2 ::set-env name=x::y\n"
    )


def test_secrets_are_masked_and_redacted() -> None:
    run, out = runner()
    run.mask(["s3cret", "multi\nline"])
    run.log("token s3cret leaked")
    run.annotate("error", "t", "also s3cret")
    assert out.getvalue().splitlines() == [
        "::add-mask::s3cret",
        "::add-mask::multi",
        "::add-mask::line",
        "token *** leaked",
        "::error title=t::also ***",
    ]


def test_log_lines_cannot_carry_commands() -> None:
    run, out = runner()
    run.log("answer:\n::add-mask::x ##[set-output name=a]b")
    assert out.getvalue() == "answer: ::add-mask::x #\u200b#[set-output name=a]b\n"


def test_block_stops_command_processing() -> None:
    run, out = runner()
    run.block("Report", "::error::forged\n##[warning]also")
    lines = out.getvalue().splitlines()
    token = lines[1].removeprefix("::stop-commands::")
    assert len(token) == 32
    assert lines == [
        "::group::Report",
        f"::stop-commands::{token}",
        "::error::forged",
        "##[warning]also",
        f"::{token}::",
        "::endgroup::",
    ]
    run.block("again", "x")
    assert token not in out.getvalue().splitlines()[7]  # a new token every time


def test_outputs_use_heredocs_the_runner_parses(tmp_path: Path) -> None:
    run, _ = runner(tmp_path)
    run.set_outputs({"a": "one", "b": "two\nlines", "c": ""})
    text = (tmp_path / "out").read_text()
    assert text.count("ghadelimiter_") == 6
    assert parse_outputs(text) == {"a": "one", "b": "two\nlines", "c": ""}


def test_plain_shell_prints_instead_of_files() -> None:
    run, out = runner(actions=False)
    run.annotate("warning", "T", "m")
    run.set_outputs({"a": "1"})
    run.summary("# S")
    assert out.getvalue() == (
        "Warning: T: m\n--- Outputs ---\na=1\n---\n--- Job summary ---\n# S\n---\n"
    )


def test_summary_appends_and_stays_under_1_mib(tmp_path: Path) -> None:
    run, _ = runner(tmp_path)
    (tmp_path / "summary").write_text("earlier step\n")
    run.summary("é" * 2_000_000)
    text = (tmp_path / "summary").read_text()
    assert text.startswith("earlier step\n")
    assert len(text.encode()) < 1024 * 1024 and "cut to stay under" in text


@pytest.mark.parametrize("actions", [True, False])
def test_block_redacts_secrets_in_title_and_text(actions: bool) -> None:
    run, out = runner(actions=actions)
    run.mask(["s3cret-tok_en"])
    run.block("Report for s3cret-tok_en", "line one\nthe token s3cret-tok_en here\n")
    printed = [line for line in out.getvalue().splitlines() if "add-mask" not in line]
    assert "s3cret" not in "\n".join(printed)
    assert "the token *** here" in printed
    assert any("Report for ***" in line for line in printed)


def test_output_delimiters_are_distinct_and_random(tmp_path: Path) -> None:
    outputs = {"a": "one", "b": "two\nlines", "c": "", "d": "x"}
    seen: list[str] = []
    for _ in range(2):
        (tmp_path / "out").unlink(missing_ok=True)
        run, _ = runner(tmp_path)
        run.set_outputs(outputs)
        text = (tmp_path / "out").read_text()
        assert parse_outputs(text) == outputs
        heads = [line for line in text.splitlines() if "<<" in line]
        delimiters = [line.split("<<", 1)[1] for line in heads]
        assert len(delimiters) == len(outputs)
        for delimiter in delimiters:  # not guessable: at least 128 bits of hex after the prefix
            assert sum(c in "0123456789abcdef" for c in delimiter.split("_", 1)[1]) >= 32
        seen += delimiters
    assert len(set(seen)) == len(seen)  # one per output, new on every call


def test_job_link_skips_a_finished_job_on_the_same_runner(api: str) -> None:
    base = "https://github.com/acme/cold-email/actions/runs/123456/job/"
    this_runner = {"runner_name": "GitHub Actions 7"}  # runners are reused between jobs
    FakeGitHub.answers = {
        JOBS: (
            200,
            jobs(
                {**this_runner, "status": "completed", "html_url": base + "1"},
                {**this_runner, "status": "queued", "html_url": base + "2"},
                {**this_runner, "status": "in_progress", "html_url": base + "3"},
            ),
        )
    }
    ctx = GitHubContext(**{**CTX.__dict__, "api_url": api})
    assert job_link(ctx, "ghs_token", print) == base + "3"


def test_summary_cut_inside_a_character_drops_the_broken_bytes(tmp_path: Path) -> None:
    run, _ = runner(tmp_path)
    run.summary("x" + "é" * 600_000)  # the cut falls in the middle of an é's two bytes
    text = (tmp_path / "summary").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert text.startswith("xéé") and "cut to stay under" in text
    assert len(text.encode()) < 1024 * 1024
