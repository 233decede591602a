"""Random course shapes for property tests: a hypothesis strategy and the OLX files it makes.

Each generated course knows what the parser must find in it (block counts, edges, orphans), so
the invariant tests can check the rows and the export tests can check a round trip.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import strategies as st
from lxml import etree

LEAF_TYPES = ["html", "problem", "video", "drag-and-drop-v2"]

leaf = st.tuples(st.sampled_from(LEAF_TYPES), st.booleans())
vertical = st.tuples(st.booleans(), st.lists(leaf, max_size=3))
sequential = st.tuples(st.booleans(), st.lists(vertical, max_size=3))
chapter = st.tuples(st.booleans(), st.lists(sequential, max_size=3))
course_shape = st.lists(chapter, max_size=4)
orphan_types = st.lists(st.sampled_from(["problem", "vertical", "html"]), max_size=3)
shares = st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=3)


@dataclass
class GeneratedCourse:
    """Files of a generated course, and what the parser must find in them."""

    files: dict[str, etree._Element] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    edges: int = 0
    orphans: int = 0
    sequentials: list[etree._Element] = field(default_factory=list)
    file_verticals: list[str] = field(default_factory=list)

    def block(
        self, block_type: str, inline: bool, children: list[etree._Element]
    ) -> etree._Element:
        """Define a block; return what its parent holds (the definition, or a pointer)."""
        url_name = f"{block_type}_{sum(self.counts.values())}"
        self.counts[block_type] += 1
        definition = etree.Element(block_type, display_name=f"Title of {url_name}")
        definition.extend(children)
        self.edges += len(children)
        if block_type == "video":
            etree.SubElement(definition, "source", src="v.mp4")  # the leaf's own data
        if block_type == "html":
            definition.text = f"body of {url_name}"
        if block_type == "sequential":
            self.sequentials.append(definition)
        if inline:
            definition.set("url_name", url_name)
            return definition
        self.files[f"{block_type}/{url_name}.xml"] = definition
        if block_type == "vertical":
            self.file_verticals.append(url_name)
        return etree.Element(block_type, url_name=url_name)

    def share(self, vertical_index: int, sequential_index: int) -> None:
        if self.file_verticals and self.sequentials:
            url_name = self.file_verticals[vertical_index % len(self.file_verticals)]
            parent = self.sequentials[sequential_index % len(self.sequentials)]
            etree.SubElement(parent, "vertical", url_name=url_name)
            self.edges += 1

    def orphan(self, block_type: str) -> None:
        self.counts[block_type] += 1
        self.orphans += 1
        self.files[f"{block_type}/lost_{self.orphans}.xml"] = etree.Element(block_type)

    def archive_files(self) -> dict[str, bytes]:
        files = {p: etree.tostring(e, encoding="utf-8") for p, e in self.files.items()}
        files["course.xml"] = b'<course url_name="Gen" org="Hyp" course="H1"/>'
        return files


def generate(shape: list, orphans: list[str], shared: list[tuple[int, int]]) -> GeneratedCourse:
    gen = GeneratedCourse()
    chapters = [
        gen.block(
            "chapter",
            ch_inline,
            [
                gen.block(
                    "sequential",
                    seq_inline,
                    [
                        gen.block(
                            "vertical",
                            v_inline,
                            [gen.block(t, inline, []) for t, inline in leaves],
                        )
                        for v_inline, leaves in verticals
                    ],
                )
                for seq_inline, verticals in sequentials
            ],
        )
        for ch_inline, sequentials in shape
    ]
    for vertical_index, sequential_index in shared:
        gen.share(vertical_index, sequential_index)
    root = etree.Element("course", display_name="Generated")
    root.extend(chapters)
    gen.edges += len(chapters)
    gen.files["course/Gen.xml"] = root
    gen.counts["course"] += 1
    for block_type in orphans:
        gen.orphan(block_type)
    return gen
