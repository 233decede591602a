"""`build_report`: run the report's Spark aggregations and write the static site.

Layout of the output folder:

    index.html                   every course run: the general report table, enrollment over time
    courses/<course>.html        one page per course run (file name made safe from the course id)
    data/course_runs.csv         the general report table
    data/enrollment_daily.csv    enrollment over time, every course run
    data/<course>/<chart>.csv    the numbers behind each chart of a course run's page
    assets/plotly.min.js         the charting library, once, loaded by every page by a relative path

Every per-chart query runs once for all selected course runs; its small result is then split by
course run in Python. A course run without rows for a chart gets a note on its page instead.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from olx_spark import __version__
from olx_spark.config import Config
from olx_spark.report import content, queries
from olx_spark.report.pages import (
    PLOTLY_ASSET,
    Group,
    esc,
    has_data,
    render_page,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportSummary:
    """What a report run wrote."""

    out_dir: Path
    index: Path
    course_pages: int
    csv_files: int
    seconds: float

    def render(self) -> str:
        return (
            f"olx-spark report: wrote {self.index} (overview) and {self.course_pages} course "
            f"run page(s) in {self.out_dir / 'courses'}, {self.csv_files} CSV file(s) in "
            f"{self.out_dir / 'data'} in {self.seconds:.1f}s; open {self.index} in a browser"
        )


def safe_names(course_ids: Sequence[str]) -> dict[str, str]:
    """A file name per course id: letters, digits, `.`, `_`, `-` kept, the rest `_`; a name
    that two ids would share (also when only the case differs) gets a hash of its id."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for course in sorted(course_ids):
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", course).strip("._-") or "course"
        if name.lower() in taken:
            name = f"{name}-{hashlib.sha1(course.encode()).hexdigest()[:8]}"
        taken.add(name.lower())
        names[course] = name
    return names


class _ByCourse:
    """One dataset's rows split by course run; a course run without rows gets none, with the
    dataset's columns."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.empty = frame.iloc[0:0]
        self.parts = {
            str(course): rows.reset_index(drop=True)
            for course, rows in frame.groupby("courserun_id", sort=False)
        }

    def get(self, course: str) -> pd.DataFrame:
        return self.parts.get(course, self.empty)


class _Writer:
    """Writes the report's files and counts the CSVs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.csv_files = 0

    def csv(self, relative: str, frame: pd.DataFrame) -> str:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, lineterminator="\n")
        self.csv_files += 1
        return relative

    def text(self, relative: str, content: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return path


def build_report(
    spark: SparkSession,
    config: Config,
    out_dir: str | Path,
    courses: Sequence[str] = (),
    progress: Progress | None = None,
) -> ReportSummary:
    """Write the report for `courses` (none given: every course run) into `out_dir`.

    Raises MartsMissingError when a mart does not exist (the transform has not run) and
    UnknownCourseError when a course run asked for is in no mart."""
    started = time.monotonic()
    say = progress or (lambda _line: None)
    marts = queries.Marts.of(spark, config, courses)
    marts.check()
    root = Path(out_dir)
    writer = _Writer(root)

    steps = 2 + len(queries.COURSE_DATASETS)
    say(f"[query 1/{steps}] course runs")
    runs = queries.fetch(queries.course_runs(marts))
    unknown = sorted(set(courses) - set(runs["courserun_id"]))
    if unknown:
        raise queries.UnknownCourseError(
            f"no course run {', '.join(unknown)} in {marts.schema}.marts__course_runs or "
            "marts__course_summary (course ids are spelled as the source spells them, e.g. "
            "course-v1:MITx+6.00x+2024_T1)"
        )
    say(f"[query 2/{steps}] enrollment over time")
    daily = queries.fetch(queries.enrollment_daily(marts))
    data: dict[str, _ByCourse] = {}
    for step, (name, query) in enumerate(queries.COURSE_DATASETS.items(), start=3):
        say(f"[query {step}/{steps}] {name.replace('_', ' ')}")
        data[name] = _ByCourse(queries.fetch(query(marts)))

    course_ids = [str(c) for c in runs["courserun_id"]]
    names = safe_names(course_ids)
    footer = (
        f"Built by olx-spark {__version__} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from the "
        f"dbt marts in {marts.schema}. Definitions: dbt/models/marts/_marts__models.yml. "
        "Charts: Plotly (embedded)."
    )
    (root / "assets").mkdir(parents=True, exist_ok=True)
    _write_plotly(root / PLOTLY_ASSET)

    pages = len(course_ids) + 1
    for number, (_, run) in enumerate(runs.iterrows(), start=1):
        course = str(run["courserun_id"])
        say(f"[page {number}/{pages}] {course}")
        frames = {k: v.get(course) for k, v in data.items()}
        sections = _course_groups(run, frames, names[course], writer)
        enrolled = run.get("enrolled_learners")
        nobody = content.missing(enrolled) or not int(enrolled)
        nothing = nobody and not any(has_data(c) for g in sections for c in g.cards)
        title = content.title_of(run)
        writer.text(
            f"courses/{names[course]}.html",
            render_page(
                title=f"{title}: course run report",
                heading=title,
                subtitle_html=f"<code>{esc(course)}</code>",
                crumbs_html='<a href="../index.html">All course runs</a> &rsaquo; course run',
                chips=content.chips(run),
                kpis=content.course_kpis(run),
                groups=sections,
                footer=footer,
                prefix="../",
                banner=content.NOTHING_YET if nothing else "",
            ),
        )

    say(f"[page {pages}/{pages}] overview")
    index = writer.text("index.html", _overview(runs, daily, names, writer, footer))
    return ReportSummary(
        out_dir=root,
        index=index,
        course_pages=len(course_ids),
        csv_files=writer.csv_files,
        seconds=time.monotonic() - started,
    )


def _write_plotly(path: Path) -> None:
    from plotly.offline import get_plotlyjs

    script = get_plotlyjs()
    if not path.is_file() or path.read_text(encoding="utf-8") != script:
        path.write_text(script, encoding="utf-8")


def _course_groups(
    run: pd.Series, data: dict[str, pd.DataFrame], name: str, writer: _Writer
) -> list[Group]:
    """The sections of a course run's page; writes the CSV of each chart that has data."""
    frames = dict(data)
    funnel = content.funnel_frame(run)
    frames["funnel"] = funnel
    csvs = {key: f"data/{name}/{key}.csv" for key in frames}
    groups = content.course_cards(run, frames, csvs)
    for stale in (writer.root / "data" / name).glob("*.csv"):  # from an earlier report
        stale.unlink()
    shown = {card.csv for group in groups for card in group.cards if has_data(card)}
    for key, frame in frames.items():
        if csvs[key] in shown:
            writer.csv(csvs[key], frame)
    return groups


def _overview(
    runs: pd.DataFrame,
    daily: pd.DataFrame,
    names: dict[str, str],
    writer: _Writer,
    footer: str,
) -> str:
    runs_csv = writer.csv("data/course_runs.csv", runs)
    daily_csv = writer.csv("data/enrollment_daily.csv", daily)
    kpis, groups, banner = content.overview(runs, daily, names, runs_csv, daily_csv)
    return render_page(
        title="Course runs report",
        heading="Course runs report",
        subtitle_html="Enrollment, activity and outcomes of every course run in the warehouse.",
        crumbs_html="olx-spark report",
        chips=[],
        kpis=kpis,
        groups=groups,
        footer=footer,
        prefix="",
        banner=banner,
    )
