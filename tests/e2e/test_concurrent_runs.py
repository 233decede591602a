"""Two runs at once: two course archive ingests started together on one new warehouse (a nightly
run overlapping a backfill) leave every archive loaded exactly once.

Real processes, the console script as users run it: the first takes the warehouse's locks and
loads; the second says it is waiting for the first (by pid), then finds nothing new and ends
without starting Spark; a third, started meanwhile with `lock_wait_seconds = 0`, fails at once
with a message naming the setting, and run again afterwards completes with nothing to load.
Before the run lock, the second process failed after ~25 s with Derby's "Another instance of
Derby may have already booted the database" under 20,000 lines of stack traces.

The tables are read back without Spark (pyarrow on the Delta log, `olx_spark.storage.delta_log`),
so the test costs one JVM: the loading run's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from olx_spark.config import S3Config
from olx_spark.olx.tables import STATUS_LOADED, course_table_name
from olx_spark.storage.delta_log import read_columns, table_location
from tests.e2e.cli_commands import SCHEMA, ingest_archives
from tests.spark.courses import tiny_course, write_tar_gz

pytestmark = pytest.mark.e2e

ARCHIVES = 4


def _start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cmd,
        env=env,
        start_new_session=True,  # the process and its JVM, killed together if the test fails
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _summary(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout[stdout.index("{") :]))


def _holder_pid(lock: Path, timeout_s: float = 120) -> int:
    """The pid written into `lock` by the process that holds it (waits until one does)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return int(json.loads(lock.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.05)
    raise AssertionError(f"nobody took {lock} within {timeout_s} s")


def _table(warehouse: Path, entity: str, columns: list[str]) -> dict[str, list[Any]]:
    path = warehouse / f"{SCHEMA}.db" / course_table_name("edxorg", entity)
    return read_columns(table_location(str(path), S3Config()), columns).to_pydict()


def test_two_ingests_at_once_load_every_archive_once(tmp_path):
    src = tmp_path / "src"
    for i in range(ARCHIVES):
        write_tar_gz(src / f"course{i}.tar.gz", tiny_course(f"R{i}"))
    warehouse = tmp_path / "warehouse"
    impatient = tmp_path / "impatient.toml"
    impatient.write_text("[warehouse]\nlock_wait_seconds = 0\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}

    procs = [_start(ingest_archives(src, warehouse), env) for _ in range(2)]
    try:
        # Whichever got the warehouse first holds its metastore lock; a run that will not wait
        # fails at once (before any JVM), with a message that says what to do.
        first_pid = _holder_pid(warehouse / "_locks" / "metastore.lock")
        refused = subprocess.run(
            ingest_archives(src, warehouse, "--config", str(impatient)),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    assert [p.returncode for p in procs] == [0, 0], [err[-3000:] for _, err in outputs]
    by_pid = {p.pid: (_summary(out), err) for p, (out, err) in zip(procs, outputs, strict=True)}
    assert first_pid in by_pid
    (first, first_err), (second, second_err) = by_pid.pop(first_pid), *by_pid.values()
    assert (first["loaded"], first["unchanged"]) == (ARCHIVES, 0)
    # The second run waited for the first, by pid, then found everything loaded.
    assert "waiting for another olx-spark process" in second_err
    assert f"pid {first_pid} " in second_err
    assert "the other run has finished" in second_err
    assert (second["loaded"], second["unchanged"]) == (0, ARCHIVES)
    assert "waiting for" not in first_err

    assert refused.returncode == 75  # EX_TEMPFAIL: try again later
    assert "Traceback" not in refused.stderr
    assert refused.stderr.rstrip().splitlines()[-1].startswith("olx-spark: ")
    assert "lock_wait_seconds under [warehouse]" in refused.stderr
    assert f"pid {first_pid} " in refused.stderr
    assert "run this command again" in refused.stderr

    # Its rerun completes: nothing left to load (decided without Spark).
    rerun = subprocess.run(
        ingest_archives(src, warehouse, "--config", str(impatient)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert (_summary(rerun.stdout)["loaded"], _summary(rerun.stdout)["unchanged"]) == (0, ARCHIVES)

    # Nothing missing, nothing twice: one `loaded` ledger row per archive; each archive's blocks
    # once (the kill-and-rerun test's tiny course has 6 blocks).
    ledger = _table(warehouse, "archives", ["archive_uri", "archive_sha256", "status"])
    names = [uri.rsplit("/", 1)[-1] for uri in ledger["archive_uri"]]
    assert sorted(zip(names, ledger["status"], strict=True)) == [
        (f"course{i}.tar.gz", STATUS_LOADED) for i in range(ARCHIVES)
    ]
    blocks = _table(warehouse, "blocks", ["archive_sha256", "block_id", "is_draft"])
    keys = Counter(
        zip(blocks["archive_sha256"], blocks["block_id"], blocks["is_draft"], strict=True)
    )
    assert max(keys.values()) == 1
    assert set(blocks["archive_sha256"]) == set(ledger["archive_sha256"])
    assert len(keys) == 6 * ARCHIVES
