"""Data files a task writes straight into a Delta table's folder: the layout Delta reads, the
statistics it would write itself (worked out by hand here), the archives' row ranges, and a
file rewritten without one archive's rows."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from olx_spark.storage import staged_files
from olx_spark.storage.delta_files import (
    DeltaFiles,
    FileStats,
    TableTarget,
    add_action,
    indexed_fields,
    partition_value_text,
    rewrite_without,
)

SCHEMA = pa.schema(
    [
        pa.field("archive_sha256", pa.string(), nullable=False),
        pa.field("retrieved_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("retrieved_date", pa.date32(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("position", pa.int32()),
        pa.field("is_draft", pa.bool_()),
        pa.field("settings", pa.map_(pa.string(), pa.string())),
    ]
)
# What a parsed batch holds: the archive it came from first, then the table's columns.
BATCH = pa.schema([pa.field("archive_uri", pa.string()), *SCHEMA])
DAY = date(2026, 12, 7)
LONG = "x" * 30 + "éé" + "tail"  # 36 characters: cut to 32 ("x" * 30 + "éé")


def _rows(sha: str, at: datetime, titles: list[str | None], day: date = DAY) -> pa.RecordBatch:
    n = len(titles)
    return pa.RecordBatch.from_pydict(
        {
            "archive_uri": [f"s3://src/{sha}.tar.gz"] * n,
            "archive_sha256": [sha] * n,
            "retrieved_at": [at] * n,
            "retrieved_date": [day] * n,
            "title": titles,
            "position": [i if t is not None else None for i, t in enumerate(titles)],
            "is_draft": [False] * n,
            "settings": [[("k", "v")] if i == 0 else None for i in range(n)],
        },
        schema=BATCH,
    )


def _target(location: str) -> TableTarget:
    return TableTarget(location, SCHEMA, "retrieved_date")


def test_files_go_to_partition_folders_without_the_partition_column_and_with_stats(
    tmp_path: Path, s3_config
):
    writer = DeltaFiles({"blocks": _target(str(tmp_path / "blocks"))}, "3-1", s3_config)
    first = datetime(2026, 12, 7, 10, 0, 0, 123999, tzinfo=UTC)
    second = datetime(2026, 12, 7, 10, 0, 5, 1, tzinfo=UTC)
    writer.add("blocks", _rows("aa", first, ["Intro", None]), "s3://src/a.tar.gz")
    writer.add("blocks", _rows("bb", second, [LONG]), "s3://src/b.tar.gz")
    (entry,) = writer.entries()

    assert entry["path"].startswith("retrieved_date=2026-12-07/part-3-1-")
    assert entry["path"].endswith(".c000.snappy.parquet")
    assert entry["uri"] == f"{tmp_path}/blocks/{entry['path']}"
    assert (entry["location"], entry["partition_value"], entry["rows"]) == (
        str(tmp_path / "blocks"),
        "2026-12-07",
        3,
    )
    assert entry["size_bytes"] == Path(entry["uri"]).stat().st_size
    written = pq.read_table(entry["uri"])
    assert written.schema.names == [
        "archive_sha256",
        "retrieved_at",
        "title",
        "position",
        "is_draft",
        "settings",
    ]
    assert written.column("title").to_pylist() == ["Intro", None, LONG]
    assert [a for a in entry["archives"]] == [
        {"uri": "s3://src/a.tar.gz", "first_row": 0, "rows": 2},
        {"uri": "s3://src/b.tar.gz", "first_row": 2, "rows": 1},
    ]
    # Worked out by hand: strings cut to 32 characters (a cut max followed by U+10FFFF),
    # timestamps floored to the millisecond, no min/max for booleans and maps.
    assert json.loads(entry["stats"]) == {
        "numRecords": 3,
        "minValues": {
            "archive_sha256": "aa",
            "retrieved_at": "2026-12-07T10:00:00.123Z",
            "title": "Intro",
            "position": 0,
        },
        "maxValues": {
            "archive_sha256": "bb",
            "retrieved_at": "2026-12-07T10:00:05.000Z",
            "title": "x" * 30 + "éé" + "\U0010ffff",
            "position": 0,
        },
        "nullCount": {
            "archive_sha256": 0,
            "retrieved_at": 0,
            "title": 1,
            "position": 1,
            "is_draft": 0,
            "settings": 1,  # each batch's first row has settings: only a's second lacks them
        },
    }
    assert add_action(entry, "retrieved_date") == {
        "add": {
            "path": entry["path"],
            "partitionValues": {"retrieved_date": "2026-12-07"},
            "size": entry["size_bytes"],
            "modificationTime": entry["modified_ms"],
            "dataChange": True,
            "stats": entry["stats"],
        }
    }


def test_a_cut_minimum_is_a_prefix_and_an_all_null_column_has_no_bounds(tmp_path, s3_config):
    writer = DeltaFiles({"blocks": _target(str(tmp_path))}, "0-0", s3_config)
    at = datetime(2026, 12, 7, tzinfo=UTC)
    writer.add("blocks", _rows("cc", at, [LONG + "z", LONG + "a"]), "u")
    writer.add("blocks", _rows("cc", at, [None]), "u")  # the same archive: one range
    (entry,) = writer.entries()
    stats = json.loads(entry["stats"])
    assert stats["minValues"]["title"] == "x" * 30 + "éé"
    assert stats["maxValues"]["title"] == "x" * 30 + "éé" + "\U0010ffff"
    assert entry["archives"] == [{"uri": "u", "first_row": 0, "rows": 3}]

    ascii_text = DeltaFiles({"blocks": _target(str(tmp_path))}, "0-2", s3_config)
    ascii_text.add("blocks", _rows("ee", at, ["b" * 40, "a" * 33]), "w")
    (entry,) = ascii_text.entries()
    stats = json.loads(entry["stats"])
    # ASCII text: the character after the cut is below DEL, which follows the prefix.
    assert (stats["minValues"]["title"], stats["maxValues"]["title"]) == (
        "a" * 32,
        "b" * 32 + "\x7f",
    )

    only_nulls = DeltaFiles({"blocks": _target(str(tmp_path))}, "0-1", s3_config)
    only_nulls.add("blocks", _rows("dd", at, [None]), "v")
    (entry,) = only_nulls.entries()
    stats = json.loads(entry["stats"])
    assert "title" not in stats["minValues"] and stats["nullCount"]["title"] == 1


def test_rows_of_two_days_in_one_batch_go_to_two_partitions(tmp_path: Path, s3_config):
    batch = pa.concat_batches(
        [
            _rows("aa", datetime(2026, 12, 7, 23, 59, tzinfo=UTC), ["late"]),
            _rows("aa", datetime(2026, 12, 8, tzinfo=UTC), ["early"], day=date(2026, 12, 8)),
        ]
    )
    writer = DeltaFiles({"blocks": _target(str(tmp_path))}, "0-0", s3_config)
    writer.add("blocks", batch, "a")
    by_day = {e["partition_value"]: e for e in writer.entries()}

    assert sorted(by_day) == ["2026-12-07", "2026-12-08"]
    for day, title in (("2026-12-07", "late"), ("2026-12-08", "early")):
        assert by_day[day]["path"].startswith(f"retrieved_date={day}/")
        assert pq.read_table(by_day[day]["uri"]).column("title").to_pylist() == [title]
        assert by_day[day]["archives"] == [{"uri": "a", "first_row": 0, "rows": 1}]


def test_a_large_table_is_cut_into_files_with_their_own_ranges(tmp_path, s3_config, monkeypatch):
    monkeypatch.setattr(staged_files, "FILE_BYTES", 3000)
    monkeypatch.setattr(staged_files, "ROW_GROUP_BYTES", 1000)
    writer = DeltaFiles({"blocks": _target(str(tmp_path))}, "0-0", s3_config)
    at = datetime(2026, 12, 7, tzinfo=UTC)
    for i in range(20):
        writer.add("blocks", _rows(f"{i:02d}", at, [f"t{i}-{j}" for j in range(10)]), f"u{i}")
    entries = writer.entries()

    assert len(entries) > 1 and sum(e["rows"] for e in entries) == 200
    titles = []
    for e in entries:
        table = pq.read_table(e["uri"])
        assert table.num_rows == e["rows"] == json.loads(e["stats"])["numRecords"]
        for r in e["archives"]:  # each range holds exactly that archive's rows
            shas = table.slice(r["first_row"], r["rows"]).column("archive_sha256").to_pylist()
            assert set(shas) == {r["uri"][1:].zfill(2)}
        titles += table.column("title").to_pylist()
    assert sorted(titles) == sorted(f"t{i}-{j}" for i in range(20) for j in range(10))


def test_a_file_rewritten_without_one_archive(tmp_path: Path, s3_config):
    target = _target(f"file:{tmp_path}")
    writer = DeltaFiles({"blocks": target}, "1-0", s3_config)
    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    writer.add("blocks", _rows("aa", at, ["a1", "a2"]), "a")
    writer.add("blocks", _rows("bb", at, ["b1"]), "b")
    writer.add("blocks", _rows("cc", at, ["c1", "c2"]), "c")
    (entry,) = writer.entries()

    (rewritten,) = rewrite_without(entry, {"b"}, target, "driver", s3_config)

    assert rewritten["uri"] != entry["uri"] and Path(entry["uri"][len("file:") :]).exists()
    assert rewritten["path"].startswith("retrieved_date=2026-12-07/part-driver-")
    table = pq.read_table(rewritten["uri"][len("file:") :])
    assert table.column("title").to_pylist() == ["a1", "a2", "c1", "c2"]
    assert rewritten["archives"] == [
        {"uri": "a", "first_row": 0, "rows": 2},
        {"uri": "c", "first_row": 2, "rows": 2},
    ]
    stats = json.loads(rewritten["stats"])
    assert (stats["numRecords"], stats["minValues"]["title"], stats["maxValues"]["title"]) == (
        4,
        "a1",
        "c2",
    )
    assert rewrite_without(entry, {"a", "b", "c"}, target, "driver", s3_config) == []


@pytest.mark.parametrize("scheme", ["s3", "s3a"])
def test_files_in_a_table_on_s3_are_uploaded_whole(s3_config, scheme: str):
    client = boto3.client("s3", endpoint_url=s3_config.endpoint_url, region_name=s3_config.region)
    bucket = f"delta-files-{scheme}"
    client.create_bucket(Bucket=bucket)
    location = f"{scheme}://{bucket}/wh/raw.db/blocks"
    writer = DeltaFiles({"blocks": _target(location)}, "2-0", s3_config)
    writer.add("blocks", _rows("aa", datetime(2026, 12, 7, tzinfo=UTC), ["p"]), "a")
    (entry,) = writer.entries()

    key = f"wh/raw.db/blocks/{entry['path']}"
    assert entry["uri"] == f"{scheme}://{bucket}/{key}"
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert entry["size_bytes"] == len(body)
    assert pq.read_table(io.BytesIO(body)).column("title").to_pylist() == ["p"]
    (rewritten,) = rewrite_without(entry, set(), _target(location), "driver", s3_config)
    assert rewritten["rows"] == 1 and rewritten["uri"].startswith(f"{scheme}://{bucket}/wh/")


def test_partition_values_that_would_need_escaping_are_refused():
    assert partition_value_text(date(2026, 1, 2)) == "2026-01-02"
    assert partition_value_text(7) == "7"
    for value in (None, "a b", "x/y", "k=v", "é"):
        with pytest.raises(ValueError, match="escaping"):
            partition_value_text(value)


def test_old_timestamps_keep_four_digit_years_and_structs_get_no_statistics():
    schema = pa.schema(
        [
            pa.field("at", pa.timestamp("us", tz="UTC")),
            pa.field("pair", pa.struct([pa.field("a", pa.int32()), pa.field("b", pa.int32())])),
            pa.field("n", pa.int64()),
        ]
    )
    stats = FileStats(schema)
    stats.add(
        pa.RecordBatch.from_pydict(
            {
                "at": [datetime(702, 6, 15, 1, 2, 3, 999, tzinfo=UTC), None],
                "pair": [{"a": 1, "b": 2}, None],
                "n": [5, 7],
            },
            schema=schema,
        )
    )
    assert json.loads(stats.json()) == {
        "numRecords": 2,
        "minValues": {"at": "0702-06-15T01:02:03.000Z", "n": 5},
        "maxValues": {"at": "0702-06-15T01:02:03.000Z", "n": 7},
        "nullCount": {"at": 1, "n": 0},
    }
    # A struct counts its fields toward the 32 indexed columns.
    struct = pa.struct([pa.field(f"f{i}", pa.int8()) for i in range(31)])
    wide = pa.schema([pa.field("s", struct), pa.field("x", pa.int8()), pa.field("y", pa.int8())])
    assert [f.name for f in indexed_fields(wide)] == ["x"]
