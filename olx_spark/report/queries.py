"""Every number the report shows, aggregated in Spark from the dbt marts.

Each function here returns a Spark DataFrame already aggregated to what one chart or table
needs (per course run: a few rows per day, week, block or category), for all the selected
course runs at once, so the report runs one Spark job per chart and not one per chart and course.
`fetch` brings such a result to Python over Arrow. Nothing un-aggregated crosses to Python.

Conventions of the results (they become the CSV files, so they are made stable here): dates as
`yyyy-MM-dd` strings, shares as fractions rounded to 4 decimals, means and hours to 2, and rows
ordered so that the same marts always give the same CSV bytes.

The marts' columns are the contract in `dbt/models/marts/_marts__models.yml`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from olx_spark.config import Config
from olx_spark.transform import dbt_schema

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import Column, DataFrame, SparkSession

MART_TABLES: tuple[str, ...] = (
    "marts__course_runs",
    "marts__course_blocks",
    "marts__learners",
    "marts__enrollments",
    "marts__enrollment_daily",
    "marts__enrollment_mode_daily",
    "marts__learner_activity_daily",
    "marts__course_activity_weekly",
    "marts__video_summary",
    "marts__video_timeline",
    "marts__problem_summary",
    "marts__answer_distribution",
    "marts__section_engagement",
    "marts__person_course",
    "marts__course_summary",
)

# Fixed category orders (the marts' accepted values); anything else sorts after them.
GENDERS = ("f", "m", "o", "unknown")
AGE_BANDS = ("25_and_under", "26_40", "41_and_over", "unknown")
EDUCATION_GROUPS = ("high_school_or_less", "college", "advanced", "unknown")
ACTIVITIES = ("ACTIVE", "PLAYED_VIDEO", "ATTEMPTED_PROBLEM", "POSTED_FORUM")
TOP_COUNTRIES = 10
TOP_VIDEOS = 8  # videos drawn in the retention chart (the most viewed); the CSV has the same
GRADE_BINS = 20  # 5-point grade bins
ENGAGEMENT_METRICS = (
    "active_days",
    "hours_on_site",
    "videos_viewed",
    "problems_attempted",
    "chapters_visited",
    "forum_posts",
)

SUMMARY_COUNTS = (
    "enrolled_learners",
    "active_learners",
    "viewed_learners",
    "explored_learners",
    "certified_learners",
    "passing_learners",
    "failed_learners",
    "verified_learners",
)
SUMMARY_RATES = ("active_rate", "viewed_rate", "explored_rate", "certified_rate", "passing_rate")
GENDER_COUNTS = (
    "male_learners",
    "female_learners",
    "other_gender_learners",
    "unknown_gender_learners",
)


class ReportError(Exception):
    """The report cannot be built as asked (the CLI prints it and exits with 2)."""


class MartsMissingError(ReportError):
    """A mart table does not exist: the transform has not been run on this warehouse."""


class UnknownCourseError(ReportError):
    """A course run asked for with --course is in none of the marts."""


@dataclass(frozen=True)
class Marts:
    """The marts schema of a warehouse, narrowed to some course runs (none given: all)."""

    spark: SparkSession
    schema: str
    courses: tuple[str, ...] = ()

    @classmethod
    def of(cls, spark: SparkSession, config: Config, courses: Sequence[str] = ()) -> Marts:
        return cls(spark, dbt_schema(config, "marts"), tuple(courses))

    def check(self) -> None:
        """Raise MartsMissingError naming every mart that does not exist."""
        catalog = self.spark.catalog
        missing = [t for t in MART_TABLES if not catalog.tableExists(f"`{self.schema}`.`{t}`")]
        if missing:
            names = ", ".join(f"{self.schema}.{t}" for t in missing)
            raise MartsMissingError(
                f"the report reads the dbt marts, and {len(missing)} of them do not exist "
                f"({names}); run `olx-spark transform` first (with the same --warehouse and "
                "--config) to build them"
            )

    def table(self, name: str) -> DataFrame:
        """A mart, with only the selected course runs' rows."""
        from pyspark.sql import functions as F

        df = self.spark.table(f"`{self.schema}`.`{name}`")
        if self.courses and "courserun_id" in df.columns:
            df = df.filter(F.col("courserun_id").isin(list(self.courses)))
        return df


def fetch(df: DataFrame) -> pd.DataFrame:
    """An aggregated result in pandas, over Arrow; integer columns stay integers with nulls."""
    import pandas as pd
    import pyarrow as pa

    mapping = {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return df.toArrow().to_pandas(types_mapper=mapping.get)


def _order(column: Column, values: Sequence[str]) -> Column:
    """1-based place of `column` in `values`; values not listed come after them."""
    from pyspark.sql import functions as F

    place = F.array_position(F.array(*[F.lit(v) for v in values]), column)
    return F.when(place > 0, place).otherwise(F.lit(len(values) + 1))


def _share(part: Column, whole: Column, digits: int = 4) -> Column:
    from pyspark.sql import functions as F

    return F.when(whole > 0, F.round(part / whole, digits))


def course_runs(m: Marts) -> DataFrame:
    """The general report table: every course run of marts__course_runs or
    marts__course_summary, with its structure and its learner counts and rates."""
    from pyspark.sql import functions as F

    runs = m.table("marts__course_runs").select(
        "courserun_id",
        F.col("courserun_title").alias("_run_title"),
        "platform",
        "courserun_start_on",
        "courserun_end_on",
        "courserun_is_self_paced",
        "courserun_passing_grade",
        "chapter_count",
        "sequential_count",
        "problem_count",
        "video_count",
    )
    summary = m.table("marts__course_summary").select(
        "courserun_id",
        F.col("courserun_title").alias("_summary_title"),
        *SUMMARY_COUNTS,
        *SUMMARY_RATES,
        *GENDER_COUNTS,
        "country_count",
        "median_grade",
    )
    joined = runs.join(summary, "courserun_id", "full_outer")
    return joined.select(
        "courserun_id",
        F.coalesce("_run_title", "_summary_title").alias("courserun_title"),
        "platform",
        "courserun_start_on",
        "courserun_end_on",
        "courserun_is_self_paced",
        "courserun_passing_grade",
        "chapter_count",
        "sequential_count",
        "problem_count",
        "video_count",
        *SUMMARY_COUNTS,
        *[F.round(rate, 4).alias(rate) for rate in SUMMARY_RATES],
        *GENDER_COUNTS,
        "country_count",
        F.round("median_grade", 4).alias("median_grade"),
    ).orderBy("courserun_id")


def enrollment_daily(m: Marts) -> DataFrame:
    """Learners enrolled at the end of each day, and ever enrolled, per course run."""
    from pyspark.sql import functions as F

    return (
        m.table("marts__enrollment_daily")
        .select(
            "courserun_id",
            F.col("enrollment_date").cast("string").alias("enrollment_date"),
            "enrolled_count",
            "cumulative_count",
        )
        .orderBy("courserun_id", "enrollment_date")
    )


def enrollment_mode_daily(m: Marts) -> DataFrame:
    """As enrollment_daily, per enrollment mode."""
    from pyspark.sql import functions as F

    return (
        m.table("marts__enrollment_mode_daily")
        .select(
            "courserun_id",
            F.col("enrollment_date").cast("string").alias("enrollment_date"),
            "enrollment_mode",
            "enrolled_count",
            "cumulative_count",
        )
        .orderBy("courserun_id", "enrollment_date", "enrollment_mode")
    )


def _registered(m: Marts) -> DataFrame:
    from pyspark.sql import functions as F

    return m.table("marts__person_course").filter(F.coalesce(F.col("registered"), F.lit(False)))


def demographics(m: Marts) -> DataFrame:
    """Registered learners per gender, age band, education group and country (the top ten
    countries, then `other` for the rest and `unknown` for learners without one), each with its
    share of the course run's registered learners."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    people = _registered(m)

    def counts(dimension: str, column: str) -> DataFrame:
        return people.groupBy(
            "courserun_id",
            F.lit(dimension).alias("dimension"),
            F.coalesce(F.col(column), F.lit("unknown")).alias("value"),
        ).agg(F.count(F.lit(1)).alias("learners"))

    fixed = [
        counts("gender", "user_gender").withColumn("_order", _order(F.col("value"), GENDERS)),
        counts("age_band", "age_band").withColumn("_order", _order(F.col("value"), AGE_BANDS)),
        counts("education", "user_education_group").withColumn(
            "_order", _order(F.col("value"), EDUCATION_GROUPS)
        ),
    ]
    country = counts("country", "user_country")
    known = F.col("value") != "unknown"
    # Known countries ranked by learners (ties by code); unknown is kept apart, after `other`.
    rank = F.row_number().over(
        Window.partitionBy("courserun_id", known).orderBy(F.desc("learners"), F.asc("value"))
    )
    ranked = country.withColumn("_rank", F.when(known, rank))
    grouped = (
        ranked.withColumn(
            "value",
            F.when(~known, F.lit("unknown"))
            .when(F.col("_rank") <= TOP_COUNTRIES, F.col("value"))
            .otherwise(F.lit("other")),
        )
        .withColumn(
            "_order",
            F.when(~known, F.lit(TOP_COUNTRIES + 2))
            .when(F.col("_rank") <= TOP_COUNTRIES, F.col("_rank"))
            .otherwise(F.lit(TOP_COUNTRIES + 1)),
        )
        .groupBy("courserun_id", "dimension", "value")
        .agg(F.sum("learners").alias("learners"), F.min("_order").alias("_order"))
    )
    parts = [*fixed, grouped.select("courserun_id", "dimension", "value", "learners", "_order")]
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    whole = F.sum("learners").over(Window.partitionBy("courserun_id", "dimension"))
    dimension_order = _order(F.col("dimension"), ("gender", "age_band", "education", "country"))
    return (
        union.withColumn("share", _share(F.col("learners"), whole))
        .orderBy("courserun_id", dimension_order, "_order", "value")
        .select("courserun_id", "dimension", "value", "learners", "share")
    )


def weekly_activity(m: Marts) -> DataFrame:
    """Distinct learners per week (Monday start) and activity."""
    from pyspark.sql import functions as F

    return (
        m.table("marts__course_activity_weekly")
        .select(
            "courserun_id",
            F.col("week_start_date").cast("string").alias("week_start_date"),
            "activity",
            "learner_count",
        )
        .orderBy(
            "courserun_id", "week_start_date", _order(F.col("activity"), ACTIVITIES), "activity"
        )
    )


def grade_distribution(m: Marts) -> DataFrame:
    """Registered learners with a grade, in 5-point bins [from, to) (the last bin holds 1.0),
    every bin present for a course run that has any grade."""
    from pyspark.sql import functions as F

    graded = _registered(m).filter(F.col("grade").isNotNull())
    # round() first: 0.35 * 20 is 7.000000000000001 and 0.57 * 20 is 11.399999999999999.
    bin_of = F.least(
        F.greatest(F.floor(F.round(F.col("grade") * GRADE_BINS, 6)), F.lit(0)),
        F.lit(GRADE_BINS - 1),
    ).cast("int")
    counts = (
        graded.groupBy("courserun_id", bin_of.alias("bin"))
        .agg(F.count(F.lit(1)).alias("learners"))
        .select("courserun_id", "bin", "learners")
    )
    bins = m.spark.range(GRADE_BINS).select(F.col("id").cast("int").alias("bin"))
    every = graded.select("courserun_id").distinct().crossJoin(bins)
    return (
        every.join(counts, ["courserun_id", "bin"], "left")
        .select(
            "courserun_id",
            F.round(F.col("bin") / F.lit(GRADE_BINS), 2).alias("grade_from"),
            F.round((F.col("bin") + 1) / F.lit(GRADE_BINS), 2).alias("grade_to"),
            F.coalesce(F.col("learners"), F.lit(0)).cast("bigint").alias("learners"),
            F.col("bin").alias("_bin"),
        )
        .orderBy("courserun_id", "_bin")
        .drop("_bin")
    )


def section_engagement(m: Marts) -> DataFrame:
    """Shares of enrolled learners who viewed, attempted a problem, watched a video, per section
    and subsection in course order."""
    from pyspark.sql import functions as F

    return (
        m.table("marts__section_engagement")
        .select(
            "courserun_id",
            "course_order_index",
            "section_level",
            "block_id",
            F.coalesce(F.col("block_title"), F.col("block_id")).alias("block_title"),
            "chapter_block_id",
            "enrolled_learners",
            "viewed_learners",
            "attempted_learners",
            "video_learners",
            F.round("viewed_share", 4).alias("viewed_share"),
            F.round("attempted_share", 4).alias("attempted_share"),
            F.round("video_share", 4).alias("video_share"),
        )
        .orderBy("courserun_id", F.asc_nulls_last("course_order_index"), "block_id")
    )


def _blocks(m: Marts, key: str) -> DataFrame:
    from pyspark.sql import functions as F

    return m.table("marts__course_blocks").select(
        "courserun_id",
        F.col("block_id").alias(key),
        F.col("block_title").alias("_block_title"),
        "course_order_index",
    )


def videos(m: Marts) -> DataFrame:
    """Per video, in course order: viewers, viewers at the start and at the end, learners who
    watched 95 %, plays, and the share of starters who reached the end."""
    from pyspark.sql import functions as F

    summary = m.table("marts__video_summary")
    joined = summary.join(_blocks(m, "video_block_id"), ["courserun_id", "video_block_id"], "left")
    return joined.select(
        "courserun_id",
        "course_order_index",
        "video_block_id",
        F.coalesce("video_title", "_block_title", "video_block_id").alias("video_title"),
        F.round("duration_seconds", 1).alias("duration_seconds"),
        "unique_viewers",
        "users_at_start",
        "users_at_end",
        "watched_95_learners",
        "play_count",
        F.round(F.col("total_viewed_seconds") / 60, 2).alias("minutes_viewed"),
        _share(F.col("users_at_end"), F.col("users_at_start")).alias("end_share"),
    ).orderBy("courserun_id", F.asc_nulls_last("course_order_index"), "video_block_id")


def video_retention(m: Marts) -> DataFrame:
    """Retention curves of each course run's most viewed videos: per 5-second segment, the
    learners who viewed it and their share of the video's starters (of its most viewed
    segment when no starter is known)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    summary = videos(m).select(
        "courserun_id", "video_block_id", "video_title", "unique_viewers", "users_at_start"
    )
    pick = Window.partitionBy("courserun_id").orderBy(
        F.desc_nulls_last("unique_viewers"), F.asc("video_block_id")
    )
    top = summary.withColumn("video_rank", F.row_number().over(pick)).filter(
        F.col("video_rank") <= TOP_VIDEOS
    )
    timeline = m.table("marts__video_timeline").join(
        top, ["courserun_id", "video_block_id"], "inner"
    )
    peak = F.max("num_users").over(Window.partitionBy("courserun_id", "video_block_id"))
    base = F.when(F.col("users_at_start") > 0, F.col("users_at_start")).otherwise(peak)
    return timeline.select(
        "courserun_id",
        "video_rank",
        "video_block_id",
        "video_title",
        "segment",
        (F.col("segment") * 5).cast("bigint").alias("second"),
        "num_users",
        "num_views",
        _share(F.col("num_users"), base).alias("share_of_starters"),
    ).orderBy("courserun_id", "video_rank", "segment")


def problems(m: Marts) -> DataFrame:
    """Per problem, in course order: learners who attempted, shares correct at the first and
    last attempt, mean attempts and mean score."""
    from pyspark.sql import functions as F

    summary = m.table("marts__problem_summary")
    joined = summary.join(
        _blocks(m, "problem_block_id"), ["courserun_id", "problem_block_id"], "left"
    )
    attempted = F.col("attempted_learners")
    return joined.select(
        "courserun_id",
        "course_order_index",
        "problem_block_id",
        F.coalesce("problem_title", "_block_title", "problem_block_id").alias("problem_title"),
        "attempted_learners",
        "first_attempt_correct_learners",
        "last_attempt_correct_learners",
        _share(F.col("first_attempt_correct_learners"), attempted).alias("first_correct_share"),
        _share(F.col("last_attempt_correct_learners"), attempted).alias("last_correct_share"),
        F.round("mean_attempts", 2).alias("mean_attempts"),
        F.round("mean_score", 4).alias("mean_score"),
        "problem_summary_source",
    ).orderBy("courserun_id", F.asc_nulls_last("course_order_index"), "problem_block_id")


def engagement_by_outcome(m: Marts) -> DataFrame:
    """Registered learners split by certified or not: per engagement metric, the learners,
    the mean and the median per learner (a learner without the activity counts 0)."""
    from pyspark.sql import functions as F

    people = _registered(m)
    metrics = {
        "active_days": F.col("active_days"),
        "hours_on_site": F.col("time_on_site_seconds") / 3600,
        "videos_viewed": F.col("videos_viewed"),
        "problems_attempted": F.col("problems_attempted"),
        "chapters_visited": F.col("chapters_visited"),
        "forum_posts": F.col("forum_post_count"),
    }
    pairs = F.array(
        *[
            F.struct(
                F.lit(name).alias("metric"),
                F.coalesce(value.cast("double"), F.lit(0.0)).alias("value"),
            )
            for name, value in metrics.items()
        ]
    )
    outcome = F.when(F.coalesce(F.col("certified"), F.lit(False)), F.lit("certified")).otherwise(
        F.lit("not certified")
    )
    long = people.select(
        "courserun_id", outcome.alias("outcome"), F.explode(pairs).alias("m")
    ).select("courserun_id", "outcome", "m.metric", "m.value")
    return (
        long.groupBy("courserun_id", "metric", "outcome")
        .agg(
            F.count(F.lit(1)).alias("learners"),
            F.round(F.avg("value"), 2).alias("mean"),
            F.round(F.median("value"), 2).alias("median"),
        )
        .orderBy(
            "courserun_id",
            _order(F.col("metric"), ENGAGEMENT_METRICS),
            _order(F.col("outcome"), ("certified", "not certified")),
        )
    )


# Every per-course dataset, by name (the name of its CSV files).
COURSE_DATASETS = {
    "enrollment_by_mode": enrollment_mode_daily,
    "demographics": demographics,
    "weekly_activity": weekly_activity,
    "grade_distribution": grade_distribution,
    "section_engagement": section_engagement,
    "videos": videos,
    "video_retention": video_retention,
    "problems": problems,
    "engagement_by_outcome": engagement_by_outcome,
}
