"""The change log between two versions of a course, worked out by hand (`olx diff`'s rules)."""

from __future__ import annotations

import io

import pytest

from olx_spark.olx.changes import BlockChange, diff_versions, reordered_children
from olx_spark.olx.parse import parse_course_archive
from olx_spark.olx.versions import CourseVersion
from tests.olx_fixtures import make_tar
from tests.olx_versions_fixtures import DIFF_KEY, block_id, diff_course


def version(files: dict[str, str]) -> CourseVersion:
    parsed = parse_course_archive(io.BytesIO(make_tar(files)), "diff.tar.gz")
    assert parsed.errors == []
    return CourseVersion.from_parsed(parsed)


def key(block_type: str, url_name: str) -> str:
    return block_id(block_type, url_name, DIFF_KEY)


@pytest.mark.parametrize(
    ("old", "new", "reordered"),
    [
        ("abcd", "abcd", ""),
        ("abcd", "abxcd", ""),  # an insertion reorders nothing
        ("abcd", "acd", ""),  # nor does a deletion
        ("abcd", "dabc", "d"),  # the last to the front: that one only
        ("abcd", "bcda", "a"),  # the first to the end: that one only
        ("ab", "ba", "b"),  # a swap: the later one in the old order is the one that moved
        ("abcdef", "fedcba", "bcdef"),  # reversed: all but the first
        ("abcde", "aXdbYce", "d"),  # insertions and one move
    ],
)
def test_reordered_siblings_are_those_outside_a_longest_common_subsequence(
    old: str, new: str, reordered: str
) -> None:
    assert reordered_children(list(old), list(new)) == list(reordered)


def test_every_change_between_two_known_versions() -> None:
    old, new = version(diff_course(1)), version(diff_course(2))
    course, u1, u2, u3 = (
        key("course", "course"),
        key("vertical", "u1"),
        key("vertical", "u2"),
        key("vertical", "u3"),
    )
    assert diff_versions(old, new) == [
        # ch1 and ch2 swapped: ch2 (the later in the old order) counts as the one that moved
        BlockChange(key("chapter", "ch2"), "chapter", "reordered", None, course, course, 1, 0),
        BlockChange(
            key("chapter", "ch2"),
            "chapter",
            "settings_changed",
            ["display_name"],
            course,
            course,
            1,
            0,
        ),
        BlockChange(course, "course", "children_changed"),
        BlockChange(key("problem", "p1"), "problem", "content_changed", None, u1, u1, 1, 2),
        BlockChange(key("problem", "p2"), "problem", "moved", None, u1, u3, 2, 1),
        BlockChange(
            key("problem", "p2"),
            "problem",
            "settings_changed",
            ["display_name", "max_attempts"],
            u1,
            u3,
            2,
            1,
        ),
        # u1 [h1, p1, p2, p3] -> [p3, h1, p1, p_new]: p3 to the front; p2 left, p_new came
        BlockChange(key("problem", "p3"), "problem", "reordered", None, u1, u1, 3, 0),
        BlockChange(key("problem", "p4"), "problem", "removed", None, u2, None, 0, None),
        BlockChange(key("problem", "p_new"), "problem", "added", None, None, u1, None, 3),
        BlockChange(
            u1,
            "vertical",
            "children_changed",
            None,
            key("sequential", "seq1"),
            key("sequential", "seq1"),
            0,
            0,
        ),
        BlockChange(
            u2,
            "vertical",
            "children_changed",
            None,
            key("sequential", "seq1"),
            key("sequential", "seq1"),
            1,
            1,
        ),
        BlockChange(
            u3,
            "vertical",
            "children_changed",
            None,
            key("sequential", "seq2"),
            key("sequential", "seq2"),
            0,
            0,
        ),
    ]
    # seq1, seq2, ch1's own definition: their subtree hashes changed, they get no row
    assert {b["block_id"] for b in old.table("blocks")} - {
        b["block_id"] for b in new.table("blocks")
    } == {key("problem", "p4")}


def test_no_change_and_the_reverse_direction() -> None:
    old, new = version(diff_course(1)), version(diff_course(2))
    assert diff_versions(old, old) == []
    backwards = diff_versions(new, old)
    kinds = {(c.block_id, c.change_type) for c in backwards}
    assert (key("problem", "p4"), "added") in kinds and (
        key("problem", "p_new"),
        "removed",
    ) in kinds
    assert (key("problem", "p2"), "moved") in kinds


def test_attributes_are_settings_and_markup_is_content() -> None:
    files = diff_course(1)
    files["course/problem/p3.xml"] = '<problem display_name="P3" weight="2"><p>three</p></problem>'
    changes = diff_versions(version(diff_course(1)), version(files))
    assert [(c.block_id, c.change_type, c.changed_settings) for c in changes] == [
        (key("problem", "p3"), "settings_changed", ["weight"])
    ]
    files["course/problem/p3.xml"] = '<problem display_name="P3"><p>three!</p></problem>'
    changes = diff_versions(version(diff_course(1)), version(files))
    assert [(c.block_id, c.change_type) for c in changes] == [
        (key("problem", "p3"), "content_changed")
    ]


def test_html_body_is_content_and_policy_is_settings() -> None:
    files = diff_course(1)
    files["course/html/h1.html"] = "<p>hello</p>"
    files["course/policies/2025/policy.json"] = '{"problem/p5": {"weight": 5}}'
    changes = diff_versions(version(diff_course(1)), version(files))
    assert [(c.block_id, c.change_type, c.changed_settings) for c in changes] == [
        (key("html", "h1"), "content_changed", None),
        (key("problem", "p5"), "settings_changed", ["weight"]),
    ]


def test_an_orphan_holding_published_blocks_changes_nothing() -> None:
    """An orphan vertical that points at published blocks is not part of the published tree:
    it appearing, going or reordering its children is no change (as in the mart)."""
    files = diff_course(1)
    with_orphan = dict(files)
    with_orphan["course/vertical/lost.xml"] = (
        '<vertical display_name="Lost"><problem url_name="p3"/><problem url_name="p1"/></vertical>'
    )
    reordered = dict(files)
    reordered["course/vertical/lost.xml"] = (
        '<vertical display_name="Lost"><problem url_name="p1"/><problem url_name="p3"/></vertical>'
    )
    base, orphaned = version(files), version(with_orphan)
    assert base.course_version == orphaned.course_version
    assert diff_versions(base, orphaned) == []
    assert diff_versions(orphaned, base) == []
    assert diff_versions(orphaned, version(reordered)) == []
