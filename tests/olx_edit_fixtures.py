"""The course the offline-edit tests (`tests/unit/test_olx_edit_*.py`) edit, and their helpers.

One hand-written course (org X, course C, run R; 15 published blocks, a draft, static files)
is edited in small, fully worked-out ways, and each test checks exactly which blocks were
added, removed and changed, which files were written and removed, that every other member
kept its bytes (sha256 per member), that the reported course_version is what
`parse_course_archive` computes for the written archive, and, for every refusal, the exit
code, the message (file:line:column, usage key) and that nothing was written. No Spark.

The course:

    course R
      chapter ch1: sequential s1: vertical v1: problem p1, html h1 (filename h1)
                                  vertical v2: problem shared, video vid2 (inline)
                   sequential s2: vertical v3: problem shared
      chapter ch2: sequential s3: vertical v4: html h4 (filename h4)
    draft: vertical v2 under s1 (drafts/vertical/v2.xml)
"""

from __future__ import annotations

import hashlib
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest

from olx_spark.cli import main as cli_main
from olx_spark.olx.model import ParsedArchive
from olx_spark.olx.parse import parse_course_archive
from tests.spark.courses import write_tar_gz

Files = dict[str, str | bytes]
PNG = random.Random(5).randbytes(200_000)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40


def key(block_type: str, url_name: str) -> str:
    return f"block-v1:X+C+R+type@{block_type}+block@{url_name}"


S1_XML = (
    '<sequential display_name="Lesson 1">\n'
    '  <vertical url_name="v1"/>\n'
    '  <vertical url_name="v2"/>\n'
    "</sequential>\n"
)
V1_XML = '<vertical display_name="Unit 1">\n  <problem url_name="p1"/>\n  <html url_name="h1"/>\n</vertical>\n'
V2_XML = (
    '<vertical display_name="Unit 2">\n'
    '  <problem url_name="shared"/>\n'
    '  <video url_name="vid2" display_name="Clip" youtube_id_1_0="abc"/>\n'
    "</vertical>\n"
)
P1_XML = (
    '<problem display_name="Question 1" max_attempts="1">\n'
    "  <p>2 + 2 = ?</p>\n"
    '  <numericalresponse answer="4"/>\n'
    "</problem>\n"
)


def base_course() -> Files:
    return {
        "course.xml": '<course url_name="R" org="X" course="C"/>\n',
        "course/R.xml": (
            '<course display_name="Mini">\n'
            '  <chapter url_name="ch1"/>\n'
            '  <chapter url_name="ch2"/>\n'
            "</course>\n"
        ),
        "chapter/ch1.xml": (
            '<chapter display_name="Week 1">\n'
            '  <sequential url_name="s1"/>\n'
            '  <sequential url_name="s2"/>\n'
            "</chapter>\n"
        ),
        "chapter/ch2.xml": '<chapter display_name="Week 2">\n  <sequential url_name="s3"/>\n</chapter>\n',
        "sequential/s1.xml": S1_XML,
        "sequential/s2.xml": '<sequential display_name="Lesson 2">\n  <vertical url_name="v3"/>\n</sequential>\n',
        "sequential/s3.xml": '<sequential display_name="Lesson 3">\n  <vertical url_name="v4"/>\n</sequential>\n',
        "vertical/v1.xml": V1_XML,
        "vertical/v2.xml": V2_XML,
        "vertical/v3.xml": '<vertical display_name="Unit 3">\n  <problem url_name="shared"/>\n</vertical>\n',
        "vertical/v4.xml": '<vertical display_name="Unit 4">\n  <html url_name="h4"/>\n</vertical>\n',
        "problem/p1.xml": P1_XML,
        "problem/shared.xml": '<problem display_name="Shared"><p>Shared question</p></problem>\n',
        "html/h1.xml": '<html filename="h1" display_name="Intro"/>\n',
        "html/h1.html": "<p>Welcome</p>\n",
        "html/h4.xml": '<html filename="h4" display_name="Outro"/>\n',
        "html/h4.html": "<p>Bye</p>\n",
        "drafts/vertical/v2.xml": (
            '<vertical display_name="Unit 2 (draft)" index_in_children_list="1" '
            'parent_url="block-v1:X+C+R+type@sequential+block@s1">\n'
            '  <problem url_name="shared"/>\n'
            "</vertical>\n"
        ),
        "policies/R/policy.json": '{"course/R": {"start": "2024-01-01T00:00:00Z"}}\n',
        "about/overview.html": "<p>About this course</p>\n",
        "static/images/diagram.png": PNG,
        "static/handout.pdf": PDF,
    }


def build(tmp_path: Path, files: Files | None = None, name: str = "course.tar.gz") -> Path:
    """The course as a .tar.gz with everything under `course/`, as Studio exports it."""
    course = base_course() if files is None else files
    return write_tar_gz(tmp_path / name, {f"course/{p}": v for p, v in course.items()})


def write_dir(root: Path, files: Files) -> Path:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        target.write_bytes(data)
    return root


def members(path: Path) -> dict[str, str]:
    """sha256 of every file member, by name."""
    with tarfile.open(path) as tar:
        return {
            m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def member_text(path: Path, name: str) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read().decode("utf-8")  # type: ignore[union-attr]


def parse_file(path: Path) -> ParsedArchive:
    with path.open("rb") as handle:
        return parse_course_archive(handle, path.name)


def blocks(parsed: ParsedArchive) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in parsed.rows["blocks"] if not b["is_draft"]}


def assert_untouched(old: Path, new: Path, changed: set[str]) -> None:
    """Every member of `old` not in `changed` (course-relative paths) is in `new`, same bytes."""
    before, after = members(old), members(new)
    for name, digest in before.items():
        relative = name.removeprefix("course/")
        if relative not in changed:
            assert after.get(name) == digest, name


def nothing_written(out: Path) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".part")] == []


@pytest.fixture(name="archive")
def archive_fixture(tmp_path: Path) -> Path:
    """The course as built by `build`; a test file imports this to use `archive`."""
    return build(tmp_path)


def replacement_s1(tmp_path: Path, changes: dict[str, str | None] | None = None) -> Path:
    """A subtree export of s1 (all its files, unchanged) in `tmp_path/rep`, with `changes`
    (path -> new text; None leaves the file out)."""
    course = base_course()
    files: Files = {
        p: course[p]
        for p in (
            "sequential/s1.xml",
            "vertical/v1.xml",
            "vertical/v2.xml",
            "problem/p1.xml",
            "html/h1.xml",
            "html/h1.html",
        )
    }
    for path, text in (changes or {}).items():
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
    return write_dir(tmp_path / "rep", files)


UNNAMED_S2 = (
    '<sequential display_name="Lesson 2">\n'
    '  <vertical url_name="v3"/>\n'
    "  <vertical>\n"
    '    <html url_name="hx">x</html>\n'
    '    <problem url_name="p1"/>\n'
    "  </vertical>\n"
    "</sequential>\n"
)


def unnamed_course() -> Files:
    """The course with a second vertical in s2, inline and without a url_name (nor slug, name
    or display_name), so its id is derived from a hash of its XML; it holds html hx (inline)
    and a pointer to p1 (so p1 is under v1 and under it)."""
    course = base_course()
    course["sequential/s2.xml"] = UNNAMED_S2
    return course


def namespaced_course() -> Files:
    """The course with s2's file declaring a namespace and holding vertical vm inline, whose
    html child has no url_name: moving vm to its own file drops the declaration from the
    html's XML, so the html's derived id would change (the move is declined)."""
    course = base_course()
    course["sequential/s2.xml"] = (
        '<sequential xmlns:x="urn:x" display_name="Lesson 2">\n'
        '  <vertical url_name="v3"/>\n'
        '  <vertical url_name="vm">\n'
        "    <html>unnamed</html>\n"
        "  </vertical>\n"
        "</sequential>\n"
    )
    return course


def derived_ids(parsed: ParsedArchive, block_type: str) -> list[str]:
    """The published blocks of that type whose url_name is derived from a hash of their XML."""
    prefix = f"+type@{block_type}+block@{block_type}_"
    return [b for b in blocks(parsed) if prefix in b]


def url_name(block_id: str) -> str:
    return block_id.rsplit("+block@", 1)[1]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(["olx", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err
