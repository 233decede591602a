"""Spark's Python worker daemon, started without the per-task zip directory re-reads of 3.11.

Why this module exists: PySpark 4.0's worker calls `importlib.invalidate_caches()` at the start
of every task (`pyspark.worker_util.setup_spark_files`). On Python 3.10 and 3.11 that makes
every `zipimport.zipimporter` re-read its archive's whole central directory (CPython
gh-103200, made lazy in 3.12 only), and Spark puts `pyspark.zip`, the py4j zip and the
`spark-core` jar (5,000+ entries) on the workers' PYTHONPATH, with pyspark imported from the zip
(one zipimporter per subpackage). Measured on a 2-core machine: ~0.5 s per task, a third of the
Python workers' time in the course archive job (benchmarks/RESULTS.md). Spark fixes it itself
in SPARK-54744, after 4.0.

The local session (`olx_spark.spark.session`) names this module in `spark.python.daemon.module`.
Spark then starts `python -m olx_spark.spark.worker_daemon` instead of `python -m
pyspark.daemon`; this module turns `zipimporter.invalidate_caches` into a no-op once, in the
daemon, before it forks any worker, then hands over to PySpark's own daemon loop unchanged.
Directory finders (`FileFinder`) are still invalidated as before, so files Spark adds to the
workers' path (`addPyFile`, `--py-files`) are still found: a new zip on the path gets a new
zipimporter anyway. What is given up is noticing a zip file *replaced in place* while the daemon
lives; Spark's own zips never change, and Spark refuses to register a second file of the same
name.
"""

from __future__ import annotations

import sys
import zipimport

_PATCHED_MARKER = "_olx_spark_no_op"


def _keep_zip_directory(self: zipimport.zipimporter) -> None:
    """`zipimporter.invalidate_caches` that keeps the directory already read."""
    return None


setattr(_keep_zip_directory, _PATCHED_MARKER, True)


def zip_cache_invalidation_disabled() -> bool:
    """Whether `zipimporter.invalidate_caches` is this module's no-op in this process."""
    method = getattr(zipimport.zipimporter, "invalidate_caches", None)
    return bool(getattr(method, _PATCHED_MARKER, False))


def disable_zip_cache_invalidation() -> bool:
    """Make `zipimporter.invalidate_caches` a no-op where it is costly (Python < 3.12).

    Returns whether the method is now the no-op. On 3.12+ it is left alone: there it only marks
    the directory for a lazy re-read on next use, which costs nothing per task."""
    if sys.version_info >= (3, 12):
        return zip_cache_invalidation_disabled()
    zipimport.zipimporter.invalidate_caches = _keep_zip_directory  # type: ignore[method-assign]
    return True


def main() -> None:
    disable_zip_cache_invalidation()
    # Imported only now: pyspark.daemon reads sys.argv (the worker module Spark names) on import.
    from pyspark.daemon import manager

    manager()


if __name__ == "__main__":
    main()
