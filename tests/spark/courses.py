"""Small hand-written courses for the Spark job tests, written as real `.tar.gz` archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


def write_tar_gz(path: Path, files: dict[str, str | bytes], mtime: int = 1_700_000_000) -> Path:
    """Write `files` (archive path -> content) as a gzipped tar, deterministically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", compresslevel=6) as tar:
        for name, content in sorted(files.items()):
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            tar.addfile(info, io.BytesIO(data))
    return path


def tiny_course(
    run: str = "2024_T1", title: str = "Tiny Course", html: str = "<p>Hi</p>"
) -> dict[str, str]:
    """A course with one chapter, one sequential, one vertical, an html and a problem block."""
    return {
        "course/course.xml": f'<course url_name="{run}" org="MITx" course="T.01"/>',
        f"course/course/{run}.xml": (
            f'<course display_name="{title}" start="2024-01-01T00:00:00Z">'
            '<chapter url_name="ch1"/></course>'
        ),
        "course/chapter/ch1.xml": '<chapter display_name="Week 1"><sequential url_name="seq1"/></chapter>',
        "course/sequential/seq1.xml": (
            '<sequential display_name="Lesson"><vertical url_name="v1"/></sequential>'
        ),
        "course/vertical/v1.xml": (
            '<vertical display_name="Unit"><html url_name="h1"/><problem url_name="p1"/></vertical>'
        ),
        "course/html/h1.xml": '<html filename="h1" display_name="Intro"/>',
        "course/html/h1.html": html,
        "course/problem/p1.xml": (
            '<problem display_name="Q1"><multiplechoiceresponse><choicegroup>'
            '<choice correct="true">A</choice><choice correct="false">B</choice>'
            "</choicegroup></multiplechoiceresponse></problem>"
        ),
        f"course/policies/{run}/policy.json": (
            f'{{"course/{run}": {{"display_name": "{title} (policy)", "self_paced": true}}}}'
        ),
        f"course/policies/{run}/grading_policy.json": (
            '{"GRADER": [{"type": "Homework", "weight": 1.0, "min_count": 1, "drop_count": 0}],'
            ' "GRADE_CUTOFFS": {"Pass": 0.5}}'
        ),
        "course/about/overview.html": "<section>About</section>",
        "course/static/notes.pdf": "%PDF-1.4 not really a pdf",
    }


TINY_BLOCK_TYPES = {
    "course": 1,
    "chapter": 1,
    "sequential": 1,
    "vertical": 1,
    "html": 1,
    "problem": 1,
}
