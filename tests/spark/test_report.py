"""`olx-spark report` on hand-made marts (tests/report_fixtures.py) in local Spark: the exact
numbers of every CSV (computed by hand from the fixtures), the pages and their links, no
external URL anywhere, a warehouse with only course archives, and marts that do not exist.

The browser side (every page loads, every chart renders) is tests/report/test_report_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from olx_spark.cli import main
from olx_spark.config import Config
from olx_spark.report import MartsMissingError, UnknownCourseError, build_report, queries
from olx_spark.transform import dbt_schema
from tests.cli_fixtures import config_file
from tests.report_fixtures import COURSE, QUIET, archive_only_marts, full_marts, write_marts

pytestmark = pytest.mark.spark

COURSE_FILE = "course-v1_MITx_T.01_2024_T1"
QUIET_FILE = "MITx_Quiet_2024"
C = COURSE
B = "block-v1:MITx+T.01+2024_T1+type@"

RUNS_HEADER = (
    "courserun_id,courserun_title,platform,courserun_start_on,courserun_end_on,"
    "courserun_is_self_paced,courserun_passing_grade,chapter_count,sequential_count,"
    "problem_count,video_count,enrolled_learners,active_learners,viewed_learners,"
    "explored_learners,certified_learners,passing_learners,failed_learners,verified_learners,"
    "active_rate,viewed_rate,explored_rate,certified_rate,passing_rate,male_learners,"
    "female_learners,other_gender_learners,unknown_gender_learners,country_count,median_grade"
)
QUIET_ROW = f"{QUIET},A quiet course,edxorg,,,,,1,1,0,,,,,,,,,,,,,,,,,,,,"
# With the summary dbt writes for a course run nobody enrolled in: zeros, no rates.
QUIET_ZERO_ROW = f"{QUIET},A quiet course,edxorg,,,,,1,1,0,,0,0,0,0,0,0,0,0,,,,,,0,0,0,0,0,"
COURSE_ROW = (
    f"{C},Data & Society <Basics>,edxorg,2024-01-08T00:00:00Z,2024-04-01T00:00:00Z,False,0.6,"
    "2,3,3,2,4,3,3,2,2,2,1,1,0.75,0.75,0.5,0.5,0.5,2,1,0,1,2,0.65"
)
DAILY_HEADER = "courserun_id,enrollment_date,enrolled_count,cumulative_count"


def _lines(*rows: str) -> str:
    return "".join(f"{row}\n" for row in rows)


def _grade_bins() -> list[str]:
    learners = {7: 1, 13: 1, 18: 1}  # grades 0.35, 0.65, 0.92 (the unregistered 0.99 is out)
    bounds = [
        "0.0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.35", "0.4", "0.45", "0.5",
        "0.55", "0.6", "0.65", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95", "1.0",
    ]  # fmt: skip
    return [f"{C},{bounds[i]},{bounds[i + 1]},{learners.get(i, 0)}" for i in range(20)]


COURSE_CSVS = {
    "enrollment_by_mode": _lines(
        "courserun_id,enrollment_date,enrollment_mode,enrolled_count,cumulative_count",
        f"{C},2024-01-01,audit,2,2",
        f"{C},2024-01-02,audit,2,2",
        f"{C},2024-01-02,verified,1,1",
        f"{C},2024-01-03,audit,2,3",
        f"{C},2024-01-03,verified,1,1",
    ),
    "funnel": _lines(
        "courserun_id,stage,learners,share_of_registered",
        f"{C},registered,4,1.0",
        f"{C},viewed,3,0.75",
        f"{C},explored,2,0.5",
        f"{C},certified,2,0.5",
    ),
    # Registered learners 1-4 (learner 5 never registered); TOP_COUNTRIES is 1 in this test.
    "demographics": _lines(
        "courserun_id,dimension,value,learners,share",
        f"{C},gender,f,1,0.25",
        f"{C},gender,m,2,0.5",
        f"{C},gender,unknown,1,0.25",
        f"{C},age_band,25_and_under,1,0.25",
        f"{C},age_band,26_40,2,0.5",
        f"{C},age_band,unknown,1,0.25",
        f"{C},education,college,2,0.5",
        f"{C},education,advanced,1,0.25",
        f"{C},education,unknown,1,0.25",
        f"{C},country,US,2,0.5",
        f"{C},country,other,1,0.25",
        f"{C},country,unknown,1,0.25",
    ),
    "weekly_activity": _lines(
        "courserun_id,week_start_date,activity,learner_count",
        f"{C},2024-01-01,ACTIVE,3",
        f"{C},2024-01-01,PLAYED_VIDEO,2",
        f"{C},2024-01-01,ATTEMPTED_PROBLEM,3",
        f"{C},2024-01-08,ACTIVE,2",
        f"{C},2024-01-08,POSTED_FORUM,1",
    ),
    "grade_distribution": _lines("courserun_id,grade_from,grade_to,learners", *_grade_bins()),
    "section_engagement": _lines(
        "courserun_id,course_order_index,section_level,block_id,block_title,chapter_block_id,"
        "enrolled_learners,viewed_learners,attempted_learners,video_learners,viewed_share,"
        "attempted_share,video_share",
        f"{C},1,chapter,{B}chapter@ch1,Getting started,{B}chapter@ch1,4,3,3,3,0.75,0.75,0.75",
        f"{C},2,sequential,{B}sequential@s1,Welcome,{B}chapter@ch1,4,3,2,3,0.75,0.5,0.75",
        f"{C},5,sequential,{B}sequential@s2,First steps,{B}chapter@ch1,4,2,3,0,0.5,0.75,0.0",
        f"{C},7,chapter,{B}chapter@ch2,Going further,{B}chapter@ch2,4,2,2,1,0.5,0.5,0.25",
        f"{C},8,sequential,{B}sequential@s3,Exam,{B}chapter@ch2,4,2,2,1,0.5,0.5,0.25",
    ),
    # Course order; v2's title from its block; legacy-id is no block: its own id, last.
    "videos": _lines(
        "courserun_id,course_order_index,video_block_id,video_title,duration_seconds,"
        "unique_viewers,users_at_start,users_at_end,watched_95_learners,play_count,"
        "minutes_viewed,end_share",
        f"{C},3,{B}video@v1,Welcome video,120.0,3,3,1,1,5,10.0,0.3333",
        f"{C},9,{B}video@v2,Second video,60.0,1,1,1,1,1,1.0,1.0",
        f"{C},,legacy-id,legacy-id,,2,0,,,2,0.75,",
    ),
    # Most viewed first; shares of users_at_start (legacy-id has none: of its peak, 2).
    "video_retention": _lines(
        "courserun_id,video_rank,video_block_id,video_title,segment,second,num_users,"
        "num_views,share_of_starters",
        f"{C},1,{B}video@v1,Welcome video,0,0,3,4,1.0",
        f"{C},1,{B}video@v1,Welcome video,1,5,3,3,1.0",
        f"{C},1,{B}video@v1,Welcome video,2,10,2,2,0.6667",
        f"{C},1,{B}video@v1,Welcome video,3,15,1,1,0.3333",
        f"{C},2,legacy-id,legacy-id,0,0,2,2,1.0",
        f"{C},2,legacy-id,legacy-id,1,5,1,1,0.5",
        f"{C},3,{B}video@v2,Second video,0,0,1,1,1.0",
        f"{C},3,{B}video@v2,Second video,1,5,1,1,1.0",
    ),
    "problems": _lines(
        "courserun_id,course_order_index,problem_block_id,problem_title,attempted_learners,"
        "first_attempt_correct_learners,last_attempt_correct_learners,first_correct_share,"
        "last_correct_share,mean_attempts,mean_score,problem_summary_source",
        f"{C},4,{B}problem@p1,Warm-up,3,2,3,0.6667,1.0,1.33,0.9,events",
        f"{C},6,{B}problem@p2,Tricky one,3,0,1,0.0,0.3333,2.67,0.4,events",
        f"{C},10,{B}problem@p3,Final question,2,,1,,0.5,1.5,0.5,studentmodule",
    ),
    # Certified: learners 1, 2; not: 3, 4 (4 has no activity: zeros). Hours 600 s = 0.0833.
    "engagement_by_outcome": _lines(
        "courserun_id,metric,outcome,learners,mean,median",
        f"{C},active_days,certified,2,4.0,4.0",
        f"{C},active_days,not certified,2,0.5,0.5",
        f"{C},hours_on_site,certified,2,1.5,1.5",
        f"{C},hours_on_site,not certified,2,0.08,0.08",
        f"{C},videos_viewed,certified,2,1.5,1.5",
        f"{C},videos_viewed,not certified,2,0.5,0.5",
        f"{C},problems_attempted,certified,2,2.5,2.5",
        f"{C},problems_attempted,not certified,2,0.5,0.5",
        f"{C},chapters_visited,certified,2,2.0,2.0",
        f"{C},chapters_visited,not certified,2,0.5,0.5",
        f"{C},forum_posts,certified,2,0.5,0.5",
        f"{C},forum_posts,not certified,2,0.0,0.0",
    ),
}
COURSE_CHARTS = 13  # every chart of a course page
NO_DATA = "No data landed for this yet."


def _marts(spark: Any, config: Config, rows: dict[str, list[dict[str, Any]]]) -> None:
    write_marts(spark, dbt_schema(config, "marts"), rows)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _charts(page: str) -> int:
    return page.count('class="plotly-graph-div')


def _assert_offline(root: Path) -> None:
    """No page loads or links anything from the network; scripts are relative files."""
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, page
        assert "//cdn" not in text, page
        sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', text)
        prefix = "../" if page.parent.name == "courses" else ""
        assert sources == [f"{prefix}assets/plotly.min.js"], (page, sources)


def test_report_of_full_marts(
    spark: Any, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plotly.offline import get_plotlyjs

    monkeypatch.setattr(queries, "TOP_COUNTRIES", 1)  # so that `other` shows with 2 countries
    _marts(spark, config, full_marts())
    lines: list[str] = []
    out = tmp_path / "report"
    summary = build_report(spark, config, out, progress=lines.append)

    assert summary.index == out / "index.html"
    assert (summary.course_pages, summary.csv_files) == (2, 2 + len(COURSE_CSVS))
    assert _files(out) == {
        "index.html",
        "assets/plotly.min.js",
        f"courses/{COURSE_FILE}.html",
        f"courses/{QUIET_FILE}.html",
        "data/course_runs.csv",
        "data/enrollment_daily.csv",
        *(f"data/{COURSE_FILE}/{name}.csv" for name in COURSE_CSVS),
    }
    assert (out / "assets/plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    assert (out / "data/course_runs.csv").read_text() == _lines(
        RUNS_HEADER, QUIET_ZERO_ROW, COURSE_ROW
    )
    assert (out / "data/enrollment_daily.csv").read_text() == _lines(
        DAILY_HEADER, f"{C},2024-01-01,2,2", f"{C},2024-01-02,3,3", f"{C},2024-01-03,3,4"
    )
    for name, expected in COURSE_CSVS.items():
        assert (out / f"data/{COURSE_FILE}/{name}.csv").read_text() == expected, name
    _assert_offline(out)

    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="courses/{COURSE_FILE}.html"' in index
    assert f'href="courses/{QUIET_FILE}.html"' in index
    assert 'href="data/course_runs.csv"' in index and 'href="data/enrollment_daily.csv"' in index
    assert _charts(index) == 2  # enrollment over time, rates per course run
    assert "Data &amp; Society &lt;Basics&gt;" in index and "<Basics>" not in index
    assert "structure has landed" not in index

    page = (out / f"courses/{COURSE_FILE}.html").read_text(encoding="utf-8")
    assert _charts(page) == COURSE_CHARTS
    assert NO_DATA not in page
    assert "<Basics>" not in page
    for name in COURSE_CSVS:
        assert f'href="../data/{COURSE_FILE}/{name}.csv"' in page, name
    # KPI cards: enrolled 4 (1 verified), certified 2 = 50.0 %, median grade 65 %.
    assert '<div class="value">4</div><div class="note">1 verified</div>' in page
    assert 'Certified</div><div class="value">2</div><div class="note">50.0 % of' in page
    assert '<div class="value">65 %</div>' in page

    # Sections with no enrolled learner and a summary of zeros are no data: no chart, no CSV.
    quiet = (out / f"courses/{QUIET_FILE}.html").read_text(encoding="utf-8")
    assert _charts(quiet) == 0
    assert quiet.count(NO_DATA) == 5  # one note per section
    assert "Only this course run&#x27;s structure has landed" in quiet

    assert lines[0] == "[query 1/11] course runs"
    assert lines[10] == "[query 11/11] engagement by outcome"
    assert lines[11:] == [
        f"[page 1/3] {QUIET}",
        f"[page 2/3] {COURSE}",
        "[page 3/3] overview",
    ]
    assert summary.render().startswith(f"olx-spark report: wrote {out / 'index.html'} (overview)")


def test_report_of_course_archives_only(
    spark: Any, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _marts(spark, config, archive_only_marts())
    out = tmp_path / "all"
    summary = build_report(spark, config, out)

    assert (summary.course_pages, summary.csv_files) == (2, 2)
    assert _files(out) == {
        "index.html",
        "assets/plotly.min.js",
        f"courses/{COURSE_FILE}.html",
        f"courses/{QUIET_FILE}.html",
        "data/course_runs.csv",
        "data/enrollment_daily.csv",
    }
    course_only = (
        f"{C},Data & Society <Basics>,edxorg,2024-01-08T00:00:00Z,2024-04-01T00:00:00Z,False,"
        "0.6,2,3,3,2" + "," * 19
    )
    assert (out / "data/course_runs.csv").read_text() == _lines(RUNS_HEADER, QUIET_ROW, course_only)
    assert (out / "data/enrollment_daily.csv").read_text() == _lines(DAILY_HEADER)
    _assert_offline(out)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert _charts(index) == 0 and index.count(NO_DATA) == 1
    assert "Only the course runs&#x27; structure has landed" in index
    for name in (COURSE_FILE, QUIET_FILE):
        page = (out / f"courses/{name}.html").read_text(encoding="utf-8")
        assert _charts(page) == 0 and page.count(NO_DATA) == 5
        assert "structure has landed" in page

    # One course run from the command line: its page only, its row only in the general report.
    one = tmp_path / "one"
    capsys.readouterr()
    toml = config_file(config, tmp_path)
    assert main(["report", "--out", str(one), "--course", QUIET, "--config", toml]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "[query 1/11] course runs"
    assert printed[-3:-1] == [f"[page 1/2] {QUIET}", "[page 2/2] overview"]
    assert printed[-1].startswith(f"olx-spark report: wrote {one / 'index.html'} (overview) and 1 ")
    assert "2 CSV file(s)" in printed[-1]
    assert sorted(p.name for p in (one / "courses").iterdir()) == [f"{QUIET_FILE}.html"]
    assert (one / "data/course_runs.csv").read_text() == _lines(RUNS_HEADER, QUIET_ROW)
    # The same command again, the marts unchanged: nothing to do, no query runs.
    assert main(["report", "--out", str(one), "--course", QUIET, "--config", toml]) == 0
    again = capsys.readouterr().out
    assert "have not changed since the report" in again and "Spark not started" in again
    assert "[query" not in again
    # A mart with a new Delta version: the report is written again.
    marts = dbt_schema(config, "marts")
    spark.sql(f"ALTER TABLE `{marts}`.`marts__course_runs` SET TBLPROPERTIES ('x.test' = '1')")
    assert main(["report", "--out", str(one), "--course", QUIET, "--config", toml]) == 0
    assert capsys.readouterr().out.startswith("[query 1/11] course runs")

    with pytest.raises(UnknownCourseError, match="no course run course-v1:MITx"):
        build_report(spark, config, tmp_path / "none", courses=[QUIET, "course-v1:MITx+No+1"])
    assert not (tmp_path / "none").exists()


def test_report_without_marts_says_to_transform(
    spark: Any, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marts = dbt_schema(config, "marts")
    spark.sql(f"DROP DATABASE IF EXISTS `{marts}` CASCADE")
    with pytest.raises(MartsMissingError, match=r"15 of them do not exist") as caught:
        build_report(spark, config, tmp_path / "out")
    assert "run `olx-spark transform` first" in str(caught.value)
    assert not (tmp_path / "out").exists()

    # All but one mart: the message names just that one.
    _marts(spark, config, archive_only_marts())
    spark.sql(f"DROP TABLE `{marts}`.`marts__video_timeline`")
    with pytest.raises(MartsMissingError, match=r"1 of them do not exist") as caught:
        build_report(spark, config, tmp_path / "out")
    assert f"({marts}.marts__video_timeline)" in str(caught.value)

    # The command line: exit code 2 and the message, no traceback.
    toml = config_file(config, tmp_path)
    capsys.readouterr()
    assert main(["report", "--out", str(tmp_path / "cli"), "--config", toml]) == 2
    err = capsys.readouterr().err
    assert err.startswith("olx-spark: the report reads the dbt marts")
    assert "marts__video_timeline" in err and "olx-spark transform" in err
