"""Who the actor of a statement is: an opaque, stable per-user id, never a name or an address.

With an actor mapping configured (ERB's "xAPI external id": `user_id, username,
external_user_id`), Spark joins it in and the mapped id is used as is. Otherwise the id is a
pseudonymous UUID: the first 16 bytes of HMAC-SHA256(secret salt, user id), with the UUID
version-4 bits set so it reads as a UUID. The same user always gets the same id; without the
salt nobody can go back from it to the user (a plain hash of a small integer could be reversed
by trying them all). An event that names its user only by username is pseudonymised from the
username (`username:` + name, a separate input space, so it never collides with a user id).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid


class Pseudonyms:
    """Pseudonymous actor ids under one salt, memoised (a day of logs has few distinct users)."""

    def __init__(self, salt: str) -> None:
        if not salt:
            raise ValueError("the pseudonym salt is empty")
        self._key = salt.encode("utf-8")
        self._cache: dict[str, str] = {}

    def _make(self, text: str) -> str:
        found = self._cache.get(text)
        if found is None:
            digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).digest()
            found = str(uuid.UUID(bytes=digest[:16], version=4))
            if len(self._cache) < 1_000_000:
                self._cache[text] = found
        return found

    def for_user_id(self, user_id: int) -> str:
        return self._make(str(user_id))

    def for_username(self, username: str) -> str:
        return self._make("username:" + username)


def actor_id(
    pseudonyms: Pseudonyms,
    external_user_id: str | None,
    user_id: int | None,
    username: str | None,
) -> str | None:
    """The mapped id, else the pseudonym of the user id, else of the username; None: unknown."""
    if external_user_id:
        return external_user_id
    if user_id is not None:
        return pseudonyms.for_user_id(user_id)
    if username:
        return pseudonyms.for_username(username)
    return None
