"""Export of a loaded course version back to OLX: ingest(export(x)) gives x again.

The round trip compares what the lakehouse promises to keep (blocks with their ids, draft and
orphan flags, block and subtree hashes; edges with positions; static paths and sha256s; the
course version) for the bundled samples, every synth scale, the hand-written shapes (drafts,
orphans, shared blocks, inline blocks, `:` and unicode in names, library content, a content
library) and random generated shapes. Then the subtree export's exact files and manifest, and
what happens when static bytes are gone or changed.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from olx_spark.olx.export import plan_course_export, plan_subtree_export
from olx_spark.olx.export_write import ExportFailed, write_export
from olx_spark.olx.model import ParsedArchive
from olx_spark.olx.parse import parse_course_archive
from olx_spark.olx.versions import CourseVersion, VersionError
from olx_spark.synth.corpus import generate_course_archive
from olx_spark.synth.scales import SCALES
from tests.olx_fixtures import course_files, make_tar
from tests.olx_generated import course_shape, generate, orphan_types, shares
from tests.olx_versions_fixtures import (
    COURSE_ID,
    PNG,
    UNICODE_STATIC,
    block_id,
    content_library,
    tricky_course,
)
from tests.spark.courses import write_tar_gz

SAMPLES = sorted((Path(__file__).parents[2] / "samples" / "course-archives").glob("*.tar.gz"))


def parse_file(path: Path) -> ParsedArchive:
    with path.open("rb") as handle:
        return parse_course_archive(handle, path.name)


def kept(parsed: ParsedArchive) -> dict[str, Any]:
    """What a round trip must keep."""
    return {
        "course_id": parsed.course_id,
        "course_version": parsed.course_version,
        "blocks": sorted(
            (b["block_id"], b["is_draft"], b["is_orphan"], b["block_hash"], b["subtree_hash"])
            for b in parsed.rows["blocks"]
        ),
        "edges": sorted(
            (
                (e["parent_block_id"], e["child_block_id"], e["position"], e["is_draft"])
                for e in parsed.rows["edges"]
            ),
            key=lambda edge: (edge[0], edge[1], -1 if edge[2] is None else edge[2], edge[3]),
        ),
        "static": sorted((s["path"], s["sha256"]) for s in parsed.rows["static_files"]),
        "errors": sorted((e.kind, e.path) for e in parsed.errors),
    }


def round_trip(archive: Path, out: Path) -> tuple[ParsedArchive, ParsedArchive]:
    source = parse_file(archive)
    version = CourseVersion.from_parsed(source, archive_uri=str(archive))
    result = write_export(
        plan_course_export(version),
        str(out),
        archive_uri=str(archive),
        archive_size=archive.stat().st_size,
    )
    assert result.static_missing == [] and result.warnings == []
    return source, parse_file(out)


@pytest.mark.parametrize("archive", SAMPLES, ids=lambda p: p.name)
def test_bundled_samples_round_trip(archive: Path, tmp_path: Path) -> None:
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert source.block_count > 50
    assert kept(again) == kept(source)


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_every_synth_scale_round_trips(scale: str, tmp_path: Path) -> None:
    archive = tmp_path / f"{scale}.tar.gz"
    generate_course_archive(archive, 7, scale, drafts=2)
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert any(b["is_draft"] for b in source.rows["blocks"])
    assert kept(again) == kept(source)


@pytest.mark.parametrize(
    "files",
    [tricky_course(), tricky_course(inline_root=True), content_library()],
    ids=["tricky", "inline-course-xml", "content-library"],
)
def test_hand_written_shapes_round_trip(files: dict[str, str | bytes], tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", files)
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert source.errors == []
    assert kept(again) == kept(source)


def test_toy_course_with_its_errors_round_trips(tmp_path: Path) -> None:
    archive = tmp_path / "toy.tar.gz"
    archive.write_bytes(make_tar(course_files("toy"), prefix="toy/"))
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert kept(again) == kept(source)


def test_the_tricky_course_has_every_shape() -> None:
    """The round trip above means something only if the course holds what it claims."""
    source = parse_course_archive(io.BytesIO(make_tar(tricky_course())), "t.tar.gz")
    blocks = {(b["is_draft"], b["block_id"]): b for b in source.rows["blocks"]}
    assert (True, block_id("vertical", "draft_v")) in blocks
    assert blocks[(False, block_id("problem", "orphan_p"))]["is_orphan"]
    assert blocks[(False, block_id("problem", "Inline_problem"))]["xml_path"] == "vertical/v1.xml"
    assert any(b["url_name"].startswith("html_") for b in source.rows["blocks"])  # derived name
    assert (False, block_id("problem", "ns:q:deep")) in blocks
    assert blocks[(False, block_id("problem", "p_file"))]["xml_path"] == "problem/p_body.xml"
    shared = [
        e for e in source.rows["edges"] if e["child_block_id"] == block_id("vertical", "shared_v")
    ]
    assert len(shared) == 2
    assert blocks[(False, block_id("course", "course"))]["settings"]["wiki_slug"] == "vers101"


def test_export_to_a_folder_writes_studio_layout(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", tricky_course())
    version = CourseVersion.from_parsed(parse_file(archive), archive_uri=str(archive))
    out = tmp_path / "folder"
    result = write_export(plan_course_export(version), str(out), archive_uri=str(archive))
    assert (out / "course.xml").read_text() == (
        '<course url_name="2025_T1" org="OLXSparkX" course="VERS101"/>'
    )
    assert (out / "problem/ns/q/deep.xml").exists()  # `:` is a subfolder
    assert (out / "drafts/vertical/draft_v.xml").exists()
    assert (out / "drafts/html/dh.html").read_text() == "<p>draft</p>"
    assert (out / "problem/orphan_p.xml").exists()
    assert (out / UNICODE_STATIC).read_bytes() == PNG
    assert "Inline_problem" not in {p.stem for p in (out / "problem").iterdir()}  # stays inline
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["course_version"] == version.course_version
    assert all(entry["written"] for entry in manifest["static"])
    assert result.static_written == 3
    with pytest.raises(ExportFailed, match="not empty"):
        write_export(plan_course_export(version), str(out), archive_uri=str(archive))


def test_subtree_export_files_and_manifest(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", tricky_course())
    version = CourseVersion.from_parsed(parse_file(archive), archive_uri=str(archive))
    v1 = block_id("vertical", "v1")
    plan = plan_subtree_export(version, v1)
    assert sorted(plan.files) == [
        "html/h1.html",
        "html/h1.xml",
        "problem/p1.xml",
        "problem/p_body.xml",  # p_file's `filename` definition, written beside it
        "problem/p_file.xml",
        "vertical/v1.xml",  # the inline problem and html stay inside it
    ]
    assert [s["path"] for s in plan.static] == ["static/notes.pdf", UNICODE_STATIC]
    out = tmp_path / "subtree.tar.gz"
    write_export(plan, str(out), archive_uri=str(archive))
    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile("course/manifest.json"))  # type: ignore[arg-type]
        assert tar.extractfile(f"course/{UNICODE_STATIC}").read() == PNG  # type: ignore[union-attr]
    blocks = {b["block_id"]: b for b in version.table("blocks") if not b["is_draft"]}
    assert manifest == {
        "format": "olx-spark-subtree/1",
        "course_id": COURSE_ID,
        "course_version": version.course_version,
        "root_block_id": v1,
        "block_type": "vertical",
        "url_name": "v1",
        "parent_block_id": block_id("sequential", "seq1"),
        "position": 0,
        "subtree_hash": blocks[v1]["subtree_hash"],
        "static": [
            {
                "path": "static/notes.pdf",
                "size_bytes": 20,
                "sha256": manifest["static"][0]["sha256"],
                "written": True,
            },
            {
                "path": UNICODE_STATIC,
                "size_bytes": len(PNG),
                "sha256": manifest["static"][1]["sha256"],
                "written": True,
            },
        ],
    }


def test_subtree_of_an_inline_block_gets_its_own_file(tmp_path: Path) -> None:
    version = CourseVersion.from_parsed(
        parse_course_archive(io.BytesIO(make_tar(tricky_course())), "t.tar.gz")
    )
    plan = plan_subtree_export(version, block_id("chapter", "ch2"))
    # ch2 was inline in course/2025_T1.xml: its own file now; seq_inline stays inside it,
    # vid1 inside shared_v's file
    assert sorted(plan.files) == ["chapter/ch2.xml", "vertical/shared_v.xml"]
    assert b'<sequential url_name="seq_inline"' in plan.files["chapter/ch2.xml"]
    assert plan.manifest["parent_block_id"] == block_id("course", "course")
    assert plan.manifest["position"] == 1


def test_unknown_block_and_orphan_roots_are_refused() -> None:
    version = CourseVersion.from_parsed(
        parse_course_archive(io.BytesIO(make_tar(tricky_course())), "t.tar.gz")
    )
    with pytest.raises(VersionError, match="is not a published block"):
        plan_subtree_export(version, block_id("problem", "nope"))
    with pytest.raises(VersionError, match="orphan"):
        plan_subtree_export(version, block_id("problem", "orphan_p"))


def test_static_files_of_an_unreachable_archive_are_listed_not_written(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", tricky_course())
    version = CourseVersion.from_parsed(parse_file(archive))
    out = tmp_path / "out.tar.gz"
    result = write_export(
        plan_course_export(version), str(out), archive_uri=str(tmp_path / "gone.tar.gz")
    )
    assert result.static_written == 0
    assert result.static_missing == ["static/notes.pdf", "static/unused/other.txt", UNICODE_STATIC]
    assert any("not written" in w for w in result.warnings)
    again = parse_file(out)
    assert again.course_version == version.course_version
    assert again.rows["static_files"] == []
    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile("course/manifest.json"))  # type: ignore[arg-type]
    assert [(s["path"], s["written"]) for s in manifest["static"]] == [
        ("static/notes.pdf", False),
        ("static/unused/other.txt", False),
        (UNICODE_STATIC, False),
    ]


def test_a_changed_source_archive_fails_the_export_and_writes_nothing(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", tricky_course())
    version = CourseVersion.from_parsed(parse_file(archive), archive_uri=str(archive))
    changed = tricky_course()
    changed[f"course/{UNICODE_STATIC}"] = b"other bytes"
    write_tar_gz(archive, changed)
    for out in (tmp_path / "out.tar.gz", tmp_path / "out-folder"):
        with pytest.raises(ExportFailed, match="changed after it was ingested"):
            write_export(plan_course_export(version), str(out), archive_uri=str(archive))
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tar.gz"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(course_shape, orphan_types, shares)
def test_generated_shapes_round_trip(
    shape: list, orphans: list[str], shared: list[tuple[int, int]]
) -> None:
    files = generate(shape, orphans, shared).archive_files()
    source = parse_course_archive(io.BytesIO(make_tar(files, prefix="gen/")), "gen.tar.gz")
    plan = plan_course_export(CourseVersion.from_parsed(source))
    again = parse_course_archive(io.BytesIO(make_tar(plan.files, prefix="course/")), "again.tar.gz")
    assert kept(again) == kept(source)


def test_zip_sources_stream_their_static_files(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path, data in sorted(tricky_course().items()):
            zipped.writestr(path, data)
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert kept(again) == kept(source)


def _one_course(body: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A course whose course block holds `body` inline, plus `extra` files."""
    return {
        "course/course.xml": '<course url_name="R" org="O" course="C"/>',
        "course/course/R.xml": f'<course display_name="X">{body}</course>',
        **{f"course/{path}": text for path, text in (extra or {}).items()},
    }


def _in_a_unit(inner: str, unit_attributes: str = "") -> str:
    return (
        '<chapter url_name="c"><sequential url_name="s">'
        f'<vertical url_name="v"{unit_attributes}>{inner}</vertical></sequential></chapter>'
    )


@pytest.mark.parametrize(
    "files",
    [
        # namespace declarations on a block whose url_name is derived from its XML
        _one_course(_in_a_unit('<html xmlns:foo="urn:x"><p>x</p></html>')),
        _one_course(_in_a_unit("<html><foo:p>x</foo:p></html>", ' xmlns:foo="urn:x"')),
        _one_course(
            '<chapter url_name="c"><sequential url_name="s"><vertical xmlns:foo="urn:x" '
            'foo:a="1"><html url_name="h">x</html></vertical></sequential></chapter>'
        ),
        # a `filename` file two blocks share, and one that is another block's own file
        _one_course(
            _in_a_unit(
                '<problem url_name="a" filename="shared" display_name="A" max_attempts="1"/>'
                '<problem url_name="b" filename="shared" display_name="B"/>'
            ),
            {"problem/shared.xml": '<problem weight="1"><p>q</p></problem>'},
        ),
        _one_course(
            _in_a_unit(
                '<problem url_name="p" filename="x" display_name="P"/><problem url_name="x"/>'
            ),
            {"problem/x.xml": '<problem display_name="X"><p>q</p></problem>'},
        ),
    ],
    ids=[
        "xmlns-on-unnamed-html",
        "xmlns-on-its-parent",
        "namespaced-attribute-unnamed-unit",
        "shared-filename-file",
        "filename-is-another-blocks-file",
    ],
)
def test_namespaces_and_shared_filename_files_round_trip(
    files: dict[str, str], tmp_path: Path
) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", files)
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert source.errors == []
    assert kept(again) == kept(source)


def test_static_files_come_from_the_course_folder_only(tmp_path: Path) -> None:
    """A file at the same relative name deeper in the archive is not the course's."""
    files = tricky_course()
    files["course/html/static/notes.pdf"] = b"not the course's notes"
    archive = write_tar_gz(tmp_path / "in.tar.gz", files)
    source, again = round_trip(archive, tmp_path / "export.tar.gz")
    assert kept(again) == kept(source)


def test_outputs_get_the_usual_permissions(tmp_path: Path) -> None:
    archive = write_tar_gz(tmp_path / "in.tar.gz", tricky_course())
    version = CourseVersion.from_parsed(parse_file(archive), archive_uri=str(archive))
    umask = os.umask(0o022)
    try:
        write_export(plan_course_export(version), str(tmp_path / "a.tar.gz"), archive_uri=None)
        write_export(plan_course_export(version), str(tmp_path / "folder"), archive_uri=None)
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "a.tar.gz").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o755
