"""Small text helpers every module shares: what data may show, on one line, cut, redacted."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Terminal escape sequences (CSI, OSC and the two-byte forms) go whole, not just their ESC.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# Controls (but line breaks and tabs, which `one_line` turns into spaces), C1 controls,
# bidirectional marks and overrides, zero-width and other invisible format characters,
# and tag characters. Any of them can make "65 leads" read "56" or hide text.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U000e0000-\U000e007f]"
)
_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")


def clean(text: str) -> str:
    """Data as it may be shown or logged: no escapes, controls or invisible characters."""
    return _INVISIBLE.sub("", _ESCAPES.sub("", text))


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
