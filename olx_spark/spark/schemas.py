"""Spark schemas, derived from the Arrow declarations in `olx_spark.olx.tables` (never retyped)."""

from __future__ import annotations

from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from olx_spark.olx.arrow import staging_schema
from olx_spark.olx.tables import table_schema


def spark_schema(entity: str) -> StructType:
    return from_arrow_schema(table_schema(entity))


def staging_spark_schema() -> StructType:
    return from_arrow_schema(staging_schema())
