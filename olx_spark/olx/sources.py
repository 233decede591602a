"""The course's text files, parsed or decoded on demand, with every problem recorded.

The resolver asks for a file as XML, text or JSON; a missing, malformed, undecodable or
mistyped file becomes an entry in `errors` (path, kind, what to do) and the caller gets None,
so one bad file never stops the rest of the course.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from olx_spark.olx.model import ArchiveError
from olx_spark.olx.xml_safety import XmlProblem, parse_xml


class CourseSources:
    """The course's text files, parsed or decoded on demand; problems go to `errors`."""

    def __init__(self, texts: dict[str, bytes], errors: list[ArchiveError]) -> None:
        self.texts = texts
        self.errors = errors
        self._failed: set[str] = set()

    def _missing(self, path: str, referrer: str | None) -> None:
        self.errors.append(
            ArchiveError(
                path,
                "missing_file",
                f"{referrer} refers to {path}, which is not in the archive; that block was "
                "skipped. Add the file or remove the reference.",
            )
        )

    def xml(self, path: str, referrer: str | None) -> etree._Element | None:
        data = self.texts.get(path)
        if data is None:
            self._missing(path, referrer)
            return None
        if path in self._failed:
            return None
        try:
            return parse_xml(data, path)
        except XmlProblem as problem:
            self._failed.add(path)
            self.errors.append(problem.error)
            return None

    def text(self, path: str, referrer: str | None) -> str | None:
        data = self.texts.get(path)
        if data is None:
            self._missing(path, referrer)
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.errors.append(
                ArchiveError(
                    path,
                    "bad_encoding",
                    f"{path} is not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                    "undecodable bytes were replaced with U+FFFD.",
                )
            )
            return data.decode("utf-8", errors="replace")

    def json(self, path: str) -> Any:
        """The parsed JSON file, or None if it is absent or bad (bad: recorded)."""
        data = self.texts.get(path)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            self.errors.append(
                ArchiveError(
                    path,
                    "bad_json",
                    f"{path} is not valid JSON ({exc}); its settings were not applied. "
                    "Fix the file and export the course again.",
                )
            )
            return None

    def json_object(self, path: str) -> dict[str, Any] | None:
        value = self.json(path)
        if value is None or isinstance(value, dict):
            return value
        self.errors.append(
            ArchiveError(
                path,
                "bad_json",
                f"{path} must hold a JSON object, not a {type(value).__name__}; it was skipped.",
            )
        )
        return None
