from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from echo_notify.errors import TemplateError
from echo_notify.main import main
from echo_notify.render import (
    TEMPLATES,
    TITLE_LIMIT,
    Format,
    Safe,
    clock,
    count,
    decimal,
    duration,
    environment,
    escape_markdown,
    escape_slack,
    fit,
    known,
    money,
    ordinal,
    percent,
    render,
)
from echo_notify.text import cut, scrub, tenths
from tests.helpers import EXAMPLES, printed_message, runner_env

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1342, "1,342"),
        (291469.0, "291,469"),
        (0, "0"),
        (12.5, "12.5"),
        (None, "n/a"),
        (True, "n/a"),
    ],
)
def test_count(value: object, text: str) -> None:
    assert count(value) == text


def test_percent_money_decimal() -> None:
    assert percent(5.591) == "5.6%"
    assert percent(92) == "92.0%"
    assert money(25) == "$25.00"
    assert money(1234.5) == "$1,234.50"
    assert decimal(47.14) == "47.1"
    assert percent(None) == money(None) == decimal(None) == "n/a"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (0, "0s"), (59.6, "1m 0s"), (128, "2m 8s"), (892, "14m 52s"), (3900, "1h 5m")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("utc", "text"),
    [
        ("2026-01-15T19:30:00", "2:30 PM EST"),
        ("2026-07-15T18:05:00", "2:05 PM EDT"),
        ("2026-03-08T06:59:00", "1:59 AM EST"),  # the minute before the spring switch
        ("2026-03-08T07:00:00", "3:00 AM EDT"),
        ("2026-11-01T05:30:00", "1:30 AM EDT"),  # the repeated hour in autumn: first pass
        ("2026-11-01T06:30:00", "1:30 AM EST"),
        ("2026-01-15T05:00:00", "12:00 AM EST"),
        ("2026-01-15T17:00:00", "12:00 PM EST"),
    ],
)
def test_clock_uses_the_real_abbreviation(utc: str, text: str) -> None:
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC).astimezone(NY)
    assert clock(moment) == text


def test_clock_with_the_day_or_the_year() -> None:
    moment = datetime(2025, 3, 9, 14, 30, tzinfo=NY)
    assert (clock(moment, "day"), clock(moment, "year")) == (
        "Mar 9, 2:30 PM EDT",
        "Mar 9, 2025, 2:30 PM EDT",
    )
    assert clock(moment, "year", zone=False) == "Mar 9, 2025, 2:30 PM"


def test_cut_marks_only_what_it_cut() -> None:
    assert cut("x" * 100, 100) == "x" * 100
    assert cut("x" * 101, 100) == "x" * 100 + "…"
    assert cut("&" * 150, 100) == "&" * 100 + "…"  # cut before escaping: no half "&amp;"


def test_known() -> None:
    assert not known({"a": None, "b": {"c": None}, "d": [None]})
    assert known({"a": None, "b": {"c": 0}})


def test_slack_escapes_control_characters_and_fences_styles() -> None:
    assert escape_slack("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    z = "\u200b"
    assert escape_slack("*b* _i_ ~s~ `c`") == (
        f"{z}*{z}b{z}*{z} {z}_{z}i{z}_{z} {z}~{z}s{z}~{z} {z}`{z}c{z}`{z}"
    )
    assert escape_slack("two\nlines\r\n") == "two lines "


def test_markdown_breaks_bare_url_autolinks() -> None:
    assert escape_markdown("see https://evil.example and www.evil.example") == (
        "see https:\u200b//evil.example and www\u200b.evil.example"
    )


def test_markdown_escapes_markup() -> None:
    assert escape_markdown("[x](y) **b** <i> | # `c`") == r"\[x\](y) \*\*b\*\* \<i\> \| \# \`c\`"


@pytest.mark.parametrize("fmt", ["slack", "markdown"])
def test_markup_filters_escape_their_data(fmt: str) -> None:
    form = Format(fmt)
    bold, link = form.bold("a<b"), form.link("https://x.y/a b|c", "Logs & more")
    assert isinstance(bold, Safe) and isinstance(link, Safe)
    if fmt == "slack":
        assert bold == "*a&lt;b*"
        assert link == "<https://x.y/a b%7Cc|Logs &amp; more>"
        assert form.link("https://x.y/a_b*c", "L") == "<https://x.y/a_b*c|L>"
    else:
        assert bold == r"**a\<b**"
        assert link == r"[Logs \& more](<https://x.y/a%20b|c>)"
    assert form.link("", "x") == ""
    assert form.text(None) == "n/a"


def _user_template(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.j2"
    path.write_text(text)
    return path


def test_user_template_gets_same_variables_and_filters(tmp_path: Path) -> None:
    path = _user_template(
        tmp_path, "{% set title %}T {{ n | count }}{% endset %}{{ 'Hi' | bold }} {{ v }}"
    )
    title, body = render("sync.j2", {"n": 1200, "v": "<!here>"}, "slack", path)
    assert (title, body) == ("T 1,200", "*Hi* &lt;!here&gt;")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("line one\n{% if %}", "mine.j2', line 2"),
        ("{{ m.__class__.__mro__ }}", "mine.j2'"),
        ("ok\n{{ nope }}", "line 2: 'nope' is undefined"),
        ("{{ ''.__class__.__subclasses__() }}", "unsafe"),
    ],
)
def test_user_template_errors_name_file_and_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = _user_template(tmp_path, text)
    with pytest.raises(TemplateError) as caught:
        render("sync.j2", {"m": {}}, "slack", path)
    assert fragment in str(caught.value)


def test_missing_user_template(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        render("sync.j2", {}, "slack", tmp_path / "nope.j2")


def test_fit_cuts_messages_at_a_line_end_with_a_marker() -> None:
    lines = "\n".join(f"• line {i} &amp; more" for i in range(400))
    cut_text = fit(lines, 3000)
    assert len(cut_text) <= 3000
    # The middle goes; the first line (the headline) and the last (the link) stay.
    assert cut_text.startswith("• line 0 &amp; more\n")
    assert cut_text.endswith("\n… (cut to fit Slack's message limit)\n• line 399 &amp; more")
    assert all(line.endswith("&amp; more") for line in cut_text.splitlines() if "cut" not in line)
    assert fit("short", 3000) == "short"
    assert not fit("&amp;" * 1000, 100).split("\n")[0].endswith("&am")  # no half entity


@pytest.mark.parametrize("limit", [100, 3000])
def test_fit_without_a_line_break_stays_within_the_limit(limit: int) -> None:
    marker = "\n… (cut to fit Slack's message limit)"
    for text in ("x" * (limit + 1), "x" * 10 * limit):
        cut_text = fit(text, limit)
        assert limit - 2 <= len(cut_text) <= limit  # the room is used, never overrun
        assert cut_text.endswith(marker) and set(cut_text.removesuffix(marker)) == {"x"}
    entities = fit("&amp;" * limit + "\nlast line", limit)  # the break is beyond the room
    assert entities.split("\n")[0].endswith("&amp;") and len(entities) <= limit


def test_fit_keeps_a_message_of_exactly_the_limit() -> None:
    text = "\n".join(["x" * 99] * 31)[:3000]
    assert len(text) == 3000
    assert fit(text, 3000) == text


HOSTILE = "<!channel> <https://evil.example|Docs> \u202e56 leads\u202c [Docs](https://evil.example)"


@pytest.mark.parametrize(
    "expression",
    [
        "v | safe",
        "v | upper | safe",
        "v | e",
        "v | escape | safe",
        "v | forceescape",
        "[v, v] | join(', ')",
        "[v] | join(', ' | safe)",
        "ui.of(1, 2) ~ v",
        "(ui.of(1, 2) ~ v) | safe",
        "ui.of(1, 2) | replace('1', v)",
        "v | urlize",
        "{'a': v} | tojson",
    ],
)
@pytest.mark.parametrize("fmt", ["slack", "markdown"])
def test_data_stays_text_whatever_a_custom_template_does(
    tmp_path: Path, expression: str, fmt: str
) -> None:
    # Only our own rendered fragments (filters, macros) are markup; `| safe` cannot mark data.
    path = _user_template(
        tmp_path, '{% import "_macros.j2" as ui with context %}{{ ' + expression + " }}"
    )
    try:
        _, body = render("sync.j2", {"v": HOSTILE}, fmt, path)  # type: ignore[arg-type]
    except TemplateError:
        return  # a filter that could build markup is not offered: the built-in report goes out
    assert "\u202e" not in body and "\u202c" not in body
    assert "<!channel>" not in body and "<https://evil" not in body, body
    if fmt == "markdown":
        assert "[Docs](https://evil" not in body, body


def test_our_own_fragments_stay_markup(tmp_path: Path) -> None:
    path = _user_template(
        tmp_path,
        '{% import "_macros.j2" as ui with context %}'
        "{{ ui.of(1, 2) }} {{ ui.of(3, 4) | safe }} {{ 'x' | bold }} {{ u | link('Logs') }}",
    )
    _, body = render("sync.j2", {"u": "https://github.com/a/b"}, "slack", path)
    assert body == "1/2 3/4 *x* <https://github.com/a/b|Logs>"


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        *[(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th")],
        *[(13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st")],
        *[(111, "111th"), (112, "112th"), (1012, "1,012th")],
    ],
)
def test_ordinal(n: int, shown: str) -> None:
    """Reminders print counts like these: never "12nd sync in a row"."""
    assert ordinal(n) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.04, 0.1), (0.0, 0.0), (99.96, 99.9), (100.0, 100.0), (0.05, 0.1), (50.04, 50.0)],
)
def test_a_percentage_is_never_rounded_onto_0_or_100(value: float, shown: float) -> None:
    """0.04 % of leads failing is not "0.0 %", 99.96 % is not "100.0 %"; exact values stay."""
    assert tenths(value) == shown


def test_a_title_is_cut_below_slacks_limit(tmp_path: Path) -> None:
    path = _user_template(tmp_path, '{% set title = "T" * 400 %}body')
    title, _ = render("sync.j2", {}, "slack", path)
    assert len(title) == TITLE_LIMIT and title.endswith("…")


DEEP: object = "x"
for _ in range(5000):
    DEEP = [DEEP]


@pytest.mark.parametrize(
    ("data", "secret"),
    [
        ({"a": [1, {"b": "say tok-123 twice tok-123"}]}, "tok-123"),
        ({"tok-123": "a key"}, "tok-123"),
        ({"a": ('he said "q\\"x', 2)}, 'q\\"x'),  # a secret JSON escapes: the full walk
        ({"a": "line\ttab"}, "\ttab"),
        ({"deep": [DEEP, "tok-123"]}, "tok-123"),  # deeper than JSON writes: the full walk
    ],
)
def test_scrub_redacts_every_secret(data: object, secret: str) -> None:
    strings, todo = [], [scrub(data, [secret])]
    while todo:  # every string scrub looks at, however deep
        item = todo.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            todo.extend([*item, *item.values()])
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
    assert not [text for text in strings if secret in text]
    assert any("***" in text for text in strings)


def test_scrub_copies_nothing_when_no_secret_is_there() -> None:
    """A large file is rendered three times: data without a secret is not copied each time."""
    data = {"junk": [[] for _ in range(1000)], "when": datetime(2026, 1, 15, tzinfo=UTC), 3: "x"}
    assert scrub(data, ["tok-123"]) is data
    assert scrub(data, []) is data


def drain_message(path: Path) -> str:
    """The drain report as a dry run prints it (the real model and templates)."""
    files = path.parent / "files"
    (files / "home").mkdir(parents=True)
    env = runner_env(path.parent, files, {"metrics-file": path.name, "dry-run": "true"})
    out = io.StringIO()
    assert main(env, out) == 0, out.getvalue()
    return printed_message(out.getvalue())


@pytest.mark.parametrize(
    ("metrics", "shown", "never"),
    [
        (  # a breaker that stopped before the first deletion
            {"deletion_results": {"attempted_deletions": 0, "successful_deletions": 0},
             "circuit_breaker": {"activated": True, "leads_not_processed": 48}},
            "• Nothing was deleted: it stopped before the first deletion (48 not attempted)",
            "0/0",
        ),
        (  # a breaker with no deletion counts
            {"deletion_results": {"success_rate_percentage": 40.0},
             "circuit_breaker": {"activated": True, "leads_not_processed": 48}},
            "• Failed: not reported (48 not attempted)",
            "? of ?",
        ),
    ],
)  # fmt: skip
def test_unknown_deletions_never_run_into_numbers(
    tmp_path: Path, metrics: dict[str, object], shown: str, never: str
) -> None:
    data = json.loads((EXAMPLES / "drain.json").read_text())
    for key, value in metrics.items():
        data[key] = value
    path = tmp_path / "drain.json"
    path.write_text(json.dumps(data))
    text = drain_message(path)
    assert shown in text and never not in text and "n/a (" not in text, text


@pytest.mark.parametrize(("value", "shown"), [(-0.0, "0"), (0, "0"), (-0, "0"), (12.0, "12")])
def test_minus_zero_is_zero(value: float, shown: str) -> None:
    assert count(value) == shown


def test_every_format_compiles_a_template_to_the_same_code() -> None:
    # The formats' environments share each template's code (render.SharedCode): the format
    # must show only at run time, through the filters and `finalize`, never in the code.
    slack, markdown = environment("slack"), environment("markdown")
    for path in sorted(TEMPLATES.glob("*.j2")):
        source = path.read_text()
        code = slack.compile(source, path.name, str(path), raw=True)
        assert code == markdown.compile(source, path.name, str(path), raw=True), path.name
    # A setting that did change the code (here, no `finalize`) is caught:
    plain = environment("slack").overlay(finalize=None)
    sync = (TEMPLATES / "sync.j2").read_text()
    assert plain.compile(sync, raw=True) != slack.compile(sync, raw=True)
