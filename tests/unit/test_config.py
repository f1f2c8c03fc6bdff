from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from echo_notify.config import DEFAULTS, WATCHDOG_DEFAULTS, enabled, load_config, watches
from echo_notify.errors import InputError
from tests.helpers import ROOT, action_inputs, runner_env


def config_for(tmp_path: Path, **inputs: str):  # type: ignore[no-untyped-def]
    base = {"metrics-file": "m.json", "echo-url": "https://echo.example.com"}
    named = {k.replace("_", "-"): v for k, v in inputs.items()}
    (tmp_path / "files").mkdir(exist_ok=True)
    return load_config(runner_env(tmp_path, tmp_path / "files", {**base, **named}))


def test_defaults_follow_action_yml(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    assert config.metrics_file == tmp_path / "m.json"
    assert config.recipients == ("#sales-cold-email-replies",)
    assert (config.report, config.job_status, config.format) == ("auto", "success", "slack")
    assert str(config.timezone) == "America/New_York"
    assert (config.dry_run, config.fail_on_error, config.timeout_seconds) == (False, False, 180)
    assert config.echo_token == "" and config.template is None


def test_values_are_trimmed_and_parsed(tmp_path: Path) -> None:
    config = config_for(
        tmp_path,
        metrics_file="  out/m.json \n",
        echo_url=" https://echo.example.com/ ",
        channel="#a, #b\n U123 ,\n",
        dry_run=" YES ",
        fail_on_error="1",
        job_status="Failure",
        timeout_seconds="30",
    )
    assert config.metrics_file == tmp_path / "out/m.json"
    assert config.echo_url == "https://echo.example.com"
    assert config.recipients == ("#a", "#b", "U123")
    assert config.dry_run and config.fail_on_error and config.job_status == "failure"
    assert config.timeout_seconds == 30


def test_absolute_metrics_path_is_kept(tmp_path: Path) -> None:
    assert config_for(tmp_path, metrics_file="/data/m.json").metrics_file == Path("/data/m.json")


def test_tokens_stay_out_of_repr(tmp_path: Path) -> None:
    config = config_for(tmp_path, echo_token="sekret-echo", github_token="ghs_sekret")
    assert "sekret" not in repr(config)
    assert config.secrets == ("sekret-echo", "ghs_sekret")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"metrics_file": ""}, "Input 'metrics-file' is required"),
        ({"echo_url": ""}, "Input 'echo-url' is required unless `dry-run: true`"),
        (
            {"report": "weekly"},
            "Input 'report' must be one of sync, drain, poll, auto; got 'weekly'",
        ),
        ({"job_status": "ok"}, "Input 'job-status' must be one of success, failure, cancelled"),
        ({"format": "html"}, "Input 'format' must be one of slack, markdown"),
        ({"timezone": "Mars/Olympus"}, "Input 'timezone' is not a known IANA time zone"),
        ({"timezone": "../../etc/passwd"}, "Input 'timezone' is not a known IANA time zone"),
        ({"dry_run": "maybe"}, "Input 'dry-run' must be true or false"),
        ({"fail_on_error": "on"}, "Input 'fail-on-error' must be true or false"),
        ({"timeout_seconds": "soon"}, "Input 'timeout-seconds' must be a number"),
        ({"timeout_seconds": "0"}, "Input 'timeout-seconds' must be a number"),
        ({"channel": " , \n"}, "Input 'channel' names no recipient"),
        ({"echo_url": "http://echo.example.com"}, "must start with https://"),
        ({"echo_url": "file:///etc/passwd"}, "must start with https://"),
        ({"echo_url": "https://user:pw@echo.example.com"}, "must not carry credentials"),
        ({"echo_url": "https://echo.example.com/?x=1"}, "without ?query"),
        ({"echo_url": "https://echo.example.com:99999"}, "not a valid URL"),
    ],
)
def test_input_errors_name_the_input(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        config_for(tmp_path, **inputs)
    assert message in str(caught.value)


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.1:1/", "http://[::1]:80"])
def test_plain_http_only_for_loopback(tmp_path: Path, url: str) -> None:
    assert config_for(tmp_path, echo_url=url).echo_url == url.rstrip("/")


def test_dry_run_needs_no_url(tmp_path: Path) -> None:
    assert config_for(tmp_path, echo_url="", dry_run="true").echo_url == ""


@pytest.mark.parametrize(
    ("raw", "value"), [("", True), ("False", False), ("NO", False), ("0", False)]
)
def test_enabled(raw: str, value: bool) -> None:
    assert enabled({"INPUT_ENABLED": raw}) is value


def test_local_defaults_are_action_ymls() -> None:
    """One source of truth: a plain-shell run (no INPUT_ for optional inputs) behaves as Actions."""
    declared = {
        name: str(spec["default"])
        for name, spec in action_inputs().items()
        if spec.get("default") not in (None, "") and "${{" not in str(spec["default"])
    }
    assert declared == DEFAULTS


def test_plain_shell_with_only_the_required_inputs(tmp_path: Path) -> None:
    env = {"INPUT_METRICS-FILE": "m.json", "INPUT_ECHO-URL": "https://echo.example.com"}
    local = load_config(env)
    (tmp_path / "files").mkdir()
    actions = load_config(runner_env(Path(), tmp_path / "files", dict(env_inputs(env))))
    fields = ("recipients", "report", "job_status", "timezone", "format", "dry_run")
    assert [getattr(local, f) for f in fields] == [getattr(actions, f) for f in fields]
    assert (local.fail_on_error, local.timeout_seconds) == (actions.fail_on_error, 180)


def env_inputs(env: dict[str, str]) -> list[tuple[str, str]]:
    return [(k.removeprefix("INPUT_").lower(), v) for k, v in env.items()]


@pytest.mark.parametrize(
    ("raw", "seconds"), [("1", 1), ("3600", 3600), (" 3600.0 ", 3600), ("0.5e1", 5)]
)
def test_timeout_range_includes_both_ends(tmp_path: Path, raw: str, seconds: float) -> None:
    assert config_for(tmp_path, timeout_seconds=raw).timeout_seconds == seconds


@pytest.mark.parametrize("raw", ["0.99", "3600.01", "3601", "-5", "nan", "inf", "1e400"])
def test_timeout_outside_the_range_is_refused(tmp_path: Path, raw: str) -> None:
    with pytest.raises(InputError) as caught:
        config_for(tmp_path, timeout_seconds=raw)
    assert str(caught.value) == (
        f"Input 'timeout-seconds' must be a number of seconds from 1 to 3600, got {raw!r}."
    )


@pytest.mark.parametrize("raw", ["", "   ", "\n"])
def test_empty_timezone_falls_back_to_the_default(tmp_path: Path, raw: str) -> None:
    assert str(config_for(tmp_path, timezone=raw).timezone) == "America/New_York"


def test_echo_url_with_only_a_user_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must not carry credentials"):
        config_for(tmp_path, echo_url="https://tok3n@echo.example.com")


@pytest.mark.parametrize(("raw", "attempt"), [("3", 3), ("x", 1), ("0", 1), ("", 1)])
def test_run_attempt_and_server_url_from_the_runner(tmp_path: Path, raw: str, attempt: int) -> None:
    (tmp_path / "files").mkdir()
    extra = {"GITHUB_RUN_ATTEMPT": raw, "GITHUB_SERVER_URL": "https://ghe.example.com/"}
    env = runner_env(tmp_path, tmp_path / "files", {"metrics-file": "m.json"}, extra=extra)
    github = load_config({**env, "INPUT_DRY-RUN": "true"}).github
    assert (github.run_attempt, github.server_url) == (attempt, "https://ghe.example.com")


def test_thresholds_take_comment_lines(tmp_path: Path) -> None:
    # As the watchdog's `workflows` does: a `#` line explains, even with commas in it.
    raw = "# tuned for Q1, see #123; ask sales-ops\ncapacity: 75/92\n  # deletion stays\n"
    assert config_for(tmp_path, thresholds=raw).thresholds["capacity"] == (75, 92)


@pytest.mark.parametrize(("age", "hours"), [("2H", 2), ("30M", 0.5), ("1D", 24), ("90Min", 1.5)])
def test_ages_take_any_case(tmp_path: Path, age: str, hours: float) -> None:
    # Booleans take any case; so do the units of an age.
    (tmp_path / "files").mkdir()
    env = runner_env(
        tmp_path,
        tmp_path / "files",
        {"workflows": f"cold-email-sync.yml: {age}", "echo-url": "https://echo.example.com"},
        github_token="ghs_x",
        action=ROOT / "watchdog",
    )
    (watch,) = load_config(env, watchdog=True).workflows
    assert watch.max_age.total_seconds() == hours * 3600 and watch.written == age


def test_every_input_error_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        config_for(
            tmp_path,
            timezone="Mars/Olympus",
            format="html",
            fail_on_error="on",
            thresholds="capacity: 92/75\nspeed: 1/2",
        )
    text = str(caught.value)
    assert text.startswith("5 problems with the inputs:\n- "), text
    for part in (
        "Input 'timezone' is not a known IANA time zone",
        "Input 'format' must be one of slack, markdown",
        "Input 'fail-on-error' must be true or false",
        "the line 'capacity: 92/75' does not fit the capacity gauge",
        "cannot read the line 'speed: 1/2'",
    ):
        assert part in text


def test_a_bad_dry_run_does_not_also_blame_echo_url(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        config_for(tmp_path, dry_run="maybe", echo_url="")
    assert "Input 'dry-run' must be true or false" in str(caught.value)
    assert "echo-url" not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        "Registry.example.com/team/echo-notify",
        "registry.example.com/team/echo-notify:v1",
        "registry example.com/echo-notify",
        "mirror/echo-notify\n::error::injected",
    ],
)
def test_a_bad_image_is_an_input_error(value: str) -> None:
    env = {"INPUT_METRICS-FILE": "m.json", "INPUT_ECHO-URL": "https://echo.example.com"}
    with pytest.raises(InputError) as caught:
        load_config({**env, "INPUT_IMAGE": value})
    message = str(caught.value)
    assert "Input 'image'" in message and "\n" not in message.split("Input 'image'")[1][:200]
    assert value.splitlines()[0] in message  # quoted whole, made one line


@pytest.mark.parametrize(("age", "ok"), [("1m", True), ("1min", True), ("0.9m", False)])
def test_a_watched_age_is_at_least_a_minute(age: str, ok: bool) -> None:
    if ok:
        assert watches(f"sync.yml: {age}")[0].max_age.total_seconds() == 60
    else:
        with pytest.raises(InputError, match="from 1 minute to 90 days"):
            watches(f"sync.yml: {age}")


def test_the_watchdog_posts_problems_at_once_whatever_the_environment_says(
    tmp_path: Path,
) -> None:
    """The watchdog has no `notify-on` or `alert-after`: a stray INPUT_ variable (a job's env)
    must not make it wait or post every check."""
    (tmp_path / "files").mkdir()
    env = runner_env(
        tmp_path,
        tmp_path / "files",
        {"workflows": "cold-email-sync.yml: 2h", "echo-url": "https://echo.example.com"},
        github_token="ghs_x",
        action=ROOT / "watchdog",
    )
    env.update({"INPUT_ALERT-AFTER": "3", "INPUT_NOTIFY-ON": "always"})
    config = load_config(env, watchdog=True)
    assert (config.notify_on, config.alert_after) == ("problems", 1)
    env["INPUT_METRICS-FILE"] = "sync.json"
    assert load_config(env).alert_after == 3  # a report reads them


def test_the_watchdogs_own_defaults_are_its_action_ymls() -> None:
    declared = action_inputs(ROOT / "watchdog")
    assert {name: str(declared[name]["default"]) for name in WATCHDOG_DEFAULTS} == (
        WATCHDOG_DEFAULTS
    )


@pytest.mark.parametrize(
    ("line", "age"), [("sync.yml", None), ("all", None), ("sync.yml: 2H", timedelta(hours=2))]
)
def test_a_workflow_line_without_an_age_reads_the_schedule(line: str, age: object) -> None:
    watch = watches(f"# mine\n{line}")[0]
    assert (watch.max_age, watch.line, watch.text) == (age, 2, line)


def watchdog_config(tmp_path: Path, **inputs: str):  # type: ignore[no-untyped-def]
    (tmp_path / "files").mkdir(exist_ok=True)
    env = runner_env(
        tmp_path,
        tmp_path / "files",
        {"workflows": "cold-email-sync.yml: 2h", "echo-url": "https://echo.example.com", **inputs},
        github_token="ghs_x",
        action=ROOT / "watchdog",
    )
    return load_config(env, watchdog=True)


def test_digest_weekly_is_a_weekday_and_a_time_and_needs_history(tmp_path: Path) -> None:
    from datetime import time  # noqa: PLC0415 -- this test's alone

    from echo_notify.config import WeeklyAt  # noqa: PLC0415

    assert watchdog_config(tmp_path).digest_weekly is None  # empty by default: no weekly
    config = watchdog_config(tmp_path, **{"digest-weekly": "Mon 09:00"})
    assert config.digest_weekly == WeeklyAt(0, time(9, 0))
    with pytest.raises(InputError, match=r"Input 'digest-weekly' must be a weekday and a time"):
        watchdog_config(tmp_path, **{"digest-weekly": "every Monday"})
    with pytest.raises(InputError, match=r"Input 'digest-weekly' needs `history: true`"):
        watchdog_config(tmp_path, **{"digest-weekly": "Mon 09:00", "history": "false"})
    declared = action_inputs(ROOT / "watchdog")["digest-weekly"]
    assert str(declared["default"]) == "" and "${{" not in declared["description"]
