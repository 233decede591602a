"""A local session whose warehouse is on S3 (`[warehouse] dir = "s3a://bucket/prefix"`).

Why this exists: Spark reaches `s3a://` through Hadoop's S3A file system, which PySpark does not
ship and which must be told the endpoint, the addressing style and where credentials come
from. Those come from the settings olx-spark already has for S3 (`[s3] endpoint_url` and
`region`, also used by boto3 and pyarrow), so there is one place to point at MinIO or moto, and
credentials come from the AWS SDK's default chain (environment, profile, web identity, instance
role), as boto3's do. `[spark.conf]` still overrides any `spark.hadoop.fs.s3a.*` setting.

And why a check before Spark starts: with a wrong key or an endpoint that is down, S3A retries
for minutes and then fails deep inside the Hive metastore with a stack trace. A one-request
listing of the warehouse prefix with boto3 says in seconds, in words, which setting to fix, and
nothing has been written by then.

The embedded Derby metastore cannot live on S3: it goes to a local folder
(`session.metastore_home`), and so does its lock (`run_lock.metastore_lock`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from olx_spark.config import Config, ConfigError
from olx_spark.storage.s3 import split_s3_uri

SCHEME = "s3a://"
S3A = "spark.hadoop.fs.s3a."
CREDENTIALS_PROVIDER = f"{S3A}aws.credentials.provider"
# The AWS SDK v2's default chain: what boto3 and pyarrow find, S3A finds too.
DEFAULT_CREDENTIALS = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
# What S3A needs a region for when an S3-compatible endpoint ignores it.
ENDPOINT_DEFAULT_REGION = "us-east-1"
CREDENTIAL_ERRORS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "403",
    }
)


class WarehouseStorageError(ConfigError):
    """The warehouse on S3 cannot be reached as configured; the message names the setting."""


def uses_s3a(config: Config) -> bool:
    """Whether a local session needs S3A: the warehouse (or a Spark setting) is at s3a://."""
    return config.warehouse.dir.startswith(SCHEME) or any(
        value.startswith(SCHEME) for value in config.spark.conf.values()
    )


def s3a_conf(config: Config) -> dict[str, str]:
    """S3A's settings for a local session, from `[s3]` (before `[spark.conf]` is applied)."""
    conf = {CREDENTIALS_PROVIDER: DEFAULT_CREDENTIALS}
    endpoint = config.s3.endpoint_url
    if endpoint:
        conf[f"{S3A}endpoint"] = endpoint
        # MinIO, moto and most S3-compatible stores have no per-bucket host names.
        conf[f"{S3A}path.style.access"] = "true"
    region = config.s3.region or (ENDPOINT_DEFAULT_REGION if endpoint else "")
    if region:
        conf[f"{S3A}endpoint.region"] = region
    return conf


def default_metastore_home(warehouse: str) -> Path:
    """Where the embedded metastore of a warehouse on S3 lives when `[warehouse] metastore_dir`
    is not set: a folder of this machine's per-user state, one per bucket and prefix."""
    bucket, prefix = split_s3_uri(warehouse)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    # Dots too become "_": no part can be "." or "..".
    parts = [re.sub(r"[^A-Za-z0-9_-]+", "_", part) for part in [bucket, *prefix.split("/")] if part]
    return Path(base).expanduser() / "olx-spark" / "metastores" / Path(*parts)


def _credential_hint() -> str:
    return (
        "S3 credentials come from the AWS default chain: AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment, AWS_PROFILE and "
        "~/.aws/credentials, or the instance's or pod's role. Fix them there (or name another "
        f"provider with {CREDENTIALS_PROVIDER} under [spark.conf])"
    )


def _where(config: Config) -> str:
    endpoint = config.s3.endpoint_url
    return f"the S3 endpoint {endpoint} ([s3] endpoint_url)" if endpoint else "AWS S3"


def check_warehouse_reachable(config: Config, client: Any | None = None) -> None:
    """List one key under the warehouse prefix, as the session's credentials will; raise
    `WarehouseStorageError` naming the setting to fix if that fails. Skipped when `[spark.conf]`
    names S3A credentials of its own, which boto3 cannot see."""
    import botocore.exceptions as bce

    own = {CREDENTIALS_PROVIDER, f"{S3A}access.key", f"{S3A}secret.key"}
    if own & set(config.spark.conf):
        return
    warehouse = config.warehouse.dir
    bucket, prefix = split_s3_uri(warehouse)
    where = _where(config)
    try:
        (client or _client(config)).list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except bce.NoCredentialsError as exc:
        raise WarehouseStorageError(
            f"no S3 credentials were found for the warehouse {warehouse}. {_credential_hint()}."
        ) from exc
    except bce.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        said = f"{code}: {error.get('Message', '')}".strip(": ")
        if code in ("NoSuchBucket", "404"):
            raise WarehouseStorageError(
                f"the warehouse's bucket {bucket!r} does not exist at {where} ({said}). Create "
                "it, or fix [warehouse] dir or [s3] endpoint_url."
            ) from exc
        if code in CREDENTIAL_ERRORS:
            raise WarehouseStorageError(
                f"{where} refused the credentials for the warehouse {warehouse} ({said}). "
                f"{_credential_hint()}; or, if the key is right, check [s3] endpoint_url "
                "and [s3] region."
            ) from exc
        raise WarehouseStorageError(
            f"the warehouse {warehouse} cannot be listed at {where} ({said}). Check "
            "[warehouse] dir, [s3] endpoint_url and [s3] region."
        ) from exc
    except (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError) as exc:
        raise WarehouseStorageError(
            f"{where} cannot be reached for the warehouse {warehouse} ({exc}). Check that it is "
            "up, or fix [s3] endpoint_url (empty = AWS S3) in the config file."
        ) from exc
    except bce.BotoCoreError as exc:
        raise WarehouseStorageError(
            f"the warehouse {warehouse} cannot be listed at {where} ({exc}). Check [warehouse] "
            "dir, [s3] endpoint_url and [s3] region."
        ) from exc


def _client(config: Config) -> Any:
    """A boto3 client that gives up in seconds, not minutes: this is a check, not a transfer."""
    import boto3
    from botocore.config import Config as BotoConfig

    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.s3.endpoint_url or None,
        region_name=config.s3.region or None,
        config=BotoConfig(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"}
        ),
    )
