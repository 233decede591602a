"""Byte-reproducible `.tar.gz` writing that streams media members and is fast on them.

Reproducible: members in sorted tree order with directory entries (as `tar` of an export folder
writes them), fixed mtime, uid/gid 0, no user names, and a gzip header with mtime 0 (what
`gzip.GzipFile(mtime=0)` writes).

Fast, twice over. Headers are plain ustar blocks built here (`tarfile.addfile` costs about 40 us
per member, a third of the time of a 2,000-block course's 8,000 members). And zlib spends about
30 ms per MiB trying to compress random bytes at any level, to save under 0.1%, so the gzip
member is one deflate stream made of segments: text members deflated at level 3 (level 9, what
Studio uses, is 3x slower for 5% less), media members stored (level 0, 10x faster), and each
switch ends the segment with a sync flush so the next starts on a byte boundary (how pigz joins
independently compressed blocks). Any gzip reader sees one ordinary gzip member, and the
compressed size stays realistic: media inflate 1:1, as real images, PDFs and videos do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from olx_spark.storage.segmented_gzip import MEDIA_LEVEL, SegmentedGzip
from olx_spark.synth.static import ContentSource, StaticFile

TEXT_LEVEL = 3
_BLOCK = 512
_RECORD = 20 * _BLOCK  # tar pads the archive to whole records of 10 KiB


def write_tar_gz(
    path: Path,
    root: str,
    files: dict[str, bytes],
    static: list[StaticFile],
    content: ContentSource,
    mtime: int,
) -> int:
    """Write the course under folder `root` to `path`; return the uncompressed tar size."""
    entries: dict[str, bytes | StaticFile] = dict(files)
    entries |= {f"static/{f.name}": f if f.text is None else f.text for f in static}
    with path.open("wb") as raw:
        gz = SegmentedGzip(raw, TEXT_LEVEL)
        for name, entry in _tree_order(root, entries):
            _add(gz, name, entry, content, mtime)
        gz.write(bytes(2 * _BLOCK))  # end-of-archive marker, then pad to a whole record
        gz.write(bytes(-gz.tell() % _RECORD))
        gz.finish()
        return gz.tell()


def _tree_order(
    root: str, entries: dict[str, bytes | StaticFile]
) -> Iterator[tuple[str, bytes | StaticFile | None]]:
    """Every entry under `root`, depth first in sorted order, each folder before its contents."""
    seen: set[str] = set()
    for relative in sorted(entries, key=lambda p: p.split("/")):
        parts = [root, *relative.split("/")]
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth]) + "/"
            if folder not in seen:
                seen.add(folder)
                yield folder, None
        yield "/".join(parts), entries[relative]


def _add(
    gz: SegmentedGzip,
    name: str,
    entry: bytes | StaticFile | None,
    content: ContentSource,
    mtime: int,
) -> None:
    """One member: a folder (None), held bytes, or a media file streamed from `content`."""
    if entry is None:
        gz.write(ustar_header(name, 0, mtime, directory=True))
    elif isinstance(entry, bytes):
        header = ustar_header(name, len(entry), mtime, directory=False)
        gz.write(b"".join((header, entry, bytes(-len(entry) % _BLOCK))))
    else:
        gz.write(ustar_header(name, entry.size, mtime, directory=False))
        gz.set_level(MEDIA_LEVEL)
        for chunk in content.chunks(entry):
            gz.write(chunk)
        gz.write(bytes(-entry.size % _BLOCK))
        gz.set_level(TEXT_LEVEL)


def ustar_header(name: str, size: int, mtime: int, *, directory: bool) -> bytes:
    """A POSIX ustar header block (what `tarfile` writes for a short ASCII name), uid/gid 0."""
    encoded = name.encode("ascii")
    if len(encoded) > 100 or not (0 <= size < 8**11 and 0 <= mtime < 8**11):
        raise ValueError(f"does not fit a ustar header: {name!r} ({size} bytes, mtime {mtime})")
    header = b"".join(
        (
            encoded.ljust(100, b"\0"),
            b"%07o\0" % (0o755 if directory else 0o644),
            b"0000000\0" * 2,  # uid, gid
            b"%011o\0" % size,
            b"%011o\0" % mtime,
            b" " * 8,  # checksum, counted as spaces
            b"5" if directory else b"0",
            bytes(100),  # link name
            b"ustar\x0000",
            bytes(64 + 16),  # user and group names, device numbers (none: not a device)
        )
    ).ljust(_BLOCK, b"\0")
    return header[:148] + b"%06o\0 " % sum(header) + header[156:]
