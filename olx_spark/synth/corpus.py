"""Generate one course archive, or a corpus of them (optionally on several processes).

Each archive of a corpus draws from its own `random.Random` seeded by `(seed, index)`, so an
archive's bytes depend only on the seed and its position, never on the number of workers or the
order they finish in.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from olx_spark.synth.course import build_course
from olx_spark.synth.facts import ArchiveFacts, CorpusSummary
from olx_spark.synth.identity import CourseIdentity, pick_identity
from olx_spark.synth.scales import get_scale
from olx_spark.synth.static import ContentSource
from olx_spark.synth.tarball import write_tar_gz

_EXPORTED_BEFORE_START = 14 * 86400  # archive member mtimes: two weeks before the course starts


def generate_course_archive(
    path: Path,
    rng_or_seed: random.Random | int,
    scale: str = "small",
    *,
    identity: CourseIdentity | None = None,
    root: str = "course",
    drafts: int | None = None,
    static_bytes: int | None = None,
    big_static_bytes: int = 0,
) -> ArchiveFacts:
    """Write one course export to `path` and return what it holds.

    `identity` defaults to one drawn from the generator; `root` is the folder the course sits in
    (`"./course"` gives the old nested layout); `drafts` forces the number of draft units (None:
    drawn per the scale); `static_bytes` sets the media bytes (None: drawn per the scale; video
    transcripts come on top); `big_static_bytes` adds lecture videos of that total size, streamed.
    """
    rng = rng_or_seed if isinstance(rng_or_seed, random.Random) else random.Random(rng_or_seed)
    identity = identity or pick_identity(rng, 0)
    bundle = build_course(
        rng,
        identity,
        get_scale(scale),
        drafts=drafts,
        media_bytes=static_bytes,
        big_static_bytes=big_static_bytes,
    )
    mtime = int(bundle.start.timestamp()) - _EXPORTED_BEFORE_START
    uncompressed = write_tar_gz(path, root, bundle.files, bundle.static, ContentSource(rng), mtime)
    return ArchiveFacts(
        path=path,
        course_id=identity.course_id,
        blocks_by_type=dict(sorted(bundle.blocks.items())),
        draft_blocks=bundle.draft_blocks,
        chapters=bundle.published["chapter"],
        sequentials=bundle.published["sequential"],
        verticals=bundle.published["vertical"],
        static_files=len(bundle.static),
        static_bytes=sum(f.size for f in bundle.static),
        compressed_bytes=path.stat().st_size,
        uncompressed_bytes=uncompressed,
    )


@dataclass(frozen=True)
class _Job:
    """One archive of a corpus, as sent to a worker process."""

    out_dir: Path
    seed: int
    index: int
    scale: str
    static_bytes: int | None
    big_static_bytes: int = 0


def _run(job: _Job) -> ArchiveFacts:
    rng = random.Random(f"olx-spark-synth:{job.seed}:{job.index}")
    identity = pick_identity(rng, job.index)
    if job.big_static_bytes:
        identity = replace(identity, number=f"BIG{job.index + 1:03d}x")
    return generate_course_archive(
        job.out_dir / identity.file_name,
        rng,
        job.scale,
        identity=identity,
        static_bytes=job.static_bytes,
        big_static_bytes=job.big_static_bytes,
    )


def generate_corpus(
    out_dir: Path,
    courses: int,
    seed: int = 0,
    scale: str = "small",
    *,
    big_static_bytes: int = 0,
    static_bytes_per_course: int | None = None,
    workers: int = 1,
) -> CorpusSummary:
    """Write `courses` archives `out_dir/{org}-{number}-{run}.tar.gz` and return their facts.

    `big_static_bytes > 0` adds one more archive: a small course carrying that many bytes of
    lecture videos, written in bounded memory. `workers > 1` generates on that many processes
    (same bytes as with one).
    """
    get_scale(scale)
    if courses < 0 or workers < 1:
        raise ValueError("courses must be >= 0 and workers >= 1")
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [_Job(out_dir, seed, i, scale, static_bytes_per_course) for i in range(courses)]
    if big_static_bytes > 0:
        jobs.append(_Job(out_dir, seed, courses, "small", None, big_static_bytes))
    if workers == 1:
        archives = [_run(job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            archives = list(pool.map(_run, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    return CorpusSummary(archives, time.perf_counter() - started)
