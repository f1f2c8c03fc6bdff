"""The metrics file is read only when it is a regular file, and only up to a ceiling."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from echo_notify.errors import MetricsError
from echo_notify.metrics import METRICS_LIMIT, read_json


def refused(path: Path) -> tuple[str, float]:
    start = time.monotonic()
    with pytest.raises(MetricsError) as caught:
        read_json(path)
    return str(caught.value), time.monotonic() - start


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "metrics.json"
    os.mkfifo(fifo)
    result: list[tuple[str, float]] = []
    reader = threading.Thread(target=lambda: result.append(refused(fifo)), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the thread: open the other end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    message, elapsed = result[0]
    assert "named pipe" in message and "not a regular file" in message and str(fifo) in message
    assert elapsed < 1


@pytest.mark.parametrize(("device", "kind"), [("/dev/zero", "character device")])
def test_a_device_is_refused(device: str, kind: str) -> None:
    message, elapsed = refused(Path(device))
    assert kind in message and "not a regular file" in message and elapsed < 1


def test_one_byte_over_the_ceiling_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(METRICS_LIMIT + 1)  # sparse: costs no disk
    message, elapsed = refused(path)
    assert "larger than 8 MiB" in message and str(path) in message
    assert "check that `metrics-file` names the metrics JSON" in message
    assert elapsed < 1


def test_a_file_at_the_ceiling_is_read(tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    head = b'{"capacity_status": {}, "pad": "'
    path.write_bytes(head + b"x" * (METRICS_LIMIT - len(head) - 2) + b'"}')
    assert path.stat().st_size == METRICS_LIMIT
    assert len(read_json(path)["pad"]) == METRICS_LIMIT - len(head) - 2


def test_a_file_that_grows_past_its_size_is_still_capped(tmp_path: Path) -> None:
    # /proc files say 0 bytes and have content: the read itself is capped as well.
    message, _ = refused(Path("/proc/self/pagemap"))
    assert "larger than 8 MiB" in message


def test_a_symlink_to_a_regular_file_is_fine(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text(json.dumps({"capacity_status": {}}))
    link = tmp_path / "metrics.json"
    link.symlink_to(target)
    assert read_json(link) == {"capacity_status": {}}
