"""Discussion forum events: posting, editing, deleting, reporting, viewing and voting.

Facts from event-routing-backends (ERB, forum transformers as of release 9.2.0) that this
module follows:

- Verbs: created -> acrossx `posted`, edited -> acrossx `edited`, deleted -> dod-isd `deleted`,
  reported -> acrossx `reported`, unreported -> openedx `unreported` (threads, responses and
  comments alike), `edx.forum.thread.viewed` -> tincan `viewed`, thread and response `voted`
  -> openedx `voted`.
- Object (type `discussion`): its IRI is the LMS root, then the request path the event was
  logged under (`context.path`) with the post id removed and trailing slashes stripped, then
  `/` and the post id (`data.id`); both are required. When the event has a thread title
  (`data.title`), ERB puts it in the object's name (language `en`) -- so the title, which the
  author wrote, does appear in the statement. The post body never does.
- Responses and comments name their thread (`data.discussion.id`); ERB groups the statement
  with that thread as `{LMS}/api/discussion/v1/threads/{thread id}` (type `discussion`).
- Context extension acrossx `type`: the thread type (discussion / question) on
  `edx.forum.thread.created`, the vote direction (up / down) on the `voted` events; left out
  when the event lacks it.
"""

from __future__ import annotations

import re
from typing import Any

from olx_spark.xapi.event import Event, Unusable, identifier
from olx_spark.xapi.registry import register
from olx_spark.xapi.statement import Settings, Statement, activity, build
from olx_spark.xapi.vocabulary import (
    ACTIVITY_DISCUSSION,
    DELETED,
    EDITED,
    EN,
    EXT_ACROSSX_TYPE,
    POSTED,
    REPORTED,
    UNREPORTED,
    VIEWED,
    VOTED,
    Verb,
)

_POSTS = ("thread", "response", "comment")
_ACTIONS: dict[str, Verb] = {
    "created": POSTED,
    "edited": EDITED,
    "deleted": DELETED,
    "reported": REPORTED,
    "unreported": UNREPORTED,
}

# event name -> (verb, the payload field that becomes the acrossx `type` extension)
_FORUM: dict[str, tuple[Verb, str | None]] = {
    f"edx.forum.{post}.{action}": (verb, None)
    for post in _POSTS
    for action, verb in _ACTIONS.items()
}
_FORUM["edx.forum.thread.created"] = (POSTED, "thread_type")
_FORUM["edx.forum.thread.viewed"] = (VIEWED, None)
_FORUM["edx.forum.thread.voted"] = (VOTED, "vote_value")
_FORUM["edx.forum.response.voted"] = (VOTED, "vote_value")

_WHITESPACE = re.compile(r"\s")


def _iri_safe(text: str) -> str:
    # A request path with whitespace would not be an IRI; ERB copies it as is, we encode it.
    return _WHITESPACE.sub(lambda m: f"%{ord(m.group()):02X}", text)


def post_iri(event: Event, settings: Settings) -> str:
    """The post's IRI the way ERB builds it from the request path and the post id."""
    post_id = identifier(event.get("data.id"), "data.id")
    raw_path = event.get("context.path")
    if not isinstance(raw_path, str) or not raw_path:
        raise Unusable("missing context.path")
    path = raw_path.rstrip("/").replace(post_id, "").rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path  # an LMS path always has it; keep the host intact if one did not
    return _iri_safe(f"{settings.root}{path}/{post_id}")


def _thread_grouping(event: Event, settings: Settings) -> dict[str, Any] | None:
    thread_id = event.get("data.discussion.id")
    if isinstance(thread_id, bool) or not isinstance(thread_id, str | int) or thread_id == "":
        return None
    iri = _iri_safe(f"{settings.root}/api/discussion/v1/threads/{thread_id}")
    return {"grouping": [activity(iri, ACTIVITY_DISCUSSION)]}


def _forum(event: Event, settings: Settings) -> list[Statement]:
    verb, type_field = _FORUM[event.name]
    title = event.get("data.title")
    obj = activity(
        post_iri(event, settings),
        ACTIVITY_DISCUSSION,
        name=title if isinstance(title, str) else None,
        lang=EN,
    )
    kind = event.get(f"data.{type_field}") if type_field else None
    kind = kind if isinstance(kind, str) else None
    return [
        build(
            event,
            settings,
            verb,
            obj,
            extensions={EXT_ACROSSX_TYPE: kind} if kind else None,
            context_activities=_thread_grouping(event, settings),
        )
    ]


forum_event = register(*_FORUM)(_forum)
