"""Who a generated course is: org, number, run, language, and how its XML is encoded.

A corpus mixes a few orgs, numbering styles and run names, and some courses in other languages
(some of those written with numeric character references, as older exports were). The course
number embeds the course's index in the corpus, so archive names never collide.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from olx_spark.synth.text import LANGUAGES

_ORGS = ("MITx", "HarvardX", "DelftX", "UQx", "TUMx", "edX", "UBCx", "IITBombayX")
_SUBJECTS = ("6", "18", "CS", "ECON", "BIO", "PHYS", "HIST", "LING", "EE", "MATH")
_TERMS = ("1T", "2T", "3T")
_RUN_STYLES = ("{term}{year}", "{year}_T{n}", "{year}_Fall", "{year}_Spring", "R{n}_{year}")


@dataclass(frozen=True)
class CourseIdentity:
    """The course's key parts, its language, and whether its XML uses character references."""

    org: str
    number: str
    run: str
    language: str = "en"
    charrefs: bool = False

    @property
    def course_id(self) -> str:
        return f"course-v1:{self.org}+{self.number}+{self.run}"

    @property
    def file_name(self) -> str:
        return f"{self.org}-{self.number}-{self.run}.tar.gz"

    def block_key(self, block_type: str, url_name: str) -> str:
        """The usage key of a block of this course (as drafts' `parent_url` names it)."""
        return f"block-v1:{self.org}+{self.number}+{self.run}+type@{block_type}+block@{url_name}"


def pick_identity(rng: random.Random, index: int) -> CourseIdentity:
    """A varied identity for the `index`-th course of a corpus (unique `file_name` per index)."""
    subject = rng.choice(_SUBJECTS)
    number = f"{subject}.{index + 1:03d}x" if subject.isdigit() else f"{subject}{index + 101}x"
    year = rng.randint(2014, 2025)
    run = rng.choice(_RUN_STYLES).format(term=rng.choice(_TERMS), year=year, n=rng.randint(1, 3))
    language = "en" if rng.random() < 0.6 else rng.choice(LANGUAGES[1:])
    charrefs = language != "en" and rng.random() < 0.5
    return CourseIdentity(rng.choice(_ORGS), number, run, language, charrefs)
