"""Arrow batches of raw events in, Arrow batches of statements (and skipped events) out.

This is what runs on the executors (`mapInArrow` in `olx_spark.spark.xapi_statements`), kept
free of Spark so it can be tested and benchmarked alone. Columns are read whole from Arrow
(no per-row dicts from Arrow), each event is normalised (`event`), its actor resolved (`actor`),
its transformer run (`registry`), and the statements serialised as compact JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

from olx_spark.xapi.actor import Pseudonyms, actor_id
from olx_spark.xapi.event import Event, parse_json_object, parse_payload
from olx_spark.xapi.registry import SKIP_NO_USER, transform_event, transformer_for
from olx_spark.xapi.statement import Settings
from olx_spark.xapi.tables import INPUT_FIELDS, OUTPUT_FIELDS, output_schema

SKIP_NOT_IN_MAPPING = "user_not_in_mapping"
_OUTPUT = output_schema()
_INPUT_NAMES = [f.name for f in INPUT_FIELDS]


@dataclass(frozen=True)
class BatchSettings:
    """Everything a worker needs; plain values so it pickles to the executors."""

    lms_root_url: str
    transformer_version: str
    salt: str  # for pseudonymous actor ids ("" when a mapping is used)
    mapping: bool  # an actor mapping is configured: unmapped users are skipped

    def statement_settings(self) -> Settings:
        return Settings(self.lms_root_url, self.transformer_version)


def dumps(stmt: dict[str, Any]) -> str:
    """A statement as compact JSON: orjson (fast), else the standard library (integers past
    64 bits, and lone surrogates, which orjson refuses; escaped, they stay JSON and UTF-8)."""
    try:
        return orjson.dumps(stmt).decode("utf-8")
    except TypeError:
        return json.dumps(stmt, separators=(",", ":"))


_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str | None) -> str | None:
    """`text` with any lone surrogate replaced by U+FFFD (Arrow strings are UTF-8)."""
    return text if text is None or text.isascii() else _SURROGATE.sub("\ufffd", text)


def org_of(course_id: str | None, context_org: str | None) -> str | None:
    """The org of `course-v1:ORG+COURSE+RUN` or `ORG/COURSE/RUN`, else the context's."""
    if course_id:
        if ":" in course_id:
            key = course_id.split(":", 1)[1]
            org = key.split("+", 1)[0]
        else:
            org = course_id.split("/", 1)[0]
        if org:
            return org
    return context_org or None


class _Out:
    def __init__(self, emit_skips: bool) -> None:
        self.columns: dict[str, list[Any]] = {f.name: [] for f in OUTPUT_FIELDS}
        self.emit_skips = emit_skips

    def skip(self, sha: str, line: int, name: str | None, reason: str) -> None:
        if not self.emit_skips:
            return
        c = self.columns
        c["source_file_sha256"].append(sha)
        c["source_line_number"].append(line)
        c["event_name"].append(name)
        c["reason"].append(reason)
        for key in (
            "statement_id",
            "timestamp",
            "actor_id",
            "verb_id",
            "object_id",
            "course_id",
            "org",
            "statement",
        ):
            c[key].append(None)

    def statement(
        self,
        sha: str,
        line: int,
        name: str,
        stmt: dict[str, Any],
        course_id: str | None,
        org: str | None,
    ) -> None:
        c = self.columns
        c["source_file_sha256"].append(sha)
        c["source_line_number"].append(line)
        c["event_name"].append(name)
        c["reason"].append(None)
        c["statement_id"].append(stmt["id"])
        c["timestamp"].append(stmt["timestamp"])
        c["actor_id"].append(stmt["actor"]["account"]["name"])
        c["verb_id"].append(stmt["verb"]["id"])
        c["object_id"].append(utf8(stmt["object"].get("id")))
        c["course_id"].append(course_id)
        c["org"].append(org)
        c["statement"].append(dumps(stmt))

    def batch(self) -> pa.RecordBatch:
        return pa.RecordBatch.from_pydict(self.columns, schema=_OUTPUT)


def transform_rows(rows: Iterable[dict[str, Any]], settings: BatchSettings) -> pa.RecordBatch:
    """Rows shaped like `INPUT_FIELDS` (dicts) -> one output batch. For tests and tools."""
    columns: dict[str, list[Any]] = {name: [] for name in _INPUT_NAMES}
    for row in rows:
        for name in _INPUT_NAMES:
            columns[name].append(row.get(name))
    batch = pa.RecordBatch.from_pydict(columns, schema=pa.schema(INPUT_FIELDS))
    return next(iter(transform_batches([batch], settings)))


def transform_batches(
    batches: Iterable[pa.RecordBatch], settings: BatchSettings, emit_skips: bool = True
) -> Iterator[pa.RecordBatch]:
    """Statements (and, with `emit_skips`, one row per event that gave none, with the reason).

    The job does not ship skip rows back: Spark tells the same reasons from the events and the
    statements written (`skip_reason` in `olx_spark.spark.xapi_statements` mirrors the order
    of the checks here: transformer, user, then everything else is `incomplete`)."""
    stmt_settings = settings.statement_settings()
    pseudonyms = Pseudonyms(settings.salt) if settings.salt else None
    for batch in batches:
        cols = {name: batch.column(name).to_pylist() for name in _INPUT_NAMES}
        out = _Out(emit_skips)
        for i in range(batch.num_rows):
            sha = cols["file_sha256"][i]
            line = cols["line_number"][i]
            name = cols["name"][i]
            if not name or transformer_for(name) is None:
                out.skip(sha, line, name, "no_transformer")
                continue
            external = cols["external_user_id"][i]
            if settings.mapping:
                actor = external or None
                reason = SKIP_NOT_IN_MAPPING
            else:
                assert pseudonyms is not None
                actor = actor_id(
                    pseudonyms, None, cols["actor_user_id"][i], cols["actor_username"][i]
                )
                reason = SKIP_NO_USER
            if actor is None:
                out.skip(sha, line, name, reason)
                continue
            course_id = cols["course_id"][i]
            context = parse_json_object(cols["context_json"][i])
            event = Event(
                name=name,
                timestamp=cols["event_time_raw"][i] or "",
                actor_id=actor,
                data=parse_payload(cols["event_json"][i]),
                context=context,
                event_source=cols["event_source"][i],
                session=cols["session"][i],
                course_id=course_id,
                course_name=cols["course_name"][i],
                page=cols["page"][i],
                referer=cols["referer"][i],
                username=cols["actor_username"][i],
            )
            if not event.timestamp:
                out.skip(sha, line, name, "incomplete")
                continue
            statements, skipped = transform_event(event, stmt_settings)
            if skipped is not None:
                out.skip(sha, line, name, skipped)
                continue
            org = org_of(course_id, cols["org_id"][i])
            for stmt in statements:
                out.statement(sha, line, name, stmt, course_id, org)
        yield out.batch()
