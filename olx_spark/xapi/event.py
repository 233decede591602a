"""One tracking event as the transformers see it, normalised from a raw tracking-log row.

The raw table (`raw__edxorg__s3__tracking_logs`) keeps the payload and context as JSON text;
here they become dicts once, and the spec's normalisation applies (`specs/xapi.md`, "Event
shape"): `data` is the parsed payload (an object, or the string a browser event carries),
`name` is the event's `name`, else its `event_type`, `timestamp` is the event's time string as
it came in. Who the user is was worked out before (`actor_id`, from a mapping or pseudonymised)
and the course's display name comes from the course tables (`course_name`).

`session_id` is ERB's session: ERB looks the key `session` up anywhere in the event
(`find_nested`): the top-level `session` legacy lines carry, else the first one found in
`context` (where event-bus and browser events keep it), then in the payload.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson


class Unusable(ValueError):
    """The event lacks something its transformer needs (counted, not an error)."""


@dataclass(slots=True)
class Event:
    name: str
    timestamp: str
    actor_id: str
    data: Any = field(default_factory=dict)  # dict, or a str (browser problem_check), or None
    context: dict[str, Any] = field(default_factory=dict)
    event_source: str | None = None
    session: str | None = None  # the top-level `session` ("" is a session that is empty)
    course_id: str | None = None
    course_name: str | None = None
    page: str | None = None
    referer: str | None = None
    # Who the event names (for checks that keep personal data out of statements; never emitted).
    username: str | None = None

    def get(self, path: str, default: Any = None) -> Any:
        """`data.a.b` / `context.x` lookup; `default` when a step is missing or not a dict."""
        head, _, rest = path.partition(".")
        value: Any = {"data": self.data, "context": self.context}.get(head)
        for key in rest.split(".") if rest else ():
            if not isinstance(value, dict):
                return default
            value = value.get(key)
            if value is None:
                return default
        return default if value is None else value

    def present(self, path: str) -> Any:
        """`get(path)`, or None when ERB would find it empty (see `present`)."""
        return present(self.get(path))

    def session_id(self) -> Any:
        """The session ERB puts in the `session-id` extension, or None (see the module)."""
        found: Any = self.session
        if found is None:
            for part in (self.context, self.data):
                if isinstance(part, dict):
                    found = find_nested(part, "session")
                    if found is not None:
                        break
        if type(found) is str:  # the common case, kept cheap: it runs for every statement
            return found or None
        return present(scalar(found))

    def require(self, path: str) -> Any:
        """Like `get`, but a missing or empty value makes the event `Unusable`."""
        value = self.get(path)
        if value is None or value == "":
            raise Unusable(f"missing {path}")
        return value


def find_nested(source: dict[str, Any], key: str) -> Any:
    """ERB's lookup of a bare key (`get_data("session")`): `source[key]` when `source` has the
    key (whatever its value), else the first value not None found depth first in the objects
    `source` holds, in their order; an object holding the key with None is not searched
    further. Iterative: a deeply nested payload cannot exhaust the stack."""
    if key in source:
        return source[key]
    stack: list[Iterator[Any]] = [iter(source.values())]
    while stack:
        for value in stack[-1]:
            if isinstance(value, dict):
                if key in value:
                    if value[key] is not None:
                        return value[key]
                    continue
                stack.append(iter(value.values()))
                break
        else:
            stack.pop()
    return None


_WHITESPACE = re.compile(r"\s")


def identifier(value: Any, what: str) -> str:
    """An identifier as it goes into an IRI: a string (or number) with no whitespace; anything
    else makes the event `Unusable` (ERB would build a broken IRI)."""
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise Unusable(f"{what} is missing or not an identifier")
    text = str(value)
    if _WHITESPACE.search(text):
        raise Unusable(f"{what} has whitespace")
    return text


def finite(value: Any) -> bool:
    """Whether `value` is a number (not a bool) a float holds: not NaN, not an infinity, not an
    integer beyond float range (Python's `json` reads all three)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def present(value: Any) -> Any:
    """`value`, or None when ERB's `get_data` would find it empty: anything falsy but 0 (and
    False): None, "", {}, []. Optional fields are dropped exactly when ERB drops them."""
    if value is None or (value != 0 and not value):
        return None
    return value


def present_items(values: dict[str, Any]) -> dict[str, Any]:
    """`values` (extensions) with each value made `scalar` and the empty ones dropped."""
    kept = {key: scalar(value) for key, value in values.items()}
    return {key: value for key, value in kept.items() if present(value) is not None}


def scalar(value: Any) -> Any:
    """`value` when a statement can carry it as an extension value (text, a finite number, a
    bool), else None: NaN and infinities are not JSON, objects and lists are not what the
    field holds."""
    if isinstance(value, str | bool) or finite(value):
        return value
    return None


def loads(text: str) -> Any:
    """JSON text -> value: orjson (fast), else the standard library, which also reads what
    orjson refuses (integers past 64 bits, NaN); raises ValueError on anything else."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def parse_json_object(text: str | None) -> dict[str, Any]:
    """The JSON object in `text`, or {} (no text, not JSON, or not an object)."""
    if not text:
        return {}
    try:
        value = loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_payload(text: str | None) -> Any:
    """The payload as the raw table keeps it: an object (dict), else the value it spells."""
    if text is None:
        return {}
    try:
        value = loads(text)
    except ValueError:
        return text
    if isinstance(value, str) and value[:1] in ("{", "["):
        # A JSON object carried in a string, twice encoded.
        try:
            return loads(value)
        except ValueError:
            return value
    return value
