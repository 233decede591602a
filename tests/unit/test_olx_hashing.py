"""block_hash and course_version see content, not packing."""

from __future__ import annotations

from lxml import etree

from olx_spark.olx.hashing import block_hash, canonical_xml, course_version
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
