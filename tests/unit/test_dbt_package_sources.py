"""The data package sources in dbt/models/staging/_sources.yml mirror olx_spark/packages/tables.py
(names and Spark types), and every package model reads a declared source. The staging models
read exactly the declared columns (macros/stage_data_packages.sql), so a drift here would stage
typed nulls instead of data. No Spark session: tests/e2e/test_dbt_packages.py runs dbt."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa
import yaml

from olx_spark.packages.tables import (
    DUMP_FIELDS,
    FIXED_TABLES,
    PLATFORM,
    TABLES_PREFIX,
    reserved_dump_columns,
)
from olx_spark.spark.schemas import spark_schema_of
from olx_spark.transform import dbt_project_dir

SOURCE = "ol_warehouse_raw_data"
READS = re.compile(r"package_(?:new_rows|source_select)\(\s*'([a-z0-9_]+)'")


def package_tables() -> dict[str, list[dict[str, Any]]]:
    text = (dbt_project_dir() / "models" / "staging" / "_sources.yml").read_text()
    (source,) = [s for s in yaml.safe_load(text)["sources"] if s["name"] == SOURCE]
    course_xml = f"raw__{PLATFORM}__s3__course_xml_"
    return {
        t["name"]: t["columns"]
        for t in source["tables"]
        if t["name"].startswith(f"raw__{PLATFORM}__s3__") and not t["name"].startswith(course_xml)
    }


def spark_columns(fields: list[pa.Field]) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in spark_schema_of(pa.schema(fields))]


def declared(columns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["name"], c.get("data_type")) for c in columns]


def test_every_package_column_has_a_type_and_a_description() -> None:
    tables = package_tables()
    assert set(FIXED_TABLES) <= set(tables)
    for name, columns in tables.items():
        for column in columns:
            assert column.get("data_type") and column.get("description"), (name, column["name"])


def test_fixed_tables_are_declared_exactly_as_the_job_writes_them() -> None:
    tables = package_tables()
    for name, fields in FIXED_TABLES.items():
        assert declared(tables[name]) == spark_columns(fields), name


def test_dump_tables_declare_the_common_columns_then_text_columns() -> None:
    reserved = {c.lower() for c in reserved_dump_columns()}
    dumps = {n: c for n, c in package_tables().items() if n.startswith(TABLES_PREFIX)}
    assert len(dumps) >= 6
    for name, columns in dumps.items():
        common, own = declared(columns[: len(DUMP_FIELDS)]), declared(columns[len(DUMP_FIELDS) :])
        assert common == spark_columns(DUMP_FIELDS), name
        assert own and all(t == "string" for _, t in own), name
        # A dump's own column named like a common one lands as `source_{name}`.
        assert not {c.lower() for c, _ in own} & reserved, name


def test_package_models_read_declared_sources_only() -> None:
    tables = package_tables()
    models = dbt_project_dir() / "models"
    read = {
        m.group(1): path.name
        for path in models.rglob("*.sql")
        for m in READS.finditer(path.read_text())
    }
    assert len(read) >= 9
    for table, model in read.items():
        assert table in tables, f"{model} reads {table}, which _sources.yml does not declare"
