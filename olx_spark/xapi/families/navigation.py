"""Navigation events: a learner follows a link, picks a section in the course outline, or moves
between the units of a sequence (next, previous, or a unit's tab).

Why a module of its own: these are how Aspects sees learners move through a course. What this
module follows from ERB's navigation transformers (event-routing-backends, newest
`navigation_events.py`, the one with `get_object_iri` and `get_context_extensions`):

- Verb: dod-isd `navigated` for all six events.
- `edx.ui.lms.link_clicked`: object `data.target_url` (required), type link, no name.
- `edx.ui.lms.outline.selected`, `edx.ui.lms.sequence.outline.selected`: object
  `data.target_url`, type module, name `{"en": data.target_name}`.
- `edx.ui.lms.sequence.{next,previous,tab}_selected`: object `{LMS}/xblock/{data.id}` (the
  sequence), type resource, definition extension total-items = `data.tab_count`; context
  extensions starting-position = `data.current_tab` and ending-point = `data.target_tab` (tab),
  the text "next unit" (next) or "previous unit" (previous).
- Absent values are left out of the extensions (ERB's serialiser drops None); the definition
  keeps its (possibly empty) `extensions` object, as ERB's does.

Where ERB would emit an invalid statement (no object id) or fail (a name that is not a string),
the event is skipped as incomplete; so is a target that is not an absolute http(s) IRI (a
relative, `javascript:` or `mailto:` link), which no LRS would accept as an activity, and one
that names a person (an email address, credentials, a `/u/<username>` profile page, the
event's username): ERB would copy such a link, but no statement here carries a username or an
email.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from olx_spark.xapi.event import Event, Unusable, identifier, present, scalar
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.validate import is_iri
from olx_spark.xapi.vocabulary import (
    ACTIVITY_LINK,
    ACTIVITY_MODULE,
    ACTIVITY_RESOURCE,
    EN,
    EXT_ENDING_POSITION,
    EXT_STARTING_POSITION,
    EXT_TOTAL_ITEMS,
    NAVIGATED,
)

NEXT = "edx.ui.lms.sequence.next_selected"
PREVIOUS = "edx.ui.lms.sequence.previous_selected"
TAB = "edx.ui.lms.sequence.tab_selected"


# An email address anywhere in a link (a `mailto:` target, an `?email=` parameter).
_EMAIL = re.compile(r"[^\s/?#&=@:]+@[^\s/?#&=@]+\.[A-Za-z]{2,}")


def personal(url: str, event: Event) -> bool:
    """Whether a link names a person: an email, credentials, a profile page (`/u/<username>`,
    the LMS and profile MFE route), or the event's own username."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    profile = "u" in segments[:-1]
    # The username as a whole path segment or query value (a substring would match too much).
    words = {*segments, *(v for _, v in parse_qsl(parts.query)), unquote(parts.fragment)}
    username = event.get("context.username") or event.get("data.username")
    named = isinstance(username, str) and bool(username) and username in words
    return bool(_EMAIL.search(unquote(url))) or "@" in parts.netloc or profile or named


def target_url(event: Event) -> str:
    url = event.require("data.target_url")
    if not (isinstance(url, str) and is_iri(url) and url.startswith(("https://", "http://"))):
        raise Unusable(f"target is not an absolute http(s) IRI: {url!r}")
    if personal(url, event):
        # ERB would copy it; the statements here never carry usernames or emails.
        raise Unusable("target names a person")
    return url


@register("edx.ui.lms.link_clicked")
def link_clicked(event: Event, settings: Settings) -> list[Statement]:
    obj = activity(target_url(event), ACTIVITY_LINK)
    return [build(event, settings, NAVIGATED, obj)]


@register("edx.ui.lms.outline.selected", "edx.ui.lms.sequence.outline.selected")
def outline_selected(event: Event, settings: Settings) -> list[Statement]:
    name = event.require("data.target_name")
    if not isinstance(name, str):
        raise Unusable(f"target name is not text: {name!r}")
    obj = activity(target_url(event), ACTIVITY_MODULE, name=name, lang=EN)
    return [build(event, settings, NAVIGATED, obj)]


def ending_position(event: Event) -> Any:
    if event.name == TAB:
        return present(scalar(event.get("data.target_tab")))
    return "next unit" if event.name == NEXT else "previous unit"


@register(NEXT, PREVIOUS, TAB)
def sequence_selected(event: Event, settings: Settings) -> list[Statement]:
    sequence = identifier(event.get("data.id"), "data.id")
    total = present(scalar(event.get("data.tab_count")))
    obj = {
        "id": settings.block_iri(sequence),
        "objectType": "Activity",
        "definition": {
            "type": ACTIVITY_RESOURCE,
            "extensions": {} if total is None else {EXT_TOTAL_ITEMS: total},
        },
    }
    positions = {
        EXT_STARTING_POSITION: present(scalar(event.get("data.current_tab"))),
        EXT_ENDING_POSITION: ending_position(event),
    }
    extensions = {key: value for key, value in positions.items() if value is not None}
    return [build(event, settings, NAVIGATED, obj, extensions=extensions)]
