"""Actions run side by side: each labels its own Spark jobs, all end before anything returns or
raises, and a failure is raised, not lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from olx_spark.spark.side_by_side import done, run_side_by_side, start_beside


def _description(spark: Any) -> str | None:
    return spark.sparkContext.getLocalProperty("spark.job.description")


def test_each_action_labels_its_own_jobs_and_returns_its_result(spark):
    both_running = threading.Barrier(2, timeout=60)
    context = spark.sparkContext
    context.setLocalProperty("olx.test.inherited", "from the caller")
    before = _description(spark)

    def count(n: int) -> tuple[int, str | None, str | None]:
        both_running.wait()  # the two really run at the same time
        inherited = context.getLocalProperty("olx.test.inherited")
        return spark.range(n).count(), _description(spark), inherited

    try:
        results = run_side_by_side(
            spark, {"count 3": lambda: count(3), "count 5": lambda: count(5)}
        )
    finally:
        context.setLocalProperty("olx.test.inherited", None)  # type: ignore[arg-type]

    assert results == {
        "count 3": (3, "count 3", "from the caller"),
        "count 5": (5, "count 5", "from the caller"),
    }
    assert _description(spark) == before  # the caller's thread is not relabelled
    assert run_side_by_side(spark, {}) == {}


def test_a_failure_is_raised_after_every_other_action_ended(spark):
    ended: list[str] = []

    def slow() -> None:
        time.sleep(1.0)
        spark.range(10).count()
        ended.append("slow")

    def fails() -> None:
        raise ValueError("table made wrong")

    def fails_too() -> None:
        raise KeyError("later in the order")

    with pytest.raises(ValueError, match="table made wrong") as raised:
        run_side_by_side(spark, {"fails": fails, "slow": slow, "fails too": fails_too})
    assert ended == ["slow"]
    assert raised.value.__notes__ == ["fails too failed too: KeyError: 'later in the order'"]


def test_started_beside_runs_while_the_caller_goes_on(spark):
    release = threading.Event()

    def waits() -> str | None:
        assert release.wait(60)
        return _description(spark)

    future = start_beside(spark, "prepare", waits)
    assert not future.done()
    assert spark.range(4).count() == 4  # the caller's own Spark work meanwhile
    release.set()
    assert future.result(timeout=60) == "prepare"

    def fails() -> None:
        raise RuntimeError("no catalog")

    with pytest.raises(RuntimeError, match="no catalog"):
        start_beside(spark, "prepare", fails).result(timeout=60)
    assert done(7).result() == 7
