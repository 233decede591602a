"""Spark schemas, derived from the Arrow declarations (`olx_spark.*.tables`), never retyped."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
from pyspark.sql.pandas.types import from_arrow_schema
from pyspark.sql.types import StructType

from olx_spark.olx.tables import table_schema


def _nullable(schema: pa.Schema) -> pa.Schema:
    # Spark reads files back as nullable whatever was declared; tables declared nullable too
    # keep Delta from seeing a schema change (and the metastore from refusing it) on each write.
    return pa.schema([f.with_nullable(True) for f in schema])


def spark_schema_of(fields: Iterable[pa.Field]) -> StructType:
    """A Spark schema from Arrow fields (or an Arrow schema), every field nullable."""
    return from_arrow_schema(_nullable(pa.schema(list(fields))))


def spark_schema(entity: str) -> StructType:
    return from_arrow_schema(_nullable(table_schema(entity)))
