"""What-if: Spark's Python worker daemon with in-memory changes, for `bench_job.py --whatif`.

Spark starts its Python workers through a daemon module (`spark.python.daemon.module`, default
`pyspark.daemon`) that forks one worker per task. `bench_job.py --whatif ...` points Spark at
this module instead (and puts `benchmarks/` on PYTHONPATH): it applies the changes named in
the `OLX_WHATIF` environment variable (comma-separated) once, in the daemon, before any
worker is forked, then runs PySpark's own daemon. Nothing on disk is edited; the job runs
exactly as shipped otherwise.

- `lazy_zip`: `zipimport.zipimporter.invalidate_caches` does nothing. PySpark 4.0's worker
  calls `importlib.invalidate_caches()` at the start of every task (`setup_spark_files`); on
  Python 3.10/3.11 that makes every zipimporter re-read its whole archive's directory
  (CPython gh-103200, fixed in 3.12 only), and Spark puts `pyspark.zip`, the py4j zip and the
  5,000-entry `spark-core` jar on the workers' PYTHONPATH, with pyspark itself imported from
  the zip (one zipimporter per subpackage). Spark's own fix is SPARK-54744 (after 4.0).
- `tar_bufsize`: the parser's `tarfile.open(..., bufsize=...)` gets tarfile's default
  10 KiB record size instead of 1 MiB (see `whatif_parser.py`).
"""

from __future__ import annotations

import os
import tarfile
import zipimport
from typing import Any


def _apply(changes: set[str]) -> None:
    if "lazy_zip" in changes:

        def invalidate_caches(self: zipimport.zipimporter) -> None:
            return None

        zipimport.zipimporter.invalidate_caches = invalidate_caches  # type: ignore[method-assign]
    if "tar_bufsize" in changes:
        import olx_spark.olx.archive as archive_module

        real_open = tarfile.open

        def patched(*args: Any, **kwargs: Any) -> tarfile.TarFile:
            kwargs["bufsize"] = tarfile.RECORDSIZE
            return real_open(*args, **kwargs)

        archive_module.tarfile.open = patched  # type: ignore[assignment]


if __name__ == "__main__":
    _apply({c.strip() for c in os.environ.get("OLX_WHATIF", "").split(",") if c.strip()})
    from pyspark.daemon import manager

    manager()
