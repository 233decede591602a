"""block_hash and course_version see content, not packing."""

from __future__ import annotations

import hashlib

from lxml import etree

from olx_spark.olx.hashing import block_hash, canonical_xml, course_version, subtree_hashes
from tests.olx_fixtures import course_files, make_tar, make_zip, parse_bytes

TOY = course_files("toy")


def parse_toy(**tar_options: object) -> tuple[str | None, dict[str, str], str]:
    data = make_tar(TOY, **tar_options)  # type: ignore[arg-type]
    parsed = parse_bytes(data, "toy.tar.gz")
    assert parsed.rejection is None
    hashes = {b["block_id"] + str(b["is_draft"]): b["block_hash"] for b in parsed.rows["blocks"]}
    return parsed.course_version, hashes, parsed.archive_sha256


def test_same_content_different_bytes_same_version() -> None:
    version, hashes, sha = parse_toy(prefix="toy/")
    variants = [
        parse_toy(prefix="toy/", order=sorted(TOY, reverse=True)),
        parse_toy(prefix="toy/", mtime=1_700_000_000),
        parse_toy(prefix="toy/", gzip_level=1),
        parse_toy(prefix="other_folder/"),
        parse_toy(gzip_level=None),
    ]
    for other_version, other_hashes, other_sha in variants:
        assert other_version == version
        assert other_hashes == hashes
        assert other_sha != sha
    zipped = parse_bytes(make_zip(TOY, prefix="toy/"), "toy.zip")
    assert zipped.course_version == version


def test_attribute_order_and_quoting_do_not_change_the_version() -> None:
    version, _, _ = parse_toy()
    reordered = dict(TOY)
    reordered["problem/p1.xml"] = reordered["problem/p1.xml"].replace(
        b'display_name="Q1" max_attempts="1"', b"max_attempts='1' display_name='Q1'"
    )
    assert reordered != TOY
    assert parse_bytes(make_tar(reordered)).course_version == version


def test_content_changes_change_the_version_and_only_that_block_hash() -> None:
    version, hashes, _ = parse_toy()
    edited = dict(TOY)
    edited["html/hello.html"] = b"<p>Hello, edited world</p>\n"
    parsed = parse_bytes(make_tar(edited))
    assert parsed.course_version != version
    changed = {
        key
        for key, value in (
            (b["block_id"] + str(b["is_draft"]), b["block_hash"]) for b in parsed.rows["blocks"]
        )
        if hashes[key] != value
    }
    assert changed == {"block-v1:OLXU+TOY101+2024_T1+type@html+block@helloFalse"}


def test_policy_changes_change_the_version() -> None:
    version, _, _ = parse_toy()
    edited = dict(TOY)
    edited["policies/2024_T1/policy.json"] = b'{"problem/p1": {"weight": 3}}'
    assert parse_bytes(make_tar(edited)).course_version != version


def test_moving_a_block_changes_the_version() -> None:
    version, _, _ = parse_toy()
    edited = dict(TOY)
    edited["sequential/welcome.xml"] = (
        b'<sequential display_name="Welcome" graded="true">\n'
        b'  <vertical url_name="v2"/>\n  <vertical url_name="vert_shared"/>\n</sequential>\n'
    )
    assert parse_bytes(make_tar(edited)).course_version != version


def test_block_hash_is_canonical() -> None:
    one = canonical_xml(etree.fromstring('<p b="2" a="1"><x/></p>'))
    two = canonical_xml(etree.fromstring("<p a='1' b='2'><x></x></p>"))
    assert one == two
    assert block_hash("p", "u", {"a": "1", "b": "2"}, one, None) == block_hash(
        "p", "u", {"b": "2", "a": "1"}, two, None
    )
    assert block_hash("p", "u", {}, one, None) != block_hash("p", "u", {}, one, "")


def test_course_version_ignores_order() -> None:
    blocks = [("a", "1"), ("b", "2")]
    edges = [("a", "b", 0), ("a", "c", 1)]
    assert course_version(blocks, edges) == course_version(blocks[::-1], edges[::-1])
    assert course_version(blocks, edges) != course_version(blocks, [("a", "b", 1)])


def toy_id(block_type: str, url_name: str) -> str:
    return f"block-v1:OLXU+TOY101+2024_T1+type@{block_type}+block@{url_name}"


def subtrees(files: dict[str, bytes]) -> dict[tuple[str, bool], str]:
    parsed = parse_bytes(make_tar(files))
    return {(b["block_id"], b["is_draft"]): b["subtree_hash"] for b in parsed.rows["blocks"]}


def changed(before: dict[tuple[str, bool], str], after: dict[tuple[str, bool], str]) -> set[str]:
    assert before.keys() == after.keys()
    return {key[0].rsplit("@", 1)[-1] for key in before if before[key] != after[key]}


def test_subtree_hash_is_the_block_hash_then_each_child_in_order() -> None:
    parsed = parse_bytes(make_tar(TOY))
    blocks = {(b["block_id"], b["is_draft"]): b for b in parsed.rows["blocks"]}

    def sub(block_type: str, url_name: str, draft: bool = False) -> str:
        return str(blocks[(toy_id(block_type, url_name), draft)]["subtree_hash"])

    def own(block_type: str, url_name: str, draft: bool = False) -> str:
        return str(blocks[(toy_id(block_type, url_name), draft)]["block_hash"])

    # A leaf: the hash of its block_hash alone.
    hello = hashlib.sha256(own("html", "hello").encode()).hexdigest()
    assert sub("html", "hello") == hello
    # A unit of two html blocks, in position order.
    v2 = own("vertical", "v2")
    v2 += f"\nhtml/Inline_Hi:{sub('html', 'Inline_Hi')}\nhtml/ünï:{sub('html', 'ünï')}"
    assert sub("vertical", "v2") == hashlib.sha256(v2.encode()).hexdigest()
    # The published sequential leaves out the draft unit placed in it; the draft unit has a
    # subtree of its own (its draft html).
    welcome = own("sequential", "welcome")
    welcome += f"\nvertical/vert_shared:{sub('vertical', 'vert_shared')}"
    welcome += f"\nvertical/v2:{sub('vertical', 'v2')}"
    assert sub("sequential", "welcome") == hashlib.sha256(welcome.encode()).hexdigest()
    draft_v = own("vertical", "draft_v", True) + f"\nhtml/dh:{sub('html', 'dh', True)}"
    assert sub("vertical", "draft_v", True) == hashlib.sha256(draft_v.encode()).hexdigest()


def test_one_edited_leaf_changes_the_subtree_hashes_on_its_paths_only() -> None:
    before = subtrees(TOY)
    edited = dict(TOY)
    edited["html/hello.html"] = b"<p>Hello, edited world</p>\n"
    # vert_shared sits under two parents (welcome and seq_inline): both paths change.
    assert changed(before, subtrees(edited)) == {
        "hello",
        "vert_shared",
        "welcome",
        "intro",
        "seq_inline",
        "Inline_Ch_",
        "course",
    }


def test_a_move_changes_the_old_and_new_parents_and_their_ancestors_only() -> None:
    before = subtrees(TOY)
    moved = dict(TOY)
    # v2 moves from the sequential `welcome` to the sequential `seq_inline` (same level).
    moved["sequential/welcome.xml"] = TOY["sequential/welcome.xml"].replace(
        b'  <vertical url_name="v2"/>\n', b""
    )
    moved["course/2024_T1.xml"] = TOY["course/2024_T1.xml"].replace(
        b'<vertical url_name="vert_shared"/>',
        b'<vertical url_name="vert_shared"/><vertical url_name="v2"/>',
    )
    assert moved["sequential/welcome.xml"] != TOY["sequential/welcome.xml"]
    assert moved["course/2024_T1.xml"] != TOY["course/2024_T1.xml"]
    # v2 and its children keep theirs; the draft unit placed in welcome keeps its own.
    assert changed(before, subtrees(moved)) == {
        "welcome",
        "intro",
        "course",
        "seq_inline",
        "Inline_Ch_",
    }


def test_drafts_and_orphans_do_not_change_the_published_subtree_hashes() -> None:
    before = subtrees(TOY)
    without = {path: data for path, data in TOY.items() if not path.startswith("drafts/")}
    without.pop("problem/orphan_q.xml")
    after = subtrees(without)
    assert {k: v for k, v in before.items() if k in after} == after


def test_subtree_hashes_of_a_cycle_and_a_wide_node() -> None:
    # a -> b -> a: the child that closes the cycle counts by its own block hash.
    nodes = {"a": ("vertical", "a", "ha"), "b": ("vertical", "b", "hb")}
    got = subtree_hashes(nodes, {"a": ["b"], "b": ["a"]})
    b = hashlib.sha256(b"hb\nvertical/a:ha").hexdigest()
    assert got == {"b": b, "a": hashlib.sha256(f"ha\nvertical/b:{b}".encode()).hexdigest()}
    # 20,000 children of one node: each listed once (linear, not quadratic).
    wide = {f"k{i}": ("html", f"k{i}", f"h{i}") for i in range(20_000)}
    wide["root"] = ("vertical", "root", "hr")
    hashes = subtree_hashes(wide, {"root": [f"k{i}" for i in range(20_000)]})
    assert len(hashes) == 20_001 and hashes["k7"] == hashlib.sha256(b"h7").hexdigest()
