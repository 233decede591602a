"""The settings a local session gets for a warehouse on S3, and the S3A jar cache, without a JVM."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from olx_spark.config import Config, S3Config, SparkConfig, WarehouseConfig, load_config
from olx_spark.spark import jars
from olx_spark.spark.s3_warehouse import (
    CREDENTIALS_PROVIDER,
    DEFAULT_CREDENTIALS,
    check_warehouse_reachable,
    s3a_conf,
    uses_s3a,
)
from olx_spark.spark.session import embedded_derby_path, local_session_conf, metastore_home

S3A_WAREHOUSE = WarehouseConfig(dir="s3a://my-lake/olx/prod")


def test_s3a_settings_come_from_the_s3_section() -> None:
    moto = Config(warehouse=S3A_WAREHOUSE, s3=S3Config(endpoint_url="http://127.0.0.1:5000"))
    assert s3a_conf(moto) == {
        CREDENTIALS_PROVIDER: DEFAULT_CREDENTIALS,
        "spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:5000",
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
    }
    aws = Config(warehouse=S3A_WAREHOUSE, s3=S3Config(region="eu-west-1"))
    assert s3a_conf(aws) == {
        CREDENTIALS_PROVIDER: DEFAULT_CREDENTIALS,
        "spark.hadoop.fs.s3a.endpoint.region": "eu-west-1",
    }
    assert uses_s3a(aws) and not uses_s3a(Config())
    assert uses_s3a(Config(spark=SparkConfig(conf={"spark.sql.warehouse.dir": "s3a://b/w"})))


def test_the_metastore_of_a_warehouse_on_s3_is_local(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = Config(warehouse=S3A_WAREHOUSE)
    home = tmp_path / "state" / "olx-spark" / "metastores" / "my-lake" / "olx" / "prod"
    assert metastore_home(config) == str(home)
    assert embedded_derby_path(config) == str(home / "_metastore_db")
    chosen = replace(config, warehouse=replace(S3A_WAREHOUSE, metastore_dir=str(tmp_path / "m")))
    assert metastore_home(chosen) == str(tmp_path / "m")
    # A local warehouse keeps its metastore inside, as before.
    local = Config(warehouse=WarehouseConfig(dir=str(tmp_path / "wh")))
    assert embedded_derby_path(local) == str(tmp_path / "wh" / "_metastore_db")


def test_session_settings_of_a_warehouse_on_s3(tmp_path: Path) -> None:
    toml = tmp_path / "lake.toml"
    toml.write_text(
        f'[warehouse]\ndir = "s3a://my-lake/olx"\nmetastore_dir = "{tmp_path / "meta"}"\n'
        '[s3]\nendpoint_url = "http://127.0.0.1:9000"\n'
        '[spark.conf]\n"spark.hadoop.fs.s3a.connection.maximum" = "50"\n',
        encoding="utf-8",
    )
    conf = local_session_conf(load_config(toml))
    assert conf["spark.sql.warehouse.dir"] == "s3a://my-lake/olx"
    assert f"-Dderby.system.home={tmp_path / 'meta'} " in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        f"jdbc:derby:;databaseName={tmp_path / 'meta'}/_metastore_db;create=true"
    )
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.hadoop.fs.s3a.connection.maximum"] == "50"
    names = [Path(j).name for j in conf["spark.jars"].split(",")]
    assert "hadoop-aws-3.4.1.jar" in names and "s3-transfer-manager-2.24.5.jar" in names
    # Nothing PySpark already has, in a second version.
    spark_has = ("netty-common", "netty-codec", "netty-handler", "httpclient", "httpcore", "slf4j")
    assert not [n for n in names if n.startswith((*spark_has, "commons-"))]
    assert "hadoop-aws" not in local_session_conf(Config()).get("spark.jars", "")


def test_the_s3a_jars_match_pyspark_hadoop_and_the_cache_needs_its_manifest(
    tmp_path: Path, monkeypatch
) -> None:
    assert jars.pyspark_hadoop_version() == "3.4.1"
    pom = jars._s3a_pom("3.4.1", "2.24.5")
    assert "<artifactId>hadoop-aws</artifactId><version>3.4.1</version>" in pom
    assert pom.count("<version>2.24.5</version>") == len(jars.AWS_SDK_MODULES)
    monkeypatch.setenv("OLX_SPARK_JARS_DIR", str(tmp_path))
    folder = jars.s3a_cache_dir()
    assert folder == tmp_path / "s3a-hadoop-3.4.1-sdk-2.24.5"
    folder.mkdir()
    (folder / "hadoop-aws-3.4.1.jar").write_bytes(b"")
    assert jars.cached_s3a_jars() is None  # no manifest: a fetch cut short
    (folder / jars.S3A_MANIFEST).write_text("hadoop-aws-3.4.1.jar\ns3-2.24.5.jar\n")
    assert jars.cached_s3a_jars() is None  # a listed jar is missing
    (folder / "s3-2.24.5.jar").write_bytes(b"")
    assert jars.cached_s3a_jars() == [folder / "hadoop-aws-3.4.1.jar", folder / "s3-2.24.5.jar"]


def test_unknown_hadoop_says_where_to_add_its_sdk() -> None:
    with pytest.raises(jars.JarsUnavailableError, match="AWS_SDK_FOR_HADOOP"):
        jars.aws_sdk_version("9.9.9")


def test_no_check_when_spark_conf_names_its_own_credentials() -> None:
    class Refuses:
        def list_objects_v2(self, **_: object) -> None:
            raise AssertionError("listed")

    own = Config(
        warehouse=S3A_WAREHOUSE,
        spark=SparkConfig(conf={CREDENTIALS_PROVIDER: "org.example.MyProvider"}),
    )
    check_warehouse_reachable(own, client=Refuses())


def test_a_local_session_on_another_file_system_is_a_clear_config_error(tmp_path: Path) -> None:
    from olx_spark.config import ConfigError

    elsewhere = Config(warehouse=WarehouseConfig(dir="hdfs://namenode/warehouse"))
    with pytest.raises(
        ConfigError, match=r"not at hdfs://namenode/warehouse \(\[warehouse\] dir\)"
    ):
        metastore_home(elsewhere)
    given = replace(elsewhere, warehouse=replace(elsewhere.warehouse, metastore_dir=str(tmp_path)))
    assert metastore_home(given) == str(tmp_path)
