"""Task packing (largest first, balanced) and configuration loading, without a JVM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from olx_spark.config import ConfigError, load_config
from olx_spark.spark.tasks import ONE_FILE_PER_TASK, TaskSizing, pack_tasks
from olx_spark.storage.listing import SourceFile

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _files(*sizes: int) -> list[SourceFile]:
    return [SourceFile(f"file:///a/{i}.tar.gz", s, T0) for i, s in enumerate(sizes)]


def test_one_task_per_archive_when_tasks_allow():
    tasks = pack_tasks(_files(5, 1, 9), max_tasks=10, sizing=ONE_FILE_PER_TASK)
    assert [[f.size for f in t] for t in tasks] == [[9], [5], [1]]


def test_huge_archive_gets_a_task_of_its_own():
    tasks = pack_tasks(_files(1000, 10, 10, 10, 10, 10, 10), max_tasks=2, sizing=ONE_FILE_PER_TASK)
    assert [[f.size for f in t] for t in tasks] == [[1000], [10] * 6]


def test_packing_keeps_every_file_once():
    files = _files(*range(1, 101))
    tasks = pack_tasks(files, max_tasks=7, sizing=ONE_FILE_PER_TASK)
    assert len(tasks) == 7
    assert sorted(f.uri for t in tasks for f in t) == sorted(f.uri for f in files)
    loads = [sum(f.size for f in t) for t in tasks]
    assert max(loads) - min(loads) <= 100


def test_no_files_no_tasks():
    assert pack_tasks([], max_tasks=4, sizing=ONE_FILE_PER_TASK) == []
    assert TaskSizing().task_count([]) == 0


MB = 1024 * 1024


def test_sizing_follows_sparks_split_rule():
    """Each file weighs size + open cost; a task takes total / cores, capped at the maximum."""
    two_cores = TaskSizing(parallelism=2, max_task_bytes=128 * MB, open_cost_bytes=4 * MB)
    # 200 archives of 3 MB: 1,400 MB of weight, 128 MB per task -> 11 tasks, not 200.
    assert two_cores.task_count([3 * MB] * 200) == 11
    # Two small files on two cores: one each (total / cores is below the cap).
    assert two_cores.task_count([1 * MB, 1 * MB]) == 2
    # Small files on two cores: as many tasks as cores, whether the total is odd or even.
    assert two_cores.task_count([1 * MB] * 5) == 2
    assert two_cores.task_count([1 * MB] * 4 + [1 * MB + 1]) == 2
    # Large files keep a task each; never more tasks than files.
    assert two_cores.task_count([500 * MB] * 3) == 3
    # Many cores: the split shrinks to total / cores (no fewer tasks than cores).
    many = TaskSizing(parallelism=64, max_task_bytes=128 * MB, open_cost_bytes=4 * MB)
    assert many.task_count([3 * MB] * 200) == 64
    # Tiny files on many cores: the split is at least the open cost.
    assert many.task_count([0] * 10) == 10


def test_one_file_per_task_sizing():
    assert ONE_FILE_PER_TASK.task_count([0, 0, 7, 10**12]) == 4
    assert len(pack_tasks(_files(0, 0, 3), max_tasks=10, sizing=ONE_FILE_PER_TASK)) == 3


def test_packing_with_sizing_balances_and_keeps_every_file():
    sizing = TaskSizing(parallelism=2, max_task_bytes=64, open_cost_bytes=1)
    files = _files(*([10] * 40))  # weight 440 -> 7 tasks of ~64
    tasks = pack_tasks(files, max_tasks=100, sizing=sizing)
    assert len(tasks) == 7
    assert sorted(f.uri for t in tasks for f in t) == sorted(f.uri for f in files)
    assert max(len(t) for t in tasks) - min(len(t) for t in tasks) <= 1
    assert len(pack_tasks(files, max_tasks=3, sizing=sizing)) == 3  # the config's cap wins


def test_config_file_overrides_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[warehouse]\nraw_schema = "x_raw"\n[limits]\nmax_ratio = 50\n'
        '[spark.conf]\n"spark.sql.shuffle.partitions" = 3\n'
    )
    config = load_config(path, warehouse="/tmp/wh")
    assert config.warehouse.raw_schema == "x_raw"
    assert config.warehouse.dir == "/tmp/wh"
    assert config.limits.max_ratio == 50.0
    assert config.limits.max_members == 200_000
    assert config.spark.conf == {"spark.sql.shuffle.partitions": "3"}


def test_unknown_config_key_is_named(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[limits]\nmax_ratoi = 5\n")
    with pytest.raises(ConfigError, match=r"limits\.max_ratoi"):
        load_config(path)


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "none.toml")


def test_shipped_config_files_load():
    from pathlib import Path

    for name in ("local.toml", "emr.toml", "databricks.toml"):
        load_config(Path(__file__).parents[2] / "conf" / name)
