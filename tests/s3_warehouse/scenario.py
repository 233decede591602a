"""One scenario on a warehouse on S3: the four jobs on the world tests/cluster runs too
(tests/reference_world.py), `dbt build` of one staging model per input kind, then the four
jobs again; the tables must equal the test session's local reference run of the same world.

It runs in a process of its own (`python -m tests.s3_warehouse.scenario CONFIG LANDING OUT`),
because a session's warehouse and jars are fixed when its JVM starts and the test run already
has a local session; it builds its session as every command does (`get_session`) and calls the
jobs' CLI entry points (`ingest_*`, `transform_to_xapi`, `run_transform`), so the ledger check
before Spark, the locks and the jar fetch are the commands' own. It writes `dump_tables`: every
row of every raw and staging table, less the columns that say when a run happened.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from olx_spark.config import Config, load_config
from olx_spark.transform import dbt_schema, run_transform
from tests.reference_world import Landing, frame_lines, run_jobs, secrets_in_environment

MODELS = [
    "stg__edxorg__s3__course_xml_blocks",
    "stg__edxorg__s3__tables__auth_user",
    "stg__edxorg__s3__tracking_logs",
    "stg__xapi__statements",
]


def transform(config: Config) -> int:
    # Cautious: a dbt test runs only if every model it reads was built.
    return run_transform(config, select=MODELS, extra=["--indirect-selection", "cautious"])


def dump_tables(spark: Any, config: Config) -> dict[str, list[str]]:
    """Every raw and staging table (`raw.NAME`, `staging.NAME`) as `frame_lines`."""
    dumps: dict[str, list[str]] = {}
    for layer, schema in (
        ("raw", config.warehouse.raw_schema),
        ("staging", dbt_schema(config, "staging")),
    ):
        for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect():
            if row["isTemporary"]:  # a session's temporary views (dbt's `__dbt_tmp` ones)
                continue
            name = row["tableName"]
            dumps[f"{layer}.{name}"] = frame_lines(spark.table(f"`{schema}`.`{name}`"))
    return dumps


def main(config_file: str, landing_json: str, out: str) -> None:
    """The S3 side: jobs, transform, jobs again, then the dumps, into `out` (JSON)."""
    from olx_spark.spark.session import get_session

    config = load_config(config_file)
    fields = json.loads(Path(landing_json).read_text(encoding="utf-8"))
    landing = Landing(Path(fields["root"]), fields["gnupg_home"])
    started = time.monotonic()
    result: dict[str, Any] = {}
    with secrets_in_environment():
        result["first"] = run_jobs(config, landing, get_session)
        seconds = {"jobs": time.monotonic() - started}
        result["transform"] = transform(config)
        seconds["transform"] = time.monotonic() - started - sum(seconds.values())
        result["again"] = run_jobs(config, landing, get_session)
    seconds["again"] = time.monotonic() - started - sum(seconds.values())
    result["tables"] = dump_tables(get_session(config), config)
    print(f"S3 side, seconds: {json.dumps({k: round(v, 1) for k, v in seconds.items()})}")
    Path(out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
