"""The course corpus generator: deterministic, realistic OLX, facts that match the archives."""

from __future__ import annotations

import functools
import gzip
import json
import re
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from olx_spark.synth import SCALES, ArchiveFacts, generate_corpus, generate_course_archive
from olx_spark.synth.samples import write_samples
from olx_spark.synth.tarball import ustar_header

# Folders of a course root that hold something other than block definitions.
NON_BLOCK_DIRS = {"about", "assets", "info", "policies", "static", "tabs"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@functools.cache
def read_members(path: Path) -> dict[str, bytes]:
    """Every file in the archive, keyed by its path relative to the course root."""
    with tarfile.open(path, "r:gz") as tar:
        members = [m for m in tar if m.isfile()]
        files = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    pointer = min((n for n in files if n.endswith("/course.xml")), key=lambda n: n.count("/"))
    root = pointer.removesuffix("course.xml")
    return {name.removeprefix(root): data for name, data in files.items()}


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, PARSER)


def is_pointer(node: etree._Element) -> bool:
    return len(node) == 0 and not (node.text or "").strip() and set(node.attrib) == {"url_name"}


def block_files(files: dict[str, bytes]) -> dict[str, tuple[str, bool]]:
    """Block definition files: path -> (block type, is draft)."""
    out = {}
    for path in files:
        draft = path.startswith("drafts/")
        parts = path.removeprefix("drafts/").split("/")
        if len(parts) == 2 and parts[0] not in NON_BLOCK_DIRS and parts[1].endswith(".xml"):
            out[path] = (parts[0], draft)
    return out


def count_blocks(files: dict[str, bytes]) -> tuple[Counter[str], int]:
    """Blocks per type (files, inline ORA in units) and draft blocks. The course's <wiki slug>
    is its field, not a block."""
    counts: Counter[str] = Counter()
    drafts = 0
    for path, (block_type, draft) in block_files(files).items():
        root = parse(files[path])
        inline = [c.tag for c in root if c.tag == "openassessment"]
        counts.update([block_type, *inline])
        drafts += draft * (1 + len(inline))
    return counts, drafts


def children(files: dict[str, bytes], block_type: str, url_name: str) -> list[etree._Element]:
    return list(parse(files[f"{block_type}/{url_name}.xml"]))


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> list[ArchiveFacts]:
    out = tmp_path_factory.mktemp("medium")
    return generate_corpus(out, 2, seed=11, scale="medium").archives


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> list[ArchiveFacts]:
    """Small courses of several identities, plus the samples (drafts, charrefs, ./course/)."""
    out = tmp_path_factory.mktemp("varied")
    corpus = generate_corpus(out / "corpus", 6, seed=5, scale="small")
    return corpus.archives + write_samples(out / "samples")


def test_same_seed_same_bytes_and_different_seed_differs(tmp_path: Path) -> None:
    first = generate_corpus(tmp_path / "a", 3, seed=7)
    again = generate_corpus(tmp_path / "b", 3, seed=7, workers=2)
    other = generate_corpus(tmp_path / "c", 3, seed=8)
    for a, b in zip(first.archives, again.archives, strict=True):
        assert a.path.name == b.path.name
        assert a.path.read_bytes() == b.path.read_bytes()
    first_bytes = {a.path.read_bytes() for a in first.archives}
    assert first_bytes.isdisjoint(a.path.read_bytes() for a in other.archives)


def test_one_archive_from_a_seed_is_reproducible(tmp_path: Path) -> None:
    one = generate_course_archive(tmp_path / "one.tar.gz", 42)
    two = generate_course_archive(tmp_path / "two.tar.gz", 42)
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.course_id == two.course_id


def test_medium_structure_is_within_the_scale_ranges(medium: list[ArchiveFacts]) -> None:
    scale = SCALES["medium"]
    for facts in medium:
        files = read_members(facts.path)
        run = parse(files["course.xml"]).get("url_name")
        chapters = [c for c in parse(files[f"course/{run}.xml"]) if c.tag == "chapter"]
        assert scale.chapters[0] <= len(chapters) <= scale.chapters[1] == 14
        sequentials = [s for c in chapters for s in children(files, "chapter", c.get("url_name"))]
        verticals = [
            v for s in sequentials for v in children(files, "sequential", s.get("url_name"))
        ]
        for c in chapters:
            low, high = scale.sequentials_per_chapter
            assert low <= len(children(files, "chapter", c.get("url_name"))) <= high
        for s in sequentials:
            low, high = scale.verticals_per_sequential
            assert low <= len(children(files, "sequential", s.get("url_name"))) <= high
        for v in verticals:
            low, high = scale.components_per_vertical
            assert low <= len(children(files, "vertical", v.get("url_name"))) <= high
        assert (facts.chapters, facts.sequentials, facts.verticals) == (
            len(chapters),
            len(sequentials),
            len(verticals),
        )
        assert 800 <= facts.block_count <= 5000


def test_every_xml_file_is_well_formed_and_every_pointer_resolves(
    varied: list[ArchiveFacts], medium: list[ArchiveFacts]
) -> None:
    for facts in varied + medium:
        files = read_members(facts.path)
        for path, data in files.items():
            if not path.endswith(".xml"):
                continue
            base = "drafts/" if path.startswith("drafts/") else ""
            for node in parse(data).iter():
                if is_pointer(node):
                    assert f"{base}{node.tag}/{node.get('url_name')}.xml" in files, (facts, path)
                if node.tag == "html" and node.get("filename"):
                    assert f"{base}html/{node.get('filename')}.html" in files
                if node.tag == "transcript":
                    assert f"static/{node.get('src')}" in files
        assert parse(files["course.xml"]).get("url_name") + ".xml" in {
            p.removeprefix("course/") for p in files
        }


def test_references_to_static_files_and_parents_resolve(varied: list[ArchiveFacts]) -> None:
    for facts in varied:
        files = read_members(facts.path)
        static = {p.removeprefix("static/") for p in files if p.startswith("static/")}
        assert set(json.loads(files["policies/assets.json"])) == static
        for path, data in files.items():
            if path.endswith(".html"):
                for src in re.findall(r'(?:src|href)="/static/([^"]+)"', data.decode("utf-8")):
                    assert src in static, (facts.path, path, src)
        for path in (p for p in files if p.startswith("drafts/vertical/")):
            parent = parse(files[path]).get("parent_url").rsplit("@", 1)[1]
            assert f"sequential/{parent}.xml" in files


def test_facts_match_the_archive_contents(
    varied: list[ArchiveFacts], medium: list[ArchiveFacts]
) -> None:
    for facts in varied + medium:
        files = read_members(facts.path)
        counts, drafts = count_blocks(files)
        assert facts.blocks_by_type == dict(counts)
        assert facts.draft_blocks == drafts
        static = [data for path, data in files.items() if path.startswith("static/")]
        assert (facts.static_files, facts.static_bytes) == (len(static), sum(map(len, static)))
        compressed = facts.path.read_bytes()
        assert facts.compressed_bytes == len(compressed)
        assert facts.uncompressed_bytes == len(gzip.decompress(compressed))
        assert facts.course_id.split(":")[1].split("+")[0] == facts.path.name.split("-")[0]


def test_corpus_covers_the_olx_features(varied: list[ArchiveFacts]) -> None:
    blocks: Counter[str] = Counter()
    responses: set[str] = set()
    for facts in varied:
        blocks.update(facts.blocks_by_type)
        for path, data in read_members(facts.path).items():
            if "problem/" in path:
                responses |= {n.tag for n in parse(data).iter() if str(n.tag).endswith("response")}
    assert {"html", "problem", "video", "discussion", "openassessment", "library_content"} <= set(
        blocks
    )
    assert len(responses) == 7
    assert sum(f.draft_blocks > 0 for f in varied) >= 1


def test_samples_show_drafts_charrefs_and_the_nested_layout(tmp_path: Path) -> None:
    samples = write_samples(tmp_path)
    assert len(samples) == 3
    names = []
    for sample in samples:
        with tarfile.open(sample.path) as tar:
            names.append(tar.getnames())
    assert any(any("/drafts/" in n for n in members) for members in names)
    assert any(members[0] == "./course" for members in names)
    raw = [gzip.decompress(s.path.read_bytes()) for s in samples]
    assert any(re.search(rb"&#\d+;", data) for data in raw)
    assert all(s.block_count < 200 and s.compressed_bytes < 300_000 for s in samples)


_BIG_STATIC_SCRIPT = """
import json, resource, sys
from pathlib import Path
from olx_spark.synth import generate_corpus
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
summary = generate_corpus(Path(sys.argv[1]), 0, seed=1, big_static_bytes=int(sys.argv[2]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_growth_kib": after - before, "archives": summary.to_dict()["archives"]}))
"""


def test_big_static_archive_is_streamed_and_does_not_compress(tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    run = subprocess.run(
        [sys.executable, "-c", _BIG_STATIC_SCRIPT, str(tmp_path), str(size)],
        capture_output=True,
        check=True,
        text=True,
    )
    result = json.loads(run.stdout)
    (archive,) = result["archives"]
    assert result["rss_growth_kib"] < 24 * 1024  # a non-streaming writer would hold >= 64 MiB
    assert archive["static_bytes"] >= size
    assert archive["compressed_bytes"] > 0.5 * archive["uncompressed_bytes"]
    with tarfile.open(archive["path"], "r:gz") as tar:
        videos = [m for m in tar if m.name.endswith(".mp4")]
        first = tar.extractfile(videos[0]).read(1 << 20)  # type: ignore[union-attr]
    assert sum(m.size for m in videos) == size
    assert first[4:8] == b"ftyp"


@pytest.mark.parametrize(
    ("name", "size", "directory"), [("course/", 0, True), ("course/a.xml", 700, False)]
)
def test_ustar_headers_are_what_tarfile_writes(name: str, size: int, directory: bool) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 1_700_000_000, 0o755 if directory else 0o644
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    expected = info.tobuf(tarfile.USTAR_FORMAT)
    assert ustar_header(name, size, 1_700_000_000, directory=directory) == expected
    with pytest.raises(ValueError, match="ustar"):
        ustar_header(name, size, -1, directory=directory)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate_corpus(tmp_path, 1, scale="huge")
    with pytest.raises(ValueError, match="workers"):
        generate_corpus(tmp_path, 1, workers=0)
