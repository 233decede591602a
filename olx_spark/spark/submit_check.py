"""Checks a `jobs/*.py` driver makes under spark-submit before any Spark session exists.

Without them, a standalone master that is down makes the driver retry for a minute and die in
a stack trace ("All masters are unresponsive"), and a metastore driver or Delta jar missing
from the class path surfaces as `Unable to instantiate SessionHiveMetaStoreClient` or a
`ClassNotFoundException` deep in a query. Here each becomes one line that names the setting to
fix (`--master` / `spark.master`, `--driver-class-path`, `--packages`), in seconds, before the
job has read or written anything. Outside spark-submit (a laptop's `olx-spark`) nothing is
checked: the local session builds its own class path.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

# The settings whose classes must load in the driver, and the option that provides each.
CLASS_SETTINGS = {
    "spark.hadoop.javax.jdo.option.ConnectionDriverName": (
        "--driver-class-path (spark.driver.extraClassPath): the JDBC driver of the metastore "
        "must be on the driver JVM's class path"
    ),
    "spark.sql.catalog.spark_catalog": "--packages io.delta:delta-spark_2.13:VERSION (or --jars)",
}
CONNECT_SECONDS = 10.0


class SubmitSetupError(RuntimeError):
    """The spark-submit command cannot work as given; the message names what to change."""


def master_addresses(master: str) -> list[tuple[str, int]]:
    """(host, port) of each master of a standalone URL `spark://h1:p1,h2:p2`; [] for others."""
    if not master.startswith("spark://"):
        return []
    addresses = []
    for part in master.removeprefix("spark://").split(","):
        host, _, port = part.rpartition(":")
        if not host or not port.isdigit():
            raise SubmitSetupError(
                f"spark.master {master!r} (spark-submit's --master) is not spark://HOST:PORT"
            )
        addresses.append((host, int(port)))
    return addresses


def check_master(master: str, seconds: float = CONNECT_SECONDS) -> None:
    """Raise unless some master of a standalone URL accepts connections."""
    failures = []
    for host, port in master_addresses(master):
        try:
            with socket.create_connection((host, port), timeout=seconds):
                return
        except OSError as exc:
            failures.append(f"{host}:{port}: {type(exc).__name__}: {exc}")
    if failures:
        raise SubmitSetupError(
            f"the Spark master {master} (spark-submit's --master, setting spark.master) is not "
            f"reachable ({'; '.join(failures)}). Start it, or fix --master. Nothing was written."
        )


def check_classes(get: Callable[[str], str | None], loads: Callable[[str], bool]) -> None:
    """Raise if a class named by one of `CLASS_SETTINGS` does not load in the driver."""
    for key, fix in CLASS_SETTINGS.items():
        name = get(key)
        if name and not loads(name):
            raise SubmitSetupError(
                f"class {name} (setting {key}) is not on the driver's class path: add it with "
                f"{fix}. Nothing was written."
            )


def check_spark_submit() -> None:
    """Under spark-submit (a JVM gateway is waiting for us): check the master and the classes
    the settings name. Does nothing otherwise."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    jvm = SparkContext._jvm
    assert jvm is not None
    conf = SparkConf()
    check_master(conf.get("spark.master", "") or "")

    def loads(name: str) -> bool:
        try:
            jvm.org.apache.spark.util.Utils.classForName(name, False, False)
        except Exception:
            return False
        return True

    check_classes(lambda key: conf.get(key, None), loads)


def submitted_warehouse() -> str | None:
    """Under spark-submit: the `spark.sql.warehouse.dir` it was given (read from the waiting JVM's
    settings; no Spark session is made). None elsewhere or when not given."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return SparkConf().get("spark.sql.warehouse.dir", None) or None


def same_location(a: str, b: str) -> bool:
    """Two spellings of one folder: `file:` prefixes, trailing slashes, relative paths and the
    `s3`/`s3a` schemes do not matter."""

    def norm(uri: str) -> str:
        uri = uri.rstrip("/")
        if uri.startswith(("s3://", "s3a://", "s3n://")):
            return "s3://" + uri.split("://", 1)[1]
        if "://" in uri and not uri.startswith("file://"):
            return uri
        path = uri.removeprefix("file://").removeprefix("file:")
        return os.path.abspath(os.path.expanduser(path))

    return norm(a) == norm(b)


def run_job(command: list[str], argv: list[str]) -> int:
    """A `jobs/*.py` entry point: the checks above, then `olx-spark COMMAND ARGV...`."""
    import sys

    try:
        check_spark_submit()
    except SubmitSetupError as exc:
        print(f"olx-spark: {exc}", file=sys.stderr)
        return 2
    from olx_spark.cli import main

    return main([*command, *argv])
