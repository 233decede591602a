"""What the report's pages say: for a course run, its chips, KPI cards and sections (each chart
in order, with what it shows and what data would fill it, and the CSV it links); for the
overview, its KPI cards, the general report table and its charts. Only page content: the
queries are in `queries`, the figures in `charts`, the HTML in `pages`, the files in `build`.
"""

from __future__ import annotations

import pandas as pd

from olx_spark.report import charts
from olx_spark.report.pages import Chart, Group, Kpi, Table, count, percent

NEEDS_LOGS = "It needs tracking logs: `olx-spark ingest tracking-logs`, then `olx-spark transform`."
NEEDS_PACKAGE = (
    "It needs a research data package (`olx-spark ingest data-packages`) or tracking logs, "
    "then `olx-spark transform`."
)
# The banners of a course run page, and of the overview, when no learner data landed at all.
NOTHING_YET = (
    "Only this course run's structure has landed: no enrollment, learner or activity data yet. "
    "Ingest research data packages (`olx-spark ingest data-packages`) or tracking logs "
    "(`olx-spark ingest tracking-logs`), then run `olx-spark transform` and this report again."
)
NOTHING_LANDED = (
    "Only the course runs' structure has landed: no enrollment, learner or activity data yet. "
    "Ingest research data packages (`olx-spark ingest data-packages`) or tracking logs "
    "(`olx-spark ingest tracking-logs`), then run `olx-spark transform` and this report again."
)


def missing(value: object) -> bool:
    """None, NaN or NA (a value the mart does not have)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def title_of(run: pd.Series) -> str:
    """The course run's title, else its id."""
    title = run.get("courserun_title")
    return str(run["courserun_id"]) if missing(title) else str(title)


def chips(run: pd.Series) -> list[str]:
    """The facts under a course run's title: platform, dates, pacing, passing grade, size."""
    chips: list[str] = []
    if not missing(run.get("platform")):
        chips.append(
            {"edxorg": "edX.org", "openedx": "Open edX"}.get(run["platform"], run["platform"])
        )
    for label, name in (("Starts", "courserun_start_on"), ("Ends", "courserun_end_on")):
        if not missing(run.get(name)):
            chips.append(f"{label} {str(run[name])[:10]}")
    paced = run.get("courserun_is_self_paced")
    if not missing(paced):
        chips.append("Self-paced" if paced else "Instructor-paced")
    if not missing(run.get("courserun_passing_grade")):
        chips.append(f"Passing grade {percent(run['courserun_passing_grade'])}")
    parts = [
        f"{count(run.get(name))} {label}{'' if run.get(name) == 1 else 's'}"
        for name, label in (
            ("chapter_count", "section"),
            ("sequential_count", "subsection"),
            ("problem_count", "problem"),
            ("video_count", "video"),
        )
        if not missing(run.get(name))
    ]
    if parts:
        chips.append(" · ".join(parts))
    return chips


def _rate_note(run: pd.Series, rate: str) -> str:
    value = run.get(rate)
    return "" if missing(value) else f"{percent(value, 1)} of enrolled"


def course_kpis(run: pd.Series) -> list[Kpi]:
    """A course run's KPI cards, from its general report row."""
    verified = run.get("verified_learners")
    return [
        Kpi(
            "Enrolled",
            count(run.get("enrolled_learners")),
            "" if missing(verified) else f"{count(verified)} verified",
            charts.BLUE,
        ),
        Kpi("Active", count(run.get("active_learners")), _rate_note(run, "active_rate"), "#0891b2"),
        Kpi(
            "Explored",
            count(run.get("explored_learners")),
            _rate_note(run, "explored_rate"),
            "#7c3aed",
        ),
        Kpi(
            "Certified",
            count(run.get("certified_learners")),
            _rate_note(run, "certified_rate"),
            charts.GREEN,
        ),
        Kpi(
            "Passing",
            count(run.get("passing_learners")),
            _rate_note(run, "passing_rate"),
            "#65a30d",
        ),
        Kpi(
            "Median grade", percent(run.get("median_grade")), "of certificate grades", charts.AMBER
        ),
    ]


def funnel_frame(run: pd.Series) -> pd.DataFrame:
    """Registered -> viewed -> explored -> certified from the general report row (aggregated in
    Spark), with each stage's share of the registered; no rows when nobody registered."""
    stages = [
        ("registered", run.get("enrolled_learners")),
        ("viewed", run.get("viewed_learners")),
        ("explored", run.get("explored_learners")),
        ("certified", run.get("certified_learners")),
    ]
    if any(missing(n) for _, n in stages) or not int(stages[0][1]):
        return pd.DataFrame(columns=["courserun_id", "stage", "learners", "share_of_registered"])
    first = int(stages[0][1])
    return pd.DataFrame(
        {
            "courserun_id": [run["courserun_id"]] * len(stages),
            "stage": [s for s, _ in stages],
            "learners": [int(n) for _, n in stages],
            "share_of_registered": [round(int(n) / first, 4) for _, n in stages],
        }
    )


def course_cards(
    run: pd.Series, frames: dict[str, pd.DataFrame], csvs: dict[str, str]
) -> list[Group]:
    """The sections of a course run's page, each chart with the CSV it would link."""
    funnel = frames["funnel"]

    def frame(key: str) -> pd.DataFrame:
        return frames[key]

    demo = frame("demographics")
    passing = run.get("courserun_passing_grade")
    problems = frame("problems")
    hardest = (
        problems.sort_values(
            ["last_correct_share", "attempted_learners"], ascending=[True, False], kind="stable"
        ).head(10)
        if not problems.empty
        else problems
    )
    return [
        Group(
            "enrollment",
            "Enrollment and outcomes",
            [
                Chart(
                    "enrollment-mode",
                    "Enrollment over time, by mode",
                    "Learners enrolled at the end of each day, stacked by their enrollment mode.",
                    charts.enrollment_by_mode(frame("enrollment_by_mode")),
                    NEEDS_PACKAGE,
                    csvs["enrollment_by_mode"],
                    wide=True,
                ),
                Chart(
                    "funnel",
                    "From registration to certificate",
                    "Registered learners who viewed any section, explored at least half of the "
                    "sections, and earned a certificate.",
                    charts.funnel(
                        [
                            (s.capitalize(), int(n))
                            for s, n in zip(
                                funnel.get("stage", []), funnel.get("learners", []), strict=True
                            )
                        ]
                    ),
                    NEEDS_PACKAGE,
                    csvs["funnel"],
                ),
                Chart(
                    "grades",
                    "Grade distribution",
                    "Registered learners with a certificate grade, in 5-point bins; green bins "
                    "are at or above the passing grade.",
                    charts.grade_distribution(frame("grade_distribution"), passing),
                    "It needs certificates from a research data package "
                    "(`olx-spark ingest data-packages`), then `olx-spark transform`.",
                    csvs["grade_distribution"],
                ),
            ],
            "Enrollment over time, the registration funnel and the grade distribution appear "
            "once enrollments and certificates land, from research data packages or tracking logs.",
        ),
        Group(
            "learners",
            "Who the learners are",
            [
                Chart(
                    f"demo-{dimension}",
                    title,
                    about,
                    charts.demographic(demo, dimension) if not demo.empty else None,
                    "It needs learner profiles from a research data package "
                    "(`olx-spark ingest data-packages`), then `olx-spark transform`.",
                    csvs["demographics"],
                )
                for dimension, title, about in (
                    ("gender", "Gender", "As learners gave it in their profile."),
                    ("age_band", "Age", "Age at the start of the course run."),
                    ("education", "Education", "Highest level of education completed."),
                    ("country", "Top countries", "Profile country; the ten most common."),
                )
            ],
            "Gender, age, education and countries appear once learner profiles land, from "
            "research data packages.",
        ),
        Group(
            "activity",
            "Activity",
            [
                Chart(
                    "weekly-activity",
                    "Weekly active learners",
                    "Distinct learners per week (Monday to Sunday, UTC) by what they did.",
                    charts.weekly_activity(frame("weekly_activity")),
                    NEEDS_LOGS,
                    csvs["weekly_activity"],
                    wide=True,
                ),
                Chart(
                    "sections",
                    "Engagement by section, in course order",
                    "Share of enrolled learners who viewed a page, attempted a problem and "
                    "watched a video in each section (bold) and subsection.",
                    charts.section_engagement(frame("section_engagement")),
                    NEEDS_PACKAGE,
                    csvs["section_engagement"],
                    wide=True,
                ),
                Chart(
                    "outcome",
                    "Engagement of certified learners and the others",
                    "Average per registered learner; hover for the median.",
                    charts.engagement_by_outcome(frame("engagement_by_outcome")),
                    NEEDS_LOGS,
                    csvs["engagement_by_outcome"],
                    wide=True,
                ),
            ],
            "Weekly activity and engagement by section and by outcome appear once tracking logs "
            "land (section views also come from research data packages).",
        ),
        Group(
            "videos",
            "Videos",
            [
                Chart(
                    "video-viewers",
                    "Viewers per video, in course order",
                    "Learners who played the video, reached its end, and watched 95 % of it.",
                    charts.video_engagement(frame("videos")),
                    NEEDS_LOGS,
                    csvs["videos"],
                    wide=True,
                ),
                Chart(
                    "video-retention",
                    "Retention of the most viewed videos",
                    "Share of the learners who started a video still watching at each point.",
                    charts.video_retention(frame("video_retention")),
                    NEEDS_LOGS,
                    csvs["video_retention"],
                    wide=True,
                ),
            ],
            "Viewers and retention per video appear once tracking logs with video events land.",
        ),
        Group(
            "problems",
            "Problems",
            [
                Chart(
                    "problem-difficulty",
                    "Problem difficulty",
                    "Each bubble is a problem, sized by the learners who attempted it: the lower "
                    "and further right, the harder.",
                    charts.problem_difficulty(problems),
                    NEEDS_PACKAGE,
                    csvs["problems"],
                    wide=True,
                ),
                Table(
                    "hardest-problems",
                    "The hardest problems",
                    "The ten problems with the lowest share correct at the last attempt.",
                    hardest,
                    [
                        ("Problem", "problem_title", "text"),
                        ("Attempted", "attempted_learners", "count"),
                        ("Correct, first attempt", "first_correct_share", "percent"),
                        ("Correct, last attempt", "last_correct_share", "percent"),
                        ("Mean attempts", "mean_attempts", "number"),
                        ("Mean score", "mean_score", "percent"),
                    ],
                    csvs["problems"],
                    NEEDS_PACKAGE,
                ),
            ],
            "Problem difficulty appears once problem attempts land, from tracking logs or "
            "research data packages.",
        ),
    ]


def overview(
    runs: pd.DataFrame,
    daily: pd.DataFrame,
    names: dict[str, str],
    runs_csv: str,
    daily_csv: str,
) -> tuple[list[Kpi], list[Group], str]:
    """The overview's KPI cards, sections and banner."""
    shown = runs.assign(
        start=runs["courserun_start_on"].map(lambda v: None if missing(v) else str(v)[:10])
    )
    titles = {
        str(c): title_of(r) for c, (_, r) in zip(runs["courserun_id"], runs.iterrows(), strict=True)
    }
    total = {
        column: int(runs[column].fillna(0).sum())
        for column in (
            "enrolled_learners",
            "active_learners",
            "certified_learners",
            "passing_learners",
        )
    }
    kpis = [
        Kpi("Course runs", f"{len(runs):,}", "in this report", "#475569"),
        Kpi("Enrollments", f"{total['enrolled_learners']:,}", "over all course runs", charts.BLUE),
        Kpi("Active", f"{total['active_learners']:,}", "enrollments with activity", "#0891b2"),
        Kpi("Certified", f"{total['certified_learners']:,}", "certificates earned", charts.GREEN),
        Kpi("Passing", f"{total['passing_learners']:,}", "reached the passing grade", "#65a30d"),
    ]
    table = Table(
        "course-runs",
        "General report",
        "One row per course run; click a column to sort, a course run to open its page.",
        shown,
        [
            ("Course run", "courserun_title", "course"),
            ("Starts", "start", "date"),
            ("Enrolled", "enrolled_learners", "count"),
            ("Active", "active_learners", "count"),
            ("Viewed", "viewed_learners", "count"),
            ("Explored", "explored_learners", "count"),
            ("Certified", "certified_learners", "count"),
            ("Passing", "passing_learners", "count"),
            ("Failed", "failed_learners", "count"),
            ("Verified", "verified_learners", "count"),
            ("Passing rate", "passing_rate", "percent1"),
            ("Countries", "country_count", "count"),
            ("Median grade", "median_grade", "percent"),
        ],
        runs_csv,
        "No course run has landed yet: ingest course archives, data packages or tracking logs, "
        "then run `olx-spark transform`.",
        links={course: f"courses/{name}.html" for course, name in names.items()},
        link_field="courserun_id",
    )
    chart = Chart(
        "enrollment",
        "Enrollment over time",
        f"Learners enrolled at the end of each day; the {charts.TOP_COURSES} largest course runs "
        "(every course run is in the CSV).",
        charts.overview_enrollment(daily, titles),
        NEEDS_PACKAGE,
        daily_csv,
        wide=True,
    )
    rates = Chart(
        "rates",
        "Viewed, explored, certified",
        f"Share of each course run's enrolled learners at each step; the {charts.TOP_RATES} "
        "largest course runs.",
        charts.course_rates(runs, titles),
        NEEDS_PACKAGE,
        runs_csv,
        wide=True,
    )
    groups = [
        Group("runs", "Course runs", [table]),
        Group("trend", "Enrollment and outcomes", [chart, rates]),
    ]
    banner = NOTHING_LANDED if not runs.empty and not total["enrolled_learners"] else ""
    return kpis, groups, banner
