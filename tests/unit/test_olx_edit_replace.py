"""`olx replace`: a subtree export edited and put back (specs/olx-versions.md), and every way
a replacement (or the archive it goes into) is refused. The course and the helpers are in
`tests/olx_edit_fixtures.py`; no Spark."""

from __future__ import annotations

import hashlib
import io
import json
import random
import tarfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from olx_spark.olx.edit import (
    EditRefused,
    OrphansDeclined,
    VersionConflict,
    delete_block,
    move_block,
    replace_subtree,
)
from tests.olx_edit_fixtures import (
    P1_XML,
    PDF,
    PNG,
    S1_XML,
    V1_XML,
    Files,
    archive_fixture,  # noqa: F401 (pytest finds the `archive` fixture here)
    assert_untouched,
    base_course,
    blocks,
    build,
    derived_ids,
    key,
    member_text,
    members,
    nothing_written,
    parse_file,
    replacement_s1,
    unnamed_course,
    url_name,
    write_dir,
)
from tests.spark.courses import write_tar_gz

# ---------------------------------------------------------------------------------------------
# replace
# ---------------------------------------------------------------------------------------------


def test_replace_edits_a_problem_and_adds_a_vertical(tmp_path: Path, archive: Path) -> None:
    s1 = S1_XML.replace("</sequential>", '  <vertical url_name="v5"/>\n</sequential>')
    rep = replacement_s1(
        tmp_path,
        {
            "sequential/s1.xml": s1,
            "problem/p1.xml": P1_XML.replace('answer="4"', 'answer="5"'),
            "vertical/v5.xml": '<vertical display_name="Unit 5">\n  <problem url_name="p5"/>\n</vertical>\n',
            "problem/p5.xml": '<problem display_name="Question 5"><p>New</p></problem>\n',
        },
    )
    out = tmp_path / "new.tar.gz"
    old = parse_file(archive)
    result = replace_subtree(archive, key("sequential", "s1"), rep, out=out)

    assert result.blocks_added == [key("vertical", "v5"), key("problem", "p5")]
    assert result.blocks_changed == [key("sequential", "s1"), key("problem", "p1")]
    assert result.blocks_removed == []
    assert result.files_written == [
        "problem/p1.xml",
        "problem/p5.xml",
        "sequential/s1.xml",
        "vertical/v5.xml",
    ]
    assert result.files_removed == []
    new = parse_file(out)
    assert new.errors == []
    assert result.old_course_version == old.course_version
    assert result.course_version == new.course_version != old.course_version
    assert result.subtree_hash == blocks(new)[key("sequential", "s1")]["subtree_hash"]
    assert len(blocks(new)) == 17
    assert member_text(out, "course/sequential/s1.xml") == s1
    assert_untouched(archive, out, {"problem/p1.xml", "sequential/s1.xml"})


def test_static_files_are_streamed_unchanged(tmp_path: Path) -> None:
    """A 24 MiB static file goes through a replace byte for byte, and Python never holds it
    (peak traced memory stays far below its size)."""
    course = base_course()
    big = random.Random(1).randbytes(24 * 1024 * 1024)
    course["static/lecture.mp4"] = big
    archive = build(tmp_path, course)
    rep = replacement_s1(tmp_path, {"problem/p1.xml": P1_XML.replace("2 + 2", "3 + 3")})
    out = tmp_path / "new.tar.gz"
    tracemalloc.start()
    try:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    after = members(out)
    assert after["course/static/lecture.mp4"] == hashlib.sha256(big).hexdigest()
    assert after["course/static/images/diagram.png"] == hashlib.sha256(PNG).hexdigest()
    statics = {r["path"]: r["sha256"] for r in parse_file(out).rows["static_files"]}
    assert statics["static/lecture.mp4"] == hashlib.sha256(big).hexdigest()


def test_version_conflict_exits_3_and_writes_nothing(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    actual = parse_file(archive).course_version
    with pytest.raises(VersionConflict) as raised:
        replace_subtree(
            archive,
            key("sequential", "s1"),
            replacement_s1(tmp_path),
            expect_version="0" * 64,
            out=out,
        )
    assert raised.value.exit_code == 3
    assert "version conflict" in str(raised.value)
    assert "0" * 64 in str(raised.value) and str(actual) in str(raised.value)
    nothing_written(out)


def test_expected_version_passes(tmp_path: Path, archive: Path) -> None:
    version = parse_file(archive).course_version
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(
        archive, key("sequential", "s1"), replacement_s1(tmp_path), expect_version=version, out=out
    )
    # an unchanged replacement: same version, nothing written, nothing changed
    assert result.course_version == version
    assert result.files_written == result.files_removed == result.blocks_changed == []
    assert members(out) == members(archive)


def test_would_be_orphans_declined_exit_4_naming_each(tmp_path: Path, archive: Path) -> None:
    """Dropping v2 from s1 would orphan v2 and its inline video; `shared` also sits under v3,
    so it is not an orphan."""
    s1 = S1_XML.replace('  <vertical url_name="v2"/>\n', "")
    rep = replacement_s1(tmp_path, {"sequential/s1.xml": s1, "vertical/v2.xml": None})
    out = tmp_path / "new.tar.gz"
    with pytest.raises(OrphansDeclined) as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, orphans="decline", out=out)
    error = raised.value
    assert error.exit_code == 4
    assert [(o.block_id, o.block_type, o.descendants) for o in error.orphans] == [
        (key("vertical", "v2"), "vertical", 1),
        (key("video", "vid2"), "video", 0),
    ]
    assert f"{key('vertical', 'v2')} (vertical, 1 descendant)" in str(error)
    assert key("problem", "shared") not in str(error)
    nothing_written(out)


def test_would_be_orphans_deleted_but_shared_block_stays(tmp_path: Path, archive: Path) -> None:
    s1 = S1_XML.replace('  <vertical url_name="v2"/>\n', "")
    rep = replacement_s1(tmp_path, {"sequential/s1.xml": s1, "vertical/v2.xml": None})
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(archive, key("sequential", "s1"), rep, orphans="delete", out=out)
    assert result.blocks_removed == [key("vertical", "v2"), key("video", "vid2")]
    assert result.blocks_changed == [key("sequential", "s1")]
    assert result.files_removed == ["vertical/v2.xml"]
    new = parse_file(out)
    shared = blocks(new)[key("problem", "shared")]
    assert shared["parent_block_id"] == key("vertical", "v3") and not shared["is_orphan"]
    assert "course/problem/shared.xml" in members(out)
    assert "course/vertical/v2.xml" not in members(out)
    assert "course/drafts/vertical/v2.xml" in members(out)  # drafts are not touched
    assert not any(b["is_orphan"] for b in new.rows["blocks"])
    assert_untouched(archive, out, {"sequential/s1.xml", "vertical/v2.xml"})


def test_orphans_deleted_with_their_own_descendants(tmp_path: Path, archive: Path) -> None:
    """Replacing ch1 without s1 (orphans=delete): s1, v1, p1, h1, v2, vid2 go; shared stays."""
    rep = write_dir(
        tmp_path / "rep",
        {
            "chapter/ch1.xml": '<chapter display_name="Week 1">\n  <sequential url_name="s2"/>\n</chapter>\n'
        },
    )
    out = tmp_path / "new.tar.gz"
    with pytest.raises(OrphansDeclined) as raised:
        replace_subtree(archive, key("chapter", "ch1"), rep, out=out)
    # the draft of v2 hangs under s1 (its parent_url): it would be orphaned too
    assert [(o.block_id, o.is_draft, o.descendants) for o in raised.value.orphans] == [
        (key("sequential", "s1"), False, 6),
        (key("vertical", "v1"), False, 2),
        (key("problem", "p1"), False, 0),
        (key("html", "h1"), False, 0),
        (key("vertical", "v2"), False, 1),
        (key("video", "vid2"), False, 0),
        (key("vertical", "v2"), True, 0),
    ]
    assert f"{key('vertical', 'v2')} (draft vertical, 0 descendants)" in str(raised.value)
    result = replace_subtree(archive, key("chapter", "ch1"), rep, orphans="delete", out=out)
    assert result.files_removed == [
        "drafts/vertical/v2.xml",
        "html/h1.html",
        "html/h1.xml",
        "problem/p1.xml",
        "sequential/s1.xml",
        "vertical/v1.xml",
        "vertical/v2.xml",
    ]
    assert set(result.blocks_removed) == {
        key("sequential", "s1"),
        key("vertical", "v1"),
        key("problem", "p1"),
        key("html", "h1"),
        key("vertical", "v2"),
        key("video", "vid2"),
    }
    assert result.blocks_changed == [key("chapter", "ch1")]
    new = parse_file(out)
    assert "course/drafts/vertical/v2.xml" not in members(out)
    assert "course/problem/shared.xml" in members(out)
    assert new.errors == []


def test_malformed_xml_refused_with_file_line_column(tmp_path: Path, archive: Path) -> None:
    bad = '<problem display_name="Question 1">\n  <p>2 + 2 = ?</b>\n</problem>\n'
    rep = replacement_s1(tmp_path, {"problem/p1.xml": bad})
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    error = raised.value
    assert error.exit_code == 2
    # lxml reports the mismatched end tag `</b>` (columns 15-18 of line 2) just after it
    assert str(error.location) == "problem/p1.xml:2:19"
    assert error.block_id == key("problem", "p1")
    assert "problem/p1.xml:2:19: not well-formed XML: Opening and ending tag mismatch" in str(error)
    assert f"(in {key('problem', 'p1')})" in str(error)
    nothing_written(out)


def test_root_of_another_type_or_id_refused(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    rep = replacement_s1(tmp_path, {"sequential/s1.xml": '<vertical display_name="x"/>\n'})
    with pytest.raises(EditRefused, match=r"sequential/s1.xml:1:1: the root is a <vertical>"):
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    rep2 = write_dir(
        tmp_path / "rep2",
        {"sequential/s1.xml": '<sequential url_name="s9" display_name="x"/>\n'},
    )
    with pytest.raises(EditRefused, match=r"url_name='s9'") as raised:
        replace_subtree(archive, key("sequential", "s1"), rep2, out=out)
    assert raised.value.block_id == key("sequential", "s1")
    nothing_written(out)


def test_block_with_a_parent_outside_the_subtree_refused(tmp_path: Path, archive: Path) -> None:
    """`shared` is also under v3 (in s2): a replacement of s1 may not change it."""
    rep = replacement_s1(
        tmp_path, {"problem/shared.xml": '<problem display_name="Changed"><p>!</p></problem>\n'}
    )
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert "already has a parent outside the subtree" in str(raised.value)
    assert key("vertical", "v3") in str(raised.value)
    assert str(raised.value.location) == "problem/shared.xml:1:1"
    assert raised.value.block_id == key("problem", "shared")
    nothing_written(out)
    # carried unchanged (other bytes, same content: a subtree export does that): accepted,
    # and the archive keeps its own bytes
    same = "<problem display_name='Shared'><p>Shared question</p></problem>"
    rep = replacement_s1(tmp_path / "b", {"problem/shared.xml": same})
    result = replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert result.files_written == result.blocks_changed == []
    assert members(out) == members(archive)


def test_cycle_refused(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    v1 = V1_XML.replace("</vertical>", '  <sequential url_name="s1"/>\n</vertical>')
    with pytest.raises(EditRefused) as raised:
        replace_subtree(
            archive,
            key("sequential", "s1"),
            replacement_s1(tmp_path, {"vertical/v1.xml": v1}),
            out=out,
        )
    message = str(raised.value)
    assert "vertical/v1.xml:4:3: a cycle" in message
    assert (
        f"{key('sequential', 's1')} -> {key('vertical', 'v1')} -> {key('sequential', 's1')}"
        in message
    )
    # through the archive: v1 points to the chapter that holds s1
    v1 = V1_XML.replace("</vertical>", '  <chapter url_name="ch1"/>\n</vertical>')
    rep = replacement_s1(tmp_path / "b", {"vertical/v1.xml": v1})
    with pytest.raises(EditRefused, match="a cycle") as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert key("chapter", "ch1") in str(raised.value)
    nothing_written(out)


def test_duplicate_id_refused(tmp_path: Path, archive: Path) -> None:
    s1 = (
        '<sequential display_name="Lesson 1">\n'
        '  <vertical url_name="v1"/>\n'
        '  <vertical url_name="v2"/>\n'
        '  <vertical url_name="v9" display_name="A"/>\n'
        '  <vertical url_name="v9" display_name="B"/>\n'
        "</sequential>\n"
    )
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        replace_subtree(
            archive,
            key("sequential", "s1"),
            replacement_s1(tmp_path, {"sequential/s1.xml": s1}),
            out=out,
        )
    assert str(raised.value.location) == "sequential/s1.xml:5:3"
    assert f"{key('vertical', 'v9')} is defined twice (also at sequential/s1.xml:4:3)" in str(
        raised.value
    )
    nothing_written(out)


def test_missing_pointer_refused(tmp_path: Path, archive: Path) -> None:
    s1 = S1_XML.replace("</sequential>", '  <vertical url_name="nope"/>\n</sequential>')
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused) as raised:
        replace_subtree(
            archive,
            key("sequential", "s1"),
            replacement_s1(tmp_path, {"sequential/s1.xml": s1}),
            out=out,
        )
    message = str(raised.value)
    assert "sequential/s1.xml:4:3: pointer to a missing file" in message
    assert "vertical/nope.xml" in message and f"(in {key('sequential', 's1')})" in message
    nothing_written(out)


def test_pointer_to_existing_block_is_kept_shared(tmp_path: Path, archive: Path) -> None:
    """A replacement of s1 with only s1.xml: v1 and v2 are pointers to files the archive has."""
    s1 = S1_XML.replace("</sequential>", '  <vertical url_name="v3"/>\n</sequential>')
    rep = write_dir(tmp_path / "rep", {"sequential/s1.xml": s1})
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert result.blocks_changed == [key("sequential", "s1")]
    assert result.blocks_added == result.blocks_removed == []
    parents = [
        e["parent_block_id"]
        for e in parse_file(out).rows["edges"]
        if e["child_block_id"] == key("vertical", "v3")
    ]
    assert parents == [key("sequential", "s1"), key("sequential", "s2")]


def test_unused_file_refused(tmp_path: Path, archive: Path) -> None:
    rep = replacement_s1(tmp_path, {"vertical/stray.xml": '<vertical display_name="x"/>\n'})
    with pytest.raises(EditRefused, match=r"vertical/stray.xml:1:1: this file is not part of"):
        replace_subtree(archive, key("sequential", "s1"), rep, out=tmp_path / "new.tar.gz")


def test_inline_root_becomes_a_pointer_and_its_own_file(tmp_path: Path) -> None:
    """v1 defined inline in s1.xml: the inline element becomes `<vertical url_name="v1"/>`
    (so s1's block_hash is unchanged) and the replacement is vertical/v1.xml."""
    course = base_course()
    del course["vertical/v1.xml"]
    course["sequential/s1.xml"] = (
        '<sequential display_name="Lesson 1">\n'
        '  <vertical url_name="v1" display_name="Unit 1">\n'
        '    <problem url_name="p1"/>\n'
        '    <html url_name="h1"/>\n'
        "  </vertical>\n"
        '  <vertical url_name="v2"/>\n'
        "</sequential>\n"
    )
    archive = build(tmp_path, course)
    old = parse_file(archive)
    # unchanged, as the exporter writes an inline root (its url_name kept): same version
    same = (
        '<vertical url_name="v1" display_name="Unit 1">\n'
        '    <problem url_name="p1"/>\n'
        '    <html url_name="h1"/>\n'
        "  </vertical>"
    )
    rep = write_dir(tmp_path / "same", {"vertical/v1.xml": same})
    out = tmp_path / "same.tar.gz"
    result = replace_subtree(archive, key("vertical", "v1"), rep, out=out)
    assert result.course_version == old.course_version
    assert result.blocks_changed == []
    assert result.files_written == ["sequential/s1.xml", "vertical/v1.xml"]
    assert member_text(out, "course/sequential/s1.xml") == S1_XML
    # edited: a new title and only p1
    rep = write_dir(
        tmp_path / "edited",
        {
            "vertical/v1.xml": '<vertical display_name="Unit 1 (new)">\n  <problem url_name="p1"/>\n</vertical>\n'
        },
    )
    out = tmp_path / "edited.tar.gz"
    result = replace_subtree(archive, key("vertical", "v1"), rep, orphans="delete", out=out)
    assert result.blocks_changed == [key("vertical", "v1")]
    assert result.blocks_removed == [key("html", "h1")]
    assert result.files_removed == ["html/h1.html", "html/h1.xml"]
    assert member_text(out, "course/sequential/s1.xml") == S1_XML
    assert parse_file(out).course_version == result.course_version


def test_colon_and_unicode_url_names(tmp_path: Path) -> None:
    """url_name `secret:unité` lives in vertical/secret/unité.xml; a new problem `ré:sumé` in
    problem/ré/sumé.xml."""
    course = base_course()
    course["sequential/s3.xml"] = (
        '<sequential display_name="Lesson 3">\n'
        '  <vertical url_name="v4"/>\n'
        '  <vertical url_name="secret:unité"/>\n'
        "</sequential>\n"
    )
    course["vertical/secret/unité.xml"] = '<vertical display_name="Unité secrète"/>\n'
    archive = build(tmp_path, course)
    rep = write_dir(
        tmp_path / "rep",
        {
            "vertical/secret/unité.xml": (
                '<vertical display_name="Unité secrète">\n  <problem url_name="ré:sumé"/>\n</vertical>\n'
            ),
            "problem/ré/sumé.xml": '<problem display_name="Résumé"><p>¿Qué?</p></problem>\n',
        },
    )
    out = tmp_path / "new.tar.gz"
    unit = key("vertical", "secret:unité")
    result = replace_subtree(archive, unit, rep, out=out)
    assert result.blocks_added == [key("problem", "ré:sumé")]
    assert result.blocks_changed == [unit]
    assert result.files_written == ["problem/ré/sumé.xml", "vertical/secret/unité.xml"]
    new = blocks(parse_file(out))
    assert new[key("problem", "ré:sumé")]["parent_block_id"] == unit
    # and it moves (same level: sequential -> sequential), its subtree hash unchanged
    moved = tmp_path / "moved.tar.gz"
    result = move_block(out, unit, key("sequential", "s1"), position=0, out=moved)
    assert result.subtree_hash == new[unit]["subtree_hash"]
    assert member_text(moved, "course/sequential/s1.xml").startswith(
        '<sequential display_name="Lesson 1">\n  <vertical url_name="secret:unité"/>\n'
    )


def test_replacement_tar_with_top_folder_and_manifest(tmp_path: Path, archive: Path) -> None:
    version = parse_file(archive).course_version
    manifest = {
        "format": "olx-spark-subtree/1",
        "course_id": "course-v1:X+C+R",
        "course_version": version,
        "root_block_id": key("sequential", "s1"),
        "parent_block_id": key("chapter", "ch1"),
        "position": 0,
        "subtree_hash": "",
        "static": [],
    }
    files = {
        "manifest.json": json.dumps(manifest),
        "sequential/s1.xml": S1_XML.replace("Lesson 1", "Lesson One"),
        "static/new.txt": "a new handout\n",
        "static/handout.pdf": PDF,  # the archive's own bytes: nothing to do
    }
    rep = write_tar_gz(tmp_path / "rep.tar.gz", {f"s1/{p}": v for p, v in files.items()})
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(archive, key("sequential", "s1"), rep, expect_version=version, out=out)
    assert result.blocks_changed == [key("sequential", "s1")]
    assert result.static_added == ["static/new.txt"]
    assert member_text(out, "course/static/new.txt") == "a new handout\n"
    assert members(out)["course/static/handout.pdf"] == hashlib.sha256(PDF).hexdigest()
    # a manifest for another block is refused
    manifest["root_block_id"] = key("sequential", "s2")
    files["manifest.json"] = json.dumps(manifest)
    rep = write_tar_gz(tmp_path / "rep2.tar.gz", {f"s1/{p}": v for p, v in files.items()})
    with pytest.raises(EditRefused, match="its root is"):
        replace_subtree(archive, key("sequential", "s1"), rep, out=tmp_path / "x.tar.gz")


def test_static_file_that_differs_is_refused(tmp_path: Path, archive: Path) -> None:
    rep = replacement_s1(tmp_path)
    (rep / "static").mkdir()
    (rep / "static/handout.pdf").write_bytes(b"other bytes")
    with pytest.raises(EditRefused, match=r"static/handout.pdf differs"):
        replace_subtree(archive, key("sequential", "s1"), rep, out=tmp_path / "new.tar.gz")


def test_export_edit_replace_loop(tmp_path: Path, archive: Path) -> None:
    """The subtree exporter's output goes back in unchanged (same version), then edited, twice
    in a row, each time with the version the export recorded."""
    from olx_spark.olx.export import plan_subtree_export
    from olx_spark.olx.export_write import write_export
    from olx_spark.olx.versions import CourseVersion

    current = archive
    for round_ in range(2):
        version = CourseVersion.from_parsed(parse_file(current), str(current))
        folder = tmp_path / f"export{round_}"
        plan = plan_subtree_export(version, key("sequential", "s1"))
        write_export(plan, str(folder), archive_uri=str(current))
        manifest = json.loads((folder / "manifest.json").read_text())
        out = tmp_path / f"same{round_}.tar.gz"
        same = replace_subtree(
            current,
            key("sequential", "s1"),
            folder,
            expect_version=manifest["course_version"],
            out=out,
        )
        assert same.course_version == version.course_version
        assert same.blocks_changed == []
        problem = folder / "problem" / "p1.xml"
        problem.write_text(problem.read_text().replace("</problem>", f"<p>{round_}</p></problem>"))
        edited = tmp_path / f"edited{round_}.tar.gz"
        result = replace_subtree(
            current,
            key("sequential", "s1"),
            folder,
            expect_version=manifest["course_version"],
            out=edited,
        )
        assert result.blocks_changed == [key("problem", "p1")]
        assert result.files_written == ["problem/p1.xml"]  # the rest re-serialized, unchanged
        assert result.course_version == parse_file(edited).course_version
        current = edited


def test_zip_archive_in_tar_gz_out(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(base_course().items()):
            archive.writestr(f"course/{path}", content)
    path = tmp_path / "course.zip"
    path.write_bytes(buffer.getvalue())
    rep = replacement_s1(tmp_path, {"problem/p1.xml": P1_XML.replace("4", "8")})
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(path, key("sequential", "s1"), rep, out=out)
    assert result.blocks_changed == [key("problem", "p1")]
    assert members(out)["course/static/images/diagram.png"] == hashlib.sha256(PNG).hexdigest()


def test_links_are_not_copied(tmp_path: Path) -> None:
    """A symlink member (ingest skips it) is dropped, and said so."""
    path = tmp_path / "course.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, content in sorted(base_course().items()):
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"course/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("course/static/evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(path, key("sequential", "s1"), replacement_s1(tmp_path), out=out)
    assert result.members_dropped == ["course/static/evil"]
    with tarfile.open(out) as tar:
        assert "course/static/evil" not in tar.getnames()


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_unknown_block_and_course(tmp_path: Path, archive: Path) -> None:
    rep = replacement_s1(tmp_path)
    out = tmp_path / "new.tar.gz"
    with pytest.raises(EditRefused, match=r"is not in this archive \(course-v1:X\+C\+R\)"):
        replace_subtree(archive, key("sequential", "nope"), rep, out=out)
    with pytest.raises(EditRefused, match="Did you mean block-v1:X\\+C\\+R\\+type@sequential"):
        replace_subtree(archive, key("vertical", "s1"), rep, out=out)
    other = "block-v1:Y+D+Z+type@sequential+block@s1"
    with pytest.raises(EditRefused, match=r"is in course course-v1:Y\+D\+Z, but the archive holds"):
        replace_subtree(archive, other, rep, out=out)
    with pytest.raises(EditRefused, match="is not a usage key"):
        replace_subtree(archive, "s1", rep, out=out)
    with pytest.raises(EditRefused, match="only as a draft"):
        delete_block(build(tmp_path / "d", _draft_only()), key("vertical", "v9"), out=out)
    nothing_written(out)


def _draft_only() -> Files:
    course = base_course()
    course["drafts/vertical/v9.xml"] = (
        '<vertical index_in_children_list="0" '
        'parent_url="block-v1:X+C+R+type@sequential+block@s2"/>\n'
    )
    return course


def test_archive_failing_the_safety_checks(tmp_path: Path) -> None:
    out = tmp_path / "new.tar.gz"
    rep = replacement_s1(tmp_path)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive at all" * 100)
    with pytest.raises(EditRefused, match=r"cannot be edited: junk.tar.gz is not a course archive"):
        replace_subtree(junk, key("sequential", "s1"), rep, out=out)
    whole = build(tmp_path).read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(EditRefused, match="is truncated"):
        replace_subtree(truncated, key("sequential", "s1"), rep, out=out)
    with pytest.raises(EditRefused, match="does not exist"):
        replace_subtree(tmp_path / "missing.tar.gz", key("sequential", "s1"), rep, out=out)
    nothing_written(out)


def test_replacement_that_is_not_olx(tmp_path: Path, archive: Path) -> None:
    out = tmp_path / "new.tar.gz"
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(EditRefused, match=r"the replacement .*notes.txt cannot be read"):
        replace_subtree(archive, key("sequential", "s1"), text, out=out)
    folder = write_dir(tmp_path / "rep", {"README.md": "nothing here"})
    with pytest.raises(EditRefused, match=r"has no sequential/s1.xml"):
        replace_subtree(archive, key("sequential", "s1"), folder, out=out)
    with pytest.raises(EditRefused, match=r"must name a .tar.gz"):
        replace_subtree(archive, key("sequential", "s1"), folder, out=tmp_path / "new.zip")
    nothing_written(out)


def test_replace_inside_an_unnamed_container_keeps_its_id(tmp_path: Path) -> None:
    """hx is inline in s2's unnamed vertical (its id a hash of its XML); replacing it turns
    that inline element into a pointer, so the vertical gets its id written as url_name."""
    archive = build(tmp_path, unnamed_course())
    (unit,) = derived_ids(parse_file(archive), "vertical")
    rep = write_dir(tmp_path / "rep", {"html/hx.xml": '<html display_name="X">x, edited</html>\n'})
    out = tmp_path / "new.tar.gz"
    result = replace_subtree(archive, key("html", "hx"), rep, out=out)
    assert result.blocks_added == result.blocks_removed == []
    assert result.blocks_changed == [unit, key("html", "hx")]
    assert result.files_written == ["html/hx.xml", "sequential/s2.xml"]
    assert member_text(out, "course/sequential/s2.xml") == (
        '<sequential display_name="Lesson 2">\n'
        '  <vertical url_name="v3"/>\n'
        f'  <vertical url_name="{url_name(unit)}">\n'
        '    <html url_name="hx"/>\n'
        '    <problem url_name="p1"/>\n'
        "  </vertical>\n"
        "</sequential>\n"
    )
    new = blocks(parse_file(out))
    assert new[key("html", "hx")]["parent_block_id"] == unit
    assert new[key("html", "hx")]["content"] == "x, edited"


def test_unsafe_url_names_and_filenames_refused(tmp_path: Path) -> None:
    """A file path an edit would write from a url_name or filename must be a safe relative
    path: the replaced block's own, a pointer's, a `filename`'s."""
    course = base_course()
    course["sequential/s2.xml"] = (
        '<sequential display_name="Lesson 2">\n'
        '  <vertical url_name="../../evil"><html url_name="hx">x</html></vertical>\n'
        '  <vertical url_name="v3"/>\n'
        "</sequential>\n"
    )
    archive = build(tmp_path, course)
    out = tmp_path / "new.tar.gz"
    evil = key("vertical", "../../evil")
    rep = write_dir(tmp_path / "rep", {"vertical/evil.xml": "<vertical/>\n"})
    with pytest.raises(EditRefused) as raised:
        replace_subtree(archive, evil, rep, out=out)
    assert f"{evil} has url_name '../../evil'" in str(raised.value)
    assert "not a safe relative path" in str(raised.value)
    assert raised.value.block_id == evil
    # a pointer in the replacement
    s1 = S1_XML.replace("</sequential>", '  <vertical url_name="../v9"/>\n</sequential>')
    rep = replacement_s1(tmp_path / "p", {"sequential/s1.xml": s1})
    with pytest.raises(EditRefused) as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert str(raised.value.location) == "sequential/s1.xml:4:3"
    assert f"{key('vertical', '../v9')} has url_name '../v9'" in str(raised.value)
    assert "not a safe relative path" in str(raised.value)
    # a filename in the replacement
    h1 = '<html filename="../../h1" display_name="Intro"/>\n'
    rep = replacement_s1(tmp_path / "f", {"html/h1.xml": h1})
    with pytest.raises(EditRefused) as raised:
        replace_subtree(archive, key("sequential", "s1"), rep, out=out)
    assert f"{key('html', 'h1')} has filename '../../h1'" in str(raised.value)
    assert "not a safe relative path" in str(raised.value)
    nothing_written(out)
