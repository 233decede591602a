"""Open one source file as a binary stream, on whichever process reads it (usually an executor).

Local files are opened directly; S3 objects are streamed from `get_object` without landing on
disk, so an archive is read once, as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, cast
from urllib.parse import unquote, urlparse

from olx_spark.config import S3Config
from olx_spark.storage.listing import is_s3
from olx_spark.storage.s3 import s3_client, split_s3_uri


def local_path(uri: str) -> str:
    if uri.startswith("file://"):
        return unquote(urlparse(uri).path)
    return uri


@contextmanager
def open_uri(uri: str, s3: S3Config) -> Iterator[BinaryIO]:
    if is_s3(uri):
        bucket, key = split_s3_uri(uri)
        body = s3_client(s3).get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()
    else:
        with open(local_path(uri), "rb") as handle:
            yield handle
