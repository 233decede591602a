"""OLX resolution (specs/olx.md), rule by rule, on small hand-written courses."""

from __future__ import annotations

import hashlib
import json

import pytest

from olx_spark.olx.model import ParsedArchive
from olx_spark.olx.tables import CONTENT_ENTITIES, entity_columns
from tests.olx_fixtures import (
    course_files,
    error_kinds,
    make_tar,
    minimal_course,
    parse_bytes,
    parse_files,
    rows_by,
)

TOY = "block-v1:OLXU+TOY101+2024_T1"
MINI = "block-v1:X+C+R"


def toy_id(block_type: str, url_name: str) -> str:
    return f"{TOY}+type@{block_type}+block@{url_name}"


def mini_id(block_type: str, url_name: str) -> str:
    return f"{MINI}+type@{block_type}+block@{url_name}"


@pytest.fixture(scope="module")
def toy() -> ParsedArchive:
    return parse_bytes(make_tar(course_files("toy"), prefix="toy/"), "toy.tar.gz")


def test_row_keys_are_exactly_the_table_columns(toy: ParsedArchive) -> None:
    assert set(toy.rows) == set(CONTENT_ENTITIES)
    for entity in CONTENT_ENTITIES:
        assert toy.rows[entity], entity
        for row in toy.rows[entity]:
            assert list(row) == entity_columns(entity)


def test_toy_identity(toy: ParsedArchive) -> None:
    assert toy.rejection is None
    assert toy.errors == []
    assert (toy.course_id, toy.org, toy.course, toy.run) == (
        "course-v1:OLXU+TOY101+2024_T1",
        "OLXU",
        "TOY101",
        "2024_T1",
    )
    assert toy.course_version and len(toy.course_version) == 64


COURSE = toy_id("course", "course")
INTRO = toy_id("chapter", "intro")
WELCOME = toy_id("sequential", "welcome")
SHARED = toy_id("vertical", "vert_shared")
V2 = toy_id("vertical", "v2")
DRAFT_V = toy_id("vertical", "draft_v")
INLINE_CH = toy_id("chapter", "Inline_Ch_")
SEQ_INLINE = toy_id("sequential", "seq_inline")

# block_id, parent, position, depth, is_draft, is_orphan, xml_path, title: in document order
TOY_BLOCKS = [
    (COURSE, None, None, 0, False, False, "course/2024_T1.xml", "Toy Course (policy)"),
    (INTRO, COURSE, 0, 1, False, False, "chapter/intro.xml", "Introduction"),
    (WELCOME, INTRO, 0, 2, False, False, "sequential/welcome.xml", "Welcome"),
    (SHARED, WELCOME, 0, 3, False, False, "vertical/vert_shared.xml", "Shared unit"),
    (toy_id("html", "hello"), SHARED, 0, 4, False, False, "html/hello.xml", "Hello"),
    (toy_id("problem", "p1"), SHARED, 1, 4, False, False, "problem/p1.xml", "Q1"),
    (toy_id("video", "vid"), SHARED, 2, 4, False, False, "vertical/vert_shared.xml", "Video"),
    (toy_id("mystery_block", "m1"), SHARED, 3, 4, False, False, "mystery_block/m1.xml", None),
    (V2, WELCOME, 1, 3, False, False, "vertical/v2.xml", "Unit 2"),
    (toy_id("html", "Inline_Hi"), V2, 0, 4, False, False, "vertical/v2.xml", "Inline Hi"),
    (toy_id("html", "ünï"), V2, 1, 4, False, False, "html/ünï.xml", "Юnicode é"),
    (toy_id("chapter", "secret:hidden"), COURSE, 1, 1, False, False, "chapter/secret/hidden.xml", "Hidden"),
    (INLINE_CH, COURSE, 2, 1, False, False, "course/2024_T1.xml", "Inline Ch!"),
    (SEQ_INLINE, INLINE_CH, 0, 2, False, False, "course/2024_T1.xml", "Inline seq"),
    (toy_id("problem", "orphan_q"), None, None, None, False, True, "problem/orphan_q.xml", "Lost"),
    (DRAFT_V, WELCOME, 1, 3, True, False, "drafts/vertical/draft_v.xml", "Draft unit"),
    (toy_id("html", "dh"), DRAFT_V, 0, 4, True, False, "drafts/html/dh.xml", "Draft html"),
]  # fmt: skip

TOY_EDGES = [
    (COURSE, INTRO, 0, False),
    (INTRO, WELCOME, 0, False),
    (WELCOME, SHARED, 0, False),
    (SHARED, toy_id("html", "hello"), 0, False),
    (SHARED, toy_id("problem", "p1"), 1, False),
    (SHARED, toy_id("video", "vid"), 2, False),
    (SHARED, toy_id("mystery_block", "m1"), 3, False),
    (WELCOME, V2, 1, False),
    (V2, toy_id("html", "Inline_Hi"), 0, False),
    (V2, toy_id("html", "ünï"), 1, False),
    (COURSE, toy_id("chapter", "secret:hidden"), 1, False),
    (COURSE, INLINE_CH, 2, False),
    (INLINE_CH, SEQ_INLINE, 0, False),
    (SEQ_INLINE, SHARED, 0, False),
    (WELCOME, DRAFT_V, 1, True),
    (DRAFT_V, toy_id("html", "dh"), 0, True),
]


def test_toy_blocks_exact(toy: ParsedArchive) -> None:
    got = [
        (
            b["block_id"],
            b["parent_block_id"],
            b["position"],
            b["depth"],
            b["is_draft"],
            b["is_orphan"],
            b["xml_path"],
            b["block_title"],
        )
        for b in toy.rows["blocks"]
    ]
    assert got == TOY_BLOCKS


def test_toy_edges_exact(toy: ParsedArchive) -> None:
    got = [
        (e["parent_block_id"], e["child_block_id"], e["position"], e["is_draft"])
        for e in toy.rows["edges"]
    ]
    assert got == TOY_EDGES


def test_block_type_and_url_name_columns(toy: ParsedArchive) -> None:
    blocks = rows_by(toy, "blocks", "block_id")
    assert (blocks[COURSE]["block_type"], blocks[COURSE]["url_name"]) == ("course", "2024_T1")
    colon = blocks[toy_id("chapter", "secret:hidden")]
    assert (colon["block_type"], colon["url_name"]) == ("chapter", "secret:hidden")


def test_settings_are_attributes_overridden_by_policy(toy: ParsedArchive) -> None:
    blocks = rows_by(toy, "blocks", "block_id")
    course = blocks[COURSE]
    assert course["xml_attributes"] == {
        "display_name": "Toy Course",
        "start": "2024-01-01T00:00:00Z",
    }
    # <wiki slug> and <textbook> under <course> are the course's fields (edx-platform's
    # CourseBlock), not child blocks.
    assert course["settings"] == {
        "display_name": "Toy Course (policy)",
        "start": "2024-01-01T00:00:00Z",
        "wiki_slug": "toy-wiki",
        "textbooks": '[["Toy Book","https://example.org/toy-book/"]]',
        "tabs": '[{"type":"courseware"}]',
        "self_paced": "true",
    }
    assert blocks[INTRO]["settings"]["start"] == "2024-02-01T00:00:00Z"
    p1 = blocks[toy_id("problem", "p1")]
    assert p1["xml_attributes"] == {"display_name": "Q1", "max_attempts": "1"}
    assert p1["settings"] == {"display_name": "Q1", "max_attempts": "1", "weight": "2"}


def test_raw_xml_replaces_child_blocks_by_pointers(toy: ParsedArchive) -> None:
    blocks = rows_by(toy, "blocks", "block_id")
    assert blocks[COURSE]["raw_xml"] == (
        '<course display_name="Toy Course" start="2024-01-01T00:00:00Z">\n'
        '  <chapter url_name="intro"/>\n'
        '  <textbook title="Toy Book" book_url="https://example.org/toy-book/"/>\n'
        '  <chapter url_name="secret:hidden"/>\n'
        '  <wiki slug="toy-wiki"/>\n'
        '  <chapter url_name="Inline_Ch_"/>\n'
        "</course>"
    )
    assert blocks[SHARED]["raw_xml"] == (
        '<vertical display_name="Shared unit">\n'
        '  <html url_name="hello"/>\n'
        '  <problem url_name="p1"/>\n'
        '  <video url_name="vid"/>\n'
        '  <mystery_block url_name="m1"/>\n'
        "</vertical>"
    )


def test_leaf_children_stay_in_the_leaf_xml(toy: ParsedArchive) -> None:
    blocks = rows_by(toy, "blocks", "block_id")
    assert blocks[toy_id("video", "vid")]["raw_xml"] == (
        '<video url_name="vid" display_name="Video" youtube_id_1_0="abc">'
        '<source src="a.mp4"/></video>'
    )
    assert '<choice correct="true">A</choice>' in blocks[toy_id("problem", "p1")]["raw_xml"]
    assert blocks[toy_id("mystery_block", "m1")]["raw_xml"] == (
        '<mystery_block foo="bar"><inner/></mystery_block>'
    )
    assert not any(b["block_type"] in ("source", "choice", "inner") for b in toy.rows["blocks"])


def test_html_bodies(toy: ParsedArchive) -> None:
    blocks = rows_by(toy, "blocks", "block_id")
    hello = blocks[toy_id("html", "hello")]
    assert hello["content"] == "<p>Hello, world</p>\n"
    assert hello["raw_xml"] == '<html filename="hello" display_name="Hello"/>'
    inline = blocks[toy_id("html", "Inline_Hi")]
    assert inline["content"] == "<p>Hi &amp; <b>bye</b></p>"
    assert blocks[toy_id("html", "ünï")]["content"] == "<p>Ünïcode body</p>\n"
    assert blocks[toy_id("problem", "p1")]["content"] is None


def test_block_hashes_are_sha256_hex(toy: ParsedArchive) -> None:
    hashes = [b["block_hash"] for b in toy.rows["blocks"]]
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
    assert len(set(hashes)) == len(hashes)


def test_policy_rows(toy: ParsedArchive) -> None:
    got = [
        (r["policy_file"], r["policy_key"], r["block_id"], r["setting"], r["value_json"])
        for r in toy.rows["policies"]
    ]
    policy = "policies/2024_T1/policy.json"
    grading = "policies/2024_T1/grading_policy.json"
    assets = "policies/assets.json"
    assert got == [
        (policy, "course/2024_T1", COURSE, "display_name", '"Toy Course (policy)"'),
        (policy, "course/2024_T1", COURSE, "tabs", '[{"type":"courseware"}]'),
        (policy, "course/2024_T1", COURSE, "self_paced", "true"),
        (policy, "chapter/intro", INTRO, "start", '"2024-02-01T00:00:00Z"'),
        (policy, "problem/p1", toy_id("problem", "p1"), "weight", "2"),
        (policy, "sequential/ghost", None, "visible_to_staff_only", "false"),
        (grading, "GRADER", None, None, '[{"type":"Homework","weight":1.0}]'),
        (grading, "GRADE_CUTOFFS", None, None, '{"Pass":0.5}'),
        (assets, "logo.png", None, "contentType", '"image/png"'),
        (assets, "logo.png", None, "displayname", '"logo.png"'),
        (assets, "logo.png", None, "locked", "false"),
    ]


def test_pages_with_run_override(toy: ParsedArchive) -> None:
    got = [(p["page_type"], p["name"], p["path"], p["content"]) for p in toy.rows["pages"]]
    assert got == [
        ("about", "overview", "about/2024_T1/overview.html", "<p>Run overview</p>\n"),
        ("about", "short_description", "about/short_description.html", "A toy course.\n"),
        ("info", "handouts", "info/handouts.html", "<ul><li>Handout</li></ul>\n"),
        ("info", "updates", "info/updates.html", "<ol><li>Welcome!</li></ol>\n"),
        (
            "info",
            "updates.items",
            "info/updates.items.json",
            '[{"id": 1, "date": "January 1, 2024", "content": "Welcome!", "status": "visible"}]\n',
        ),
        ("tabs", "syllabus", "tabs/syllabus.html", "<h2>Syllabus</h2>\n"),
        ("custom_tags", "book", "custom_tags/book", '<a href="/book">Book</a>\n'),
    ]


def test_static_files(toy: ParsedArchive) -> None:
    logo = b"\x89PNG\r\n\x1a\nfakepng"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>\n'
    assert toy.rows["static_files"] == [
        {
            "path": "static/images/diagram.svg",
            "size_bytes": len(svg),
            "sha256": hashlib.sha256(svg).hexdigest(),
            "mime_type": "image/svg+xml",
            "asset_metadata_json": None,
        },
        {
            "path": "static/logo.png",
            "size_bytes": len(logo),
            "sha256": hashlib.sha256(logo).hexdigest(),
            "mime_type": "image/png",
            "asset_metadata_json": '{"contentType":"image/png","displayname":"logo.png","locked":false}',
        },
    ]


def test_static_import_and_assets_xml() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "static_import/notes/a.txt": b"x",
                "static/b.pdf": b"%PDF",
                "assets/assets.xml": '<assets><asset filename="b.pdf"><locked>true</locked></asset></assets>',
            }
        )
    )
    statics = rows_by(parsed, "static_files", "path")
    assert set(statics) == {"static_import/notes/a.txt", "static/b.pdf"}
    assert statics["static/b.pdf"]["mime_type"] == "application/pdf"
    assert statics["static/b.pdf"]["asset_metadata_json"] == '{"locked":"true"}'
    assert [
        (r["policy_file"], r["policy_key"], r["setting"], r["value_json"])
        for r in parsed.rows["policies"]
    ] == [("assets/assets.xml", "b.pdf", "locked", '"true"')]


def test_shared_child_has_two_edges_and_first_parent(toy: ParsedArchive) -> None:
    into_shared = [e for e in toy.rows["edges"] if e["child_block_id"] == SHARED]
    assert [e["parent_block_id"] for e in into_shared] == [WELCOME, SEQ_INLINE]
    assert rows_by(toy, "blocks", "block_id")[SHARED]["parent_block_id"] == WELCOME
    assert sum(b["block_id"] == SHARED for b in toy.rows["blocks"]) == 1


def test_published_version_ignores_drafts_and_orphans(toy: ParsedArchive) -> None:
    files = course_files("toy")
    trimmed = {p: b for p, b in files.items() if not p.startswith("drafts/") and "orphan" not in p}
    again = parse_bytes(make_tar(trimmed, prefix="toy/"), "toy.tar.gz")
    assert again.course_version == toy.course_version
    assert len(again.rows["blocks"]) == len(toy.rows["blocks"]) - 3


def test_drafts_with_block_v1_parent_from_another_course() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": '<chapter display_name="Ch"><sequential url_name="s"/></chapter>',
                "sequential/s.xml": '<sequential><vertical url_name="v"/></sequential>',
                "vertical/v.xml": '<vertical display_name="Published v"/>',
                "drafts/vertical/v.xml": (
                    '<vertical display_name="Draft v" index_in_children_list="0" '
                    'parent_url="block-v1:Other+Course+Run+type@sequential+block@s"/>'
                ),
                "drafts/vertical/w.xml": (
                    '<vertical index_in_children_list="1" '
                    'parent_sequential_url="i4x://Old/Org/sequential/s"><problem url_name="dp"/></vertical>'
                ),
                "drafts/problem/dp.xml": '<problem display_name="Draft problem"/>',
            }
        )
    )
    assert parsed.errors == []
    blocks = [
        (b["block_id"], b["is_draft"], b["parent_block_id"], b["position"], b["depth"])
        for b in parsed.rows["blocks"]
    ]
    seq = mini_id("sequential", "s")
    assert blocks[-4:] == [
        (mini_id("vertical", "v"), False, seq, 0, 3),
        (mini_id("vertical", "v"), True, seq, 0, 3),
        (mini_id("vertical", "w"), True, seq, 1, 3),
        (mini_id("problem", "dp"), True, mini_id("vertical", "w"), 0, 4),
    ]
    draft_edges = [
        (e["parent_block_id"], e["child_block_id"], e["position"])
        for e in parsed.rows["edges"]
        if e["is_draft"]
    ]
    assert draft_edges == [
        (seq, mini_id("vertical", "v"), 0),
        (seq, mini_id("vertical", "w"), 1),
        (mini_id("vertical", "w"), mini_id("problem", "dp"), 0),
    ]
    drafts = [b for b in parsed.rows["blocks"] if b["is_draft"]]
    assert drafts[0]["block_title"] == "Draft v"
    assert not any(b["is_orphan"] for b in drafts)


def test_draft_with_unknown_parent_is_an_orphan() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "drafts/vertical/x.xml": (
                    '<vertical index_in_children_list="0" parent_url="i4x://X/C/sequential/nope"/>'
                )
            }
        )
    )
    assert error_kinds(parsed) == ["missing_parent"]
    draft = rows_by(parsed, "blocks", "block_id")[mini_id("vertical", "x")]
    assert (draft["is_draft"], draft["is_orphan"], draft["parent_block_id"]) == (True, True, None)


def test_orphans_are_blocks_with_their_children() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "vertical/lost.xml": '<vertical><html url_name="lost_html"/></vertical>',
                "html/lost_html.xml": "<html>lost</html>",
            }
        )
    )
    blocks = rows_by(parsed, "blocks", "block_id")
    lost = blocks[mini_id("vertical", "lost")]
    child = blocks[mini_id("html", "lost_html")]
    assert (lost["is_orphan"], lost["depth"], lost["parent_block_id"]) == (True, None, None)
    assert (child["is_orphan"], child["depth"], child["parent_block_id"]) == (
        True,
        None,
        mini_id("vertical", "lost"),
    )
    assert not blocks[mini_id("chapter", "ch")]["is_orphan"]


def test_derived_url_names() -> None:
    vertical = (
        "<vertical>"
        '<html slug="a slug"/>'
        '<problem name="N 1"/>'
        '<problem display_name="Q? é"/>'
        '<problem max_attempts="2"/>'
        "</vertical>"
    )
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": '<chapter><sequential url_name="s"/></chapter>',
                "sequential/s.xml": f"<sequential>{vertical}</sequential>",
            }
        )
    )
    digest = hashlib.sha1(b'<problem max_attempts="2"/>').hexdigest()[:12]
    names = [b["url_name"] for b in parsed.rows["blocks"]][3:]
    assert names[0].startswith("vertical_")
    assert names[1:] == ["a_slug", "N_1", "Q___", f"problem_{digest}"]


def test_duplicate_definition_keeps_the_first() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": (
                    '<chapter><html url_name="h" display_name="First">1</html>'
                    '<html url_name="h" display_name="Second">2</html></chapter>'
                )
            }
        )
    )
    assert error_kinds(parsed) == ["duplicate_block"]
    assert parsed.errors[0].path == "chapter/ch.xml"
    html = [b for b in parsed.rows["blocks"] if b["block_type"] == "html"]
    assert [(b["block_title"], b["content"]) for b in html] == [("First", "1")]


def test_inline_definition_duplicating_a_file_is_reported() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": '<chapter><problem url_name="p" display_name="Inline"/></chapter>',
                "problem/p.xml": '<problem display_name="File"/>',
            }
        )
    )
    assert error_kinds(parsed) == ["duplicate_block"]
    assert parsed.errors[0].path == "problem/p.xml"
    assert rows_by(parsed, "blocks", "url_name")["p"]["block_title"] == "Inline"


def test_filename_attribute_loads_file_and_pointing_attributes_win() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": '<chapter><problem url_name="p" filename="shared_p" weight="3"/></chapter>',
                "problem/shared_p.xml": '<problem weight="1" display_name="From file"><x/></problem>',
            }
        )
    )
    assert parsed.errors == []
    problem = rows_by(parsed, "blocks", "url_name")["p"]
    assert problem["xml_attributes"] == {
        "weight": "3",
        "display_name": "From file",
        "url_name": "p",
        "filename": "shared_p",
    }
    assert problem["xml_path"] == "problem/shared_p.xml"
    assert problem["raw_xml"].endswith("><x/></problem>")
    assert len([b for b in parsed.rows["blocks"] if b["block_type"] == "problem"]) == 1


def test_old_single_file_course_with_inline_children() -> None:
    course_xml = (
        '<course url_name="Fall" org="Old" course="6.00x" display_name="Old course">'
        '<chapter url_name="c1" display_name="C1">'
        '<sequential url_name="s1"><html url_name="h1">Hello</html><wiki slug="w"/></sequential>'
        "</chapter></course>"
    )
    parsed = parse_files({"course.xml": course_xml})
    assert parsed.course_id == "course-v1:Old+6.00x+Fall"
    got = [(b["block_id"], b["depth"], b["xml_path"]) for b in parsed.rows["blocks"]]
    key = "block-v1:Old+6.00x+Fall"
    assert got == [
        (f"{key}+type@course+block@course", 0, "course.xml"),
        (f"{key}+type@chapter+block@c1", 1, "course.xml"),
        (f"{key}+type@sequential+block@s1", 2, "course.xml"),
        (f"{key}+type@html+block@h1", 3, "course.xml"),
        (f"{key}+type@wiki+block@w", 3, "course.xml"),
    ]
    assert parsed.rows["blocks"][0]["settings"]["display_name"] == "Old course"


def test_course_fields_are_not_blocks_as_edx_platform_reads_them() -> None:
    # CourseBlock takes every <textbook> and the first <wiki> of <course> as its own fields;
    # a second <wiki> is left among the children, so it is a block; positions skip the fields.
    course_xml = (
        '<course url_name="R" org="O" course="C">'
        '<textbook title="One" book_url="https://example.org/1/"/>'
        '<chapter url_name="c1" display_name="C1"/>'
        '<wiki slug="O.C.R"/>'
        '<textbook title="Two" book_url="https://example.org/2/"/>'
        '<wiki slug="second"/>'
        '<chapter url_name="c2" display_name="C2"/>'
        "</course>"
    )
    parsed = parse_files({"course.xml": course_xml})
    key = "block-v1:O+C+R"
    got = [(e["child_block_id"], e["position"]) for e in parsed.rows["edges"]]
    assert got == [
        (f"{key}+type@chapter+block@c1", 0),
        (f"{key}+type@wiki+block@second", 1),
        (f"{key}+type@chapter+block@c2", 2),
    ]
    course = parsed.rows["blocks"][0]
    assert course["settings"]["wiki_slug"] == "O.C.R"
    assert json.loads(course["settings"]["textbooks"]) == [
        ["One", "https://example.org/1/"],
        ["Two", "https://example.org/2/"],
    ]
    assert '<wiki slug="O.C.R"/>' in course["raw_xml"]
    assert '<textbook title="Two" book_url="https://example.org/2/"/>' in course["raw_xml"]
    # A <wiki> without a slug is still the course's (no wiki_slug); no textbook, no textbooks.
    bare = parse_files({"course.xml": '<course url_name="R" org="O" course="C"><wiki/></course>'})
    assert [b["block_type"] for b in bare.rows["blocks"]] == ["course"]
    assert "wiki_slug" not in bare.rows["blocks"][0]["settings"]
    assert "textbooks" not in bare.rows["blocks"][0]["settings"]


def test_defaults_org_edx_course_folder_name_run_from_slug() -> None:
    parsed = parse_files(
        {"course.xml": '<course slug="Spring"><chapter url_name="a"/></course>'},
        name="ignored.tar.gz",
        prefix="export/Phys101/",
    )
    assert (parsed.org, parsed.course, parsed.run) == ("edx", "Phys101", "Spring")
    assert parsed.course_id == "course-v1:edx+Phys101+Spring"


def test_top_level_course_takes_course_code_from_archive_name() -> None:
    parsed = parse_files({"course.xml": '<course url_name="R"><chapter/></course>'}, "CS50.tar.gz")
    assert parsed.course == "CS50"


def test_character_references_and_non_ascii_in_course_xml() -> None:
    parsed = parse_files(
        {
            "course.xml": '<course url_name="R" org="&#1070;ni" course="Kurs&#233;"/>',
            "course/R.xml": '<course display_name="&#1070;&#1085;&#1080;"/>',
        }
    )
    assert parsed.course_id == "course-v1:Юni+Kursé+R"
    assert parsed.rows["blocks"][0]["block_title"] == "Юни"


@pytest.mark.parametrize("prefix", ["", "course/", "./course/", "2024_T1/", "a/b/c/"])
def test_course_root_at_any_depth(prefix: str) -> None:
    parsed = parse_bytes(make_tar(minimal_course(), prefix=prefix))
    assert parsed.rejection is None
    assert [b["xml_path"] for b in parsed.rows["blocks"]] == ["course/R.xml", "chapter/ch.xml"]


def test_shallowest_course_xml_is_the_root() -> None:
    files = minimal_course() | {
        "nested/course.xml": '<course url_name="Other" org="Y" course="Z"/>'
    }
    assert parse_files(files).course_id == "course-v1:X+C+R"


def test_content_library_export() -> None:
    parsed = parse_files(
        {
            "library.xml": (
                '<library org="LibOrg" library="LIB1" url_name="library" display_name="Lib">'
                '<problem url_name="p"/><html url_name="h">x</html></library>'
            ),
            "problem/p.xml": '<problem display_name="P"/>',
        }
    )
    assert parsed.errors == []
    assert (parsed.course_id, parsed.org, parsed.course, parsed.run) == (
        "library-v1:LibOrg+LIB1",
        "LibOrg",
        "LIB1",
        None,
    )
    got = [(b["block_id"], b["depth"], b["position"]) for b in parsed.rows["blocks"]]
    assert got == [
        ("lib-block-v1:LibOrg+LIB1+type@library+block@library", 0, None),
        ("lib-block-v1:LibOrg+LIB1+type@problem+block@p", 1, 0),
        ("lib-block-v1:LibOrg+LIB1+type@html+block@h", 1, 1),
    ]


def test_older_policy_file_and_value_forms() -> None:
    policy = {
        "course/R": {"display_name": "Policy name", "days_early_for_beta": 3, "tags": ["a"]},
        "chapter/ch": {"visible_to_staff_only": True, "start": None},
        "discussion_topics": {"General": {"id": "g"}},
    }
    parsed = parse_files(minimal_course({"policies/R.json": json.dumps(policy)}))
    blocks = rows_by(parsed, "blocks", "block_id")
    assert blocks[mini_id("course", "course")]["settings"] == {
        "display_name": "Policy name",
        "days_early_for_beta": "3",
        "tags": '["a"]',
    }
    assert blocks[mini_id("chapter", "ch")]["settings"] == {
        "display_name": "Ch",
        "visible_to_staff_only": "true",
        "start": "null",
    }
    rows = [(r["policy_file"], r["policy_key"], r["block_id"]) for r in parsed.rows["policies"]]
    assert rows[-1] == ("policies/R.json", "discussion_topics", None)


def test_missing_course_definition_keeps_course_block_from_course_xml() -> None:
    parsed = parse_files({"course.xml": '<course url_name="R" org="X" course="C"/>'})
    assert error_kinds(parsed) == ["missing_file"]
    assert parsed.errors[0].path == "course/R.xml"
    assert [b["block_id"] for b in parsed.rows["blocks"]] == [mini_id("course", "course")]


def test_container_children_are_blocks_leaf_children_are_data() -> None:
    vertical = (
        '<vertical url_name="v">'
        '<split_test url_name="st"><vertical url_name="a"/><vertical url_name="b"/></split_test>'
        '<conditional url_name="cond"><html url_name="ch">c</html></conditional>'
        '<openassessment url_name="ora"><rubric><criterion name="c1"/></rubric></openassessment>'
        '<drag-and-drop-v2 url_name="dnd"><data/></drag-and-drop-v2>'
        "</vertical>"
    )
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": f"<chapter><sequential url_name='s'>{vertical}</sequential></chapter>",
                "vertical/a.xml": "<vertical/>",
                "vertical/b.xml": "<vertical/>",
            }
        )
    )
    assert parsed.errors == []
    edges = [
        (e["parent_block_id"].rsplit("@", 1)[1], e["child_block_id"].rsplit("@", 1)[1])
        for e in parsed.rows["edges"]
    ]
    assert edges[3:] == [
        ("v", "st"),
        ("st", "a"),
        ("st", "b"),
        ("v", "cond"),
        ("cond", "ch"),
        ("v", "ora"),
        ("v", "dnd"),
    ]
    ora = rows_by(parsed, "blocks", "url_name")["ora"]
    assert ora["raw_xml"] == (
        '<openassessment url_name="ora"><rubric><criterion name="c1"/></rubric></openassessment>'
    )


def test_draft_child_that_exists_only_published_links_to_it() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "chapter/ch.xml": '<chapter><sequential url_name="s"/></chapter>',
                "sequential/s.xml": '<sequential><vertical url_name="v"/></sequential>',
                "vertical/v.xml": '<vertical><html url_name="h"/></vertical>',
                "html/h.xml": "<html>published</html>",
                "drafts/vertical/v.xml": (
                    '<vertical index_in_children_list="0" parent_url="i4x://X/C/sequential/s">'
                    '<html url_name="h"/></vertical>'
                ),
            }
        )
    )
    assert parsed.errors == []
    draft_edges = [
        (e["parent_block_id"], e["child_block_id"]) for e in parsed.rows["edges"] if e["is_draft"]
    ]
    assert draft_edges == [
        (mini_id("sequential", "s"), mini_id("vertical", "v")),
        (mini_id("vertical", "v"), mini_id("html", "h")),
    ]
    assert [b["is_draft"] for b in parsed.rows["blocks"]] == [False] * 5 + [True]


def test_asset_metadata_found_by_file_name_for_nested_static_files() -> None:
    parsed = parse_files(
        minimal_course(
            {
                "static/images/pic.jpg": b"\xff\xd8",
                "policies/assets.json": '{"pic.jpg": {"locked": true}}',
            }
        )
    )
    [static] = parsed.rows["static_files"]
    assert (static["path"], static["mime_type"], static["asset_metadata_json"]) == (
        "static/images/pic.jpg",
        "image/jpeg",
        '{"locked":true}',
    )


def test_pointer_url_name_wins_over_the_file() -> None:
    parsed = parse_files(minimal_course({"chapter/ch.xml": '<chapter url_name="other"/>'}))
    chapter = parsed.rows["blocks"][1]
    assert (chapter["block_id"], chapter["url_name"]) == (mini_id("chapter", "ch"), "ch")
    assert chapter["xml_attributes"] == {"url_name": "other"}
