"""Write an `ExportPlan` to a folder or a `.tar.gz`, all or nothing, static bytes streamed.

Static files are not in the lakehouse, only their fingerprints: their bytes are streamed from
the source archive (`archive_uri`, a local path or S3) straight into the output, one member at a
time, and checked against the sha256 the ingest recorded. An archive that cannot be reached
leaves them listed in `manifest.json` (`written: false`) and in the result's warnings; an
archive whose bytes differ from what was loaded fails the export. The output is built beside
its destination and renamed into place at the end, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from olx_spark.config import S3Config
from olx_spark.olx.archive import (
    CHUNK_BYTES,
    GZIP_MAGIC,
    ROOT_FILES,
    ZIP_MAGICS,
    is_static_path,
    normalize_member_name,
    root_candidate_key,
)
from olx_spark.olx.export import MANIFEST, ExportPlan
from olx_spark.olx.versions import Row
from olx_spark.storage.listing import is_s3
from olx_spark.storage.ranges import open_seekable
from olx_spark.storage.reading import local_path, open_uri
from olx_spark.storage.segmented_gzip import ARCHIVE_TEXT_LEVEL as TEXT_LEVEL
from olx_spark.storage.segmented_gzip import SegmentedGzip, member_level

TAR_SUFFIXES = (".tar.gz", ".tgz")


class ExportFailed(Exception):
    """The export could not be written; nothing was."""


@dataclass
class ExportResult:
    """What was written where, and what could not be."""

    out: str
    files: int = 0
    blocks: int = 0
    static_written: int = 0
    static_missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, object] = field(default_factory=dict)


Sink = Callable[[str, int, IO[bytes]], None]  # (relative path, size, stream)


def _safe_relative(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and "" not in parts


class _HashingStream(io.RawIOBase):
    """Reads through to `inner`, hashing what passes."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        data = self.inner.read(size)
        self.digest.update(data)
        return data


def _course_prefix(names: list[str]) -> str:
    """The folder of the course inside the archive (with a trailing `/`, or ""), chosen as
    `locate_course` chooses it: the shallowest course.xml / library.xml outside static/."""
    candidates = [
        name
        for name in names
        if posixpath.basename(name) in ROOT_FILES and not is_static_path(name)
    ]
    if not candidates:
        return ""
    folder = posixpath.dirname(min(candidates, key=root_candidate_key))
    return f"{folder}/" if folder else ""


def _normalized(name: str) -> str | None:
    path, problem = normalize_member_name(name)
    return None if problem else path


@contextmanager
def _seekable(uri: str, size: int | None, s3: S3Config) -> Iterator[BinaryIO]:
    if is_s3(uri):
        if size is None:
            raise ExportFailed(f"the size of {uri} is unknown; cannot read it as a zip")
        with open_seekable(uri, size, s3) as handle:
            yield handle
    else:
        with open(local_path(uri), "rb") as handle:
            yield handle


def _stream_members(
    uri: str, size: int | None, s3: S3Config, wanted: set[str], sink: Sink
) -> set[str]:
    """Hand each wanted static member of the archive at `uri` to `sink`; return those found."""
    found: set[str] = set()
    with open_uri(uri, s3) as probe:
        head = probe.read(4)
    if head in ZIP_MAGICS:
        with _seekable(uri, size, s3) as handle, zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            prefix = _course_prefix([_normalized(i.filename) or "" for i in infos])
            for info in infos:
                relative = _relative(info.filename, prefix)
                if relative in wanted and relative not in found and not info.is_dir():
                    with archive.open(info) as member:
                        sink(relative, info.file_size, member)
                    found.add(relative)
        return found
    # A tar is a stream: one pass to list it and find the course folder, one to copy.
    mode = "r|gz" if head[:2] == GZIP_MAGIC else "r|"
    with open_uri(uri, s3) as stream, tarfile.open(fileobj=stream, mode=mode) as archive:
        names: list[str] = []
        while (info := archive.next()) is not None:
            archive.members.clear()
            names.append(_normalized(info.name) or "")
    prefix = _course_prefix(names)
    with open_uri(uri, s3) as stream, tarfile.open(fileobj=stream, mode=mode) as archive:
        while (info := archive.next()) is not None:
            archive.members.clear()
            relative = _relative(info.name, prefix)
            if relative in wanted and relative not in found and info.isreg():
                member = archive.extractfile(info)
                if member is not None:
                    sink(relative, info.size, member)
                    found.add(relative)
    return found


def _relative(name: str, prefix: str) -> str | None:
    """A member's path relative to the course folder, None if it is outside it or unsafe."""
    path = _normalized(name)
    if path is None or not path.startswith(prefix):
        return None
    return path[len(prefix) :]


def _checked(relative: str, expected: str, stream: _HashingStream) -> None:
    if stream.digest.hexdigest() != expected:
        raise ExportFailed(
            f"{relative} in the source archive has sha256 {stream.digest.hexdigest()}, not "
            f"{expected} as loaded: the archive was changed after it was ingested. Ingest it "
            "again, or export without static files (--no-static)."
        )


class _TarWriter:
    """Members into one `.tar.gz`: text deflated, media stored (`SegmentedGzip`)."""

    def __init__(self, target: IO[bytes], folder: str) -> None:
        self.gz = SegmentedGzip(target, TEXT_LEVEL)  # type: ignore[arg-type]
        self.tar = tarfile.open(  # noqa: SIM115 (closed by `close`, after the last member)
            fileobj=self.gz, mode="w", format=tarfile.PAX_FORMAT
        )
        self.folder = folder

    def _info(self, path: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(f"{self.folder}/{path}")
        info.size = size
        info.mode = 0o644
        return info

    def text(self, path: str, data: bytes) -> None:
        self.gz.set_level(TEXT_LEVEL)
        self.tar.addfile(self._info(path, len(data)), io.BytesIO(data))

    def stream(self, path: str, size: int, stream: IO[bytes]) -> None:
        self.gz.set_level(member_level(path, TEXT_LEVEL))
        self.tar.addfile(self._info(path, size), stream)

    def close(self) -> None:
        self.tar.close()
        self.gz.finish()


class _DirWriter:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _target(self, path: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def text(self, path: str, data: bytes) -> None:
        self._target(path).write_bytes(data)

    def stream(self, path: str, size: int, stream: IO[bytes]) -> None:
        with self._target(path).open("wb") as handle:
            shutil.copyfileobj(stream, handle, CHUNK_BYTES)

    def close(self) -> None:
        pass


def _umask() -> int:
    """The process's umask (temporary files and folders are private; the output is not)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_tar_target(out: str) -> bool:
    return out.lower().endswith(TAR_SUFFIXES)


def write_export(
    plan: ExportPlan,
    out: str,
    *,
    archive_uri: str | None,
    archive_size: int | None = None,
    s3: S3Config | None = None,
    with_static: bool = True,
    folder: str = "course",
) -> ExportResult:
    """Write `plan` to `out` (a new or empty folder, or a `.tar.gz` / `.tgz` file)."""
    result = ExportResult(out=out, blocks=plan.block_count, warnings=list(plan.warnings))
    target = Path(out)
    if not is_tar_target(out) and target.exists() and any(target.iterdir()):
        raise ExportFailed(f"{out} is not empty; export to a new or empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_tar_target(out):
        handle, temporary = tempfile.mkstemp(prefix=".olx-export-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as raw:
                writer = _TarWriter(raw, folder)
                _write_all(plan, writer, result, archive_uri, archive_size, s3, with_static)
                writer.close()
            os.chmod(temporary, 0o666 & ~_umask())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return result
    staging = Path(tempfile.mkdtemp(prefix=".olx-export-", dir=target.parent))
    try:
        _write_all(plan, _DirWriter(staging), result, archive_uri, archive_size, s3, with_static)
        if target.exists():
            target.rmdir()
        os.chmod(staging, 0o777 & ~_umask())
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _write_all(
    plan: ExportPlan,
    writer: _TarWriter | _DirWriter,
    result: ExportResult,
    archive_uri: str | None,
    archive_size: int | None,
    s3: S3Config | None,
    with_static: bool,
) -> None:
    for path, data in sorted(plan.files.items()):
        if not _safe_relative(path):
            result.warnings.append(f"skipped {path!r}: not a safe relative path")
            continue
        writer.text(path, data)
        result.files += 1
    written = _write_static(plan.static, writer, result, archive_uri, archive_size, s3, with_static)
    manifest = dict(plan.manifest)
    manifest["static"] = [
        {**entry, "written": entry["path"] in written} for entry in plan.manifest.get("static", [])
    ]
    result.manifest = manifest
    writer.text(MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())
    result.files += 1


def _write_static(
    static: list[Row],
    writer: _TarWriter | _DirWriter,
    result: ExportResult,
    archive_uri: str | None,
    archive_size: int | None,
    s3: S3Config | None,
    with_static: bool,
) -> set[str]:
    expected = {r["path"]: r["sha256"] for r in static if _safe_relative(r["path"])}
    written: set[str] = set()
    if expected and with_static and archive_uri is not None:

        def sink(relative: str, size: int, stream: IO[bytes]) -> None:
            hashing = _HashingStream(stream)
            writer.stream(relative, size, hashing)  # type: ignore[arg-type]
            _checked(relative, expected[relative], hashing)
            written.add(relative)

        try:
            _stream_members(archive_uri, archive_size, s3 or S3Config(), set(expected), sink)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            result.warnings.append(f"could not read static files from {archive_uri}: {exc}")
        except Exception as exc:  # botocore's errors: the archive is not reachable
            if type(exc).__module__.startswith(("botocore", "boto3")):
                result.warnings.append(f"could not read static files from {archive_uri}: {exc}")
            else:
                raise
    result.static_written = len(written)
    result.static_missing = sorted(set(expected) - written)
    if result.static_missing:
        where = archive_uri or "the source archive (unknown)"
        result.warnings.append(
            f"{len(result.static_missing)} static file(s) not written (not found in {where}); "
            "manifest.json lists each with its size and sha256"
        )
    return written
