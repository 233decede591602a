"""Spreading files over Spark tasks, shared by every ingest job.

The jobs pack their files into tasks on the driver (`pack_tasks` in the course archive job,
largest first) and then need a DataFrame whose partition i holds exactly the rows of task i, so
that one `mapInArrow` task reads one pack. Building it on the JVM side keeps a Python worker from
starting just to emit those rows: the rows cross once as Arrow (a local relation) and a `range`
with one partition per task picks each task's rows through a broadcast join, which keeps the
range's partitioning (no shuffle, nothing for AQE to coalesce).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TASK_COLUMN = "task"


def task_input_frame(
    spark: SparkSession, tasks: Sequence[Sequence[Any]], schema: pa.Schema
) -> DataFrame:
    """Partition i holds one row per item of `tasks[i]`, with the columns of `schema` read from
    the item's attributes of the same names."""
    numbered = [(i, item) for i, task in enumerate(tasks) for item in task]
    columns: dict[str, list[Any]] = {TASK_COLUMN: [i for i, _ in numbered]}
    for name in schema.names:
        columns[name] = [getattr(item, name) for _, item in numbered]
    listed = spark.createDataFrame(
        pa.table(columns, schema=pa.schema([pa.field(TASK_COLUMN, pa.int64()), *schema]))
    )
    slots = spark.range(0, len(tasks), 1, numPartitions=len(tasks))
    return slots.join(F.broadcast(listed), slots["id"] == listed[TASK_COLUMN]).select(*schema.names)
