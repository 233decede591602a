"""The synthetic tracking log generator: deterministic, named like edX.org's, the rates asked."""

from __future__ import annotations

import gzip
import json

from olx_spark.synth.tracking import generate_tracking_logs
from olx_spark.tracking.events import split_prefix
from olx_spark.tracking.names import parse_log_name


def test_generates_daily_logs_with_prefixed_and_bad_lines(tmp_path):
    summary = generate_tracking_logs(
        tmp_path / "a", days=2, events_per_day=300, seed=3, prefixed_every=100, bad_every=150
    )
    assert (summary.files, summary.events, summary.prefixed_events, summary.bad_lines) == (
        2,
        600,
        6,
        4,
    )
    files = sorted((tmp_path / "a").iterdir())
    assert [parse_log_name(str(f)).log_date.isoformat() for f in files] == [
        "2024-03-01",
        "2024-03-02",
    ]
    events = prefixed = 0
    for f in files:
        for line in gzip.decompress(f.read_bytes()).decode().splitlines():
            prefix, body = split_prefix(line)
            if body is None:
                continue
            try:
                event = json.loads(body)
            except json.JSONDecodeError:
                continue
            events += 1
            prefixed += prefix is not None
            assert "event_type" in event or "name" in event
    assert (events, prefixed) == (600, 6)

    again = generate_tracking_logs(
        tmp_path / "b", days=2, events_per_day=300, seed=3, prefixed_every=100, bad_every=150
    )
    assert again.plaintext_bytes == summary.plaintext_bytes
    assert (tmp_path / "a" / files[0].name).read_bytes() == (
        tmp_path / "b" / files[0].name
    ).read_bytes()
