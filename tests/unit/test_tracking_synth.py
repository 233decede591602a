"""The synthetic tracking log generator: deterministic, named like edX.org's, the rates asked,
and a day of it exercises every xAPI transformer with events it can transform."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

from olx_spark.synth.tracking import generate_tracking_logs
from olx_spark.tracking.events import split_prefix
from olx_spark.tracking.names import parse_log_name
from olx_spark.xapi.event import Event, parse_payload
from olx_spark.xapi.registry import event_names, transform_event, transformer_for
from olx_spark.xapi.statement import Settings
from olx_spark.xapi.validate import problems


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


def _events_of_a_day(tmp_path: Path, events: int) -> list[dict[str, Any]]:
    generate_tracking_logs(
        tmp_path, days=1, events_per_day=events, seed=0, prefixed_every=0, bad_every=0
    )
    [log] = tmp_path.iterdir()
    return [json.loads(line) for line in gzip.decompress(log.read_bytes()).decode().splitlines()]


def _as_the_xapi_job_sees_it(line: dict[str, Any]) -> Event:
    """The event as the raw table gives it to the transformers: `name`, else `event_type`; the
    payload as JSON text (a browser's JSON string as its text); the context's course."""
    payload = line.get("event", line.get("data"))
    text = (
        payload if isinstance(payload, str) and payload[:1] in ("{", "[") else json.dumps(payload)
    )
    context = line.get("context") or {}
    return Event(
        name=line.get("name") or line["event_type"],
        timestamp=line.get("time") or line["timestamp"],
        actor_id="5b0f3c3e-1f7e-4d7a-9c36-0d6c2a9f4e11",
        data=parse_payload(text),
        context=context,
        event_source=line.get("event_source"),
        session=line.get("session"),
        course_id=context.get("course_id"),
        course_name="A course",
        page=line.get("page"),
        referer=line.get("referer"),
        username=line.get("username"),
    )


def test_a_day_exercises_every_xapi_transformer_and_keeps_the_mix(tmp_path):
    lines = _events_of_a_day(tmp_path, 30_000)
    settings = Settings("https://courses.example.org", "olx-spark@test")
    seen: Counter[str] = Counter()
    families: Counter[str] = Counter()
    for line in lines:
        event = _as_the_xapi_job_sees_it(line)
        func = transformer_for(event.name)
        families[func.__module__.rsplit(".", 1)[-1] if func else "page view"] += 1
        if func is None:
            assert event.name.startswith("/courses/"), event.name  # page views only
            continue
        seen[event.name] += 1
        statements, skipped = transform_event(event, settings)
        assert skipped is None, (event.name, skipped, line)
        for stmt in statements:
            assert problems(stmt) == [], (event.name, problems(stmt))
    assert sorted(set(event_names()) - set(seen)) == []
    share = {family: count / len(lines) for family, count in families.items()}
    # The mix the generator always had (video ~40 %, problems ~20 %, navigation ~20 %, page
    # views ~12 %, forum ~5 %), the services' events (enrollment, grades, completion, exams)
    # in the last ~3 %.
    assert abs(share["video"] - 0.40) < 0.02
    assert abs(share["problem"] - 0.20) < 0.02
    assert abs(share["navigation"] - 0.20) < 0.02
    assert abs(share["page view"] - 0.12) < 0.015
    assert abs(share["forum"] - 0.05) < 0.01
    rest = sum(share[f] for f in ("enrollment", "completion", "grading", "exam"))
    assert abs(rest - 0.03) < 0.01
