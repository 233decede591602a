"""Spreading files over Spark tasks, shared by every ingest job.

The jobs pack their files into tasks on the driver (`pack_tasks`: as many tasks as Spark would
make partitions of the same files, the largest files first, each into the lightest task) and
then need a DataFrame whose partition i holds exactly the rows of task i, so
that one `mapInArrow` task reads one pack. Building it on the JVM side keeps a Python worker from
starting just to emit those rows: the rows cross once as Arrow (a local relation) and a `range`
with one partition per task picks each task's rows through a broadcast join, which keeps the
range's partitioning (no shuffle, nothing for AQE to coalesce).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pyarrow as pa
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TASK_COLUMN = "task"
MiB = 1024 * 1024


class _File(Protocol):
    """What `pack_tasks` needs of a file (`SourceFile` has it): its URI and size in bytes."""

    @property
    def uri(self) -> str: ...

    @property
    def size(self) -> int: ...


FileT = TypeVar("FileT", bound=_File)


@dataclass(frozen=True)
class TaskSizing:
    """How many files one task takes, by Spark's own rule for packing files into partitions
    (`FilePartition.maxSplitBytes`): every file weighs its size plus `open_cost_bytes`, and a
    task takes about total / `parallelism`, at most `max_task_bytes` and at least
    `open_cost_bytes`. So a run of many small archives is a few tasks per core, not one task
    each (each task has a fixed cost in the JVM and the Python worker, and writes its own staging
    file), while large files still get one task each."""

    parallelism: int = 1
    max_task_bytes: int = 128 * MiB  # spark.sql.files.maxPartitionBytes
    open_cost_bytes: int = 4 * MiB  # spark.sql.files.openCostInBytes

    @classmethod
    def of(cls, spark: SparkSession) -> TaskSizing:
        """The session's settings: its default parallelism (the cores) and its
        `spark.sql.files.maxPartitionBytes` / `openCostInBytes`."""
        # The JVM conf gives the byte sizes as numbers ("128MB", "134217728b" are both valid).
        conf = spark._jsparkSession.sessionState().conf()
        return cls(
            parallelism=max(1, spark.sparkContext.defaultParallelism),
            max_task_bytes=int(conf.filesMaxPartitionBytes()),
            open_cost_bytes=int(conf.filesOpenCostInBytes()),
        )

    def task_count(self, sizes: Sequence[int]) -> int:
        """Tasks for files of these sizes: total weight over the split size, rounded up, never
        more than there are files."""
        if not sizes:
            return 0
        total = sum(max(s, 0) + self.open_cost_bytes for s in sizes)
        # Per core rounded up (Spark rounds down, which makes an odd total one task more than
        # the cores: 2 or 3 tasks for the same small files on 2 cores, by a byte).
        per_core = -(-total // self.parallelism)
        split = min(self.max_task_bytes, max(self.open_cost_bytes, per_core))
        return max(1, min(len(sizes), math.ceil(total / max(split, 1))))


# Every file weighs more than a task may take: one file per task (tests; a job uses the
# session's rule, `TaskSizing.of`).
ONE_FILE_PER_TASK = TaskSizing(parallelism=1, max_task_bytes=1, open_cost_bytes=1)


def pack_tasks(files: Sequence[FileT], max_tasks: int, sizing: TaskSizing) -> list[list[FileT]]:
    """Longest-processing-time packing: largest files first, each into the lightest task. The
    number of tasks is `sizing`'s, at most `max_tasks`."""
    if not files:
        return []
    n_tasks = max(1, min(sizing.task_count([f.size for f in files]), max_tasks))
    open_cost = sizing.open_cost_bytes
    heap = [(0, i) for i in range(n_tasks)]
    tasks: list[list[FileT]] = [[] for _ in range(n_tasks)]
    for f in sorted(files, key=lambda f: (-f.size, f.uri)):
        load, i = heapq.heappop(heap)
        tasks[i].append(f)
        heapq.heappush(heap, (load + max(f.size, 1) + open_cost, i))
    return tasks


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
