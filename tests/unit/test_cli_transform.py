"""The transform and dbt subcommands: argument parsing and the dbt invocation they build (no
Spark here; tests/e2e/test_dbt.py runs dbt for real)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from olx_spark.cli import build_parser, main
from olx_spark.config import Config
from olx_spark.transform import dbt_args, dbt_base_schema, dbt_project_dir, dbt_schema


def test_transform_arguments() -> None:
    args = build_parser().parse_args(
        [
            "transform",
            "--select",
            "staging",
            "+int__combined__course_xml_courseruns",
            "--full-refresh",
        ]
    )
    assert args.select == ["staging", "+int__combined__course_xml_courseruns"]
    assert args.full_refresh is True
    assert build_parser().parse_args(["transform"]).select is None


def test_dbt_passes_everything_after_the_command_through() -> None:
    args = build_parser().parse_args(
        ["dbt", "--warehouse", "wh", "test", "--select", "staging", "--store-failures"]
    )
    assert args.warehouse == "wh"
    assert args.dbt_args == ["test", "--select", "staging", "--store-failures"]


def test_dbt_without_a_command_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dbt"]) == 2
    assert "olx-spark dbt docs generate" in capsys.readouterr().err


def test_dbt_args_carry_the_schemas_of_the_config() -> None:
    config = Config()
    config = replace(config, warehouse=replace(config.warehouse, raw_schema="acme_raw"))
    args = dbt_args(config, ["build", "--select", "staging"], project_dir=Path("/p"))
    assert args[:3] == ["build", "--select", "staging"]
    assert args[args.index("--target") + 1] == "local"
    assert args[args.index("--project-dir") + 1] == "/p"
    assert args[args.index("--profiles-dir") + 1] == "/p"
    assert json.loads(args[args.index("--vars") + 1]) == {
        "raw_schema": "acme_raw",
        "target_schema": "acme",
    }
    assert dbt_schema(config, "staging") == "acme_staging"


def test_base_schema_without_raw_suffix_is_the_schema_itself() -> None:
    assert dbt_base_schema("ol_warehouse_local_raw") == "ol_warehouse_local"
    assert dbt_base_schema("analytics") == "analytics"
    assert dbt_base_schema("_raw") == "_raw"


def test_the_dbt_project_is_found_beside_the_package() -> None:
    assert (dbt_project_dir() / "dbt_project.yml").is_file()
    assert (dbt_project_dir() / "profiles.yml").is_file()


def test_transform_target_defaults_to_local_and_takes_thrift() -> None:
    assert build_parser().parse_args(["transform"]).target == "local"
    assert build_parser().parse_args(["transform", "--target", "thrift"]).target == "thrift"
    args = dbt_args(Config(), ["build"], project_dir=Path("/p"), target="thrift")
    assert args[args.index("--target") + 1] == "thrift"
    # the same vars as the local target
    assert json.loads(args[args.index("--vars") + 1])["target_schema"] == "ol_warehouse_local"


def test_thrift_server_settings_come_from_the_profile_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from olx_spark.transform import ThriftServer, TransformSetupError

    for key in ("DBT_SPARK_THRIFT_HOST", "DBT_SPARK_THRIFT_PORT", "DBT_SPARK_THRIFT_USER"):
        monkeypatch.delenv(key, raising=False)
    assert ThriftServer.from_env() == ThriftServer("localhost", 10001, "hadoop")
    monkeypatch.setenv("DBT_SPARK_THRIFT_PORT", "ten")
    with pytest.raises(TransformSetupError, match="DBT_SPARK_THRIFT_PORT='ten'"):
        ThriftServer.from_env()


def test_thrift_raw_table_ddl_covers_both_platforms() -> None:
    from olx_spark.olx.tables import ENTITIES
    from olx_spark.transform import raw_table_ddl

    statements = raw_table_ddl(Config())
    assert statements[0] == "CREATE DATABASE IF NOT EXISTS `ol_warehouse_local_raw`"
    assert len(statements) == 1 + 2 * len(ENTITIES)
    blocks = next(s for s in statements if "raw__openedx__s3__course_xml_blocks" in s)
    assert "`settings` map<string,string>" in blocks
    assert "USING delta PARTITIONED BY (`retrieved_date`)" in blocks


def test_transform_thrift_with_nothing_listening_fails_fast(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DBT_SPARK_THRIFT_HOST", "127.0.0.1")
    monkeypatch.setenv("DBT_SPARK_THRIFT_PORT", str(port))
    warehouse = tmp_path / "wh"
    assert main(["transform", "--target", "thrift", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "DBT_SPARK_THRIFT_PORT" in err
    assert not warehouse.exists()
