"""How many read tasks a job asked Spark for: the ingest jobs pack their files by Spark's own
split rule for the session (`olx_spark.spark.tasks.TaskSizing.of`) and hand the packs to
`task_input_frame`, one partition per pack (its own test checks that). Recording what that
function is given, while it still runs, is how a job test sees the rule was used."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


def record_task_counts(monkeypatch: pytest.MonkeyPatch, job_module: ModuleType) -> list[int]:
    """The number of tasks of each `task_input_frame` call the job module makes from now on."""
    seen: list[int] = []
    real = job_module.task_input_frame

    def recording(spark: Any, tasks: Any, schema: Any) -> Any:
        seen.append(len(tasks))
        return real(spark, tasks, schema)

    monkeypatch.setattr(job_module, "task_input_frame", recording)
    return seen
