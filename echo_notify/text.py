"""Small text helpers every module shares: what data may show, on one line, cut, redacted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from .unicode_tables import EMOJI, IGNORABLE, MODIFIER, PICTOGRAPHIC

# This run's secrets (tokens, the heartbeat URL), set once by main: everything shown or
# logged is redacted with them before it is cut or escaped. Never a template variable.
SECRETS: ContextVar[tuple[str, ...]] = ContextVar("secrets", default=())

# Terminal escape sequences (CSI, OSC and the two-byte forms) go whole, not just their ESC.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# Controls (but line breaks and tabs, which `one_line` turns into spaces), C1 controls, the
# interlinear annotation marks, and Unicode's Default_Ignorable_Code_Point set (bidirectional
# marks and overrides, zero-width characters, variation selectors, tags, fillers…): any of them
# can make "65 leads" read "56" or carry a hidden sentence. An emoji keeps what it needs.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufff9-\ufffb"
    + "".join(f"{chr(a)}-{chr(b)}" for a, b in IGNORABLE)
    + "]"
)
_SELECTOR, _JOINER = "\ufe0f", "\u200d"  # emoji presentation; the emoji sequences' joiner


def _within(code: int, table: tuple[tuple[int, int], ...]) -> bool:
    return any(a <= code <= b for a, b in table)


def _emoji_part(match: re.Match[str]) -> str:
    """FE0F right after an emoji; ZWJ between an emoji (with its selector or skin tone) and
    the pictograph it joins. Any other ignorable character goes."""
    text, at, char = match.string, match.start(), match.group()
    before = ord(text[at - 1]) if at else 0
    if char == _SELECTOR:
        return char if _within(before, EMOJI) else ""
    if char == _JOINER and at + 1 < len(text) and _within(ord(text[at + 1]), PICTOGRAPHIC):
        if text[at - 1 : at] == _SELECTOR and at > 1:
            before = ord(text[at - 2])
        if _within(before, PICTOGRAPHIC) or _within(before, MODIFIER):
            return char
    return ""


_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")


def clean(text: str) -> str:
    """Data as it may be shown or logged: no escapes, controls or invisible characters."""
    return _INVISIBLE.sub(_emoji_part, _ESCAPES.sub("", text))


def one_line(text: str) -> str:
    """Data is inline: a line break in a value must not start a heading, list or table row."""
    return _BREAKS.sub(" ", text)


def cut(text: str, length: int) -> str:
    """At most ``length`` characters, with … only when something was cut."""
    return text if len(text) <= length else text[:length] + "…"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Every secret replaced by ***, longest first so no part of one survives."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of data (dicts, lists, tuples as lists, strings) with every secret redacted, in
    values and keys; other values are kept. Iterative: JSON nests deeper than the stack."""
    secrets = tuple(s for s in secrets if s)
    if not secrets or not _may_hold(value, secrets):
        return value  # nothing to redact: no copy (a large file is rendered three times)
    root = [value]
    todo: list[tuple[Any, Any]] = [(root, 0)]
    while todo:
        parent, key = todo.pop()
        item = parent[key]
        if isinstance(item, str):
            if any(secret in item for secret in secrets):
                parent[key] = type(item)(redact(item, secrets))
        elif isinstance(item, dict):
            copy = {redact(k, secrets) if isinstance(k, str) else k: v for k, v in item.items()}
            parent[key] = copy
            todo.extend((copy, k) for k in copy)
        elif isinstance(item, (list, tuple)):
            items = list(item)
            parent[key] = items
            todo.extend((items, i) for i in range(len(items)))
    return root[0]


def _may_hold(value: Any, secrets: tuple[str, ...]) -> bool:
    """Whether a secret may be in the strings (values or keys) scrub would look at. Their JSON
    text holds each of them verbatim unless JSON escapes a character of the secret; such a
    secret, and data JSON cannot write (nested too deep), count as present."""
    if any(c in '"\\' or ord(c) < 0x20 for secret in secrets for c in secret):
        return True
    try:  # what scrub leaves alone (numbers, other objects, other keys) is left out here too
        text = json.dumps(value, ensure_ascii=False, skipkeys=True, default=lambda _: None)
    except (ValueError, RecursionError):
        return True
    return any(secret in text for secret in secrets)


def tenths(value: float) -> float:
    """A percentage as the reports show it: one decimal, never rounded onto 0 or 100 unless
    it is exactly that. Levels are judged on this value too, so a mark never contradicts the
    number beside it (89.995 % shows as 90.0 % and is judged as 90.0 %)."""
    shown = round(value, 1)
    if shown in (0, 100) and value != shown:
        shown += 0.1 if value > shown else -0.1
    return round(shown, 1)
