"""The report's charts as Plotly figures, built from the small frames `queries` returns.

One function per chart; each returns None when its frame holds nothing to draw, so the page
shows a "no data landed for this yet" note instead. Titles and explanations live in the page
(`pages`), not in the figures: a figure is only axes, marks, hover text and a legend, in one
shared look (`LOOK`). Labels that come from course content are escaped, since Plotly reads a
few HTML tags in text.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
BLUE = "#2563eb"
GREEN = "#16a34a"
AMBER = "#f59e0b"
GREY = "#94a3b8"
PALETTE = (
    BLUE,
    GREEN,
    AMBER,
    "#db2777",
    "#7c3aed",
    "#0891b2",
    "#ea580c",
    "#65a30d",
    "#dc2626",
    "#475569",
)
MODE_COLORS = {
    "audit": GREY,
    "honor": BLUE,
    "verified": GREEN,
    "professional": "#7c3aed",
    "no-id-professional": "#a855f7",
    "credit": AMBER,
    "masters": "#db2777",
    "unknown": "#cbd5e1",
}
ACTIVITY_LABELS = {
    "ACTIVE": "Any activity",
    "PLAYED_VIDEO": "Played a video",
    "ATTEMPTED_PROBLEM": "Attempted a problem",
    "POSTED_FORUM": "Posted in the forum",
}
ACTIVITY_COLORS = {
    "ACTIVE": BLUE,
    "PLAYED_VIDEO": "#db2777",
    "ATTEMPTED_PROBLEM": GREEN,
    "POSTED_FORUM": AMBER,
}
VALUE_LABELS = {
    "gender": {"f": "Female", "m": "Male", "o": "Other", "unknown": "Not given"},
    "age_band": {
        "25_and_under": "25 and under",
        "26_40": "26 to 40",
        "41_and_over": "41 and over",
        "unknown": "Not given",
    },
    "education": {
        "high_school_or_less": "High school or less",
        "college": "College",
        "advanced": "Advanced degree",
        "unknown": "Not given",
    },
    "country": {"other": "Other countries", "unknown": "Not given"},
}
METRIC_LABELS = {
    "active_days": "Active days",
    "hours_on_site": "Hours on site",
    "videos_viewed": "Videos viewed",
    "problems_attempted": "Problems attempted",
    "chapters_visited": "Sections visited",
    "forum_posts": "Forum posts",
}
TOP_COURSES = 10  # course runs drawn in the overview's enrollment chart
TOP_RATES = 20  # course runs drawn in the overview's rates chart

LOOK = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 13, "color": INK},
        "colorway": list(PALETTE),
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 10, "r": 20, "t": 20, "b": 10},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "xaxis": {
            "gridcolor": GRID,
            "linecolor": "#d1d5db",
            "zeroline": False,
            "automargin": True,
            "ticks": "",
        },
        "yaxis": {
            "gridcolor": GRID,
            "linecolor": "#d1d5db",
            "zeroline": False,
            "automargin": True,
            "rangemode": "tozero",
        },
    }
)


def text(value: object, limit: int = 60) -> str:
    """A label from course content, shortened and escaped for Plotly's text."""
    label = str(value)
    if len(label) > limit:
        label = label[: limit - 1].rstrip() + "…"
    return html.escape(label, quote=False)


def _figure(height: int, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=LOOK, height=height, **layout)
    return fig


def _count_axis(values: list[int | None]) -> dict[str, Any]:
    """A learners axis: whole numbers only (steps of 1 for small counts), from 0."""
    top = max((v for v in values if v is not None), default=0)
    axis: dict[str, Any] = {"rangemode": "tozero", "tickformat": ",d"}
    if top <= 8:
        axis["dtick"] = 1
    return axis


def _date_axis(dates: pd.Series, step_days: int = 1) -> dict[str, Any]:
    """A date axis that never ticks within a day: one tick per `step_days` on short spans."""
    axis: dict[str, Any] = {"type": "date", "tickformat": "%b %-d\n%Y"}
    days = (pd.to_datetime(dates.max()) - pd.to_datetime(dates.min())).days if len(dates) else 0
    if days <= 8 * step_days:
        axis["dtick"] = 86_400_000 * step_days
        axis["tick0"] = str(dates.min())  # weeks tick on their Mondays
    return axis


def _ints(series: pd.Series) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in series]


def _floats(series: pd.Series, scale: float = 1.0) -> list[float | None]:
    return [None if pd.isna(v) else round(float(v) * scale, 2) for v in series]


def overview_enrollment(daily: pd.DataFrame, titles: Mapping[str, str]) -> go.Figure | None:
    """Learners enrolled per day, one line per course run (the largest TOP_COURSES)."""
    if daily.empty:
        return None
    peaks = daily.groupby("courserun_id")["enrolled_count"].max().fillna(0)
    chosen = peaks.sort_values(ascending=False, kind="stable").index[:TOP_COURSES]
    fig = _figure(
        420,
        yaxis={"title": "Learners enrolled", **_count_axis(_ints(daily["enrolled_count"]))},
        xaxis=_date_axis(daily["enrollment_date"]),
        hovermode="closest",
    )
    for course in chosen:
        rows = daily[daily["courserun_id"] == course]
        fig.add_scatter(
            x=list(rows["enrollment_date"]),
            y=_ints(rows["enrolled_count"]),
            name=text(titles.get(course) or course, 40),
            mode="lines+markers" if len(rows) < 3 else "lines",
            line={"width": 2.5},
            customdata=_ints(rows["cumulative_count"]),
            hovertemplate="%{x}<br>%{y:,} enrolled (%{customdata:,} ever)<extra>%{fullData.name}"
            "</extra>",
        )
    return fig


def course_rates(runs: pd.DataFrame, titles: Mapping[str, str]) -> go.Figure | None:
    """Per course run (the TOP_RATES largest), the shares of its enrolled learners who viewed,
    explored and earned a certificate: where each course run loses its learners."""
    runs = runs[runs["enrolled_learners"].fillna(0) > 0]
    if runs.empty:
        return None
    runs = runs.sort_values("enrolled_learners", ascending=False, kind="stable").head(TOP_RATES)
    rows = list(range(len(runs)))
    labels = [text(titles.get(str(c)) or c, 45) for c in runs["courserun_id"]]
    fig = _figure(
        max(220, 110 + 34 * len(runs)),
        barmode="group",
        bargap=0.3,
        xaxis={"title": "% of enrolled learners", "ticksuffix": " %", "rangemode": "tozero"},
        yaxis={
            "tickvals": rows,
            "ticktext": labels,
            "autorange": "reversed",
            "rangemode": "normal",
            "gridcolor": "rgba(0,0,0,0)",
        },
    )
    enrolled = _ints(runs["enrolled_learners"])
    for column, name, color in (
        ("viewed_rate", "Viewed", "#0891b2"),
        ("explored_rate", "Explored", "#7c3aed"),
        ("certified_rate", "Certified", GREEN),
    ):
        fig.add_bar(
            x=_floats(runs[column], 100),
            y=rows,
            orientation="h",
            name=name,
            marker_color=color,
            customdata=[[label, n] for label, n in zip(labels, enrolled, strict=True)],
            hovertemplate="%{customdata[0]}: %{x:.1f} % of %{customdata[1]:,} enrolled<extra>"
            + name
            + "</extra>",
        )
    return fig


def enrollment_by_mode(df: pd.DataFrame) -> go.Figure | None:
    """Learners enrolled at the end of each day, stacked by mode (bars for a single day)."""
    if df.empty:
        return None
    single_day = df["enrollment_date"].nunique() == 1
    totals = df.groupby("enrollment_date")["enrolled_count"].sum()
    fig = _figure(
        380,
        yaxis={"title": "Learners enrolled", **_count_axis(_ints(totals))},
        xaxis=_date_axis(df["enrollment_date"]),
        hovermode="x unified",
    )
    for index, mode in enumerate(dict.fromkeys(df["enrollment_mode"])):
        rows = df[df["enrollment_mode"] == mode]
        color = MODE_COLORS.get(str(mode), PALETTE[index % len(PALETTE)])
        common: dict[str, Any] = {
            "x": list(rows["enrollment_date"]),
            "y": _ints(rows["enrolled_count"]),
            "name": text(mode),
            "hovertemplate": "%{y:,}",
        }
        if single_day:
            fig.add_bar(marker_color=color, **common)
        else:
            fig.add_scatter(
                mode="lines", stackgroup="modes", line={"width": 1, "color": color}, **common
            )
    if single_day:
        fig.update_layout(barmode="stack", xaxis={"type": "category", "tickformat": None})
    return fig


def funnel(stages: list[tuple[str, int]]) -> go.Figure | None:
    """Registered -> viewed -> explored -> certified, with the share of the first stage."""
    if not stages or not stages[0][1]:
        return None
    fig = _figure(320, margin={"l": 10, "r": 20, "t": 10, "b": 10})
    fig.add_trace(
        go.Funnel(
            y=[label for label, _ in stages],
            x=[count for _, count in stages],
            texttemplate="%{value:,}<br>%{percentInitial:.0%}",
            marker={"color": [BLUE, "#0891b2", "#7c3aed", GREEN][: len(stages)]},
            connector={"fillcolor": "#eef2f7", "line": {"width": 0}},
            hovertemplate="%{y}: %{x:,} learners (%{percentInitial:.1%})<extra></extra>",
        )
    )
    return fig


def demographic(df: pd.DataFrame, dimension: str) -> go.Figure | None:
    """One demographic dimension: a donut for gender, horizontal bars for the others."""
    rows = df[df["dimension"] == dimension]
    if rows.empty:
        return None
    labels = VALUE_LABELS.get(dimension, {})
    names = [labels.get(str(v), text(v)) for v in rows["value"]]
    counts = _ints(rows["learners"])
    if dimension == "gender":
        colors = {"f": "#db2777", "m": BLUE, "o": AMBER, "unknown": "#cbd5e1"}
        fig = _figure(300, showlegend=True, legend={"orientation": "v", "x": 1, "y": 0.5})
        fig.add_pie(
            labels=names,
            values=counts,
            hole=0.55,
            sort=False,
            marker={"colors": [colors.get(str(v), GREY) for v in rows["value"]]},
            texttemplate="%{percent:.0%}",
            insidetextorientation="horizontal",
            hovertemplate="%{label}: %{value:,} learners (%{percent})<extra></extra>",
        )
        return fig
    muted = {"unknown", "other"}
    colors = [GREY if str(v) in muted else BLUE for v in rows["value"]]
    shares = [f"{share:.0%}" if share is not None else "" for share in _floats(rows["share"])]
    fig = _figure(
        max(220, 60 + 32 * len(rows)),
        xaxis={"title": "Learners", **_count_axis(counts)},
        yaxis={"autorange": "reversed", "rangemode": "normal"},
        margin={"l": 10, "r": 40, "t": 10, "b": 10},
    )
    fig.add_bar(
        x=counts,
        y=names,
        orientation="h",
        marker_color=colors,
        text=shares,
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}: %{x:,} learners (%{text})<extra></extra>",
    )
    return fig


def weekly_activity(df: pd.DataFrame) -> go.Figure | None:
    """Distinct learners per week, one line per kind of activity."""
    if df.empty:
        return None
    # A week without a row for an activity had no such learner: drawn as 0, not skipped.
    weeks = sorted(set(df["week_start_date"]))
    table = df.pivot_table(
        index="week_start_date", columns="activity", values="learner_count", aggfunc="sum"
    ).reindex(weeks)
    fig = _figure(
        360,
        yaxis={"title": "Learners", **_count_axis(_ints(df["learner_count"]))},
        xaxis={"title": "Week of", **_date_axis(df["week_start_date"], 7)},
        hovermode="x unified",
    )
    for activity in dict.fromkeys(df["activity"]):
        fig.add_scatter(
            x=weeks,
            y=[int(v) if not pd.isna(v) else 0 for v in table[activity]],
            name=ACTIVITY_LABELS.get(str(activity), text(activity)),
            mode="lines+markers",
            line={"width": 2.5, "color": ACTIVITY_COLORS.get(str(activity))},
            hovertemplate="%{y:,}",
        )
    return fig


def grade_distribution(df: pd.DataFrame, passing_grade: float | None) -> go.Figure | None:
    """Learners per 5-point grade bin, bins at or above the passing grade in green, and the
    passing grade as a dashed line."""
    if df.empty or not int(df["learners"].sum()):
        return None
    starts = _floats(df["grade_from"], 100)
    missing = passing_grade is None or pd.isna(passing_grade)
    passing = None if missing else round(float(passing_grade) * 100, 4)
    colors = [
        GREEN if passing is not None and s is not None and s >= passing else BLUE for s in starts
    ]
    fig = _figure(
        340,
        xaxis={"title": "Grade (%)", "range": [0, 100], "dtick": 10},
        yaxis={"title": "Learners", **_count_axis(_ints(df["learners"]))},
        bargap=0.08,
    )
    fig.add_bar(
        x=[None if s is None else s + 2.5 for s in starts],
        y=_ints(df["learners"]),
        width=5,
        marker_color=colors,
        customdata=[[s, t] for s, t in zip(starts, _floats(df["grade_to"], 100), strict=True)],
        hovertemplate="%{customdata[0]:.0f}\u2013%{customdata[1]:.0f} %: %{y:,} learners<extra></extra>",
        showlegend=False,
    )
    if passing is not None:
        fig.add_vline(x=passing, line={"color": INK, "dash": "dash", "width": 1.5})
        fig.add_annotation(
            x=passing,
            y=1,
            yref="paper",
            text=f"passing grade {passing:.0f} %",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            xshift=4,
            font={"color": INK, "size": 12},
        )
    return fig


def section_engagement(df: pd.DataFrame) -> go.Figure | None:
    """A heat map, one row per section (bold) and subsection in course order, of the shares of
    enrolled learners who viewed, attempted a problem, watched a video there. None when no
    learner is enrolled (every share is null)."""
    shares = ["viewed_share", "attempted_share", "video_share"]
    if df.empty or df[shares].isna().all().all():
        return None
    labels = [
        f"<b>{text(title, 50)}</b>" if level == "chapter" else f"\u2003{text(title, 50)}"
        for title, level in zip(df["block_title"], df["section_level"], strict=True)
    ]
    columns = [
        ("viewed_share", "viewed_learners", "Viewed"),
        ("attempted_share", "attempted_learners", "Attempted"),
        ("video_share", "video_learners", "Watched"),
    ]
    z = [list(row) for row in zip(*[_floats(df[c], 100) for c, _, _ in columns], strict=True)]
    counts = [list(row) for row in zip(*[_ints(df[c]) for _, c, _ in columns], strict=True)]
    cells = [["" if v is None else f"{v:.0f} %" for v in row] for row in z]
    rows = list(range(len(df)))
    fig = _figure(
        max(220, 90 + 30 * len(df)),
        xaxis={"side": "top", "gridcolor": "rgba(0,0,0,0)"},
        yaxis={
            "tickvals": rows,
            "ticktext": labels,
            "autorange": "reversed",
            "gridcolor": "rgba(0,0,0,0)",
            "rangemode": "normal",
        },
    )
    fig.add_heatmap(
        x=[label for _, _, label in columns],
        y=rows,
        z=z,
        zmin=0,
        zmax=100,
        colorscale=[[0, "#eff6ff"], [0.5, "#60a5fa"], [1, "#1e3a8a"]],
        text=cells,
        texttemplate="%{text}",
        customdata=counts,
        hovertemplate="%{x}: %{z:.1f} % of enrolled (%{customdata:,} learners)<extra></extra>",
        xgap=3,
        ygap=3,
        showscale=False,  # every cell says its share
    )
    return fig


def video_engagement(df: pd.DataFrame) -> go.Figure | None:
    """Per video in course order, bars drawn over each other: viewers (wide, light), viewers
    who reached the end (narrower), learners who watched 95 % (narrowest)."""
    if df.empty:
        return None
    rows = list(range(len(df)))
    labels = [text(t, 45) for t in df["video_title"]]
    fig = _figure(
        max(220, 100 + 30 * len(df)),
        barmode="overlay",
        xaxis={"title": "Learners", **_count_axis(_ints(df["unique_viewers"]))},
        yaxis={
            "tickvals": rows,
            "ticktext": labels,
            "autorange": "reversed",
            "rangemode": "normal",
            "gridcolor": "rgba(0,0,0,0)",
        },
    )
    for column, name, color, width in (
        ("unique_viewers", "Viewers", "#93c5fd", 0.8),
        ("users_at_end", "Reached the end", BLUE, 0.5),
        ("watched_95_learners", "Watched 95 %", GREEN, 0.22),
    ):
        fig.add_bar(
            x=_ints(df[column]),
            y=rows,
            width=width,
            orientation="h",
            name=name,
            marker_color=color,
            customdata=labels,
            hovertemplate="%{customdata}: %{x:,}<extra>" + name + "</extra>",
        )
    return fig


def video_retention(df: pd.DataFrame) -> go.Figure | None:
    """Retention curves: the share of a video's starters still watching at each point (a step
    per 5-second segment, held to the segment's end); minutes, or seconds for short videos."""
    if df.empty:
        return None
    seconds = [s for s in _ints(df["second"]) if s is not None]
    unit, per = ("seconds", 1) if max(seconds, default=0) < 120 else ("minutes", 60)
    fig = _figure(
        380,
        xaxis={"title": f"{unit.capitalize()} into the video", "rangemode": "tozero"},
        yaxis={"title": "% of starters watching", "range": [0, 105], "ticksuffix": " %"},
        hovermode="closest",
    )
    for video in dict.fromkeys(df["video_block_id"]):
        rows = df[df["video_block_id"] == video]
        starts = [None if s is None else round(s / per, 2) for s in _ints(rows["second"])]
        shares = _floats(rows["share_of_starters"], 100)
        users = _ints(rows["num_users"])
        if starts and starts[-1] is not None:  # hold the last segment to its end
            starts.append(round(starts[-1] + 5 / per, 2))
            shares.append(shares[-1])
            users.append(users[-1])
        fig.add_scatter(
            x=starts,
            y=shares,
            name=text(rows["video_title"].iloc[0], 40),
            mode="lines",
            line={"width": 2.5, "shape": "hv"},
            customdata=users,
            hovertemplate=f"%{{x}} {unit}: %{{y:.0f}} % (%{{customdata:,}} learners)<extra>"
            "%{fullData.name}</extra>",
        )
    return fig


def problem_difficulty(df: pd.DataFrame) -> go.Figure | None:
    """Each problem as a bubble: mean attempts across, percent correct at the last attempt up,
    size by learners who attempted; hard problems sit low and to the right."""
    rows = df[df["last_correct_share"].notna() & df["mean_attempts"].notna()]
    if rows.empty:
        return None
    attempted = [v or 0 for v in _ints(rows["attempted_learners"])]
    biggest = max(attempted) or 1
    first = _floats(rows["first_correct_share"], 100)
    fig = _figure(
        400,
        xaxis={"title": "Mean attempts per learner", "rangemode": "tozero"},
        yaxis={"title": "Correct at the last attempt", "range": [-5, 105], "ticksuffix": " %"},
        hovermode="closest",
    )
    fig.add_scatter(
        x=_floats(rows["mean_attempts"]),
        y=_floats(rows["last_correct_share"], 100),
        mode="markers",
        marker={
            "size": [10 + 30 * math.sqrt(a / biggest) for a in attempted],
            "color": _floats(rows["last_correct_share"], 100),
            "colorscale": [[0, "#dc2626"], [0.5, AMBER], [1, GREEN]],
            "cmin": 0,
            "cmax": 100,
            "line": {"width": 1, "color": "white"},
            "opacity": 0.85,
        },
        customdata=[
            [text(t, 50), a, "\u2013" if f is None else f"{f:.0f} %"]
            for t, a, f in zip(rows["problem_title"], attempted, first, strict=True)
        ],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]:,} learners attempted<br>"
        "mean attempts %{x:.2f}<br>correct at the last attempt %{y:.0f} %<br>"
        "correct at the first attempt %{customdata[2]}<extra></extra>",
        showlegend=False,
    )
    return fig


def engagement_by_outcome(df: pd.DataFrame) -> go.Figure | None:
    """Small multiples, one per engagement metric: the mean per learner for certified learners
    and for the others. None when no learner shows any activity."""
    if df.empty or not df["mean"].fillna(0).any():
        return None
    metrics = list(dict.fromkeys(df["metric"]))
    columns = 3
    lines = math.ceil(len(metrics) / columns)
    fig = make_subplots(
        rows=lines,
        cols=columns,
        subplot_titles=[METRIC_LABELS.get(str(m), text(m)) for m in metrics],
        horizontal_spacing=0.08,
        vertical_spacing=0.22 if lines > 1 else 0.1,
    )
    fig.update_layout(
        template=LOOK,
        height=260 * lines + 60,
        bargap=0.3,
        margin={"l": 10, "r": 20, "t": 60, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 0},
    )
    colors = {"certified": GREEN, "not certified": GREY}
    shown: set[str] = set()
    for index, metric in enumerate(metrics):
        rows = df[df["metric"] == metric]
        for outcome in rows["outcome"]:
            row = rows[rows["outcome"] == outcome].iloc[0]
            fig.add_bar(
                x=[str(outcome)],
                y=[None if pd.isna(row["mean"]) else float(row["mean"])],
                name=str(outcome).capitalize(),
                legendgroup=str(outcome),
                showlegend=str(outcome) not in shown,
                marker_color=colors.get(str(outcome), BLUE),
                customdata=[[int(row["learners"]), _floats(pd.Series([row["median"]]))[0]]],
                hovertemplate="mean %{y:,.2f}, median %{customdata[1]:,.2f}<br>"
                "over %{customdata[0]:,} learners<extra>%{x}</extra>",
                row=index // columns + 1,
                col=index % columns + 1,
            )
            shown.add(str(outcome))
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(rangemode="tozero", gridcolor=GRID)
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig
