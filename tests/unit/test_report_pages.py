"""The report's pure-Python parts, without Spark: file names from course ids, charts of empty
frames, escaping of course content in pages and in figure JSON, the number formats."""

from __future__ import annotations

import json
import re

import pandas as pd

from olx_spark.report import charts
from olx_spark.report.build import safe_names
from olx_spark.report.pages import Chart, Group, Kpi, Table, count, percent, render_page


def test_safe_names_keep_ids_readable_and_apart() -> None:
    names = safe_names(
        [
            "course-v1:MITx+6.00x+2024_T1",
            "MITx/6.00x/2024_T1",
            "MITx+6.00x+2024_T1",  # the same name as the one above once made safe
            "mitx/6.00x/2024_t1",  # differs only in case: apart on case-insensitive disks
            "::",
        ]
    )
    assert names["course-v1:MITx+6.00x+2024_T1"] == "course-v1_MITx_6.00x_2024_T1"
    assert names["MITx+6.00x+2024_T1"] == "MITx_6.00x_2024_T1"
    assert re.fullmatch(r"MITx_6\.00x_2024_T1-[0-9a-f]{8}", names["MITx/6.00x/2024_T1"])
    assert re.fullmatch(r"mitx_6\.00x_2024_t1-[0-9a-f]{8}", names["mitx/6.00x/2024_t1"])
    assert names["::"] == "course"
    assert len({n.lower() for n in names.values()}) == 5


def test_every_chart_of_an_empty_frame_is_none() -> None:
    empty = pd.DataFrame(
        columns=[
            "courserun_id",
            "enrollment_date",
            "enrollment_mode",
            "enrolled_count",
            "cumulative_count",
            "dimension",
            "value",
            "learners",
            "share",
            "week_start_date",
            "activity",
            "learner_count",
            "grade_from",
            "grade_to",
            "block_title",
            "section_level",
            "video_title",
            "video_block_id",
            "second",
            "share_of_starters",
            "num_users",
            "last_correct_share",
            "mean_attempts",
            "metric",
            "outcome",
            "mean",
        ]
    )
    assert charts.overview_enrollment(empty, {}) is None
    assert charts.course_rates(empty.assign(enrolled_learners=[]), {}) is None
    assert charts.enrollment_by_mode(empty) is None
    assert charts.funnel([]) is None
    assert charts.funnel([("Registered", 0), ("Viewed", 0)]) is None
    for dimension in ("gender", "age_band", "education", "country"):
        assert charts.demographic(empty, dimension) is None
    assert charts.weekly_activity(empty) is None
    assert charts.grade_distribution(empty, 0.5) is None
    assert charts.section_engagement(empty) is None
    assert charts.video_engagement(empty) is None
    assert charts.video_retention(empty) is None
    assert charts.problem_difficulty(empty) is None
    assert charts.engagement_by_outcome(empty) is None


def test_grade_bins_at_the_passing_grade_are_passing() -> None:
    bins = pd.DataFrame(
        {"grade_from": [0.5, 0.55, 0.6], "grade_to": [0.55, 0.6, 0.65], "learners": [1, 2, 3]}
    )
    fig = charts.grade_distribution(bins, 0.55)  # 0.55 * 100 is 55.00000000000001
    assert fig is not None
    assert list(fig.data[0].marker.color) == [charts.BLUE, charts.GREEN, charts.GREEN]
    assert fig.layout.shapes[0].x0 == 55


def test_course_content_cannot_break_out_of_the_page() -> None:
    title = "</script><script>alert(1)</script> & <b>"
    rows = pd.DataFrame(
        {"dimension": ["country"] * 2, "value": [title, "unknown"], "learners": [2, 1]}
    ).assign(share=[0.6667, 0.3333])
    figure = charts.demographic(rows, "country")
    table = Table(
        "t",
        "A table",
        "about",
        pd.DataFrame({"name": [title], "n": [1234]}),
        [("Name", "name", "text"), ("N", "n", "count")],
    )
    page = render_page(
        title=title,
        heading=title,
        subtitle_html="",
        crumbs_html="",
        chips=[title],
        kpis=[Kpi(title, "1")],
        groups=[Group("g", title, [Chart("c", title, "about", figure, "needs"), table])],
        footer=title,
        prefix="../",
    )
    assert "<script>alert" not in page
    assert page.count("</script>") == 2  # the library's and the figures'
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert '<td data-v="1234.0">1,234</td>' in page
    figures = re.search(r"var FIGURES = (\{.*?\});\n", page, re.S)
    assert figures is not None
    data = json.loads(figures.group(1))["c"]["data"][0]
    # In the figure too the label is text: Plotly shows the entities as characters.
    assert data["y"][0] == "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;"
    assert data["y"][1] == "Not given"


def test_an_empty_section_is_one_note() -> None:
    empty_chart = Chart("a", "A", "about", None, "needs logs")
    empty_table = Table("b", "B", "about", pd.DataFrame(), [], needs="needs packages")
    page = render_page(
        title="t",
        heading="t",
        subtitle_html="",
        crumbs_html="",
        chips=[],
        kpis=[],
        groups=[Group("g", "G", [empty_chart, empty_table], "Run `olx-spark transform`.")],
        footer="",
        prefix="",
    )
    assert page.count("No data landed for this yet.") == 1
    assert "Run <code>olx-spark transform</code>." in page
    assert 'class="plotly-graph-div' not in page


def test_number_formats() -> None:
    assert count(1234567) == "1,234,567"
    assert count(None) == "\u2013" and count(pd.NA) == "\u2013"
    assert percent(0.5) == "50 %" and percent(0.1234, 1) == "12.3 %"
    assert percent(float("nan")) == "\u2013"
