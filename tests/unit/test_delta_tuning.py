"""The table properties that tune Delta writes: statistics and Parquet dictionaries by column."""

from __future__ import annotations

import pyarrow as pa

from olx_spark.spark.delta import stats_columns, tuning_properties
from olx_spark.tracking.tables import (
    EVENT_FIELDS,
    EVENT_PARTITION,
    EVENTS_TABLE,
    NO_DICTIONARY_COLUMNS,
    NO_STATS_COLUMNS,
)

FIELDS = [pa.field(n, pa.string()) for n in ("id", "day", "body", "name", "blob")]


def test_stats_columns_keep_table_order_without_partition_and_text() -> None:
    assert stats_columns(FIELDS, ["body", "blob"], "day") == "id,name"


def test_stats_columns_leave_out_types_without_min_max() -> None:
    fields = [
        pa.field("n", pa.int32()),
        pa.field("flag", pa.bool_()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("attrs", pa.map_(pa.string(), pa.string())),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("d", pa.date32()),
    ]
    assert stats_columns(fields, [], "d") == "n,at"


def test_properties_name_each_column_without_a_dictionary() -> None:
    assert tuning_properties(FIELDS, "day", ["blob"], ["body", "blob"]) == {
        "parquet.enable.dictionary#body": "false",
        "parquet.enable.dictionary#blob": "false",
        "delta.dataSkippingStatsColumns": "id,body,name",
    }
    assert tuning_properties(FIELDS, "day") == {}


def test_tracking_tuning_names_only_declared_columns() -> None:
    names = {f.name for f in EVENT_FIELDS}
    for table in (NO_STATS_COLUMNS, NO_DICTIONARY_COLUMNS):
        assert set(table[EVENTS_TABLE]) <= names
    stats = tuning_properties(EVENT_FIELDS, EVENT_PARTITION, NO_STATS_COLUMNS[EVENTS_TABLE])
    assert "event_json" not in stats["delta.dataSkippingStatsColumns"].split(",")
