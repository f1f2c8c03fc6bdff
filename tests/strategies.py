"""Hypothesis strategies for metrics-shaped JSON, shared by the property tests and the fuzz run."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from echo_notify.metrics import FIELDS, GROUPS, REPORT_KEYS

HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<@U123>",
        "<https://evil.example|Docs>",
        "&amp;",
        "&",
        "<",
        ">",
        "::error::x",
        "::add-mask::y",
        "##[warning]z",
        "%0A::set-env name=A::b",
        "\n::error::n",
        "*bold*",
        "_it_",
        "`code`",
        "[t](https://x.y)",
        "![i](u)",
        "| a | b |",
        "# h",
        "\\",
        "%",
        "\u2028",
        "\r",
        "\x00",
        "é",
        "🚨",
        "\u202e56\u202c",  # a right-to-left override: "65" would read "56"
        "\u2066",
        "\u200b",
        "\ufeff",
        "\x1b[31mred\x1b[0m",
        "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
        "https://evil.example/x",
        "www.evil.example",
        "paypa1.com",
        "lead@acme.com",
        "@channel",
        "1342",
        "-5",
        "NaN",
        "1e400",
        "",
    ]
)
TEXT = st.one_of(HOSTILE, st.text(max_size=40), st.lists(HOSTILE, max_size=4).map("".join))
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def section(fields: tuple[str, ...]) -> st.SearchStrategy[Any]:
    known = st.fixed_dictionaries({}, optional={name: JSON for name in fields})
    return st.one_of(known, JSON)


def metrics(report: str) -> st.SearchStrategy[dict[str, Any]]:
    sections: dict[str, list[str]] = {}
    for path in FIELDS[report]:  # type: ignore[index]
        head, _, name = path.partition(".")
        sections.setdefault(head, []).extend([name] if name else [])
    for path, suffix, _ in GROUPS[report]:  # type: ignore[index]
        head, _, name = path.partition(".")
        sections.setdefault(head, []).extend([name] if name else [f"x{suffix}", f"y{suffix}"])
    strategies = {
        head: section(tuple(names)) if names else JSON for head, names in sections.items()
    }
    common = {
        "timestamp": st.one_of(TEXT, st.datetimes().map(lambda d: d.isoformat()), JSON),
        "duration_seconds": JSON,
        "errors": st.one_of(st.lists(st.one_of(TEXT, JSON), max_size=6), JSON),
        "github_run_url": TEXT,
    }
    if report == "sync":
        campaign = st.fixed_dictionaries(
            {}, optional={"campaign_name": TEXT, "leads_added": JSON, "campaign_id": JSON}
        )
        strategies["leads_processed"] = st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["smb_campaign", "midsize_campaign", "x_campaign", "total_attempted"]
                ),
                st.one_of(campaign, JSON),
            ),
            JSON,
        )
    first = REPORT_KEYS[report][0]  # type: ignore[index]  # one key that tells the report apart
    return st.fixed_dictionaries({first: strategies.pop(first)}, optional={**strategies, **common})
