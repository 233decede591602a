"""Delta Lake's JVM jars for a local session, fetched once from Maven Central and cached.

The version always matches the installed `delta-spark` Python package. With Maven on the PATH,
`mvn dependency:copy` fetches the two jars into `~/.cache/olx-spark/jars/delta-{version}/` (or
`$OLX_SPARK_JARS_DIR`) and Spark gets them as `spark.jars`; without Maven, Spark's own resolver
fetches the same coordinates (`spark.jars.packages`). Either way no manual step is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

SCALA_BINARY = "2.13"


def delta_version() -> str:
    return version("delta-spark")


def delta_artifacts() -> list[str]:
    v = delta_version()
    return [f"io.delta:delta-spark_{SCALA_BINARY}:{v}", f"io.delta:delta-storage:{v}"]


def jar_cache_dir() -> Path:
    base = os.environ.get("OLX_SPARK_JARS_DIR")
    root = Path(base) if base else Path.home() / ".cache" / "olx-spark" / "jars"
    return root / f"delta-{delta_version()}"


def _jar_name(artifact: str) -> str:
    _, name, ver = artifact.split(":")
    return f"{name}-{ver}.jar"


def cached_jars() -> list[Path] | None:
    folder = jar_cache_dir()
    jars = [folder / _jar_name(a) for a in delta_artifacts()]
    return jars if all(j.is_file() for j in jars) else None


def fetch_with_maven() -> list[Path] | None:
    """Copy the Delta jars into the cache with Maven; None when Maven is absent or fails."""
    mvn = shutil.which("mvn")
    if mvn is None:
        return None
    folder = jar_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for artifact in delta_artifacts():
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact={artifact}",
                f"-DoutputDirectory={folder}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            return None
    return cached_jars()


def delta_spark_conf() -> dict[str, str]:
    """`spark.jars` with cached jars when they can be had, else `spark.jars.packages`."""
    jars = cached_jars() or fetch_with_maven()
    if jars:
        return {"spark.jars": ",".join(str(j) for j in jars)}
    return {"spark.jars.packages": ",".join(delta_artifacts())}


if __name__ == "__main__":  # `python -m olx_spark.spark.jars`: fetch now (used by `make setup`)
    print(delta_spark_conf())
