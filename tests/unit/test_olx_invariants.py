"""Invariants on generated courses: whatever the shape, the rows hang together."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.olx_fixtures import make_tar, parse_bytes
from tests.olx_generated import course_shape, generate, orphan_types, shares


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(course_shape, orphan_types, shares, st.randoms(use_true_random=False))
def test_generated_course_invariants(
    shape: list, orphans: list[str], shared: list[tuple[int, int]], rng: random.Random
) -> None:
    gen = generate(shape, orphans, shared)
    files = gen.archive_files()
    parsed = parse_bytes(make_tar(files, prefix="gen/"))
    assert parsed.rejection is None and parsed.errors == []
    blocks = {b["block_id"]: b for b in parsed.rows["blocks"]}
    edges = parsed.rows["edges"]

    assert len(blocks) == len(parsed.rows["blocks"])  # no draft here: ids are unique
    assert Counter(b["block_type"] for b in blocks.values()) == gen.counts
    assert len(edges) == gen.edges
    assert sum(b["is_orphan"] for b in blocks.values()) == gen.orphans
    for edge in edges:
        assert edge["parent_block_id"] in blocks and edge["child_block_id"] in blocks

    root = "block-v1:Hyp+H1+Gen+type@course+block@course"
    reachable = {root}
    for edge in edges:  # edges come in document order: a parent is always reached first
        if edge["parent_block_id"] in reachable:
            reachable.add(edge["child_block_id"])
    for block_id, block in blocks.items():
        assert block["is_orphan"] == (block_id not in reachable)
        if not block["is_orphan"] and block_id != root:
            parent = blocks[block["parent_block_id"]]
            assert block["depth"] == parent["depth"] + 1

    order = list(files)
    rng.shuffle(order)
    shuffled = parse_bytes(make_tar(files, order=order, mtime=rng.randrange(2**30)))
    assert shuffled.course_version == parsed.course_version
