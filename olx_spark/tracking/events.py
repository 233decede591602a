"""The patterns Spark applies to tracking log lines, declared once, with Python references.

Spark does the work (`olx_spark.spark.tracking_logs`, Java regular expressions through
`regexp_extract`, `regexp_replace`, `split`); the Python functions here spell out the same rules
over one string so unit tests can pin the semantics without a JVM, and the Spark test checks the
two agree. The patterns use only syntax Java and Python (3.11+) read the same way.

- `LINE_PATTERN`: a JSON object, possibly behind a prefix, e.g. syslog's
  `Mar  3 10:00:01 host-1 [service_variant=lms][tracking] ... {json}`. The prefix is everything
  before the first `{`; the object runs to the last `}`. A line starting with `{` skips the
  regular expression altogether (the common case).
- `pii_value_pattern(keys)`: a JSON string value under one of `keys` (anywhere in the text),
  for hashing (`sha256(salt + value)`, hex, over the value as the JSON text spells it) or
  dropping (the value becomes `null`) when `tracking.pii` says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

# Group 1: the prefix (surrounding whitespace excluded), group 2: the JSON object.
LINE_PATTERN = r"(?s)^\s*([^{]*?)\s*(\{.*\})\s*$"
PREFIX_GROUP = 1
BODY_GROUP = 2

PII_MODES = ("keep", "hash", "drop")
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
# Possessive quantifiers: no backtracking, and no deep recursion in Java on long values.
_JSON_STRING_BODY = r'[^"\\]*+(?:\\.[^"\\]*+)*+'


def pii_value_pattern(keys: Iterable[str]) -> str:
    """Group 1: `"key": ` (as spelled), group 2: the string value between its quotes."""
    names = list(keys)
    if not names:
        raise ValueError("no keys given")
    for name in names:
        if not _KEY.match(name):
            raise ValueError(f"tracking.pii_json_keys: {name!r} is not a plain key (A-Z a-z 0-9 _)")
    return '("(?:' + "|".join(names) + r')"\s*+:\s*+)"(' + _JSON_STRING_BODY + ')"'


def split_prefix(line: str) -> tuple[str | None, str | None]:
    """(prefix or None, JSON object text or None) as Spark computes them."""
    if line.startswith("{"):
        return None, line
    found = re.match(LINE_PATTERN, line)
    if found is None:
        return None, None
    return (found.group(PREFIX_GROUP) or None), found.group(BODY_GROUP)


def pii_hash(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()


def scrub(text: str, keys: Iterable[str], mode: str, salt: str = "") -> str:
    """`text` with the string values under `keys` hashed or dropped, as Spark does it."""
    if mode == "keep":
        return text
    pattern = re.compile(pii_value_pattern(keys))
    if mode == "drop":
        return pattern.sub(lambda m: m.group(1) + "null", text)
    return pattern.sub(lambda m: f'{m.group(1)}"{pii_hash(salt, m.group(2))}"', text)
