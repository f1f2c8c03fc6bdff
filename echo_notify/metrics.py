"""Load the metrics file, flag bad fields, fill derived values, judge severity."""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import MetricsError

SYNC_KEYS = ("capacity_status", "leads_processed")
DRAIN_KEYS = ("analysis_summary", "drain_classifications")
DRAIN_CLASSES = ("completed", "replied", "bounced_hard", "unsubscribed", "stale_active")

# The numeric fields each report reads, by section. Every one is present after loading:
# a number, or None when it is missing or bad. Other keys pass through untouched.
NUMBERS: dict[str, dict[str, tuple[str, ...]]] = {
    "sync": {
        "capacity_status": (
            "current_inventory",
            "max_capacity",
            "utilization_percentage",
            "estimated_capacity_remaining",
        ),
        "leads_processed": ("total_attempted",),
        "verification_results": (
            "total_attempted",
            "verified_successful",
            "verification_failed",
            "credits_used",
            "success_rate_percentage",
        ),
        "final_inventory": ("instantly_total", "bigquery_eligible"),
        "performance": ("api_success_rate", "processing_rate_per_minute"),
    },
    "drain": {
        "analysis_summary": (
            "total_leads_analyzed",
            "leads_skipped_24hr",
            "leads_eligible_for_drain",
        ),
        "drain_classifications": (*DRAIN_CLASSES, "total_identified"),
        "deletion_results": (
            "attempted_deletions",
            "successful_deletions",
            "failed_deletions",
            "success_rate_percentage",
        ),
        "dnc_updates": ("new_unsubscribes", "total_dnc_list"),
        "inventory_impact": ("leads_removed", "new_inventory_total"),
        "performance": ("classification_accuracy", "processing_rate_per_minute"),
    },
}
TEXTS = {"verification_results": ("failed_disposition",)}

Number = int | float


@dataclass
class Metrics:
    report: str
    data: dict[str, Any]
    timestamp: datetime
    errors: list[str]
    problems: list[str] = field(default_factory=list)


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
            "before this one wrote it (it may have failed before writing)."
        ) from None
    except IsADirectoryError:
        raise MetricsError(f"{where} is a directory; `metrics-file` must name a file.") from None
    except OSError as exc:
        raise MetricsError(f"{where} cannot be read: {exc.strerror}.") from None
    if not raw.strip():
        raise MetricsError(f"{where} is empty: the pipeline step wrote no metrics.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetricsError(f"{where} is not UTF-8 text (bad byte at offset {exc.start}).") from None
    try:
        data = json.loads(text, parse_constant=float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise MetricsError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    except RecursionError:
        raise MetricsError(f"{where} is nested too deeply to be a metrics file.") from None
    if not isinstance(data, dict):
        raise MetricsError(f"{where} must hold a JSON object ({{...}}), not {_kind(data)}.")
    return data


def _read_regular(path: Path, where: str) -> bytes:
    """A regular file's bytes, at most METRICS_LIMIT: a FIFO would block, a device never end."""
    info = os.stat(path)  # before opening: opening a device can act
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError
    kind = stat.S_IFMT(info.st_mode)
    not_regular = MetricsError(
        f"{where} is {FILE_KINDS.get(kind, 'a special file')}, not a regular file: "
        "`metrics-file` must name the JSON file the pipeline step wrote."
    )
    too_big = MetricsError(
        f"{where} is larger than {METRICS_LIMIT // 1024 // 1024} MiB, the most a metrics file "
        "may hold: check that `metrics-file` names the metrics JSON."
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


def _int(digits: str) -> Number:
    # Python refuses to parse more than 4,300 digits; such a count is nonsense anyway.
    return int(digits) if len(digits) <= 100 else math.inf


def detect(data: dict[str, Any], wanted: str) -> str:
    if wanted != "auto":
        return wanted
    sync = any(k in data for k in SYNC_KEYS)
    drain = any(k in data for k in DRAIN_KEYS)
    if sync != drain:
        return "sync" if sync else "drain"
    found = ", ".join(list(data)[:12]) or "none"
    why = "both a sync and a drain report" if sync else "neither a sync nor a drain report"
    raise MetricsError(
        f"Cannot tell which report to render: the metrics file looks like {why} "
        f"(top-level keys: {found}). Sync files have {' or '.join(SYNC_KEYS)}; drain files "
        f"have {' or '.join(DRAIN_KEYS)}. Set `report: sync` or `report: drain`."
    )


def load(path: Path, wanted: str = "auto", now: datetime | None = None) -> Metrics:
    data = read_json(path)
    report = detect(data, wanted)
    problems: list[str] = []
    clean = dict(data)
    for section, names in NUMBERS[report].items():
        part = _section(clean, section, problems)
        for name in names:
            part[name] = _number(part.get(name), f"{section}.{name}", problems)
        for name in TEXTS.get(section, ()):
            part[name] = _text(part.get(name), f"{section}.{name}", problems)
    clean["duration_seconds"] = _number(data.get("duration_seconds"), "duration_seconds", problems)
    if report == "sync":
        _sync(clean, problems)
    else:
        _drain(clean, problems)
    return Metrics(
        report=report,
        data=clean,
        timestamp=_timestamp(data.get("timestamp"), problems, now),
        errors=_errors(data.get("errors"), problems),
        problems=problems,
    )


def _section(data: dict[str, Any], name: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(name)
    if value is not None and not isinstance(value, dict):
        problems.append(f"{name}: expected an object, got {_show(value)}")
    part = dict(value) if isinstance(value, dict) else {}
    data[name] = part
    return part


def _number(value: Any, where: str, problems: list[str]) -> Number | None:
    if value is None:
        return None
    number: Number | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value) if "_" not in value else None  # float() takes "1_000"
        except ValueError:
            number = None
        if number is not None and number.is_integer() and abs(number) < 2**63:
            number = int(number)
    if number is None:
        problems.append(f"{where}: expected a number, got {_show(value)}")
    elif not math.isfinite(number):
        problems.append(f"{where}: expected a finite number, got {_show(value)}")
    elif number < 0:
        problems.append(f"{where}: expected zero or more, got {_show(value)}")
    else:
        return number
    return None


def _text(value: Any, where: str, problems: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    problems.append(f"{where}: expected text, got {_show(value)}")
    return None


def _ratio(part: Number | None, whole: Number | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole * 100


def _minus(a: Number | None, b: Number | None) -> Number | None:
    return None if a is None or b is None else a - b


def _fill(section: dict[str, Any], name: str, value: Number | None) -> None:
    if section.get(name) is None:
        section[name] = value


def _sync(data: dict[str, Any], problems: list[str]) -> None:
    cap = data["capacity_status"]
    _fill(cap, "utilization_percentage", _ratio(cap["current_inventory"], cap["max_capacity"]))
    _fill(
        cap,
        "estimated_capacity_remaining",
        _minus(cap["max_capacity"], cap["current_inventory"]),
    )
    ver = data["verification_results"]
    _fill(ver, "verification_failed", _minus(ver["total_attempted"], ver["verified_successful"]))
    _fill(
        ver,
        "success_rate_percentage",
        _ratio(ver["verified_successful"], ver["total_attempted"]),
    )
    reasons = ver.get("failed_reasons")
    if reasons is not None:
        if isinstance(reasons, dict):
            where = "verification_results.failed_reasons."
            ver["failed_reasons"] = {k: _number(v, where + k, problems) for k, v in reasons.items()}
        else:
            problems.append(
                f"verification_results.failed_reasons: expected an object, got {_show(reasons)}"
            )
            ver["failed_reasons"] = {}
    _fill(data["final_inventory"], "instantly_total", cap["current_inventory"])
    leads = data["leads_processed"]
    for key, campaign in list(leads.items()):
        if not key.endswith("_campaign"):
            continue
        where = f"leads_processed.{key}"
        if not isinstance(campaign, dict):
            problems.append(f"{where}: expected an object, got {_show(campaign)}")
        fields = dict(campaign) if isinstance(campaign, dict) else {}
        fields["leads_added"] = _number(fields.get("leads_added"), f"{where}.leads_added", problems)
        fields["campaign_name"] = _text(
            fields.get("campaign_name"), f"{where}.campaign_name", problems
        )
        leads[key] = fields


def _drain(data: dict[str, Any], problems: list[str]) -> None:
    classes = data["drain_classifications"]
    for key in list(classes):
        if key not in NUMBERS["drain"]["drain_classifications"]:
            classes[key] = _number(classes[key], f"drain_classifications.{key}", problems)
    counts = [v for k, v in classes.items() if k != "total_identified"]
    if counts and all(v is not None for v in counts):
        _fill(classes, "total_identified", sum(counts))
    dele = data["deletion_results"]
    _fill(
        dele,
        "failed_deletions",
        _minus(dele["attempted_deletions"], dele["successful_deletions"]),
    )
    _fill(
        dele,
        "success_rate_percentage",
        _ratio(dele["successful_deletions"], dele["attempted_deletions"]),
    )
    _fill(data["inventory_impact"], "leads_removed", dele["successful_deletions"])


def _timestamp(value: Any, problems: list[str], now: datetime | None) -> datetime:
    fallback = now or datetime.now(UTC)
    if value is None:
        return fallback
    try:
        stamp = datetime.fromisoformat(str(value).strip()) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        problems.append(f"timestamp: expected an ISO-8601 time, got {_show(value)}; showing now")
        return fallback
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _errors(value: Any, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v if isinstance(v, str) else _json(v) for v in value]
    problems.append(f"errors: expected a list, got {_show(value)}")
    return []


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError):
        return f"({_kind(value) if not isinstance(value, dict) else 'an object'} too deep to show)"


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value) if not isinstance(value, dict) else "an object"
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"


def assess(metrics: Metrics, job_status: str) -> tuple[dict[str, str | None], str]:
    """Each gauge's level (ok/warning/critical, None when unknown) and the overall severity."""
    d = metrics.data
    if metrics.report == "sync":
        levels = {
            "capacity": _level(d["capacity_status"]["utilization_percentage"], high=(70, 90)),
            "verification": _level(
                d["verification_results"]["success_rate_percentage"], low=(90, 80)
            ),
        }
    else:
        levels = {
            "deletion": _level(d["deletion_results"]["success_rate_percentage"], low=(95, 80))
        }
    known = set(levels.values())
    if job_status != "success" or "critical" in known:
        return levels, "critical"
    if "warning" in known or metrics.errors:
        return levels, "warning"
    return levels, "ok"


def _level(
    value: Number | None,
    high: tuple[float, float] | None = None,
    low: tuple[float, float] | None = None,
) -> str | None:
    if value is None:
        return None
    if high:
        return "critical" if value >= high[1] else "warning" if value >= high[0] else "ok"
    assert low
    return "critical" if value < low[1] else "warning" if value < low[0] else "ok"
