"""The JVM jars a local session needs beyond PySpark's own, fetched once from Maven Central and
cached: Delta Lake always, and S3A (hadoop-aws and the AWS SDK modules it uses) when the
warehouse is on S3.

Delta's version always matches the installed `delta-spark` Python package. With Maven on the
PATH, `mvn dependency:copy` fetches its two jars into `~/.cache/olx-spark/jars/delta-{version}/`
(or under `$OLX_SPARK_JARS_DIR`) and Spark gets them as `spark.jars`; without Maven, Spark's own
resolver fetches the same coordinates (`spark.jars.packages`). Either way no manual step is needed.

S3A is only fetched for a warehouse at `s3a://` (laptop users do not pay for it). hadoop-aws
must be the version of the Hadoop inside PySpark (its `hadoop-client-api` jar), and its POM asks
for the AWS SDK's 500+ MB `bundle`; instead Maven copies the few SDK modules S3A uses (s3, the
transfer manager, sts) with what they depend on, less what PySpark already ships (netty, Apache
HTTP client, slf4j, commons-*): about 9 MB, into `s3a-hadoop-{version}-sdk-{sdk}/`. This needs
Maven (Spark's resolver would pull the bundle); the folder is complete once its `jars.txt` is
written, and `python -m olx_spark.spark.jars --s3a` fills it ahead of time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

from olx_spark.config import ConfigError

SCALA_BINARY = "2.13"

# The AWS SDK v2 release whose modules go with each Hadoop's hadoop-aws. Hadoop 3.4.1's POM
# declares 2.24.6 (`aws-java-sdk-v2.version`), but Maven Central has no s3-transfer-manager
# 2.24.6, so all modules come from 2.24.5, the nearest release that has every one of them.
AWS_SDK_FOR_HADOOP = {"3.4.1": "2.24.5"}
# The SDK modules S3AFileSystem loads (their own dependencies come along).
AWS_SDK_MODULES = ("s3", "s3-transfer-manager", "sts")
# Groups PySpark's jars/ folder already has: copies of these would be a second, older version.
PROVIDED_GROUPS = (
    "io.netty",
    "org.apache.httpcomponents",
    "commons-codec",
    "commons-logging",
    "org.slf4j",
)
S3A_MANIFEST = "jars.txt"


class JarsUnavailableError(ConfigError):
    """Jars a session needs could not be found or fetched; the message says what to do. A
    `ConfigError`: like a bad setting, the session cannot start until the setup is fixed."""


def delta_version() -> str:
    return version("delta-spark")


def delta_artifacts() -> list[str]:
    v = delta_version()
    return [f"io.delta:delta-spark_{SCALA_BINARY}:{v}", f"io.delta:delta-storage:{v}"]


def _jars_root() -> Path:
    base = os.environ.get("OLX_SPARK_JARS_DIR")
    return Path(base) if base else Path.home() / ".cache" / "olx-spark" / "jars"


def jar_cache_dir() -> Path:
    return _jars_root() / f"delta-{delta_version()}"


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


# ---------------------------------------------------------------------------------------------
# S3A: hadoop-aws and the AWS SDK modules it uses
# ---------------------------------------------------------------------------------------------


def pyspark_hadoop_version() -> str:
    """The Hadoop version inside the installed PySpark (from `jars/hadoop-client-api-*.jar`)."""
    import pyspark

    folder = Path(pyspark.__file__).parent / "jars"
    found = sorted(folder.glob("hadoop-client-api-*.jar"))
    if not found:
        raise JarsUnavailableError(f"no hadoop-client-api jar in {folder}: is PySpark installed?")
    return found[0].name.removeprefix("hadoop-client-api-").removesuffix(".jar")


def aws_sdk_version(hadoop: str) -> str:
    try:
        return AWS_SDK_FOR_HADOOP[hadoop]
    except KeyError:
        raise JarsUnavailableError(
            f"olx-spark does not know which AWS SDK goes with Hadoop {hadoop} (PySpark's): add "
            "it to AWS_SDK_FOR_HADOOP in olx_spark/spark/jars.py (the `aws-java-sdk-v2.version` "
            f"of hadoop-project {hadoop}'s POM)"
        ) from None


def s3a_cache_dir() -> Path:
    hadoop = pyspark_hadoop_version()
    return _jars_root() / f"s3a-hadoop-{hadoop}-sdk-{aws_sdk_version(hadoop)}"


def cached_s3a_jars() -> list[Path] | None:
    """The S3A jars, if a complete set is in the cache (its manifest lists them all)."""
    folder = s3a_cache_dir()
    manifest = folder / S3A_MANIFEST
    if not manifest.is_file():
        return None
    jars = [folder / name for name in manifest.read_text(encoding="utf-8").split()]
    return jars if jars and all(j.is_file() for j in jars) else None


def _s3a_pom(hadoop: str, sdk: str) -> str:
    """A throwaway POM whose runtime dependencies are exactly the S3A jars: hadoop-aws without its
    own (the SDK bundle, wildfly-openssl), and the SDK modules with theirs."""
    modules = "".join(
        "<dependency><groupId>software.amazon.awssdk</groupId>"
        f"<artifactId>{module}</artifactId><version>{sdk}</version></dependency>"
        for module in AWS_SDK_MODULES
    )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>olx-spark</groupId><artifactId>s3a-jars</artifactId><version>1</version>"
        "<packaging>pom</packaging><dependencies>"
        "<dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-aws</artifactId>"
        f"<version>{hadoop}</version><exclusions><exclusion><groupId>*</groupId>"
        "<artifactId>*</artifactId></exclusion></exclusions></dependency>"
        f"{modules}</dependencies></project>"
    )


def fetch_s3a_with_maven() -> list[Path]:
    """Copy the S3A jars into the cache with Maven (`dependency:copy-dependencies` of a throwaway
    POM); raises `JarsUnavailableError`, saying what to do, when Maven is absent or fails."""
    hadoop = pyspark_hadoop_version()
    sdk = aws_sdk_version(hadoop)
    folder = s3a_cache_dir()
    what = f"org.apache.hadoop:hadoop-aws:{hadoop} and AWS SDK {sdk} ({', '.join(AWS_SDK_MODULES)})"
    advice = (
        f"Run `python -m olx_spark.spark.jars --s3a` where Maven can reach Maven Central, or "
        f"copy the jars into {folder} and list their names in {folder / S3A_MANIFEST} "
        "($OLX_SPARK_JARS_DIR moves the cache)"
    )
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarsUnavailableError(
            f"a warehouse on S3 needs the S3A jars ({what}), they are not in the cache and "
            f"Maven (`mvn`) is not on the PATH to fetch them. Install Maven, or: {advice}."
        )
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="s3a-", dir=folder) as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(_s3a_pom(hadoop, sdk), encoding="utf-8")
        out = Path(work) / "jars"
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DexcludeGroupIds={','.join(PROVIDED_GROUPS)}",
                f"-DoutputDirectory={out}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            said = (result.stdout + result.stderr).strip().splitlines()
            raise JarsUnavailableError(
                f"Maven could not fetch the S3A jars ({what}): {' '.join(said[:2])[:500]}. "
                f"{advice}."
            )
        names = sorted(p.name for p in out.glob("*.jar"))
        for name in names:
            os.replace(out / name, folder / name)
    # The manifest goes last: a fetch cut short leaves no manifest, so it is fetched again.
    (folder / S3A_MANIFEST).write_text("\n".join(names) + "\n", encoding="utf-8")
    jars = cached_s3a_jars()
    if jars is None:
        raise JarsUnavailableError(f"the S3A jars fetched into {folder} are incomplete. {advice}.")
    return jars


def s3a_jars() -> list[Path]:
    """The S3A jars from the cache, fetched first if they are not there."""
    return cached_s3a_jars() or fetch_s3a_with_maven()


def spark_jars_conf(s3a: bool) -> dict[str, str]:
    """The jar settings of a local session: Delta's, plus S3A's when `s3a`."""
    conf = delta_spark_conf()
    if s3a:
        jars = [conf["spark.jars"]] if "spark.jars" in conf else []
        conf["spark.jars"] = ",".join([*jars, *(str(j) for j in s3a_jars())])
    return conf


def main(argv: list[str] | None = None) -> None:
    """`python -m olx_spark.spark.jars [--s3a]`: fetch now (`make setup`, the Docker image)."""
    parser = argparse.ArgumentParser(
        prog="python -m olx_spark.spark.jars", description=main.__doc__
    )
    parser.add_argument(
        "--s3a", action="store_true", help="also the S3A jars, for a warehouse on S3 (s3a://)"
    )
    args = parser.parse_args(argv)
    print(spark_jars_conf(args.s3a))


if __name__ == "__main__":
    main()
