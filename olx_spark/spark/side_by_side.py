"""Independent Spark actions of one run, started together instead of one after another.

A small Delta write is mostly driver-side waiting: a snapshot, a plan, a commit, each a short
Spark job or none, with the executors idle in between. The course archive job writes five
content tables that do not depend on each other (`run_side_by_side`), and makes or checks its
tables while the archives are parsed (`start_beside`). Where cores idle while the driver
waits, that time is used; where the run is CPU-bound, as on two local cores, it is about even
(benchmarks/RESULTS.md, issue 19).

Each action runs in a thread of its own, started with the caller's local properties (job
group, scheduler pool) and tags (`pyspark.inheritable_thread_target`). PySpark pins a JVM
thread to each Python thread (its default since 3.2, which this relies on), so a job
description set in an action labels that action's Spark jobs only. `run_side_by_side` waits
for every action before it returns or raises, so nothing is still writing when the caller
moves on (for example, deletes the staging files the writes read); a `start_beside` caller
waits for the future itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TypeVar

from pyspark import inheritable_thread_target
from pyspark.sql import SparkSession

T = TypeVar("T")


def run_side_by_side(spark: SparkSession, actions: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Run each of `actions` (description -> action) in a thread of its own, all together,
    with its Spark jobs described by its key; return each one's result under its key. If any
    fails, the others still run to their end, and the first failure (in `actions`' order) is
    raised after them with a note naming the others."""
    if not actions:
        return {}
    described = partial(_described, spark)
    with ThreadPoolExecutor(
        max_workers=len(actions), thread_name_prefix="olx-spark-action"
    ) as pool:
        futures: dict[str, Future[T]] = {
            description: pool.submit(
                inheritable_thread_target(spark)(described), description, action
            )
            for description, action in actions.items()
        }
        wait(futures.values())
    failures = [(d, f.exception()) for d, f in futures.items() if f.exception() is not None]
    if failures:
        first = failures[0][1]
        assert first is not None
        for description, other in failures[1:]:
            first.add_note(f"{description} failed too: {type(other).__name__}: {other}")
        raise first
    return {description: future.result() for description, future in futures.items()}


def start_beside(spark: SparkSession, description: str, action: Callable[[], T]) -> Future[T]:
    """Start `action` in a thread of its own, its Spark jobs described by `description`, and
    return at once. The caller must wait for the result (`Future.result()`, which raises what
    the action raised) before it returns itself, on every path."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="olx-spark-beside")
    future = pool.submit(inheritable_thread_target(spark)(_described), spark, description, action)
    pool.shutdown(wait=False)  # the thread ends with the action
    return future


def _described(spark: SparkSession, description: str, action: Callable[[], T]) -> T:
    context = spark.sparkContext
    context.setJobDescription(description)
    try:
        return action()
    finally:
        context.setJobDescription(None)  # type: ignore[arg-type]  # None clears it


def done(result: T) -> Future[T]:
    """A future that already holds `result` (for code that takes a `start_beside` future
    whether or not the work was started beside anything)."""
    future: Future[T] = Future()
    future.set_result(result)
    return future
