"""The one place an S3 client is made, so driver and executors reach the same endpoint.

Credentials and region come from boto3's usual chain (environment, ~/.aws, instance role);
config may add an endpoint URL for MinIO, moto or other S3-compatible stores.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from olx_spark.config import S3Config


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> (`bucket`, `some/prefix`)."""
    if not uri.startswith(("s3://", "s3a://")):
        raise ValueError(f"not an S3 URI: {uri}")
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise ValueError(f"S3 URI has no bucket: {uri}")
    return bucket, key


@lru_cache(maxsize=8)
def s3_client(config: S3Config) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=config.endpoint_url or None,
        region_name=config.region or None,
        config=BotoConfig(retries={"max_attempts": 5, "mode": "standard"}),
    )
