"""A bad part of a course is an error on the archive; the rest of the course still loads."""

from __future__ import annotations

import pytest
from lxml import etree

from olx_spark.olx.xml_safety import XmlProblem, parse_xml
from tests.olx_fixtures import error_kinds, make_tar, minimal_course, parse_bytes, parse_files

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<problem display_name="&lol9;"/>
"""

TWO_CHAPTERS = '<course><chapter url_name="good"/><chapter url_name="bad"/></course>'


def two_chapters(
    bad: bytes | str, more: dict[str, bytes | str] | None = None
) -> dict[str, bytes | str]:
    """Course R with chapters `good` and `bad` (`bad` is the file under test)."""
    return {
        "course.xml": '<course url_name="R" org="X" course="C"/>',
        "course/R.xml": TWO_CHAPTERS,
        "chapter/good.xml": '<chapter display_name="Good"/>',
        "chapter/bad.xml": bad,
        **(more or {}),
    }


def chapter_titles(files: dict[str, bytes | str]) -> tuple[list[str], list[str | None]]:
    parsed = parse_files(files)
    assert parsed.rejection is None
    titles = [b["block_title"] for b in parsed.rows["blocks"] if b["block_type"] == "chapter"]
    return error_kinds(parsed), titles


def test_malformed_xml_file() -> None:
    parsed = parse_files(two_chapters('<chapter display_name="Bad"><sequential></chapter>'))
    assert error_kinds(parsed) == ["bad_xml"]
    error = parsed.errors[0]
    assert error.path == "chapter/bad.xml"
    assert "chapter/bad.xml" in error.message and "not well-formed" in error.message
    assert [b["block_title"] for b in parsed.rows["blocks"]] == [None, "Good"]
    assert len(parsed.rows["edges"]) == 1


def test_pointer_to_missing_file() -> None:
    files = two_chapters("")
    del files["chapter/bad.xml"]
    parsed = parse_files(files)
    assert error_kinds(parsed) == ["missing_file"]
    error = parsed.errors[0]
    assert error.path == "chapter/bad.xml"
    assert "course/R.xml refers to chapter/bad.xml" in error.message
    assert [b["url_name"] for b in parsed.rows["blocks"]] == ["R", "good"]


def test_missing_html_body_keeps_the_block() -> None:
    kinds, _ = chapter_titles(
        two_chapters(
            '<chapter><html url_name="h"/></chapter>', {"html/h.xml": '<html filename="h"/>'}
        )
    )
    assert kinds == ["missing_file"]


@pytest.mark.parametrize(
    "policy", ['{"chapter/good": {"display_name": "X"', "[1, 2]", b'{"a": "\xff"}']
)
def test_bad_policy_json(policy: str | bytes) -> None:
    files = two_chapters(
        '<chapter display_name="Bad is fine"/>', {"policies/R/policy.json": policy}
    )
    parsed = parse_files(files)
    assert error_kinds(parsed) == ["bad_json"]
    assert parsed.errors[0].path == "policies/R/policy.json"
    assert [b["block_title"] for b in parsed.rows["blocks"]] == [None, "Good", "Bad is fine"]
    assert parsed.rows["policies"] == []


def test_bad_grading_policy_json_keeps_course_policy() -> None:
    files = minimal_course(
        {
            "policies/R/policy.json": '{"chapter/ch": {"display_name": "From policy"}}',
            "policies/R/grading_policy.json": "{GRADER: []}",
        }
    )
    parsed = parse_files(files)
    assert error_kinds(parsed) == ["bad_json"]
    assert parsed.rows["blocks"][1]["block_title"] == "From policy"


def test_bad_json_page_keeps_its_text() -> None:
    parsed = parse_files(minimal_course({"info/updates.items.json": "[{"}))
    assert error_kinds(parsed) == ["bad_json"]
    assert parsed.rows["pages"][0]["content"] == "[{"


def test_bad_utf8_html_body_is_replaced_and_reported() -> None:
    files = minimal_course(
        {
            "chapter/ch.xml": '<chapter><html url_name="h"/></chapter>',
            "html/h.xml": '<html filename="h"/>',
            "html/h.html": b"caf\xe9",
        }
    )
    parsed = parse_files(files)
    assert error_kinds(parsed) == ["bad_encoding"]
    assert parsed.rows["blocks"][-1]["content"] == "caf\ufffd"


def test_billion_laughs_is_refused_not_expanded() -> None:
    kinds, titles = chapter_titles(
        two_chapters(
            '<chapter><problem url_name="lol"/></chapter>', {"problem/lol.xml": BILLION_LAUGHS}
        )
    )
    assert kinds == ["xml_entities"]
    assert titles == ["Good", None]


def test_entities_in_course_xml_reject_the_archive() -> None:
    data = make_tar({"course.xml": BILLION_LAUGHS.replace("problem", "course")})
    parsed = parse_bytes(data)
    assert parsed.rejection is not None and parsed.rejection.kind == "xml_entities"


def test_entities_declared_in_utf16_are_refused() -> None:
    with pytest.raises(XmlProblem) as info:
        parse_xml(
            BILLION_LAUGHS.replace('1.0"?>', '1.0" encoding="utf-16"?>').encode("utf-16"), "p.xml"
        )
    assert info.value.error.kind == "xml_entities"


def test_external_dtd_is_not_loaded_and_references_stay_unexpanded() -> None:
    external = '<!DOCTYPE p SYSTEM "http://127.0.0.1:9/evil.dtd"><p>&ext;</p>'
    root = parse_xml(external.encode(), "p.xml")
    assert etree.tostring(root) == b"<p>&ext;</p>"
    assert root.text is None


def test_undefined_entity_is_bad_xml() -> None:
    with pytest.raises(XmlProblem) as info:
        parse_xml(b"<html>a&nbsp;b</html>", "html/x.xml")
    assert info.value.error.kind == "bad_xml"
    assert info.value.error.path == "html/x.xml"


def test_one_error_per_bad_file_even_if_scanned_twice() -> None:
    parsed = parse_files(
        minimal_course({"problem/bad.xml": "<problem>", "vertical/v.xml": "<oops"})
    )
    assert sorted(error_kinds(parsed)) == ["bad_xml", "bad_xml"]
    assert parsed.block_count == 2
