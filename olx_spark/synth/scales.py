"""How big a generated course is, per scale (small, medium, large).

One table of ranges decides the shape of every course, so tests can assert the ranges and the
benchmarks can state what "medium" means: small is a few chapters (about 50-150 blocks, for
tests and the demo), medium about 2,000 blocks, large about 10,000 blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Scale:
    """Inclusive ranges for one course's tree, and its mean static (media) bytes."""

    name: str
    chapters: tuple[int, int]
    sequentials_per_chapter: tuple[int, int]
    verticals_per_sequential: tuple[int, int]
    components_per_vertical: tuple[int, int]
    # Media (images, PDFs) per course: each course draws uniformly in [0.5, 1.5] x this mean.
    # Video transcripts come on top (one per video, text).
    static_bytes_mean: int
    # Probability that a course has unpublished draft units, and how many when it has.
    draft_probability: float
    drafts: tuple[int, int]


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale("small", (2, 4), (2, 3), (2, 4), (1, 4), 128 * KIB, 0.0, (1, 2)),
        Scale("medium", (6, 14), (4, 8), (3, 8), (2, 7), 2 * MIB, 0.25, (1, 3)),
        Scale("large", (14, 26), (6, 12), (5, 11), (2, 8), 16 * MIB, 0.5, (2, 6)),
    )
}


def get_scale(name: str) -> Scale:
    """The scale called `name`, or a ValueError naming the choices."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {name!r}") from None
