"""Configuration: one dataclass tree with the defaults, optionally overridden by a TOML file.

Every setting the jobs, the CLI and dbt need is declared here once; `conf/*.toml` files are
examples of overrides for each environment (laptop, EMR, Databricks). Secrets are never read
from this file's values directly: config names the environment variable that holds them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from olx_spark.olx.model import Limits

DEFAULT_WAREHOUSE = "./warehouse"
DEFAULT_RAW_SCHEMA = "ol_warehouse_local_raw"


@dataclass(frozen=True)
class WarehouseConfig:
    # A local folder or a URI the cluster's file system understands (s3://, dbfs:/, ...).
    dir: str = DEFAULT_WAREHOUSE
    # The Spark database (schema) that holds the raw tables.
    raw_schema: str = DEFAULT_RAW_SCHEMA


@dataclass(frozen=True)
class SparkConfig:
    # "local": build a session here (master, warehouse, embedded metastore, Delta jars).
    # "cluster": use the session spark-submit/Databricks provides, adding nothing but our catalog.
    mode: str = "local"
    master: str = "local[*]"
    app_name: str = "olx-spark"
    # Extra Spark settings, passed through as they are.
    conf: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class S3Config:
    # Empty means boto3's usual resolution (AWS_ENDPOINT_URL, ~/.aws/config, ...).
    endpoint_url: str = ""
    region: str = ""


@dataclass(frozen=True)
class IngestConfig:
    # File name endings that count as course archives when listing a source.
    archive_suffixes: tuple[str, ...] = (".tar.gz", ".tgz", ".tar", ".zip")
    # Upper bound on parse tasks per run; archives are packed into this many tasks, largest first.
    max_parse_tasks: int = 2000


@dataclass(frozen=True)
class Config:
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    s3: S3Config = field(default_factory=S3Config)
    limits: Limits = field(default_factory=Limits)
    ingest: IngestConfig = field(default_factory=IngestConfig)


class ConfigError(ValueError):
    """A config file that cannot be used; the message says which key and why."""


def _apply(obj: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(f"unknown setting {where}{key} (known: {', '.join(sorted(known))})")
        current = getattr(obj, key)
        if is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}{key} must be a table")
            changes[key] = _apply(current, value, f"{where}{key}.")
        elif isinstance(current, dict):
            changes[key] = {str(k): str(v) for k, v in value.items()}
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        elif isinstance(current, bool) or not isinstance(current, int | float):
            changes[key] = value
        else:
            changes[key] = type(current)(value)
    return replace(obj, **changes)


def load_config(path: str | Path | None = None, *, warehouse: str | None = None) -> Config:
    """Defaults, then the TOML file at `path` (if any), then `--warehouse` from the command line."""
    config = Config()
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {p} is not valid TOML: {exc}") from exc
        config = _apply(config, data, "")
    if warehouse is not None:
        config = replace(config, warehouse=replace(config.warehouse, dir=warehouse))
    return config
