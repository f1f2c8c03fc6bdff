"""Hypothesis strategies for metrics-shaped JSON, shared by the property tests and the fuzz run."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from echo_notify.metrics import NUMBERS

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
    sections = {name: section(fields) for name, fields in NUMBERS[report].items()}
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
        sections["leads_processed"] = st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["smb_campaign", "midsize_campaign", "x_campaign", "total_attempted"]
                ),
                st.one_of(campaign, JSON),
            ),
            JSON,
        )
    first = next(iter(sections))  # at least one key that tells the report apart
    return st.fixed_dictionaries({first: sections.pop(first)}, optional={**sections, **common})
