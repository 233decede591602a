"""What every statement shares: id, actor, verb, context, timestamp, version (`specs/xapi.md`).

A family module only chooses the verb, the object and the result (and any extra context); this
module assembles the statement and computes its id exactly as the spec says:
`uuid5(uuid5(NS, verb_json), f"{actor_json}-{timestamp}")` with `json.dumps` default separators
and the keys in the spec's order, so the same event always gives the same id. The
`session-id` extension is the session wherever ERB finds it in the event (`Event.session_id`);
`block_usage_key` spells a block's usage key from its course as ERB does (CCX courses too).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from olx_spark.xapi.event import Event
from olx_spark.xapi.vocabulary import (
    ACTIVITY_COURSE,
    EN_US,
    EXT_SESSION_ID,
    EXT_TRANSFORMER_VERSION,
    XAPI_VERSION,
    Verb,
)

Statement = dict[str, Any]
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Settings:
    """Per-run settings of the transformation (from config and the command line)."""

    lms_root_url: str
    transformer_version: str

    @property
    def root(self) -> str:
        return self.lms_root_url.rstrip("/")

    def object_iri(self, kind: str, identifier: str) -> str:
        """`{LMS}/{kind}/{identifier}`, e.g. `xblock` + usage key, `course` + course id."""
        # Whitespace (a broken course id) would make it no IRI: percent-encode it.
        return f"{self.root}/{kind}/{_WHITESPACE.sub(lambda m: quote(m.group()), identifier)}"

    def course_iri(self, course_id: str) -> str:
        return self.object_iri("course", course_id)

    def block_iri(self, usage_key: str) -> str:
        return self.object_iri("xblock", usage_key)


def block_usage_key(course_id: str, block_type: str, block_id: str) -> str | None:
    """ERB's usage key of a block named only by its course and id (a video's `data.id`, a
    browser problem_check's input name): `block-v1:` (`ccx-block-v1:` in a CCX, as edx-platform
    spells its blocks) + the course key after its first ':' + `+type@{type}+block@{id}`. None
    for a course id with no ':' (a pre-2014 `ORG/COURSE/RUN` id: no such key exists)."""
    prefix = _block_key_prefix(course_id)
    return None if prefix is None else f"{prefix}+type@{block_type}+block@{block_id}"


@lru_cache(maxsize=4096)  # a log names few courses; this runs for every video event
def _block_key_prefix(course_id: str) -> str | None:
    parts = course_id.split(":")
    if len(parts) < 2:
        return None
    version = "block-" + parts[0].split("-")[-1]
    if "ccx" in parts[0]:
        version = "ccx-" + version
    return f"{version}:{parts[1]}"


def actor_json(actor_id: str, settings: Settings) -> str:
    """The actor exactly as the statement id is made from it."""
    return _actor_json(actor_id, settings.lms_root_url)


@lru_cache(maxsize=65536)  # a day of logs has few distinct actors; json.dumps is the cost
def _actor_json(actor_id: str, lms_root_url: str) -> str:
    return json.dumps(
        {"objectType": "Agent", "account": {"name": actor_id, "homePage": lms_root_url}}
    )


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))` without building UUID objects (per statement cost)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def statement_id(verb: Verb, actor_id: str, timestamp: str, settings: Settings) -> str:
    return uuid5_text(verb.namespace, f"{actor_json(actor_id, settings)}-{timestamp}")


def iso_timestamp(raw: str) -> str:
    """The event's time as ISO 8601 with an offset (a naive time is UTC, as the LMS writes)."""
    text = raw.strip().replace(" ", "T", 1)
    tail = text[10:]
    if text.endswith("Z") or "+" in tail or "-" in tail:
        return text[:-1] + "+00:00" if text.endswith("Z") else text
    return text + "+00:00"


def course_activity(course_id: str, course_name: str | None, settings: Settings) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": ACTIVITY_COURSE}
    if course_name:
        definition["name"] = {EN_US: course_name}
    return {
        "id": settings.course_iri(course_id),
        "objectType": "Activity",
        "definition": definition,
    }


def build(
    event: Event,
    settings: Settings,
    verb: Verb,
    obj: dict[str, Any],
    *,
    result: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
    context_activities: dict[str, Any] | None = None,
    course_parent: bool = True,
    id_timestamp: str | None = None,
) -> Statement:
    """Assemble one statement.

    `extensions`: event-specific context extensions (added after the common ones).
    `context_activities`: merged into `contextActivities` (e.g. `grouping`, `other`).
    `course_parent`: False when the object is the course itself (a course is not its own parent).
    `id_timestamp`: what the id is made from instead of the event's timestamp (child statements).
    """
    ext: dict[str, Any] = {EXT_TRANSFORMER_VERSION: settings.transformer_version}
    session: Any = event.session  # the line's own: the common case, no lookup
    if session is None:
        session = event.session_id()
    elif session == "":
        session = None  # an empty session at the top: none (ERB looks no further)
    if session is not None:
        ext[EXT_SESSION_ID] = session
    if extensions:
        ext.update(extensions)
    context: dict[str, Any] = {}
    activities: dict[str, Any] = {}
    if course_parent and event.course_id:
        activities["parent"] = [course_activity(event.course_id, event.course_name, settings)]
    if context_activities:
        activities.update(context_activities)
    if activities:
        context["contextActivities"] = activities
    context["extensions"] = ext
    stmt: Statement = {
        "id": statement_id(
            verb,
            event.actor_id,
            event.timestamp if id_timestamp is None else id_timestamp,
            settings,
        ),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": settings.lms_root_url, "name": event.actor_id},
        },
        "verb": verb.as_dict(),
        "object": obj,
    }
    if result is not None:
        stmt["result"] = result
    stmt["context"] = context
    stmt["timestamp"] = iso_timestamp(event.timestamp)
    stmt["version"] = XAPI_VERSION
    return stmt


def activity(
    iri: str,
    activity_type: str,
    *,
    name: str | None = None,
    lang: str = EN_US,
    extensions: dict[str, Any] | None = None,
    **definition: Any,
) -> dict[str, Any]:
    """An Activity object; `name` becomes a `lang` language map; extra keys go in definition."""
    body: dict[str, Any] = {"type": activity_type}
    if name:
        body["name"] = {lang: name}
    body.update(definition)
    if extensions is not None:
        body["extensions"] = extensions
    return {"id": iri, "objectType": "Activity", "definition": body}
