"""`olx-spark sql`: run one statement and format its result (table, JSON lines or CSV).

Only the first `limit` rows ever reach the driver.
"""

from __future__ import annotations

import csv
import io
import json

from pyspark.sql import SparkSession


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def run_query(spark: SparkSession, query: str, fmt: str, limit: int) -> str:
    df = spark.sql(query)
    columns = df.columns
    rows = [r.asDict(recursive=True) for r in df.limit(limit).collect()]
    if fmt == "json":
        return "\n".join(json.dumps(r, default=str, ensure_ascii=False) for r in rows)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(r[c]) for c in columns] for r in rows])
        return out.getvalue().rstrip("\n")
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [
        min(60, max([len(c)] + [len(row[i]) for row in cells])) for i, c in enumerate(columns)
    ]

    def line(values: list[str]) -> str:
        return " | ".join(v[:w].ljust(w) for v, w in zip(values, widths, strict=True))

    sep = "-+-".join("-" * w for w in widths)
    return "\n".join([line(columns), sep, *(line(r) for r in cells), f"({len(rows)} rows)"])
