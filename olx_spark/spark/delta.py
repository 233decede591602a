"""Delta table plumbing shared by every job: create-if-missing, idempotent replace, metrics.

Writes that may be repeated after a killed run use `replaceWhere` on the file identity column
(e.g. `archive_sha256 IN (...)`): rows a killed run left behind for the same file are replaced
in the same transaction that writes them again, so a rerun never duplicates.

Ledger rows go in last, with an insert-only MERGE (`append_ledger_rows`) rather than a blind
append: two runs that race (both read the ledger before either wrote it) would otherwise both
record the same file as loaded. A MERGE reads the ledger, so Delta checks it against what
committed meanwhile: the later of two overlapping commits fails with a conflict, and a later
one that does not overlap finds the other run's rows and adds none of its own for those files.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import reduce

import pyarrow as pa
from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from olx_spark.spark.schemas import spark_schema_of
from olx_spark.sql_literals import sql_string


def qualified(schema: str, table: str) -> str:
    return f"`{schema}`.`{table}`"


def ensure_table(
    spark: SparkSession,
    name: str,
    schema: StructType,
    partition_by: list[str],
    comment: str,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Create the Delta table `name` (registered in the catalog) if it does not exist yet, with
    `properties` (table properties such as `delta.dataSkippingStatsColumns`)."""
    builder = (
        DeltaTable.createIfNotExists(spark)
        .tableName(name)
        .addColumns(schema)
        .partitionedBy(*partition_by)
        .comment(comment)
    )
    for key, value in (properties or {}).items():
        builder = builder.property(key, value)
    builder.execute()


def add_missing_columns(spark: SparkSession, name: str, schema: StructType) -> list[str]:
    """Add to the existing table `name` the top-level columns of `schema` it lacks (a table
    made by an older olx-spark), at the end, null in the rows it holds; returns their names.
    Readers (dbt's staging) then find every declared column before the next write."""
    present = {field.name for field in spark.table(name).schema.fields}
    missing = [field for field in schema.fields if field.name not in present]
    if missing:
        columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
        spark.sql(f"ALTER TABLE {name} ADD COLUMNS ({columns})")
    return [field.name for field in missing]


STATS_COLUMNS_PROPERTY = "delta.dataSkippingStatsColumns"
# A Delta table's properties reach the Parquet writer's configuration: this one, per column,
# turns off the dictionary Parquet would otherwise build (and drop, once it overflows) for
# every column chunk of mostly unique text.
NO_DICTIONARY_PROPERTY = "parquet.enable.dictionary#{column}"


def _has_min_max(field: pa.Field) -> bool:
    """Delta keeps min/max for these types only (it refuses to list others, e.g. booleans,
    maps and lists, in `delta.dataSkippingStatsColumns`)."""
    t = field.type
    return any(
        check(t)
        for check in (
            pa.types.is_string,
            pa.types.is_integer,
            pa.types.is_floating,
            pa.types.is_decimal,
            pa.types.is_date,
            pa.types.is_timestamp,
        )
    )


def stats_columns(fields: Iterable[pa.Field], without: Iterable[str], partition: str) -> str:
    """The value of `delta.dataSkippingStatsColumns` for a table: every column with min/max
    statistics but the partition column and `without` (long text, where a 32-character min/max
    helps no query and collecting it costs write time), in table order."""
    skipped = {*without, partition}
    return ",".join(f.name for f in fields if f.name not in skipped and _has_min_max(f))


def tuning_properties(
    fields: Iterable[pa.Field],
    partition: str,
    no_stats: Iterable[str] = (),
    no_dictionary: Iterable[str] = (),
) -> dict[str, str]:
    """Table properties for a table's columns without Delta statistics (`no_stats`) and
    without Parquet dictionaries (`no_dictionary`)."""
    props = {NO_DICTIONARY_PROPERTY.format(column=c): "false" for c in no_dictionary}
    skipped = tuple(no_stats)
    if skipped:
        props[STATS_COLUMNS_PROPERTY] = stats_columns(fields, skipped, partition)
    return props


def ensure_tables(
    spark: SparkSession,
    schema: str,
    tables: dict[str, list[pa.Field]],
    partitions: dict[str, str],
    comments: dict[str, str],
    no_stats: Mapping[str, Iterable[str]] | None = None,
    no_dictionary: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Create each of a job's tables (declared as Arrow fields, in `schema`) that does not
    exist yet, and add to the others the columns they lack. Tables named in `no_stats` /
    `no_dictionary` get the matching table properties (`tuning_properties`)."""
    for name, fields in tables.items():
        qualified_name = qualified(schema, name)
        if spark.catalog.tableExists(qualified_name):
            add_missing_columns(spark, qualified_name, spark_schema_of(fields))
        else:
            properties = tuning_properties(
                fields,
                partitions[name],
                (no_stats or {}).get(name, ()),
                (no_dictionary or {}).get(name, ()),
            )
            ensure_table(
                spark,
                qualified_name,
                spark_schema_of(fields),
                [partitions[name]],
                comments[name],
                properties,
            )


def sql_in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(sql_string(v) for v in sorted(set(values))) + ")"


def table_location(spark: SparkSession, name: str) -> str:
    """Where the Delta table `name` lives. Writes go to the path: Delta's log is the table's
    truth, and path writes spare the metastore a schema update it cannot express anyway."""
    return str(DeltaTable.forName(spark, name).detail().first()["location"])


def catalog_location(spark: SparkSession, name: str) -> str:
    """Where the table `name` (`qualified`) lives, as the session's catalog records it: a
    metastore lookup, without loading the table's Delta snapshot as `table_location` does
    (seconds for each table in a new JVM). `table_location` where the session catalog cannot
    answer."""
    schema, _, table = name.strip("`").partition("`.`")
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        ident = jvm.org.apache.spark.sql.catalyst.TableIdentifier.apply(
            table, jvm.scala.Option.apply(schema)
        )
        catalog = spark._jsparkSession.sessionState().catalog()
        uri = catalog.getTableMetadata(ident).location()
        # A path as Hadoop and Delta take it (a space stays a space, not %20).
        return str(jvm.org.apache.spark.sql.catalyst.catalog.CatalogUtils.URIToString(uri))
    except Exception:  # another catalog, or a name this split does not fit
        return table_location(spark, name)


def replace_rows(df: DataFrame, location: str, column: str, values: Iterable[str]) -> None:
    """Atomically delete the rows whose `column` is in `values` and append `df`."""
    (
        df.write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", f"{column} IN {sql_in_list(values)}")
        .option("mergeSchema", "true")
        .save(location)
    )


def append_rows(df: DataFrame, location: str) -> None:
    df.write.format("delta").mode("append").option("mergeSchema", "true").save(location)


def append_ledger_rows(
    spark: SparkSession,
    rows: DataFrame,
    location: str,
    identity: Sequence[str],
    final: Callable[[Callable[[str], Column]], Column] | None = None,
) -> None:
    """Append a run's ledger `rows` to the ledger at `location` in one commit, leaving out each
    row that is `final` for a file the ledger already has a `final` row for: same values in the
    `identity` columns (the file as listed: URI, size, time; nulls equal). `final(col)` says
    whether a row needs no further reading, with `col(name)` giving that row's column; None: every
    row. A run never writes such a row unless another run raced it (a final file is skipped), so
    outside a race this is exactly an append (rows of retried, non-final attempts always go in).

    An insert-only MERGE, not a blind append: it reads the ledger, so Delta's conflict check
    fails this commit (ConcurrentAppendException) if another run added matching rows after this
    one read them; a MERGE that starts after the other run's commit sees its rows."""

    def side(alias: str) -> Callable[[str], Column]:
        return lambda name: F.col(f"{alias}.`{name}`")

    target, source = side("t"), side("s")
    same_file = reduce(operator.and_, [target(c).eqNullSafe(source(c)) for c in identity])
    condition = same_file if final is None else same_file & final(target) & final(source)
    (
        DeltaTable.forPath(spark, location)
        .alias("t")
        .merge(rows.alias("s"), condition)
        .whenNotMatchedInsertAll()
        .withSchemaEvolution()
        .execute()
    )


def last_written_rows(spark: SparkSession, location: str) -> int:
    """Rows added by the latest commit at `location` (from Delta's own operation metrics)."""
    row = DeltaTable.forPath(spark, location).history(1).select("operationMetrics").first()
    metrics = (row["operationMetrics"] if row else None) or {}
    return int(metrics.get("numOutputRows", 0))


def delete_path(spark: SparkSession, path: str) -> None:
    """Recursively delete `path` on whatever file system Spark uses for it (local, S3, DBFS)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    fs.delete(hpath, True)
