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
