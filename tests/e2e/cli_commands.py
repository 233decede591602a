"""The olx-spark command lines the end-to-end tests run as real processes, said once."""

from __future__ import annotations

import sys
from pathlib import Path

from olx_spark.config import WarehouseConfig

SCHEMA = WarehouseConfig().raw_schema  # the CLI's default raw schema
CLI = [sys.executable, "-m", "olx_spark.cli"]


def ingest_archives(src: Path, warehouse: Path, *extra: str) -> list[str]:
    """`olx-spark ingest course-archives` of `src` as edX.org's, into `warehouse`, JSON summary."""
    return [
        *CLI,
        *("ingest", "course-archives", str(src)),
        *("--platform", "edxorg", "--source-system", "prod"),
        *("--warehouse", str(warehouse), "--json"),
        *extra,
    ]
