"""`olx move` and `olx delete`: which blocks and files change, what stays byte for byte, and
the refusals. The course and the helpers are in `tests/olx_edit_fixtures.py`; no Spark."""

from __future__ import annotations

from pathlib import Path

import pytest

from olx_spark.olx import edit_plan
from olx_spark.olx.edit import (
    EditRefused,
    OrphansDeclined,
    delete_block,
    move_block,
)
from olx_spark.olx.edit_model import FilePlan, Orphan
from olx_spark.olx.edit_source import load_course
from olx_spark.olx.edit_write import write_edited_archive
from olx_spark.olx.model import Limits
from tests.olx_edit_fixtures import (
    S1_XML,
    UNNAMED_S2,
    archive_fixture,  # noqa: F401 (pytest finds the `archive` fixture here)
    assert_untouched,
    base_course,
    blocks,
    build,
    derived_ids,
    key,
    member_text,
    namespaced_course,
    nothing_written,
    parse_file,
    unnamed_course,
    url_name,
)


def test_move_within_the_same_level(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    old = blocks(parse_file(archive))
    result = move_block(
        archive, key("vertical", "v3"), key("sequential", "s1"), position=1, out=out
    )
    assert result.blocks_changed == [key("sequential", "s1"), key("sequential", "s2")]
    assert result.blocks_added == result.blocks_removed == []
    assert result.subtree_hash == old[key("vertical", "v3")]["subtree_hash"]
    assert member_text(out, "course/sequential/s1.xml") == (
        '<sequential display_name="Lesson 1">\n'
        '  <vertical url_name="v1"/>\n'
        '  <vertical url_name="v3"/>\n'
        '  <vertical url_name="v2"/>\n'
        "</sequential>\n"
    )
    assert member_text(out, "course/sequential/s2.xml") == (
        '<sequential display_name="Lesson 2">\n</sequential>\n'
    )
    assert_untouched(archive, out, {"sequential/s1.xml", "sequential/s2.xml"})
    # and back into the now childless s2 (default position: last): s1 is as it was; s2's
    # indentation is not (its whitespace is part of its block_hash, so the version differs)
    back = tmp_path / "back.tar.gz"
    result = move_block(out, key("vertical", "v3"), key("sequential", "s2"), out=back)
    assert member_text(back, "course/sequential/s1.xml") == S1_XML
    assert member_text(back, "course/sequential/s2.xml") == (
        '<sequential display_name="Lesson 2">\n<vertical url_name="v3"/></sequential>\n'
    )
    assert (
        blocks(parse_file(back))[key("sequential", "s1")]["block_hash"]
        == (old[key("sequential", "s1")]["block_hash"])
    )


def test_move_reorders_within_a_parent(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    result = move_block(
        archive, key("vertical", "v1"), key("sequential", "s1"), position=1, out=out
    )
    assert result.blocks_changed == [key("sequential", "s1")]
    assert member_text(out, "course/sequential/s1.xml") == (
        '<sequential display_name="Lesson 1">\n'
        '  <vertical url_name="v2"/>\n'
        '  <vertical url_name="v1"/>\n'
        "</sequential>\n"
    )


def test_move_of_an_inline_block_keeps_its_hash(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    old = blocks(parse_file(archive))
    result = move_block(archive, key("video", "vid2"), key("vertical", "v4"), position=0, out=out)
    assert result.blocks_changed == [key("vertical", "v2"), key("vertical", "v4")]
    assert result.files_written == ["vertical/v2.xml", "vertical/v4.xml", "video/vid2.xml"]
    assert member_text(out, "course/video/vid2.xml") == (
        '<video url_name="vid2" display_name="Clip" youtube_id_1_0="abc"/>\n'
    )
    new = blocks(parse_file(out))
    assert new[key("video", "vid2")]["block_hash"] == old[key("video", "vid2")]["block_hash"]
    assert new[key("video", "vid2")]["parent_block_id"] == key("vertical", "v4")


def test_move_to_another_level_refused(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused, match="a move stays at the same level") as raised:
        move_block(archive, key("vertical", "v3"), key("chapter", "ch2"), out=out)
    assert raised.value.exit_code == 2
    with pytest.raises(EditRefused, match="position 5 is out of range"):
        move_block(archive, key("vertical", "v3"), key("sequential", "s1"), position=5, out=out)
    with pytest.raises(EditRefused, match="shared by 2 parents"):
        move_block(archive, key("problem", "shared"), key("vertical", "v4"), out=out)
    nothing_written(out)


def test_delete_keeps_shared_descendants(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    result = delete_block(archive, key("vertical", "v1"), out=out)
    assert result.blocks_removed == [key("vertical", "v1"), key("problem", "p1"), key("html", "h1")]
    assert result.blocks_changed == [key("sequential", "s1")]
    assert result.subtree_hash is None
    assert result.files_removed == [
        "html/h1.html",
        "html/h1.xml",
        "problem/p1.xml",
        "vertical/v1.xml",
    ]
    assert member_text(out, "course/sequential/s1.xml") == (
        '<sequential display_name="Lesson 1">\n  <vertical url_name="v2"/>\n</sequential>\n'
    )
    out2 = tmp_path / "new2.tar.gz"
    result = delete_block(archive, key("vertical", "v2"), out=out2)
    assert result.blocks_removed == [key("vertical", "v2"), key("video", "vid2")]
    assert result.files_removed == ["vertical/v2.xml"]
    assert key("problem", "shared") in blocks(parse_file(out2))
    assert_untouched(archive, out2, {"sequential/s1.xml", "vertical/v2.xml"})
    with pytest.raises(EditRefused, match="the course root"):
        delete_block(archive, "block-v1:X+C+R+type@course+block@course", out=tmp_path / "x.tar.gz")


# ---------------------------------------------------------------------------------------------
# containers whose id is derived from their XML
# ---------------------------------------------------------------------------------------------


def test_delete_inside_an_unnamed_container_keeps_its_id(tmp_path: Path) -> None:
    """Taking hx out of s2's unnamed vertical changes that vertical's XML, from which its id is
    derived: the edit writes the id it had as its url_name, so only its block_hash changes."""
    archive = build(tmp_path, unnamed_course())
    (unit,) = derived_ids(parse_file(archive), "vertical")
    out = tmp_path / "new.tar.gz"
    result = delete_block(archive, key("html", "hx"), out=out)
    assert result.blocks_removed == [key("html", "hx")]
    assert result.blocks_added == []
    assert result.blocks_changed == [unit]
    assert result.files_written == ["sequential/s2.xml"]
    assert member_text(out, "course/sequential/s2.xml") == (
        '<sequential display_name="Lesson 2">\n'
        '  <vertical url_name="v3"/>\n'
        f'  <vertical url_name="{url_name(unit)}">\n'
        '    <problem url_name="p1"/>\n'
        "  </vertical>\n"
        "</sequential>\n"
    )
    new = parse_file(out)
    assert result.course_version == new.course_version
    assert blocks(new)[unit]["parent_block_id"] == key("sequential", "s2")
    assert [e for e in new.rows["edges"] if e["parent_block_id"] == unit] == [
        {
            "parent_block_id": unit,
            "child_block_id": key("problem", "p1"),
            "position": 0,
            "is_draft": False,
        }
    ]
    assert_untouched(archive, out, {"sequential/s2.xml"})


def test_move_out_of_into_and_within_an_unnamed_container(tmp_path: Path) -> None:
    archive = build(tmp_path, unnamed_course())
    (unit,) = derived_ids(parse_file(archive), "vertical")
    # out of it: hx goes to v1 (and to its own file, as an inline block does)
    out = tmp_path / "out.tar.gz"
    result = move_block(archive, key("html", "hx"), key("vertical", "v1"), out=out)
    assert result.blocks_added == result.blocks_removed == []
    assert result.blocks_changed == [key("vertical", "v1"), unit]
    assert result.files_written == ["html/hx.xml", "sequential/s2.xml", "vertical/v1.xml"]
    assert f'<vertical url_name="{url_name(unit)}">\n    <problem' in member_text(
        out, "course/sequential/s2.xml"
    )
    assert blocks(parse_file(out))[key("html", "hx")]["parent_block_id"] == key("vertical", "v1")
    # into it: h1 from v1, first
    into = tmp_path / "into.tar.gz"
    result = move_block(archive, key("html", "h1"), unit, position=0, out=into)
    assert result.blocks_added == result.blocks_removed == []
    assert result.blocks_changed == [key("vertical", "v1"), unit]
    assert blocks(parse_file(into))[key("html", "h1")]["parent_block_id"] == unit
    # within it: hx after p1
    within = tmp_path / "within.tar.gz"
    result = move_block(archive, key("html", "hx"), unit, position=1, out=within)
    assert result.blocks_added == result.blocks_removed == []
    assert result.blocks_changed == [unit]
    for path in (out, into, within):
        assert parse_file(path).errors == []


def test_edits_inside_nested_unnamed_containers(tmp_path: Path) -> None:
    """An unnamed vertical in an unnamed sequential in ch2's file: an edit in the vertical
    changes the sequential's XML too, so both get their derived id as url_name; ch2 (which
    points to the sequential by that id) keeps its block_hash."""
    course = base_course()
    course["chapter/ch2.xml"] = (
        '<chapter display_name="Week 2">\n'
        '  <sequential url_name="s3"/>\n'
        "  <sequential>\n"
        "    <vertical>\n"
        '      <html url_name="hy">y</html>\n'
        '      <html url_name="hz">z</html>\n'
        "    </vertical>\n"
        "  </sequential>\n"
        "</chapter>\n"
    )
    archive = build(tmp_path, course)
    old = parse_file(archive)
    (sequential,) = derived_ids(old, "sequential")
    (unit,) = derived_ids(old, "vertical")
    out = tmp_path / "new.tar.gz"
    result = delete_block(archive, key("html", "hy"), out=out)
    assert result.blocks_removed == [key("html", "hy")]
    assert result.blocks_added == []
    assert result.blocks_changed == [sequential, unit]
    assert member_text(out, "course/chapter/ch2.xml") == (
        '<chapter display_name="Week 2">\n'
        '  <sequential url_name="s3"/>\n'
        f'  <sequential url_name="{url_name(sequential)}">\n'
        f'    <vertical url_name="{url_name(unit)}">\n'
        '      <html url_name="hz">z</html>\n'
        "    </vertical>\n"
        "  </sequential>\n"
        "</chapter>\n"
    )
    # a move from v4 into the inner one
    moved = tmp_path / "moved.tar.gz"
    result = move_block(archive, key("html", "h4"), unit, out=moved)
    assert result.blocks_added == result.blocks_removed == []
    assert result.blocks_changed == [key("vertical", "v4"), sequential, unit]
    assert (
        blocks(parse_file(moved))[key("chapter", "ch2")]["block_hash"]
        == (blocks(old)[key("chapter", "ch2")]["block_hash"])
    )


def test_move_that_would_orphan_a_block_gives_move_advice(tmp_path: Path) -> None:
    """An inline block moves to its own file; here its file declared a namespace, and its
    unnamed html child's id (a hash of its XML, declarations in scope included) would change:
    the move is declined, with advice a move can follow (no `--orphans`, which it lacks)."""
    archive = build(tmp_path, namespaced_course())
    (html,) = derived_ids(parse_file(archive), "html")
    out = tmp_path / "new.tar.gz"
    with pytest.raises(OrphansDeclined) as raised:
        move_block(archive, key("vertical", "vm"), key("sequential", "s1"), out=out)
    assert raised.value.exit_code == 4
    assert [o.block_id for o in raised.value.orphans] == [html]
    message = str(raised.value)
    assert "--orphans" not in message
    assert "a url_name in the archive first" in message and "then move again" in message
    nothing_written(out)


def test_orphan_advice_fits_each_command() -> None:
    orphan = Orphan(key("html", "hx"), "html", 0)
    assert "--orphans delete" in str(OrphansDeclined([orphan], "replace"))
    assert "--orphans delete" in str(OrphansDeclined([orphan]))  # replace is the default
    for command in ("move", "delete"):
        message = str(OrphansDeclined([orphan], command))
        assert "--orphans" not in message, command
        assert f"then {command} again" in message, command


def test_delete_never_removes_a_block_outside_what_it_deletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If an edit still changed an unnamed container's id (here: with the url_name it writes
    left out), a delete would lose that container: it declines instead of deleting it."""
    monkeypatch.setattr(edit_plan, "keep_hashed_names", lambda *args: [])
    archive = build(tmp_path, unnamed_course())
    (unit,) = derived_ids(parse_file(archive), "vertical")
    out = tmp_path / "new.tar.gz"
    with pytest.raises(OrphansDeclined) as raised:
        delete_block(archive, key("html", "hx"), out=out)
    assert [o.block_id for o in raised.value.orphans] == [unit]
    assert "--orphans" not in str(raised.value) and "then delete again" in str(raised.value)
    nothing_written(out)


# ---------------------------------------------------------------------------------------------
# url_names that are not safe file names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../evil", "a::b", ":lead"])
def test_move_of_an_inline_block_with_an_unsafe_url_name_refused(tmp_path: Path, name: str) -> None:
    """Moving an inline block writes it to `{type}/{url_name}.xml`: a url_name that makes that
    an unsafe path (`..`, an empty part) is refused, naming the block and its url_name."""
    course = base_course()
    course["sequential/s2.xml"] = (
        '<sequential display_name="Lesson 2">\n'
        f'  <vertical url_name="{name}"><html url_name="hx">x</html></vertical>\n'
        '  <vertical url_name="v3"/>\n'
        "</sequential>\n"
    )
    archive = build(tmp_path, course)
    assert key("vertical", name) in blocks(parse_file(archive))
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        move_block(archive, key("vertical", name), key("sequential", "s1"), out=out)
    message = str(raised.value)
    assert raised.value.exit_code == 2 and raised.value.block_id == key("vertical", name)
    assert f"{key('vertical', name)} has url_name {name!r}" in message
    assert "not a safe relative path" in message and "bug" not in message
    nothing_written(out)


def test_delete_in_a_course_xml_without_url_name_keeps_the_run(tmp_path: Path) -> None:
    """The course written inline in course.xml without url_name: its run (so every usage key)
    is derived from a hash of course.xml; deleting a chapter writes that run as url_name."""
    course = base_course()
    del course["course/R.xml"]
    course["course.xml"] = (
        '<course org="X" course="C">\n  <chapter url_name="ch1"/>\n  <chapter url_name="ch2"/>\n'
        "</course>\n"
    )
    archive = build(tmp_path, course)
    old = parse_file(archive)
    run = old.course_id.rsplit("+", 1)[1]
    assert run.startswith("course_")
    out = tmp_path / "new.tar.gz"
    result = delete_block(archive, f"block-v1:X+C+{run}+type@chapter+block@ch2", out=out)
    assert result.course_id == parse_file(out).course_id == old.course_id
    assert result.blocks_added == []
    assert result.blocks_changed == [f"block-v1:X+C+{run}+type@course+block@course"]
    assert len(result.blocks_removed) == 4  # ch2, s3, v4, h4
    assert member_text(out, "course/course.xml") == (
        f'<course url_name="{run}" org="X" course="C">\n  <chapter url_name="ch1"/>\n</course>\n'
    )


def test_unnamed_container_that_cannot_take_a_url_name_refused(tmp_path: Path) -> None:
    """An empty url_name counts as none (the id is still a hash of the XML), and a second
    url_name attribute cannot be added: refused, saying which url_name to give it."""
    course = unnamed_course()
    course["sequential/s2.xml"] = UNNAMED_S2.replace("  <vertical>", '  <vertical url_name="">')
    archive = build(tmp_path, course)
    (unit,) = derived_ids(parse_file(archive), "vertical")
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        delete_block(archive, key("html", "hx"), out=out)
    assert str(raised.value.location) == "sequential/s2.xml:3:3"
    assert f'Give it url_name="{url_name(unit)}" in sequential/s2.xml first' in str(raised.value)
    nothing_written(out)


def test_writing_an_unsafe_path_is_refused(tmp_path: Path, archive: Path) -> None:
    """The backstop in the writer: whatever plan reaches it, a new file with an unsafe path
    is not written."""
    course = load_course(archive, Limits())
    out = tmp_path / "new.tar.gz"
    for path in ("vertical/../../evil.xml", "/abs.xml", "vertical//x.xml"):
        plan = FilePlan({path: b"<vertical/>\n"})
        with pytest.raises(EditRefused, match="is not a safe relative path"):
            write_edited_archive(course, plan, out, Limits(), course.view.course_version)
        nothing_written(out)
