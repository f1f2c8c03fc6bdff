"""Jinja rendering: one sandboxed environment per format, small pure filters.

Data never decides markup: every ``{{ value }}`` is cleaned, redacted, cut and escaped for the
format unless a filter or a macro produced it (numbers, bold, links, code; a macro's values were
escaped inside it). Nothing else is trusted: Jinja's `safe`, `escape` and `Markup` values mark
nothing here, so a custom template cannot let data ping, link or reorder text. Templates decide
all words and layout.
"""

from __future__ import annotations

import functools
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2.bccache import Bucket
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .choices import MENTION, TITLE_LIMIT, Fmt
from .errors import TemplateError, TemplateTimeoutError
from .text import SECRETS, clean, cut, one_line, redact, scrub, tenths

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Compiled templates, filled when the image is built (`python -m echo_notify.render`): a run
# then loads them instead of compiling (~40 ms). Absent in a checkout: compiled at first use.
COMPILED = TEMPLATES.parent / "templates-compiled"
UNKNOWN = "n/a"
# How much of each list and value a message shows; the compact set when it would not fit.
LIMITS = {"rows": 10, "errors": 3, "text": 200, "error_text": 100}
COMPACT = {"rows": 3, "errors": 1, "text": 60, "error_text": 60}
WHOLE = {**LIMITS, "text": 1_000_000}  # the job summary: GitHub's 1 MiB is the only limit
MESSAGE_LIMIT = 3000  # Slack: a text section holds 3,000 characters; `text` is best under 4,000
OUTPUT_LIMIT = 1_000_000  # a template that renders more than this is stopped
TIME_LIMIT = 10.0  # seconds a template may take
CUT_MARKER = "… (cut to fit Slack's message limit)"


class Safe(str):
    """Text our filters and macros built for the target format; never escaped again. The only
    trusted text: data that went through `| safe` (a Markup) is escaped like any other."""


def ping(value: Any) -> Safe:
    """The `mention` input's Slack tokens (checked by config.mentions), the one markup that
    pings; anything else in the value is dropped, never shown raw."""
    return Safe(" ".join(t for t in str(value or "").split() if MENTION.fullmatch(t)))


def shown(value: Any, length: int) -> str:
    """Data as any format shows it: cleaned, redacted before it is cut, on one line."""
    return cut(one_line(redact(clean(str(value)), SECRETS.get())), length)


ZWSP = "\u200b"  # zero-width space: invisible, but ends a markup run or a link
_SLACK_STYLE = re.compile(r"([*_~`])")
# Where Slack would make a link of data: a scheme, a domain's dot, an address's @.
_SLACK_LINKS = re.compile(
    r"(?<=:)(?=//)"  # a scheme
    r"|(?<=[\w-])(?=\.[^\W\d_])"  # a domain's dot, in any script (look-alikes too)
    r"|(?<=\w)(?=@\w)|(?<=@)(?=(?:here|channel|everyone)\b)"  # an address; @here and kin
    r"|(?<=:)(?=[a-z0-9_+-]+:)"  # an :emoji: code, which could fake a status light
)


def escape_slack(text: str) -> str:
    """Slack's three control characters as entities; style characters and links fenced off.

    https://api.slack.com/reference/surfaces/formatting#escaping. Slack has no escape for
    *_~` or for a bare URL, so a zero-width space stops each from opening a style or a link.
    """
    fenced = _SLACK_STYLE.sub(ZWSP + r"\1" + ZWSP, slack_entities(text))
    return _SLACK_LINKS.sub(ZWSP, fenced)


def slack_entities(text: str) -> str:
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#])")
# GitHub's extended autolinks (https://…, www.…, e-mail addresses) and its :emoji: codes,
# which it draws from the text a backslash escape leaves (`:white\_check\_mark:` too).
_MD_BREAKS = re.compile(
    r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=\w)(?=@\w)|(?<=:)(?=(?:[\w+-]|\\_)+:)", re.IGNORECASE
)


def escape_markdown(text: str) -> str:
    """Backslash-escape markup; break GitHub's bare-URL and e-mail autolinks and emoji codes."""
    return _MD_BREAKS.sub(ZWSP, _MD_SPECIAL.sub(r"\\\1", one_line(text)))


# -- value filters: a number (or None) in, plain text out ---------------------------------


def _num(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def count(value: Any) -> Safe:
    n = _num(value)
    if n is None:
        return Safe(UNKNOWN)
    n = n + 0  # -0 (and -0.0) is 0: "-0 leads" reads like a loss
    text = f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"
    return Safe("0" if text in ("-0", "-0.0") else text)


def decimal(value: Any) -> Safe:
    n = _num(value)
    return Safe(UNKNOWN if n is None else f"{n:,.1f}")


def percent(value: Any) -> Safe:
    """One decimal; never rounded onto 0.0% or 100.0% unless it is exactly that."""
    n = _num(value)
    return Safe(UNKNOWN if n is None else f"{tenths(n):,.1f}%")


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


def clock(moment: datetime, date: str = "", zone: bool = True) -> Safe:
    """2:30 PM EST: 12-hour clock, no leading zero, the zone's abbreviation on that date;
    with ``date="day"`` Mar 9, 2:30 PM EST; with ``date="year"`` Mar 9, 2025, 2:30 PM EST;
    without the zone where the headline already gave it."""
    time = f"{moment:%I:%M %p %Z}".lstrip("0") if zone else f"{moment:%I:%M %p}".lstrip("0")
    if date == "year":
        return Safe(f"{moment:%b} {moment.day}, {moment.year}, {time}")
    if date == "day":
        return Safe(f"{moment:%b} {moment.day}, {time}")
    return Safe(time)


def hour(moment: datetime) -> Safe:
    """9 AM (9:30 AM where the zone is half an hour off UTC): an hour as a comparison by the
    hour names it."""
    form = "%I %p" if moment.minute == 0 else "%I:%M %p"
    return Safe(f"{moment:{form}}".lstrip("0"))


def ordinal(value: Any) -> Safe:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    n = _num(value)
    if n is None or not float(n).is_integer():
        return Safe(UNKNOWN)
    n = int(n)
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return Safe(f"{n:,}{suffix}")


def mark(level: Any, ok: str = "✅") -> Safe:
    """A gauge's level as the mark before its section: ``ok`` for ok or unknown."""
    return Safe({"warning": "⚠️", "critical": "🚨"}.get(str(level), ok))


def light(level: Any) -> Safe:
    """A gauge's level as a traffic light; white when unknown."""
    return Safe({"ok": "🟢", "warning": "🟡", "critical": "🔴"}.get(str(level), "⚪"))


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
    def __init__(self, name: Fmt) -> None:
        self.name = name
        self.escape = escape_slack if name == "slack" else escape_markdown

    @jinja2.pass_context
    def finalize(self, context: Context, value: Any) -> str:
        """Every ``{{ value }}``: unknown shows as n/a, data is made safe, our markup kept."""
        return self.text(value, context.get("limit", LIMITS)["text"])

    def text(self, value: Any, length: int = LIMITS["text"]) -> str:
        if value is None:
            return UNKNOWN
        if isinstance(value, Safe):
            return str(value)
        return self.escape(shown(value, length))

    def bold(self, value: Any) -> Safe:
        inner = self.text(value)
        return Safe(f"*{inner}*" if self.name == "slack" else f"**{inner}**")

    def code(self, value: Any, length: int = LIMITS["error_text"]) -> Safe:
        """Inline code: the text exactly as written (nothing invisible inserted), so an
        identifier stays copyable; backticks inside become quotes."""
        text = shown(value, length).replace("`", "'").strip() or " "
        return Safe(f"`{slack_entities(text) if self.name == 'slack' else text}`")

    def link(self, url: Any, label: Any) -> Safe:
        if not url:
            return Safe("")
        if self.name == "slack":
            return Safe(f"<{slack_entities(str(url)).replace('|', '%7C')}|{self.text(label)}>")
        target = str(url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return Safe(f"[{self.text(label)}](<{one_line(target).replace('>', '%3E')}>)")

    def plural(self, value: Any, singular: str, plural: str = "") -> Safe:
        """1 lead, 2 leads, n/a leads: the count and the word that agrees with it."""
        word = singular if _num(value) == 1 else plural or singular + "s"
        return Safe(f"{count(value)} {self.text(word)}")


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox, plus a guard on the operators that can build huge values in one step."""

    intercepted_binops = frozenset({"*", "**"})

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """A macro's output is ours: its values were escaped as it printed them."""
        output = super().call(context, obj, *args, **kwargs)
        return Safe(output) if isinstance(obj, Macro) and isinstance(output, str) else output

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _number_size(left) * max(_number_size(right), 0) > 10_000:
            raise SecurityError("the ** operator would build a number too large to render")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
                if sized and len(seq) * times > OUTPUT_LIMIT:
                    raise SecurityError("the * operator would build a value over 1 MB")
        return super().call_binop(context, operator, left, right)


def _as_is(value: Any) -> Any:
    return value


def _number_size(value: Any) -> float:
    return abs(value) if isinstance(value, (int, float)) else 0


class SharedCode(jinja2.FileSystemBytecodeCache):
    """Each template's code, read (or compiled) once for every format: the code is the same
    for all of them (a test keeps it so). Kept in COMPILED too, when the folder exists."""

    def __init__(self) -> None:
        super().__init__(str(COMPILED))
        self.code: dict[tuple[str, str], CodeType] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self.code.get((bucket.key, bucket.checksum))
        if bucket.code is None and COMPILED.is_dir():
            super().load_bytecode(bucket)  # a stale file leaves the bucket empty
            self.keep(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        if COMPILED.is_dir():
            super().dump_bytecode(bucket)
        self.keep(bucket)

    def keep(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self.code[bucket.key, bucket.checksum] = bucket.code


SHARED_CODE = SharedCode()


@functools.lru_cache(maxsize=8)  # compiling the templates is most of a run's time
def environment(fmt: Fmt, user_dir: Path | None = None) -> jinja2.Environment:
    form = Format(fmt)
    search = [str(user_dir)] if user_dir else []
    env = Sandbox(
        loader=jinja2.FileSystemLoader([*search, str(TEMPLATES)]),
        undefined=jinja2.StrictUndefined,
        finalize=form.finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,  # Jinja's autoescape is HTML-only; `finalize` escapes per format.
        bytecode_cache=SHARED_CODE,
    )
    filters: dict[str, Callable[..., Any]] = {
        "count": count,
        "decimal": decimal,
        "percent": percent,
        "money": money,
        "duration": duration,
        "clock": clock,
        "hour": hour,
        "mark": mark,
        "ordinal": ordinal,
        "light": light,
        "cut": lambda value, length=100: cut(str(value), length),
        "bold": form.bold,
        "code": form.code,
        "link": form.link,
        "plural": form.plural,
        "ping": ping,
        # Marking is ours alone: these leave a value as it is, and `finalize` escapes data.
        "safe": _as_is,
        "e": _as_is,
        "escape": _as_is,
        "forceescape": _as_is,
    }
    env.filters.update(filters)
    env.tests["known"] = known
    env.globals["format"] = fmt
    return env


def compose(
    name: str, variables: dict[str, Any], fmt: Fmt, user_template: Path | None = None
) -> tuple[str, str]:
    """The message: title and body, within Slack's limits.

    Too long, it is rendered again with shorter lists and values; then, as a last resort,
    cut in the middle, keeping the headline and the last line (the link).
    """
    title, body = render(name, variables, fmt, user_template)
    if len(body) > MESSAGE_LIMIT:
        title, body = render(name, {**variables, "limit": COMPACT}, fmt, user_template)
    if not title and user_template:  # a custom template without a title: the built-in one's
        title = render(name, variables, fmt)[0]
    return title, fit(body)


def render(
    name: str, variables: dict[str, Any], fmt: Fmt, user_template: Path | None = None
) -> tuple[str, str]:
    """Render a template; returns its ``title`` (a top-level ``{% set %}``) and body.

    The data has no secret left in it before a template sees it (a filter such as `upper`,
    `truncate` or `tojson` could otherwise hide one from the redaction in `finalize`)."""
    env = environment(fmt, user_template.parent if user_template else None)
    path = user_template or TEMPLATES / name
    secrets = SECRETS.get()
    variables = scrub(variables, secrets)
    try:
        template = env.get_template(user_template.name if user_template else name)
        context = template.new_context({"limit": LIMITS, **variables})
        with time_limit(TIME_LIMIT):
            body = _bounded(env, template.root_render_func(context))
        title = shown(context.get_exported().get("title", ""), TITLE_LIMIT - 1).strip()
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
    body = redact("\n".join(line.rstrip() for line in body.strip().splitlines()), secrets)
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


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a runaway template. Signals work only in the main thread; elsewhere, no limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TemplateTimeoutError(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fit(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Cut a message in the middle, at line ends, to stay under ``limit`` characters, with a
    visible marker; the first and the last line (the headline, the link) are kept."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    last = lines[-1] if len(lines) > 1 and len(lines[-1]) < limit // 4 else ""
    room = limit - len(CUT_MARKER) - len(last) - 2
    head = text[:room]
    head = head[: head.rfind("\n")] if "\n" in head else re.sub(r"&[a-z]*$", "", head)
    return "\n".join(part for part in (head, CUT_MARKER, last) if part)


def _line(exc: BaseException, path: Path) -> str:
    import traceback  # noqa: PLC0415 -- only for a broken template

    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return f", line {lines[-1]}" if lines else ""


def compile_templates() -> None:
    """Fill the compiled-template cache (the Dockerfile runs this once)."""
    COMPILED.mkdir(exist_ok=True)
    for fmt in ("slack", "markdown"):
        env = environment(fmt)
        for path in TEMPLATES.glob("*.j2"):
            env.get_template(path.name)


if __name__ == "__main__":
    compile_templates()
