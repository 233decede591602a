"""A checker for xAPI 1.0.3 statements: the rules a conformant LRS enforces on what we emit.

Used by the tests (every statement of every family, and a property test over generated events)
and available to users (`problems(statement)`). It covers the parts of the specification our
statements use: ids are UUIDs, IRIs are absolute, language maps have language tags, the actor
is an Agent with exactly one inverse functional identifier, scores are consistent, timestamps
are ISO 8601 with an offset, extensions are keyed by IRIs, and no unknown top-level property.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from olx_spark.xapi.vocabulary import XAPI_VERSION

# Absolute IRIs as statements use them: http(s) with a host, or a URN / tag / mailto. (Bare
# `course-v1:...` or `block-v1:...` keys parse as IRIs with an odd scheme; LRSs and Aspects
# expect resolvable IRIs, so they are refused here.)
_IRI = re.compile(r"^(?:https?://[^\s/?#]+[^\s]*|(?:urn|tag|mailto):[^\s]+)$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_DURATION = re.compile(r"^P(?:\d+(?:\.\d+)?[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?$")
_STATEMENT_KEYS = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_INTERACTION_TYPES = {
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
}


def is_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(_IRI.match(value))


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _language_map(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not value:
        out.append(f"{where}: not a language map")
        return
    for tag, text in value.items():
        if not _LANG.match(str(tag)):
            out.append(f"{where}: {tag!r} is not a language tag")
        if not isinstance(text, str):
            out.append(f"{where}[{tag}]: not a string")


def _extensions(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: not an object")
        return
    for key in value:
        if not is_iri(key):
            out.append(f"{where}: key {key!r} is not an IRI")


def _agent(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: not an object")
        return
    if value.get("objectType", "Agent") != "Agent":
        out.append(f"{where}.objectType: must be Agent")
    ifis = [k for k in _IFIS if k in value]
    if len(ifis) != 1:
        out.append(f"{where}: needs exactly one identifier, has {ifis}")
        return
    if "account" in value:
        account = value["account"]
        if not isinstance(account, dict) or set(account) != {"homePage", "name"}:
            out.append(f"{where}.account: needs exactly homePage and name")
            return
        if not is_iri(account["homePage"]):
            out.append(f"{where}.account.homePage: not an IRI")
        if not isinstance(account["name"], str) or not account["name"]:
            out.append(f"{where}.account.name: empty")


def _activity(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{where}: not an object")
        return
    if value.get("objectType", "Activity") != "Activity":
        out.append(f"{where}.objectType: {value.get('objectType')!r} is not Activity")
    if not is_iri(value.get("id")):
        out.append(f"{where}.id: {value.get('id')!r} is not an absolute IRI")
    definition = value.get("definition")
    if definition is None:
        return
    if not isinstance(definition, dict):
        out.append(f"{where}.definition: not an object")
        return
    if "type" in definition and not is_iri(definition["type"]):
        out.append(f"{where}.definition.type: not an IRI")
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{where}.definition.{key}", out)
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{where}.definition.extensions", out)
    if "interactionType" in definition:
        if definition["interactionType"] not in _INTERACTION_TYPES:
            out.append(f"{where}.definition.interactionType: {definition['interactionType']!r}")
        pattern = definition.get("correctResponsesPattern")
        if pattern is not None and not (
            isinstance(pattern, list) and all(isinstance(p, str) for p in pattern)
        ):
            out.append(f"{where}.definition.correctResponsesPattern: not a list of strings")


def _timestamp(value: Any, where: str, out: list[str]) -> None:
    if not isinstance(value, str):
        out.append(f"{where}: not a string")
        return
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        out.append(f"{where}: {value!r} is not ISO 8601")
        return
    if parsed.tzinfo is None:
        out.append(f"{where}: {value!r} has no offset")


def _result(value: Any, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append("result: not an object")
        return
    score = value.get("score")
    if score is not None:
        if not isinstance(score, dict):
            out.append("result.score: not an object")
        else:
            scaled = score.get("scaled")
            if scaled is not None and not (
                isinstance(scaled, int | float)
                and not isinstance(scaled, bool)
                and -1 <= scaled <= 1
            ):
                out.append(f"result.score.scaled: {scaled!r} outside [-1, 1]")
            low, high, raw = score.get("min"), score.get("max"), score.get("raw")
            for name, number in (("min", low), ("max", high), ("raw", raw)):
                if number is not None and (
                    not isinstance(number, int | float) or isinstance(number, bool)
                ):
                    out.append(f"result.score.{name}: not a number")
            if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
                out.append("result.score: min > max")
            if isinstance(raw, int | float):
                if isinstance(low, int | float) and raw < low:
                    out.append("result.score.raw: below min")
                if isinstance(high, int | float) and raw > high:
                    out.append("result.score.raw: above max")
    for flag in ("success", "completion"):
        if flag in value and not isinstance(value[flag], bool):
            out.append(f"result.{flag}: not a boolean")
    if "response" in value and not isinstance(value["response"], str):
        out.append("result.response: not a string")
    if "duration" in value and not (
        isinstance(value["duration"], str) and _DURATION.match(value["duration"])
    ):
        out.append(f"result.duration: {value['duration']!r} is not an ISO 8601 duration")
    if "extensions" in value:
        _extensions(value["extensions"], "result.extensions", out)


def _context(value: Any, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append("context: not an object")
        return
    if "registration" in value and not is_uuid(value["registration"]):
        out.append("context.registration: not a UUID")
    activities = value.get("contextActivities")
    if activities is not None:
        if not isinstance(activities, dict):
            out.append("context.contextActivities: not an object")
        else:
            for key, items in activities.items():
                if key not in ("parent", "grouping", "category", "other"):
                    out.append(f"context.contextActivities.{key}: unknown")
                for i, item in enumerate(items if isinstance(items, list) else [items]):
                    _activity(item, f"context.contextActivities.{key}[{i}]", out)
    if "extensions" in value:
        _extensions(value["extensions"], "context.extensions", out)
    if "statement" in value:
        ref = value["statement"]
        if not (isinstance(ref, dict) and ref.get("objectType") == "StatementRef"):
            out.append("context.statement: not a StatementRef")
        elif not is_uuid(ref.get("id")):
            out.append("context.statement.id: not a UUID")


def problems(statement: Any) -> list[str]:
    """Everything that makes `statement` invalid xAPI 1.0.3 (empty list: valid)."""
    out: list[str] = []
    if not isinstance(statement, dict):
        return ["statement: not an object"]
    for key in statement:
        if key not in _STATEMENT_KEYS:
            out.append(f"{key}: not a statement property")
    for key in ("actor", "verb", "object"):
        if key not in statement:
            out.append(f"{key}: missing")
    if "id" in statement and not is_uuid(statement["id"]):
        out.append(f"id: {statement['id']!r} is not a UUID")
    if statement.get("version", XAPI_VERSION) != XAPI_VERSION:
        out.append(f"version: {statement.get('version')!r}")
    if "actor" in statement:
        _agent(statement["actor"], "actor", out)
    verb = statement.get("verb")
    if verb is not None:
        if not isinstance(verb, dict) or not is_iri(verb.get("id")):
            out.append("verb.id: not an IRI")
        elif "display" in verb:
            _language_map(verb["display"], "verb.display", out)
    obj = statement.get("object")
    if obj is not None:
        kind = obj.get("objectType", "Activity") if isinstance(obj, dict) else None
        if kind == "Activity":
            _activity(obj, "object", out)
        elif kind == "StatementRef":
            if not is_uuid(obj.get("id")):
                out.append("object.id: not a UUID")
        elif kind == "Agent":
            _agent(obj, "object", out)
        else:
            out.append(f"object.objectType: {kind!r} not supported here")
    if "result" in statement:
        _result(statement["result"], out)
    if "context" in statement:
        _context(statement["context"], out)
    if "timestamp" in statement:
        _timestamp(statement["timestamp"], "timestamp", out)
    return out
