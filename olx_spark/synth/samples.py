"""The three demo archives bundled in `samples/course-archives/`, reproducible from here.

The README's first command ingests these. Each shows a layout the ingest must handle: a plain
Studio export, one with an unpublished draft unit and non-ASCII (UTF-8) text, and one in the old
`./course/`-nested layout whose XML writes non-ASCII text as character references.
Regenerate them with `python -m olx_spark.synth.samples [OUT_DIR]`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from olx_spark.synth.corpus import generate_course_archive
from olx_spark.synth.facts import ArchiveFacts
from olx_spark.synth.identity import CourseIdentity
from olx_spark.synth.scales import KIB

DEFAULT_OUT_DIR = Path("samples/course-archives")
_SAMPLE_STATIC_BYTES = 48 * KIB  # keeps the bundled archives around 100 KB each

# (seed, identity, course root folder, draft units)
_SAMPLES: tuple[tuple[int, CourseIdentity, str, int], ...] = (
    (101, CourseIdentity("OpenedX", "DEMO101x", "2024_T1"), "course", 0),
    (202, CourseIdentity("HarvardX", "ECON201x", "1T2025", language="es"), "course", 1),
    (
        303,
        CourseIdentity("TUMx", "PHYS301x", "2023_Fall", language="de", charrefs=True),
        "./course",
        0,
    ),
)


def write_samples(out_dir: Path = DEFAULT_OUT_DIR) -> list[ArchiveFacts]:
    """Write the three sample archives into `out_dir` and return their facts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        generate_course_archive(
            out_dir / identity.file_name,
            seed,
            "small",
            identity=identity,
            root=root,
            drafts=drafts,
            static_bytes=_SAMPLE_STATIC_BYTES,
        )
        for seed, identity, root, drafts in _SAMPLES
    ]


if __name__ == "__main__":
    for facts in write_samples(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT_DIR):
        print(f"{facts.path}  {facts.block_count} blocks  {facts.compressed_bytes} bytes")
