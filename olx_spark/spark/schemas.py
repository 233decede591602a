"""Spark schemas, derived from the Arrow declarations in `olx_spark.olx.tables` (never retyped)."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from olx_spark.olx.arrow import staging_schema
from olx_spark.olx.tables import table_schema


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Spark reads files back as nullable whatever was declared; tables declared nullable too
    # keep Delta from seeing a schema change (and the metastore from refusing it) on each write.
    return pa.schema([f.with_nullable(True) for f in schema])


def spark_schema(entity: str) -> StructType:
    return from_arrow_schema(_nullable(table_schema(entity)))


def staging_spark_schema() -> StructType:
    return from_arrow_schema(_nullable(staging_schema()))
