"""Discussion forum `.mongo` files -> one row per document, MongoDB extended JSON decoded.

Each line is one document (a `CommentThread` or a `Comment`) in MongoDB's extended JSON:
`{"$oid": "..."}` becomes the id string, `{"$date": ...}` (epoch milliseconds, `$numberLong`, or
ISO text) a UTC timestamp, `$numberLong`/`$numberInt`/`$numberDouble` numbers, `$numberDecimal`
its text. The columns most queries need are pulled out; the whole decoded document is kept as
JSON so nothing the file said is lost.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ForumDocumentError(ValueError):
    """A line that is not a forum document; the message says why."""


def _date(value: Any) -> datetime:
    if isinstance(value, dict) and set(value) == {"$numberLong"}:
        value = int(value["$numberLong"])
    if isinstance(value, bool):
        raise ForumDocumentError(f"unreadable $date {value!r}")
    if isinstance(value, int | float):
        return EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ForumDocumentError(f"unreadable $date {value!r}")


def decode_extended_json(value: Any) -> Any:
    """Extended JSON (as parsed by `json`) -> plain values; unknown `$` forms are kept."""
    if isinstance(value, list):
        return [decode_extended_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        try:
            if key == "$oid":
                return str(inner)
            if key == "$date":
                return _date(inner)
            if key in ("$numberLong", "$numberInt"):
                return int(inner)
            if key == "$numberDouble":
                number = float(inner)
                return number if math.isfinite(number) else str(inner)
            if key == "$numberDecimal":
                return str(inner)
        except (TypeError, ValueError) as exc:
            raise ForumDocumentError(f"unreadable {key} value {inner!r} ({exc})") from None
    return {k: decode_extended_json(v) for k, v in value.items()}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return _json_default(value)
    return to_json(value)


def _timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return _date(value)
        except ValueError:
            return None
    return None


def parse_forum_line(line: str) -> dict[str, Any]:
    """One line -> a row keyed by the forum struct's field names (`FORUM_FIELDS` but
    `line_number`)."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ForumDocumentError(f"not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ForumDocumentError(f"expected a JSON object, found {type(raw).__name__}")
    doc = decode_extended_json(raw)
    return {
        "document_id": _text(doc.get("_id")),
        "document_type": _text(doc.get("_type")),
        "document_course_id": _text(doc.get("course_id")),
        "comment_thread_id": _text(doc.get("comment_thread_id")),
        "parent_id": _text(doc.get("parent_id")),
        "commentable_id": _text(doc.get("commentable_id")),
        "author_id": _text(doc.get("author_id")),
        "author_username": _text(doc.get("author_username")),
        "thread_type": _text(doc.get("thread_type")),
        "title": _text(doc.get("title")),
        "body": _text(doc.get("body")),
        "created_at": _timestamp(doc.get("created_at")),
        "updated_at": _timestamp(doc.get("updated_at")),
        "document_json": to_json(doc),
    }
