"""The line-prefix and PII patterns Spark applies, through their Python references."""

from __future__ import annotations

import json

import pytest

from olx_spark.tracking.events import pii_hash, pii_value_pattern, scrub, split_prefix

EVENT = '{"event_type": "play_video", "event": "{}"}'


@pytest.mark.parametrize(
    ("line", "prefix", "body"),
    [
        (EVENT, None, EVENT),
        (
            "Mar  3 10:00:01 host-1 [service_variant=lms][tracking] INFO 12 [tracking] "
            f"logger.py:41 - {EVENT}",
            "Mar  3 10:00:01 host-1 [service_variant=lms][tracking] INFO 12 [tracking] "
            "logger.py:41 -",
            EVENT,
        ),
        (f"<14>2024-03-03T10:00:01Z host {EVENT}\r", "<14>2024-03-03T10:00:01Z host", EVENT),
        (f"   {EVENT}  ", None, EVENT),
        ("not json at all", None, None),
        ("prefix {broken", None, None),
        ("", None, None),
    ],
)
def test_split_prefix(line, prefix, body):
    assert split_prefix(line) == (prefix, body)


def test_a_line_separator_inside_a_string_does_not_stop_the_match():
    line = 'p {"event": "a\u2028b"}'
    assert split_prefix(line) == ("p", '{"event": "a\u2028b"}')


def test_pii_pattern_refuses_keys_that_are_not_plain():
    with pytest.raises(ValueError, match="not a plain key"):
        pii_value_pattern(["user|name"])


def test_scrub_hashes_or_drops_string_values_under_the_keys_anywhere():
    text = json.dumps(
        {
            "username": "alice",
            "post": {"body": 'He said "hi"\n', "id": 3},
            "ip": None,
            "answers": {"username": ["not a string"]},
            "other": "alice",
        }
    )
    keys = ["username", "body", "ip"]

    dropped = json.loads(scrub(text, keys, "drop"))
    assert dropped["username"] is None and dropped["post"] == {"body": None, "id": 3}
    assert dropped["answers"] == {"username": ["not a string"]}
    assert dropped["other"] == "alice"

    hashed = json.loads(scrub(text, keys, "hash", salt="s"))
    assert hashed["username"] == pii_hash("s", "alice")
    # The value as the JSON text spells it (escapes included) is what is hashed.
    assert hashed["post"]["body"] == pii_hash("s", 'He said \\"hi\\"\\n')
    assert scrub(text, keys, "keep") == text


def test_scrub_handles_long_values_without_backtracking():
    text = json.dumps({"body": "x\\" * 200_000})
    assert json.loads(scrub(text, ["body"], "drop")) == {"body": None}
