"""Our Python worker daemon: it disables the per-task zip directory re-read, local sessions
name it, and it starts like Spark starts it (`python -m ...`), speaking PySpark's daemon
protocol. (tests/spark checks that real Spark workers come from it.)"""

from __future__ import annotations

import struct
import subprocess
import sys
import zipimport

import pytest

from olx_spark.config import Config, WarehouseConfig
from olx_spark.spark import worker_daemon
from olx_spark.spark.session import local_session_conf


@pytest.fixture
def restore_zipimporter():
    original = zipimport.zipimporter.invalidate_caches
    yield
    zipimport.zipimporter.invalidate_caches = original  # type: ignore[method-assign]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ invalidates zips lazily")
def test_zip_cache_invalidation_becomes_a_no_op(restore_zipimporter, tmp_path):
    import zipfile

    assert not worker_daemon.zip_cache_invalidation_disabled()
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.py", "x = 1\n")
    importer = zipimport.zipimporter(str(archive))

    assert worker_daemon.disable_zip_cache_invalidation()

    assert worker_daemon.zip_cache_invalidation_disabled()
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("b.py", "y = 2\n")
    importer.invalidate_caches()  # the no-op: the directory read at creation is kept
    assert importer.find_spec("a") is not None
    assert importer.find_spec("b") is None


def test_local_sessions_start_workers_through_it(tmp_path):
    conf = local_session_conf(Config(warehouse=WarehouseConfig(dir=str(tmp_path))))
    assert conf["spark.python.daemon.module"] == "olx_spark.spark.worker_daemon"


def test_it_runs_as_spark_runs_it():
    # Spark starts `python -m <daemon module>`, reads the port it listens on (4 bytes) from
    # its stdout, and stops it by closing its stdin.
    proc = subprocess.Popen(
        [sys.executable, "-m", worker_daemon.__name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = struct.unpack("!i", proc.stdout.read(4))[0]
        assert 0 < port < 65536, proc.stderr.read() if proc.stderr else ""
        proc.stdin.close()  # PySpark's daemon then shuts down (exit status 1, as it does)
        proc.wait(timeout=30)
        assert proc.stderr is not None and b"Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
