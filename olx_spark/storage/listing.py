"""List the files of a source (a folder or an S3 prefix): URI, size and modification time.

Runs on the driver and returns metadata only, never contents. S3 listings page through
`list_objects_v2` so prefixes with any number of keys are complete.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from olx_spark.config import S3Config
from olx_spark.storage.s3 import s3_client, split_s3_uri

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SourceFile:
    uri: str
    size: int
    modified_at: datetime

    @property
    def identity(self) -> tuple[str, int, int]:
        """(URI, size, modification time in whole microseconds): how the ledger recognises a
        file it has already seen without reading it."""
        return (self.uri, self.size, to_micros(self.modified_at))


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_nanos(ns: int) -> datetime:
    """A file system time (ns) at the microsecond precision a Delta timestamp keeps."""
    return EPOCH + timedelta(microseconds=ns // 1000)


class SourceError(Exception):
    """The source cannot be listed; the message says what to check."""


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


def _wanted(name: str, suffixes: Iterable[str]) -> bool:
    base = name.rsplit("/", 1)[-1]
    if base.startswith(("._", ".")) or base.endswith("~"):
        return False
    return base.lower().endswith(tuple(suffixes))


def _list_local(root: str, suffixes: tuple[str, ...]) -> list[SourceFile]:
    path = Path(root.removeprefix("file://")).expanduser()
    if not path.exists():
        raise SourceError(f"source folder {path} does not exist")
    if path.is_file():
        candidates: Iterable[Path] = [path]
    else:
        candidates = (Path(dirpath) / name for dirpath, _, names in os.walk(path) for name in names)
    out = []
    for file in candidates:
        if not _wanted(file.name, suffixes) or not file.is_file():
            continue
        stat = file.stat()
        out.append(
            SourceFile(
                uri=file.resolve().as_uri(),
                size=stat.st_size,
                modified_at=from_nanos(stat.st_mtime_ns),
            )
        )
    return out


def _list_s3(uri: str, suffixes: tuple[str, ...], config: S3Config) -> list[SourceFile]:
    bucket, prefix = split_s3_uri(uri)
    client = s3_client(config)
    out = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or not _wanted(key, suffixes):
                    continue
                out.append(
                    SourceFile(
                        uri=f"s3://{bucket}/{key}",
                        size=int(obj["Size"]),
                        modified_at=obj["LastModified"].astimezone(UTC),
                    )
                )
    except Exception as exc:  # botocore raises many kinds; the user needs the message
        raise SourceError(
            f"cannot list {uri}: {exc}. Check the bucket name, AWS credentials/region, "
            "and s3.endpoint_url in the config for non-AWS stores."
        ) from exc
    return out


def list_source(uri: str, suffixes: tuple[str, ...], s3: S3Config) -> list[SourceFile]:
    """All files under `uri` whose names end with one of `suffixes`, sorted by URI."""
    files = _list_s3(uri, suffixes, s3) if is_s3(uri) else _list_local(uri, suffixes)
    return sorted(files, key=lambda f: f.uri)
