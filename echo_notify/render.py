"""Jinja rendering: one sandboxed environment per format, small pure filters.

Data never decides markup: every ``{{ value }}`` is escaped for the format unless a filter
of ours produced it (numbers, bold, links). Templates decide all words and layout.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import TemplateError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
UNKNOWN = "n/a"


class Safe(str):
    """Text our filters built for the target format; never escaped again."""


def one_line(text: str) -> str:
    """Data is inline: a newline in a value must not start a heading, list or table row."""
    return re.sub(r"[\r\n\t\v\f\u2028\u2029]+", " ", text)


def escape_slack(text: str) -> str:
    # Slack's control characters are exactly these three:
    # https://api.slack.com/reference/surfaces/formatting#escaping
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")


def escape_markdown(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


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
    """True when a value, or any value inside a dict or list, is known."""
    if isinstance(value, dict):
        return any(known(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(known(v) for v in value)
    return value is not None


# -- markup filters: differ per format ----------------------------------------------------


class Format:
    def __init__(self, name: str) -> None:
        self.name = name
        self.escape = escape_slack if name == "slack" else escape_markdown

    def text(self, value: Any) -> str:
        """Jinja's ``finalize``: unknown shows as n/a, data is escaped, our markup is kept."""
        if value is None:
            return UNKNOWN
        return value if isinstance(value, Safe) else self.escape(str(value))

    def bold(self, value: Any) -> Safe:
        inner = self.text(value)
        return Safe(f"*{inner}*" if self.name == "slack" else f"**{inner}**")

    def link(self, url: Any, label: Any) -> Safe:
        if not url:
            return Safe("")
        if self.name == "slack":
            return Safe(f"<{escape_slack(str(url)).replace('|', '%7C')}|{self.text(label)}>")
        target = str(url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return Safe(f"[{self.text(label)}](<{one_line(target).replace('>', '%3E')}>)")


def environment(fmt: str, user_dir: Path | None = None) -> jinja2.Environment:
    form = Format(fmt)
    search = [str(user_dir)] if user_dir else []
    env = ImmutableSandboxedEnvironment(
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
        try:
            module = template.make_module(variables)
        except Exception:  # noqa: BLE001 -- re-raised with template line numbers
            env.handle_exception()
        body = str(module)
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
    title = str(getattr(module, "title", "")).strip()
    body = "\n".join(line.rstrip() for line in body.strip().splitlines())
    if fmt == "markdown":
        body = "\n".join(line + "  " if line else line for line in body.splitlines())
    return title, body


def _line(exc: BaseException, path: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f", line {lines[-1]}" if lines else ""
