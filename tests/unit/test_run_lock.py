"""The run lock without Spark: two processes take turns on a lock file, a wait has a limit and
a message that names the other run and the setting, a lock left by a dead process is simply
taken, the lock files sit where the config says, and a Delta commit conflict is told in words.
The other process is a real one (`python -c`), holding the lock through the same module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from olx_spark.config import Config, SparkConfig, WarehouseConfig, load_config
from olx_spark.spark.precheck import run_unless_nothing_new
from olx_spark.spark.run_lock import (
    CommitConflictError,
    LockSpec,
    RunLockTimeout,
    commit_conflicts_explained,
    course_archives,
    hold_for_process,
    holding,
    is_commit_conflict,
    job_lock,
    lock_folder,
    metastore_lock,
    read_holder,
    run_turn,
)
from olx_spark.spark.session import METASTORE_URL, embedded_derby_path
from olx_spark.storage.listing import SourceFile


def _spec(path: Path) -> LockSpec:
    return LockSpec(path=path, what="the test's other process", why="Turns.", advice="Advice.")


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from olx_spark.spark.run_lock import LockSpec, holding
    spec = LockSpec(Path(sys.argv[1]), "x", "y", "")
    with holding(spec, 0):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _other_process(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A real process that holds the lock at `path` for `seconds`, once it has said so."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds), "--as-the-other-run"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def messages() -> list[str]:
    return []


def test_a_free_lock_is_taken_at_once_and_says_who_holds_it(tmp_path, messages):
    path = tmp_path / "_locks" / "job.lock"
    with holding(_spec(path), 5, messages.append) as waited:
        assert waited < 1
        holder = read_holder(path)
        assert holder is not None
        assert holder.pid == os.getpid()
        assert holder.host
    assert messages == []
    assert path.read_text() == ""  # let go: nobody is named any more


def test_a_held_lock_times_out_with_a_message_naming_the_run_and_the_setting(tmp_path, messages):
    path = tmp_path / "job.lock"
    other = _other_process(path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(RunLockTimeout) as caught, holding(_spec(path), 0.6, messages.append):
            pytest.fail("the lock was taken while another process held it")
        assert 0.5 < time.monotonic() - started < 5
    finally:
        other.kill()
        other.wait()
    text = str(caught.value)
    assert f"pid {other.pid}" in text
    assert "--as-the-other-run" in text  # the other run's command line
    assert "lock_wait_seconds under [warehouse]" in text
    assert "run this command again" in text
    assert "Advice." in text
    assert caught.value.exit_code == 75
    assert len(messages) == 1 and messages[0].startswith("waiting for the test's other process")
    assert f"pid {other.pid}" in messages[0]


def test_no_wait_fails_at_once(tmp_path):
    path = tmp_path / "job.lock"
    other = _other_process(path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(RunLockTimeout), holding(_spec(path), 0, lambda _: None):
            pass
        assert time.monotonic() - started < 1
    finally:
        other.kill()
        other.wait()


def test_a_run_waits_for_the_other_then_goes_on(tmp_path, messages):
    path = tmp_path / "job.lock"
    other = _other_process(path, 1.0)
    with holding(_spec(path), 30, messages.append) as waited:
        assert 0.3 < waited < 10
        assert read_holder(path).pid == os.getpid()  # type: ignore[union-attr]
    other.wait()
    assert len(messages) == 2
    assert "waiting for the test's other process" in messages[0]
    assert "has finished" in messages[1]


def test_a_lock_file_left_by_a_dead_process_is_taken_over(tmp_path, messages):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    path = tmp_path / "job.lock"
    path.write_text(json.dumps({"pid": dead_pid, "host": "gone", "started_at": "", "command": ""}))
    with holding(_spec(path), 0, messages.append) as waited:
        assert waited < 1
        assert read_holder(path).pid == os.getpid()  # type: ignore[union-attr]
    assert messages == []


def test_a_killed_holder_lets_go_at_once(tmp_path, messages):
    path = tmp_path / "job.lock"
    other = _other_process(path, 60)
    killer = threading.Timer(0.5, lambda: os.kill(other.pid, signal.SIGKILL))
    killer.start()
    with holding(_spec(path), 30, messages.append) as waited:
        assert waited < 10
    killer.join()
    other.wait()
    assert "has finished" in messages[-1]


def test_nested_holds_in_one_thread_lock_once_and_let_go_at_the_end(tmp_path):
    path = tmp_path / "job.lock"
    with holding(_spec(path), 0) as outer:
        with holding(_spec(path), 0) as inner:
            assert outer < 1 and inner == 0
        probe = subprocess.run([sys.executable, "-c", HOLDER, str(path), "0"], capture_output=True)
        assert probe.returncode != 0  # still held after the inner block: the other cannot take it
    probe = subprocess.run([sys.executable, "-c", HOLDER, str(path), "0"], capture_output=True)
    assert probe.returncode == 0


def test_another_thread_waits_its_turn(tmp_path):
    path = tmp_path / "job.lock"
    outcome: list[str] = []

    def second() -> None:
        try:
            with holding(_spec(path), 0, lambda _: None):
                outcome.append("taken")
        except RunLockTimeout:
            outcome.append("timed out")

    with holding(_spec(path), 0):
        thread = threading.Thread(target=second)
        thread.start()
        thread.join()
    assert outcome == ["timed out"]


def test_held_for_the_process_stays_held_after_a_run(tmp_path):
    path = tmp_path / "metastore.lock"
    with holding(_spec(path), 0):
        assert hold_for_process(_spec(path), 0) == 0.0
    probe = subprocess.run([sys.executable, "-c", HOLDER, str(path), "0"], capture_output=True)
    assert probe.returncode != 0
    assert hold_for_process(_spec(path), 0) == 0.0  # again: nothing to do


# ---------------------------------------------------------------------------------------------
# Where the locks are, from the config
# ---------------------------------------------------------------------------------------------


def _config(tmp_path: Path, **warehouse: str | float) -> Config:
    return Config(warehouse=WarehouseConfig(dir=str(tmp_path / "wh"), **warehouse))  # type: ignore[arg-type]


def test_lock_files_of_a_local_warehouse(tmp_path):
    config = _config(tmp_path)
    wh = tmp_path / "wh"
    assert lock_folder(config) == wh / "_locks"
    spec = job_lock(config, course_archives("edxorg"))
    assert spec is not None
    assert spec.path == wh / "_locks" / "ol_warehouse_local_raw.course-archives-edxorg.lock"
    meta = metastore_lock(config)
    assert meta is not None and meta.path == wh / "_locks" / "metastore.lock"
    assert embedded_derby_path(config) == str(wh / "_metastore_db")


def test_lock_files_elsewhere_or_none(tmp_path):
    s3 = replace(_config(tmp_path), warehouse=WarehouseConfig(dir="s3a://bucket/warehouse"))
    assert lock_folder(s3) is None and job_lock(s3, "xapi") is None
    shared = replace(s3, warehouse=replace(s3.warehouse, lock_dir=str(tmp_path / "locks")))
    assert job_lock(shared, "xapi").path.parent == tmp_path / "locks"  # type: ignore[union-attr]
    cluster = replace(_config(tmp_path), spark=SparkConfig(mode="cluster"))
    assert metastore_lock(cluster) is None
    # Derby cannot live on S3: a local session keeps it, and its lock, in a local folder.
    local = replace(s3, warehouse=replace(s3.warehouse, metastore_dir=str(tmp_path / "meta")))
    assert embedded_derby_path(local) == str(tmp_path / "meta" / "_metastore_db")
    assert metastore_lock(local).path == tmp_path / "meta" / "_locks" / "metastore.lock"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("jdbc:derby:;databaseName=/data/meta_db;create=true", "/data/meta_db"),
        ("jdbc:derby:/data/meta_db;create=true", "/data/meta_db"),
        ("jdbc:derby:directory:/data/meta_db", "/data/meta_db"),
        ("jdbc:derby:meta_db;create=true", "{wh}/meta_db"),
        ("jdbc:derby://db-host:1527/meta_db", None),
        ("jdbc:derby:memory:meta;create=true", None),
        ("jdbc:postgresql://db-host/metastore", None),
    ],
)
def test_which_metastores_are_embedded(tmp_path, url, expected):
    config = _config(tmp_path)
    config = replace(config, spark=replace(config.spark, conf={METASTORE_URL: url}))
    wanted = expected.format(wh=tmp_path / "wh") if expected else None
    assert embedded_derby_path(config) == wanted


def test_the_settings_load_from_toml(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[warehouse]\nlock_wait_seconds = 5\nlock_dir = "/var/lock/olx"\n')
    config = load_config(toml)
    assert config.warehouse.lock_wait_seconds == 5.0
    assert config.warehouse.lock_dir == "/var/lock/olx"
    assert Config().warehouse.lock_wait_seconds == 3600.0


@pytest.fixture
def held_job_lock(tmp_path: Path) -> Iterator[tuple[Config, subprocess.Popen[str]]]:
    """A config on a new local warehouse whose course archive lock another process holds ~1 s."""
    config = _config(tmp_path)
    spec = job_lock(config, course_archives("edxorg"))
    assert spec is not None
    other = _other_process(spec.path, 1.0)
    yield config, other
    other.kill()
    other.wait()


def test_run_turn_waits_and_says_so(held_job_lock, messages):
    config, other = held_job_lock
    with run_turn(config, course_archives("edxorg"), on_wait=messages.append) as turn:
        assert turn.waited_for_another_run
    assert f"pid {other.pid}" in messages[0]


def test_run_turn_times_out_past_the_setting(held_job_lock, messages):
    config, _ = held_job_lock
    impatient = replace(config, warehouse=replace(config.warehouse, lock_wait_seconds=0))
    with (
        pytest.raises(RunLockTimeout, match="course-archives-edxorg"),
        run_turn(impatient, course_archives("edxorg"), on_wait=messages.append),
    ):
        pass


def test_after_waiting_the_ledger_is_read_again_and_nothing_is_run(held_job_lock):
    """The second run found new files before waiting; the first loaded them meanwhile."""
    config, _ = held_job_lock
    files = [SourceFile("file:///src/a.tar.gz", 10, datetime(2024, 1, 1, tzinfo=UTC))]

    class Ledger:
        def __init__(self, unchanged: set[tuple[str, int, int]]) -> None:
            self.unchanged = unchanged

    reads = iter([Ledger(set()), Ledger({files[0].identity})])

    def run() -> object:
        raise AssertionError("run again although the other run loaded everything")

    outcome = run_unless_nothing_new(
        "ingest course-archives",
        "/src",
        files,
        lambda: next(reads),
        run,  # type: ignore[arg-type]
        time.monotonic(),
        config=config,
        locks=(course_archives("edxorg"),),
    )
    assert not outcome.spark_used
    assert outcome.precheck == "nothing new after another run"
    assert outcome.summary.unchanged == 1


# ---------------------------------------------------------------------------------------------
# Delta's conflicts in words
# ---------------------------------------------------------------------------------------------


class ConcurrentAppendException(Exception):
    """Named like delta.exceptions.ConcurrentAppendException (matched by name)."""


def test_commit_conflicts_are_recognised_by_name_or_by_the_java_class():
    assert is_commit_conflict(ConcurrentAppendException("Files were added"))
    java = RuntimeError("An error occurred: io.delta.exceptions.ConcurrentAppendException: ...")
    assert is_commit_conflict(java)
    try:
        try:
            raise ConcurrentAppendException("x")
        except ConcurrentAppendException as exc:
            raise ValueError("wrapped") from exc
    except ValueError as wrapped:
        assert is_commit_conflict(wrapped)
    assert not is_commit_conflict(ValueError("no such table"))


def test_a_commit_conflict_becomes_a_clear_error():
    with pytest.raises(CommitConflictError) as caught, commit_conflicts_explained("ingest x"):
        raise ConcurrentAppendException("[DELTA_CONCURRENT_APPEND] Files were added")
    text = str(caught.value)
    assert text.startswith("ingest x: another run wrote the same tables at the same time")
    assert "Run this command again" in text
    assert "lock_dir under [warehouse]" in text
    with pytest.raises(KeyError), commit_conflicts_explained("ingest x"):
        raise KeyError("other errors pass through")
