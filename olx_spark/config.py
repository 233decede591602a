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

from olx_spark import __version__
from olx_spark.olx.model import Limits

DEFAULT_WAREHOUSE = "./warehouse"
DEFAULT_RAW_SCHEMA = "ol_warehouse_local_raw"


@dataclass(frozen=True)
class WarehouseConfig:
    # A local folder, `s3a://bucket/prefix` (a local session reaches it through S3A), or a URI
    # the cluster's file system understands (s3://, dbfs:/, ...).
    dir: str = DEFAULT_WAREHOUSE
    # The Spark database (schema) that holds the raw tables.
    raw_schema: str = DEFAULT_RAW_SCHEMA
    # Two runs of the same job on one warehouse take turns (`olx_spark.spark.run_lock`): the
    # second waits this long for the first to finish, then fails with a message saying so
    # (0 = fail at once). On a local warehouse the embedded metastore also admits one olx-spark
    # process at a time: any second command waits for it the same way.
    lock_wait_seconds: float = 3600.0
    # Folder of the run locks (one file per job). "" = `{dir}/_locks` when the warehouse is a
    # local folder; for a warehouse on S3 (no file locks there) name a folder every run can
    # see, e.g. on the one machine that starts them, or leave it "" and rely on Delta alone.
    lock_dir: str = ""
    # Folder of a local session's embedded Derby metastore (`_metastore_db`) and Derby's log.
    # "" = the warehouse folder when it is local; for a warehouse on S3 (Derby needs a local
    # disk) `~/.local/state/olx-spark/metastores/{bucket}/{prefix}` ($XDG_STATE_HOME if set).
    metastore_dir: str = ""


@dataclass(frozen=True)
class SparkConfig:
    # "local": build a session here (master, warehouse, embedded metastore, Delta jars).
    # "cluster": use the session spark-submit/Databricks provides, adding nothing but our catalog.
    mode: str = "local"
    master: str = "local[*]"
    app_name: str = "olx-spark"
    # Extra Spark settings, passed through as they are.
    conf: dict[str, str] = field(default_factory=dict)
    # "cluster" mode only: the cluster's catalog keeps the raw schema's tables under
    # `warehouse.dir` (spark-submit's spark.sql.warehouse.dir, no database LOCATION), so a job
    # may read its ledger from there to find "nothing new" without a Spark session.
    ledgers_in_warehouse: bool = False


@dataclass(frozen=True)
class S3Config:
    # Empty means boto3's usual resolution (AWS_ENDPOINT_URL, ~/.aws/config, ...). Also S3A's
    # endpoint (path-style access) for a warehouse at s3a:// in a local session.
    endpoint_url: str = ""
    region: str = ""


@dataclass(frozen=True)
class IngestConfig:
    # File name endings that count as course archives when listing a source.
    archive_suffixes: tuple[str, ...] = (".tar.gz", ".tgz", ".tar", ".zip")
    # Upper bound on parse tasks per run. Below it, how many follows Spark's own split rule
    # (`olx_spark.spark.tasks.TaskSizing`: spark.sql.files.maxPartitionBytes / openCostInBytes).
    max_parse_tasks: int = 2000
    # Where the course archive job's tasks write their staging Parquet files (Python writes
    # them, Spark reads them back): "" = `_olx_spark_staging` in the warehouse folder. Must be a
    # local or shared path, s3:// / s3a://, or a URI pyarrow can write (not dbfs:/; on
    # Databricks use the /dbfs/... mount).
    staging_dir: str = ""
    # The tasks write the content tables' Parquet files straight into the tables' folders and
    # the driver only commits them (olx_spark.storage.delta_files), where the tables are local
    # or on S3 and the session has open-source Delta's API; false: the tasks stage the rows and
    # Spark writes the tables (one more read and write of every row, by the JVM).
    direct_writes: bool = True


@dataclass(frozen=True)
class PackagesConfig:
    """edX research data packages (`olx-spark ingest data-packages`). No secret is a value here:
    config names where the GPG passphrase is (an environment variable, or a file)."""

    # Environment variable holding the GPG passphrase (`--passphrase-env` overrides the name).
    passphrase_env: str = "OLX_SPARK_GPG_PASSPHRASE"
    # A file whose first line is the passphrase, used when the variable is not set; "" = none.
    secrets_file: str = ""
    # The keyring folder (GNUPGHOME) holding the private key; "" = $GNUPGHOME or ~/.gnupg.
    # Executors must see the same folder (a shared path, or copied there by a bootstrap step).
    gnupg_home: str = ""
    gpg_binary: str = "gpg"
    # File name endings listed at the source: package zips, and the files of packages already
    # unzipped (encrypted or not) inside folders named like the package, `{org}-{YYYY-MM-DD}/`.
    suffixes: tuple[str, ...] = (".zip", ".gpg", ".sql", ".json", ".mongo", ".csv", ".tar.gz")
    package_suffix: str = ".zip"
    # Packages are loaded in date order, this many per Spark pass (each pass commits on its own).
    packages_per_batch: int = 8
    # Upper bound on read tasks per pass; below it, Spark's split rule (`TaskSizing`) decides.
    max_read_tasks: int = 2000
    # Lines are shipped to Spark in chunks of about this many decrypted bytes.
    chunk_bytes: int = 8 * 1024 * 1024
    # Longest line (or JSON document) a file may have; a longer one rejects the file.
    max_line_bytes: int = 64 * 1024 * 1024
    # Bad lines listed in a file's ledger `errors` (all of them are kept in the bad-lines table).
    max_errors_per_file: int = 20


@dataclass(frozen=True)
class TrackingConfig:
    """Tracking logs (`olx-spark ingest tracking-logs`). `.gpg` logs are decrypted with the
    `packages` GPG settings (keyring, passphrase variable or secrets file): the same partner key
    encrypts both. No secret is a value here: config names the variable that holds the salt."""

    # File name endings listed at the source (whether a file is gzip is read from its bytes).
    suffixes: tuple[str, ...] = (".log", ".log.gz", ".log.gz.gpg", ".log.gpg")
    # `source_system` of a file whose name does not say its site (`{org}-{site}-events-...`).
    default_source_system: str = "unknown"
    # "keep": the raw table keeps what the log says. "hash": `username`, `ip` and the string
    # values under `pii_json_keys` in the payload, context and bad lines become the hex sha256
    # of salt + value. "drop": they become null.
    pii: str = "keep"
    # Environment variable holding the salt for "hash" (required then; never logged or stored).
    pii_salt_env: str = "OLX_SPARK_PII_SALT"
    # JSON keys (anywhere in `event`/`data`/`context`) whose string values are personal or free
    # text: names, addresses, forum posts, search queries, notes. (Not `name`: many payloads use
    # it for an event or component name.)
    pii_json_keys: tuple[str, ...] = (
        "username",
        "ip",
        "email",
        "full_name",
        "body",
        "title",
        "query",
        "note_text",
        "comment",
    )
    # Lines are shipped to Spark in chunks of about this many plaintext bytes.
    chunk_bytes: int = 8 * 1024 * 1024
    # A longer line is a bad line (its start is kept; the rest of the file still loads).
    max_line_bytes: int = 16 * 1024 * 1024
    # Bad lines keep at most this many characters of their text.
    max_bad_line_chars: int = 64 * 1024
    # Upper bound on read tasks per run; below it, Spark's split rule (`TaskSizing`) decides.
    max_read_tasks: int = 2000


@dataclass(frozen=True)
class XapiConfig:
    """xAPI statements from the tracking log events (`olx-spark xapi`). No secret is a value
    here: config names the variable that holds the pseudonym salt."""

    # The LMS's root URL: the actor's homePage and the base of every object IRI
    # (`{LMS}/xblock/{usage key}`, `{LMS}/course/{course id}`). Required (or --lms-root-url).
    lms_root_url: str = ""
    # Written in each statement's transformer-version extension.
    transformer_version: str = f"olx-spark@{__version__}"
    # A table name (in the raw schema unless qualified) or a CSV file with the columns
    # `user_id, username, external_user_id`: actor ids come from it (unmapped users are
    # skipped). Empty: actor ids are pseudonymous UUIDs from the salt below and the user id.
    actor_map: str = ""
    # Environment variable holding the secret salt of pseudonymous actor ids (required when
    # there is no actor map; keep it fixed: a new salt gives every learner a new id).
    actor_salt_env: str = "OLX_SPARK_XAPI_SALT"


@dataclass(frozen=True)
class Config:
    warehouse: WarehouseConfig = field(default_factory=WarehouseConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    s3: S3Config = field(default_factory=S3Config)
    limits: Limits = field(default_factory=Limits)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    packages: PackagesConfig = field(default_factory=PackagesConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    xapi: XapiConfig = field(default_factory=XapiConfig)


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
