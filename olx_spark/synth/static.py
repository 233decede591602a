"""Static files of a generated course: what they are, and cheap bytes that do not compress.

Real static files (images, PDFs, videos) are already compressed, so an archive of them inflates
about 1:1. Drawing fresh random bytes for gigabytes would be slow; instead each archive draws one
random 1 MiB block and every file streams windows of it from a file-specific offset after a
file-specific prefix (a format signature and a digest of its name). Every file has its own
sha256, gzip's 32 KiB window never sees a repeat, and a file is never held in memory.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from olx_spark.synth.scales import KIB, MIB

BLOCK_SIZE = MIB

# (extension, media type, median size, lognormal sigma, largest size, weight)
_MEDIA_KINDS = (
    ("png", "image/png", 60 * KIB, 1.0, 2 * MIB, 0.45),
    ("jpg", "image/jpeg", 120 * KIB, 0.8, 3 * MIB, 0.25),
    ("pdf", "application/pdf", 350 * KIB, 1.0, 8 * MIB, 0.25),
    ("zip", "application/zip", 500 * KIB, 0.7, 4 * MIB, 0.05),
)
_STEMS = ("figure", "diagram", "lecture_slides", "handout", "photo", "problem_set", "Lecture notes")
_SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "application/pdf": b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n",
    "application/zip": b"PK\x03\x04\x14\x00\x00\x00",
    "video/mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
}
_BIG_FILE_BYTES = 256 * MIB


@dataclass(frozen=True)
class StaticFile:
    """One file under `static/`: its name, size and media type; `text` when it is held text."""

    name: str
    size: int
    mime_type: str
    text: bytes | None = None


def text_file(name: str, mime_type: str, text: str) -> StaticFile:
    """A small text static file (transcript, stylesheet) whose bytes are held."""
    data = text.encode("utf-8")
    return StaticFile(name, len(data), mime_type, data)


def plan_media(rng: random.Random, total_bytes: int) -> list[StaticFile]:
    """Images, PDFs and zips of realistic sizes adding up to exactly `total_bytes`."""
    files: list[StaticFile] = []
    remaining = total_bytes
    while remaining > 0:
        ext, mime, median, sigma, largest, _ = rng.choices(
            _MEDIA_KINDS, weights=[kind[-1] for kind in _MEDIA_KINDS]
        )[0]
        size = min(int(rng.lognormvariate(math.log(median), sigma)), largest, remaining)
        size = remaining if remaining - size < KIB else max(size, KIB)
        files.append(StaticFile(_media_name(rng, len(files), ext), size, mime))
        remaining -= size
    return files


def plan_big_media(total_bytes: int) -> list[StaticFile]:
    """Lecture videos of at most 256 MiB each adding up to exactly `total_bytes`."""
    count = -(-total_bytes // _BIG_FILE_BYTES)
    return [
        StaticFile(
            f"lecture_video_{i + 1:03d}.mp4",
            min(_BIG_FILE_BYTES, total_bytes - i * _BIG_FILE_BYTES),
            "video/mp4",
        )
        for i in range(count)
    ]


def _media_name(rng: random.Random, index: int, ext: str) -> str:
    stem = rng.choice(_STEMS)
    return f"{stem} {index + 1}.{ext}" if " " in stem else f"{stem}_{index + 1}.{ext}"


class ContentSource:
    """One archive's random block, from which every media file's content is cut."""

    def __init__(self, rng: random.Random) -> None:
        block = rng.randbytes(BLOCK_SIZE)
        self._doubled = memoryview(block + block)

    def chunks(self, file: StaticFile) -> Iterator[bytes | memoryview]:
        """The file's `size` bytes in chunks of at most 1 MiB: its prefix, then block windows.

        Windows are zero-copy views of the doubled block, starting at a file-specific offset.
        """
        digest = hashlib.sha256(file.name.encode("utf-8")).digest()
        prefix = (_SIGNATURES.get(file.mime_type, b"") + digest)[: file.size]
        yield prefix
        offset = int.from_bytes(digest[:4], "big") % BLOCK_SIZE
        remaining = file.size - len(prefix)
        while remaining > 0:
            take = min(remaining, BLOCK_SIZE)
            yield self._doubled[offset : offset + take]
            offset = (offset + take) % BLOCK_SIZE
            remaining -= take
