"""`olx-spark report`: a static HTML report over the dbt marts that opens offline.

`queries` aggregates the marts in Spark (only small, aggregated frames reach Python, over
Arrow), `charts` turns those frames into Plotly figures, `content` says what each page holds
(sections, explanations, KPI cards), `pages` lays it out as HTML with a CSV link beside each
chart and table, and `build` writes the whole folder: `index.html` (every course
run), `courses/<course>.html` (one per course run), `data/` (the CSVs) and `assets/plotly.min.js`
(the charting library, embedded once so the pages need no network).
"""

from olx_spark.report.build import ReportSummary, build_report
from olx_spark.report.queries import MartsMissingError, ReportError, UnknownCourseError

__all__ = [
    "MartsMissingError",
    "ReportError",
    "ReportSummary",
    "UnknownCourseError",
    "build_report",
]
