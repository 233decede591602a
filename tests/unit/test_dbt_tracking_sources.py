"""dbt's source declarations of the tracking log and xAPI tables mirror the Arrow declarations
(olx_spark/tracking/tables.py, olx_spark/xapi/tables.py): same columns, same order, same types."""

from __future__ import annotations

import pyarrow as pa
import yaml

from olx_spark.spark.schemas import spark_schema_of
from olx_spark.tracking.tables import TABLES as TRACKING
from olx_spark.transform import dbt_project_dir
from olx_spark.xapi.tables import TABLES as XAPI


def test_tracking_and_xapi_sources_mirror_the_tables() -> None:
    text = (dbt_project_dir() / "models" / "staging" / "_sources.yml").read_text()
    (source,) = [s for s in yaml.safe_load(text)["sources"] if s["name"] == "ol_warehouse_raw_data"]
    declared = {
        t["name"]: [(c["name"], c.get("data_type")) for c in t["columns"]] for t in source["tables"]
    }
    for name, fields in {**TRACKING, **XAPI}.items():
        expected = [(f.name, f.dataType.simpleString()) for f in spark_schema_of(pa.schema(fields))]
        assert declared[name] == expected, name
