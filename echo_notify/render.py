"""Jinja rendering: one sandboxed environment per format, small pure filters.

Data never decides markup: every ``{{ value }}`` is escaped for the format unless a filter
of ours produced it (numbers, bold, links). Templates decide all words and layout.
"""

from __future__ import annotations

import functools
import re
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
UNKNOWN = "n/a"
VALUE_LIMIT = 200  # characters of one data value, cut before escaping
MESSAGE_LIMIT = 3000  # Slack: a text section holds 3,000 characters; `text` is best under 4,000
OUTPUT_LIMIT = 1_000_000  # a template that renders more than this is stopped
TIME_LIMIT = 10.0  # seconds a template may take
CUT_MARKER = "… (cut to fit Slack's message limit)"


class Safe(str):
    """Text our filters built for the target format; never escaped again."""


def one_line(text: str) -> str:
    """Data is inline: a newline in a value must not start a heading, list or table row."""
    return re.sub(r"[\r\n\t\v\f\u2028\u2029]+", " ", text)


ZWSP = "\u200b"  # zero-width space: invisible, but ends a markup run
_SLACK_STYLE = re.compile(r"([*_~`])")


def escape_slack(text: str) -> str:
    """Slack's three control characters as entities; style characters fenced off.

    https://api.slack.com/reference/surfaces/formatting#escaping. Slack has no escape for
    *_~`, so a zero-width space on both sides stops them from opening or closing a style.
    """
    return _SLACK_STYLE.sub(ZWSP + r"\1" + ZWSP, slack_entities(text))


def slack_entities(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")
_MD_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Backslash-escape markup; break GitHub's bare-URL autolinks (https://…, www.…)."""
    return _MD_AUTOLINK.sub(ZWSP, _MD_SPECIAL.sub(r"\\\1", one_line(text)))


# -- value filters: a number (or None) in, plain text out ---------------------------------


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def count(value: Any) -> Safe:
    n = _num(value)
    if n is None:
        return Safe(UNKNOWN)
    return Safe(f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}")


def decimal(value: Any) -> Safe:
    n = _num(value)
    return Safe(UNKNOWN if n is None else f"{n:,.1f}")


def percent(value: Any) -> Safe:
    n = _num(value)
    return Safe(UNKNOWN if n is None else f"{n:,.1f}%")


def money(value: Any) -> Safe:
    n = _num(value)
    return Safe(UNKNOWN if n is None else f"${n:,.2f}")


def duration(value: Any) -> Safe:
    n = _num(value)
    if n is None:
        return Safe(UNKNOWN)
    seconds = round(n)
    if seconds < 60:
        return Safe(f"{seconds}s")
    if seconds < 3600:
        return Safe(f"{seconds // 60}m {seconds % 60}s")
    return Safe(f"{seconds // 3600}h {seconds % 3600 // 60}m")


def clock(moment: datetime) -> Safe:
    """2:30 PM EST: 12-hour clock, no leading zero, the zone's abbreviation on that date."""
    return Safe(f"{moment:%I:%M %p %Z}".lstrip("0"))


def cut(value: Any, length: int = 100) -> str:
    """Cut raw text before it is escaped, so an escape is never split; … only when cut."""
    text = str(value)
    return text if len(text) <= length else text[:length] + "…"


def known(value: Any) -> bool:
    """True when a value, or any value inside a dict or list, is known (no recursion limit)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif item is not None:
            return True
    return False


# -- markup filters: differ per format ----------------------------------------------------


class Format:
    def __init__(self, name: str) -> None:
        self.name = name
        self.escape = escape_slack if name == "slack" else escape_markdown

    def text(self, value: Any) -> str:
        """Jinja's ``finalize``: unknown shows as n/a, data is escaped, our markup is kept."""
        if value is None:
            return UNKNOWN
        return value if isinstance(value, Safe) else self.escape(cut(value, VALUE_LIMIT))

    def bold(self, value: Any) -> Safe:
        inner = self.text(value)
        return Safe(f"*{inner}*" if self.name == "slack" else f"**{inner}**")

    def link(self, url: Any, label: Any) -> Safe:
        if not url:
            return Safe("")
        if self.name == "slack":
            return Safe(f"<{slack_entities(str(url)).replace('|', '%7C')}|{self.text(label)}>")
        target = str(url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return Safe(f"[{self.text(label)}](<{one_line(target).replace('>', '%3E')}>)")


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox, plus a guard on the operators that can build huge values in one step."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _number_size(left) * max(_number_size(right), 0) > 10_000:
            raise SecurityError("the ** operator would build a number too large to render")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                if sized and len(seq) * times > OUTPUT_LIMIT:
                    raise SecurityError("the * operator would build a value over 1 MB")
        return super().call_binop(context, operator, left, right)


def _number_size(value: Any) -> float:
    return abs(value) if isinstance(value, (int, float)) else 0


@functools.lru_cache(maxsize=8)  # compiling the templates is most of a run's time
def environment(fmt: str, user_dir: Path | None = None) -> jinja2.Environment:
    form = Format(fmt)
    search = [str(user_dir)] if user_dir else []
    env = Sandbox(
        loader=jinja2.FileSystemLoader([*search, str(TEMPLATES)]),
        undefined=jinja2.StrictUndefined,
        finalize=form.text,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # Jinja's autoescape is HTML-only; `finalize` escapes per format.
    )
    filters: dict[str, Callable[..., Any]] = {
        "count": count,
        "decimal": decimal,
        "percent": percent,
        "money": money,
        "duration": duration,
        "clock": clock,
        "cut": cut,
        "bold": form.bold,
        "link": form.link,
    }
    env.filters.update(filters)
    env.tests["known"] = known
    env.globals["format"] = fmt
    return env


def render(
    name: str, variables: dict[str, Any], fmt: str, user_template: Path | None = None
) -> tuple[str, str]:
    """Render a report template; returns its ``title`` (a top-level ``{% set %}``) and body."""
    env = environment(fmt, user_template.parent if user_template else None)
    path = user_template or TEMPLATES / name
    try:
        template = env.get_template(user_template.name if user_template else name)
        context = template.new_context(variables)
        with time_limit(TIME_LIMIT):
            body = _bounded(env, template.root_render_func(context))
    except jinja2.TemplateNotFound:
        raise TemplateError(
            f"Template '{path}' does not exist: check the `template` input "
            "(a path relative to the workspace)."
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"Template '{exc.filename or path}', line {exc.lineno}: {exc.message}"
        ) from None
    except Exception as exc:  # noqa: BLE001 -- any failure inside a user template is the template's
        raise TemplateError(f"Template '{path}'{_line(exc, path)}: {exc}") from None
    title = cut(one_line(str(context.get_exported().get("title", ""))).strip(), VALUE_LIMIT)
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    if fmt == "markdown":
        body = "\n".join(line + "  " if line else line for line in body.splitlines())
    return title, body


def _bounded(env: jinja2.Environment, chunks: Iterator[str]) -> str:
    """Collect the output, stopping a template that renders too much."""
    parts, size = [], 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > OUTPUT_LIMIT:
                raise SecurityError("the template renders more than 1,000,000 characters")
            parts.append(chunk)
    except Exception:  # noqa: BLE001 -- re-raised with the template's own line numbers
        env.handle_exception()
    return "".join(parts)


class TemplateTimeoutError(Exception):
    def __str__(self) -> str:
        return f"rendering took over {TIME_LIMIT:g} seconds (an endless or huge loop?)"


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway template. Signals work only in the main thread; elsewhere, no limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TemplateTimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Cut a message at a line end to stay under Slack's limit, with a visible marker."""
    if len(text) <= limit:
        return text
    room = limit - len(CUT_MARKER) - 1
    head = text[:room]
    head = head[: head.rfind("\n")] if "\n" in head else re.sub(r"&[a-z]*$", "", head)
    return f"{head}\n{CUT_MARKER}"


def _line(exc: BaseException, path: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f", line {lines[-1]}" if lines else ""
