"""Load the metrics file: check every known field, fill what can be derived, keep the rest.

After ``load`` every known field is present: a number (text, flag) or None when it is missing
or bad, each bad one named in ``problems``. Unknown keys pass through untouched.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from .errors import MetricsError
from .ledger import YEARS, keepable
from .text import SECRETS, redact

Report = Literal["sync", "drain", "poll"]
DataState = Literal["some", "none", "bad"]
Kind = Literal["number", "signed", "percent", "text", "flag"]
Number = int | float

# Top-level keys that tell the reports apart (`report: auto`).
REPORT_KEYS: dict[Report, tuple[str, ...]] = {
    "sync": ("capacity_status", "leads_processed"),
    "drain": ("analysis_summary", "drain_classifications"),
    "poll": ("verifications_checked", "status_breakdown"),
}
DRAIN_CLASSES = ("completed", "replied", "bounced_hard", "unsubscribed", "stale_active")
POLL_STATUSES = ("valid", "invalid", "pending", "risky", "accept_all")


def _fields(kind: Kind, section: str, *names: str) -> dict[str, Kind]:
    return {f"{section}.{name}" if section else name: kind for name in names}


# The known fields of each report, by dotted path (docs/metrics-file.md).
FIELDS: dict[Report, dict[str, Kind]] = {
    "sync": {
        **_fields("number", "capacity_status", "current_inventory", "max_capacity"),
        **_fields("number", "capacity_status", "utilization_percentage"),
        # max − current: negative when over capacity, which is real, not bad data.
        **_fields("signed", "capacity_status", "estimated_capacity_remaining"),
        **_fields("number", "leads_processed", "total_attempted"),
        **_fields(
            "number",
            "verification_results",
            "total_attempted",
            "verified_successful",
            "verification_failed",
            "credits_used",
        ),
        **_fields("percent", "verification_results", "success_rate_percentage"),
        **_fields("text", "verification_results", "failed_disposition"),
        **_fields("number", "final_inventory", "instantly_total", "bigquery_eligible"),
        **_fields("percent", "performance", "api_success_rate"),
        **_fields("number", "performance", "processing_rate_per_minute"),
        **_fields("flag", "async_verification", "triggered"),
        **_fields("number", "async_verification", "lead_count"),
    },
    "drain": {
        **_fields(
            "number",
            "analysis_summary",
            "total_leads_analyzed",
            "leads_skipped_24hr",
            "leads_eligible_for_drain",
        ),
        **_fields("number", "drain_classifications", *DRAIN_CLASSES, "total_identified"),
        **_fields(
            "number",
            "deletion_results",
            "attempted_deletions",
            "successful_deletions",
            "failed_deletions",
        ),
        **_fields("percent", "deletion_results", "success_rate_percentage"),
        **_fields("number", "dnc_updates", "new_unsubscribes", "total_dnc_list"),
        **_fields("number", "inventory_impact", "leads_removed", "new_inventory_total"),
        **_fields("percent", "performance", "classification_accuracy"),
        **_fields("number", "performance", "processing_rate_per_minute"),
        **_fields(
            "number",
            "direct_api_metrics",
            "api_calls_made",
            "leads_found",
            "leads_missing",
            "api_errors",
        ),
        **_fields("percent", "direct_api_metrics", "api_success_rate"),
        **_fields("flag", "circuit_breaker", "activated"),
        **_fields("text", "circuit_breaker", "reason"),
        **_fields("number", "circuit_breaker", "leads_not_processed"),
    },
    "poll": {
        **_fields(
            "number", "", "verifications_checked", "queued_for_deletion", "deletes_processed"
        ),
        **_fields("number", "status_breakdown", *POLL_STATUSES),
    },
}
# Objects whose entries are all checked: (section, key suffix, the fields of each entry, or
# None when each entry is itself a count).
GROUPS: dict[Report, tuple[tuple[str, str, dict[str, Kind] | None], ...]] = {
    "sync": (
        ("leads_processed", "_campaign", {"campaign_name": "text", "leads_added": "number"}),
        ("verification_results.failed_reasons", "", None),
        (
            "async_verification",
            "_verification",
            {"verification_triggered": "flag", "verification_count": "number"},
        ),
    ),
    "drain": (("drain_classifications", "", None),),
    "poll": (
        ("status_breakdown", "", None),
        ("deletion_breakdown", "", {"name": "text", "count": "number"}),
    ),
}
MAX_DIGITS = 100  # a longer number is nonsense in a metrics file (and slow to parse)
LARGEST = 1e15  # no count, rate or amount of these pipelines comes near; beyond is bad data
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass
class Metrics:
    report: Report
    data: dict[str, Any]
    timestamp: datetime
    errors: list[str]  # the error texts (empty when the file gives only a count)
    error_count: int | None  # how many errors the run logged; None when unknown
    problems: list[str] = field(default_factory=list)  # bad fields, each named
    mismatch: str = ""  # a forced `report` that the file does not look like
    known: int = 0  # known fields of the report that hold a good value

    @property
    def data_state(self) -> DataState:
        """`none` (no field of the report), `bad` (only bad values) or `some`."""
        return "some" if self.known else "bad" if self.problems else "none"


class Huge:
    """A number too long to be real, kept as its digits so the warning can show them."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


# A report's metrics are kilobytes. 8 MiB of the worst JSON ([[],[],...]) parses in about a
# second into ~250 MB: the ceiling keeps memory and a cancellation's 2 s promise in reach.
METRICS_LIMIT = 8 * 1024 * 1024
FILE_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_json(path: Path) -> dict[str, Any]:
    """The file as a JSON object, or a MetricsError that quotes the path and the position."""
    where = f"Metrics file '{path}'"
    try:
        raw = _read_regular(path, where)
    except FileNotFoundError:
        raise MetricsError(
            f"{where} does not exist. Check `metrics-file` and that the pipeline step "
            "before this one wrote it (it may have failed before writing).",
            path=path,
            reason="missing",
        ) from None
    except IsADirectoryError:
        raise MetricsError(
            f"{where} is a directory; `metrics-file` must name a file.", path=path
        ) from None
    except OSError as exc:
        raise MetricsError(f"{where} cannot be read: {exc.strerror}.", path=path) from None
    if not raw.strip():
        raise MetricsError(
            f"{where} is empty: the pipeline step wrote no metrics.", path=path, reason="empty"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetricsError(
            f"{where} is not UTF-8 text (bad byte at offset {exc.start}).",
            path=path,
            reason="invalid",
        ) from None
    try:
        data = json.loads(text, parse_constant=float, parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise MetricsError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            path=path,
            reason="invalid",
        ) from None
    except RecursionError:
        raise MetricsError(
            f"{where} is nested too deeply to be a metrics file.", path=path, reason="invalid"
        ) from None
    if not isinstance(data, dict):
        raise MetricsError(
            f"{where} must hold a JSON object ({{...}}), not {_kind(data)}.",
            path=path,
            reason="invalid",
        )
    return data


def _read_regular(path: Path, where: str) -> bytes:
    """A regular file's bytes, at most METRICS_LIMIT: a FIFO would block, a device never end."""
    info = os.stat(path)  # before opening: opening a device can act
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError
    kind = stat.S_IFMT(info.st_mode)
    not_regular = MetricsError(
        f"{where} is {FILE_KINDS.get(kind, 'a special file')}, not a regular file: "
        "`metrics-file` must name the JSON file the pipeline step wrote.",
        path=path,
    )
    too_big = MetricsError(
        f"{where} is larger than {METRICS_LIMIT // 1024 // 1024} MiB, the most a metrics file "
        "may hold: check that `metrics-file` names the metrics JSON.",
        path=path,
    )
    if kind != stat.S_IFREG:
        raise not_regular
    if info.st_size > METRICS_LIMIT:
        raise too_big
    # O_NONBLOCK: should the path turn into a FIFO after the check, opening it cannot hang.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise not_regular
        raw = handle.read(METRICS_LIMIT + 1)  # /proc files say 0 bytes and still hold more
    if len(raw) > METRICS_LIMIT:
        raise too_big
    return raw


def _int(digits: str) -> int | Huge:
    # Python refuses to parse more than 4,300 digits; such a count is nonsense anyway.
    return int(digits) if len(digits.lstrip("-")) <= MAX_DIGITS else Huge(digits)


def _float(text: str) -> float | Huge:
    number = float(text)
    return number if math.isfinite(number) else Huge(text)


def detect(data: dict[str, Any], wanted: str, path: Path) -> Report:
    """Which report the file is: the forced one, or the one whose keys it has."""
    if wanted in REPORT_KEYS:
        return wanted
    found: list[Report] = [r for r, keys in REPORT_KEYS.items() if any(k in data for k in keys)]
    if len(found) == 1:
        return found[0]
    what = " and ".join(found) if found else "none of the sync, drain or poll reports"
    raise MetricsError(
        f"Cannot tell which report to render from metrics file '{path}': it looks like {what} "
        f"(top-level keys: {_keys(data)}). "
        + "; ".join(f"{r} files have {' or '.join(k)}" for r, k in REPORT_KEYS.items())
        + ". Set `report` to sync, drain or poll.",
        path=path,
        reason="unrecognised",
    )


def _keys(data: dict[str, Any], limit: int = 20) -> str:
    keys = [_show(k) for k in list(data)[:limit]]
    more = f" and {len(data) - limit} more" if len(data) > limit else ""
    return (", ".join(keys) or "none") + more


def load(path: Path, wanted: str = "auto", now: datetime | None = None) -> Metrics:
    data = read_json(path)
    report = detect(data, wanted, path)
    mismatch = ""
    if wanted != "auto" and not any(k in data for k in REPORT_KEYS[report]):
        mismatch = (
            f"`report: {report}` is set, but metrics file '{path}' has none of the {report} "
            f"report's keys ({', '.join(REPORT_KEYS[report])}); it has: {_keys(data)}. "
            "Check `report` and `metrics-file`: every section will read as not reported."
        )
    problems: list[str] = []
    clean = dict(data)
    for where, kind in FIELDS[report].items():
        parent, name = _parent(clean, where, problems)
        parent[name] = _check(parent.get(name), kind, where, problems)
    clean["duration_seconds"] = _check(
        data.get("duration_seconds"), "number", "duration_seconds", problems
    )
    for section, suffix, fields in GROUPS[report]:
        group, _ = _parent(clean, section + ".", problems)
        for key in [k for k in group if k.endswith(suffix)]:
            group[key] = _entry(group[key], fields, f"{section}.{key}", problems)
    DERIVE[report](clean, problems)
    known = _known(clean, report)
    timestamp = _timestamp(data.get("timestamp"), problems, now)
    count, texts = _errors(data.get("errors"), problems)
    return Metrics(
        report=report,
        data=clean,
        timestamp=timestamp,
        errors=texts,
        error_count=count,
        problems=problems,
        mismatch=mismatch,
        known=known,
    )


def _known(clean: dict[str, Any], report: Report) -> int:
    """How many of the report's known fields and group entries hold a good value."""
    count = 0
    for where in FIELDS[report]:
        *sections, name = where.split(".")
        part = clean
        for section in sections:
            part = part.get(section) or {}
        count += part.get(name) is not None
    for section, suffix, fields in GROUPS[report]:
        group = clean
        for step in section.split("."):
            group = group.get(step) or {}
        for key, entry in group.items():
            if not key.endswith(suffix):
                continue
            values = entry.values() if fields and isinstance(entry, dict) else [entry]
            count += any(v is not None for v in values)
    return count


def _parent(data: dict[str, Any], path: str, problems: list[str]) -> tuple[dict[str, Any], str]:
    """The object holding the field at ``path``; a missing or bad object becomes an empty one."""
    *sections, name = path.split(".")
    part = data
    for depth, section in enumerate(sections):
        value = part.get(section)
        if not isinstance(value, dict):
            if value is not None:
                where = ".".join(sections[: depth + 1])
                problems.append(f"{where}: expected an object, got {_show(value)}")
            part[section] = value = {}
        part = value
    return part, name


def _entry(value: Any, fields: dict[str, Kind] | None, where: str, problems: list[str]) -> Any:
    if fields is None:
        return _check(value, "number", where, problems)
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object, got {_show(value)}")
        value = {}
    entry = dict(value)
    for name, kind in fields.items():
        entry[name] = _check(entry.get(name), kind, f"{where}.{name}", problems)
    return entry


def _check(value: Any, kind: Kind, where: str, problems: list[str]) -> Any:
    if value is None:
        return None
    if kind == "text":
        if isinstance(value, str):
            return value
        problems.append(f"{where}: expected text, got {_show(value)}")
        return None
    if kind == "flag":
        if isinstance(value, bool):
            return value
        problems.append(f"{where}: expected true or false, got {_show(value)}")
        return None
    return _check_number(value, kind, where, problems)


def _check_number(value: Any, kind: Kind, where: str, problems: list[str]) -> Number | None:
    number = _as_number(value)
    if number is None:
        problems.append(f"{where}: expected a number, got {_show(value)}")
    elif not math.isfinite(number):
        problems.append(f"{where}: expected a finite number, got {_show(value)}")
    elif abs(number) >= LARGEST:
        problems.append(f"{where}: expected a number below 10^15, got {_show(value)}")
    elif kind == "percent" and not 0 <= number <= 100:
        problems.append(f"{where}: expected a percentage from 0 to 100, got {_show(value)}")
    elif number < 0 and kind != "signed":
        problems.append(f"{where}: expected zero or more, got {_show(value)}")
    else:
        return number
    return None


def _as_number(value: Any) -> Number | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return math.nan
    if not _NUMBER.fullmatch(text) or len(text) > MAX_DIGITS:
        return None  # ASCII digits only: float() would take "١٢" or "1_000"
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2**63 else number


# -- derived values (docs/metrics-file.md: derived when missing) -----------------------------------


def _fill(section: dict[str, Any], name: str, value: Number | None) -> None:
    if section.get(name) is None:
        section[name] = value


def _split(
    data: dict[str, Any],
    where: str,
    counts: tuple[str, str],
    derived: tuple[str, str | None],
    problems: list[str],
) -> None:
    """``part`` of ``whole``: the rate from the counts when both are known (None when there was
    nothing to do, or when part exceeds whole: bad data, named), else the stated rate stays;
    the rest (whole - part) when it is missing."""
    section = data[where]
    (part, whole), (rate, rest) = (section[n] for n in counts), derived
    if whole == 0:  # nothing to do: no rate, whatever the file states (0.0 is no failure)
        section[rate] = None
    if part is None or whole is None:
        return
    if part > whole:
        problems.append(
            f"{where}.{counts[0]}: {_show(part)} is more than {counts[1]} ({_show(whole)})"
        )
        section[rate] = None
        return
    section[rate] = part / whole * 100 if whole else None
    if rest:
        _fill(section, rest, whole - part)


def _sync(data: dict[str, Any], problems: list[str]) -> None:
    cap = data["capacity_status"]
    current, limit = cap["current_inventory"], cap["max_capacity"]
    if current is not None and limit is not None:
        cap["utilization_percentage"] = current / limit * 100 if limit else None
        cap["estimated_capacity_remaining"] = limit - current
    _split(
        data,
        "verification_results",
        ("verified_successful", "total_attempted"),
        ("success_rate_percentage", "verification_failed"),
        problems,
    )
    _fill(data["final_inventory"], "instantly_total", current)
    leads = data["leads_processed"]
    added = [v.get("leads_added") for k, v in leads.items() if k.endswith("_campaign")]
    attempted = leads["total_attempted"]
    if added and None not in added and attempted is not None and sum(added) > attempted:
        problems.append(
            f"leads_processed.total_attempted: {_show(attempted)} is less than the campaigns' "
            f"leads_added ({_show(sum(added))})"
        )
        leads["total_attempted"] = None


def _drain(data: dict[str, Any], problems: list[str]) -> None:
    classes = data["drain_classifications"]
    counts = [v for k, v in classes.items() if k != "total_identified"]
    if counts and all(v is not None for v in counts):
        _fill(classes, "total_identified", sum(counts))
    _split(
        data,
        "deletion_results",
        ("successful_deletions", "attempted_deletions"),
        ("success_rate_percentage", "failed_deletions"),
        problems,
    )
    _fill(
        data["inventory_impact"], "leads_removed", data["deletion_results"]["successful_deletions"]
    )
    data["direct_api_metrics"]["found_percentage"] = None
    _split(
        data,
        "direct_api_metrics",
        ("leads_found", "api_calls_made"),
        ("found_percentage", None),
        problems,
    )


def _poll(data: dict[str, Any], problems: list[str]) -> None:
    breakdown = data["status_breakdown"]
    counts = list(breakdown.values())
    if counts and all(v is not None for v in counts):
        _fill(data, "verifications_checked", sum(counts))
    checked = data["verifications_checked"]
    over = [k for k, v in breakdown.items() if None not in (v, checked) and v > checked]
    for key in over:  # a status cannot count more leads than were checked
        problems.append(
            f"status_breakdown.{key}: {_show(breakdown[key])} is more than "
            f"verifications_checked ({_show(checked)})"
        )
    if over:
        data["verifications_checked"] = None
    total = data["deletes_processed"]
    campaigns = data.get("deletion_breakdown")
    campaigns = campaigns.values() if isinstance(campaigns, dict) else ()
    by_campaign = [e.get("count") for e in campaigns if isinstance(e, dict)]
    known = [count for count in by_campaign if count is not None]
    if None not in (total, *known) and known and sum(known) > total:  # campaigns ⊂ the total
        problems.append(
            f"deletion_breakdown: {_show(sum(known))} deletions by campaign is more than "
            f"deletes_processed ({_show(total)})"
        )
        data["deletes_processed"] = None


DERIVE = {"sync": _sync, "drain": _drain, "poll": _poll}


# -- common fields -------------------------------------------------------------------------


def _timestamp(value: Any, problems: list[str], now: datetime | None) -> datetime:
    fallback = now or datetime.now(UTC)
    if value is None:
        return fallback
    try:
        stamp = datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        problems.append(f"timestamp: expected an ISO-8601 time, got {_show(value)}; showing now")
        return fallback
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    if not keepable(stamp):  # the history keeps it, and shows it in any time zone
        low, high = YEARS
        problems.append(
            f"timestamp: not in the years {low}-{high}, got {_show(value)}; showing now"
        )
        return fallback
    return stamp


def _errors(value: Any, problems: list[str]) -> tuple[int | None, list[str]]:
    """How many errors, and their texts: a list (of strings, or objects shown as JSON), one
    string, or a count (the verification poller writes only a count)."""
    if value is None:
        return 0, []
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        return 1, [value]
    if isinstance(value, list):
        texts = [v if isinstance(v, str) else _json(v) for v in value]
        return len(texts), texts
    count = _as_number(value)
    if count is None or not math.isfinite(count) or count < 0 or count != int(count):
        problems.append(f"errors: expected a list or a count, got {_show(value)}")
        return None, []
    return int(count), []


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=_default)
    except (RecursionError, ValueError):
        return f"({_kind(value) if not isinstance(value, dict) else 'an object'} too deep to show)"


def _default(value: Any) -> str:
    return value.digits if isinstance(value, Huge) else str(value)


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _show(value: Any) -> str:
    """A value as a warning quotes it: short, on one line."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Huge):
        return f"a number of {len(value.digits):,} characters ({value.digits[:12]}…)"
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    shown = redact(shown, SECRETS.get())  # before the cut: no part of a token survives it
    return shown if len(shown) <= 40 else shown[:39] + "…"
