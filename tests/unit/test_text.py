"""What data may show: Unicode's whole Default_Ignorable_Code_Point set removed, but where an
emoji needs it (a variation selector after an emoji, a joiner inside an emoji sequence)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from echo_notify import unicode_tables
from echo_notify.text import clean
from tests.helpers import ROOT

DATA = Path("/usr/share/unicode/DerivedCoreProperties.txt")


@pytest.mark.skipif(not DATA.exists(), reason="Debian's unicode-data is not installed")
def test_the_tables_are_those_the_unicode_data_files_give() -> None:
    script = ROOT / "scripts" / "unicode-tables"
    made = subprocess.run(
        [sys.executable, script, "--print"], capture_output=True, text=True, check=True
    ).stdout
    assert made == (ROOT / "echo_notify" / "unicode_tables.py").read_text()


def test_the_table_holds_what_the_standard_names() -> None:
    ignorable = {c for a, b in unicode_tables.IGNORABLE for c in range(a, b + 1)}
    for code in (0xFE00, 0xFE0F, 0xE0100, 0xE01EF, 0x180B, 0x180F, 0xFFF0, 0x1BCA3, 0x1D17A):
        assert code in ignorable, hex(code)
    assert 0x20 not in ignorable and ord("A") not in ignorable


@pytest.mark.parametrize(
    "hidden",
    [
        "\ufe00" * 37,
        "".join(chr(0xE0100 + ord(c)) for c in "wire the money"),  # a sentence in selectors
        "\u180b\u180c\u180d\u180f",
        "\ufff0\ufff8",
        "\U0001bca0\U0001bca3",
        "\U0001d173\U0001d17a",
        "\ufe0f\ufe0f",  # an emoji's selector needs an emoji before it
        "\u200d",
    ],
)
def test_invisible_characters_from_data_are_removed(hidden: str) -> None:
    assert clean(f"SMB{hidden} Campaign") == "SMB Campaign"


@pytest.mark.parametrize(
    "emoji",
    [
        "\u2764\ufe0f",  # ❤️ red heart: the selector makes it an emoji
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # 👨‍👩‍👧 family
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # 🏳️‍🌈 rainbow flag
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # 👩🏽‍💻 technologist, a skin tone
        "1\ufe0f\u20e3",  # 1️⃣ keycap
    ],
)
def test_emoji_keep_what_they_need(emoji: str) -> None:
    assert clean(f"Go {emoji}!") == f"Go {emoji}!"


def test_an_emoji_keeps_one_selector_and_no_trailing_joiner() -> None:
    heart = "\u2764\ufe0f"
    assert clean(heart + "\ufe0f" * 36 + "\u200d" + "x") == heart + "x"
