"""What a data package run reads, decided on the driver before any member is read: the listing
grouped into packages (`plan_units`), the packages the ledger does not have complete
(`plan_run`), and the members of the others as tasks for the executors (a zip's from its central
directory, a few ranged reads; an unzipped folder's from the listing). The ledger rows the
driver makes itself (`ledger_row`: rejections found while listing, package rows) are built here.

Apart from the job (`olx_spark.spark.data_packages`) because the check before Spark plans with
it too, without a session.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

from olx_spark.config import Config
from olx_spark.packages import names
from olx_spark.packages.member import MemberTask
from olx_spark.packages.tables import LEDGER_FIELDS, PARSER_VERSION, STATUS_REJECTED
from olx_spark.packages.zipmembers import list_members
from olx_spark.spark.data_packages_ledger import Identity, LedgerState
from olx_spark.storage.listing import SourceFile, to_micros
from olx_spark.storage.ranges import open_seekable


@dataclass
class PackageUnit:
    """A package: a zip, or a folder of its files already unzipped (`loose`)."""

    uri: str
    org: str
    package_date: date
    zip: SourceFile | None = None
    loose: list[SourceFile] = field(default_factory=list)


def ledger_row(**values: Any) -> dict[str, Any]:
    """A ledger row made on the driver (rejections found while listing, package rows)."""
    now = values.pop("retrieved_at", None) or datetime.now(UTC)
    row: dict[str, Any] = {f.name: None for f in LEDGER_FIELDS}
    row.update(
        retrieved_at=now,
        retrieved_date=now.date(),
        errors=[],
        retryable=False,
        parser_version=PARSER_VERSION,
    )
    row.update(values)
    return row


def _error(path: str | None, kind: str, message: str) -> dict[str, str | None]:
    return {"path": path, "kind": kind, "message": message}


def plan_units(
    files: list[SourceFile], package_suffix: str
) -> tuple[list[PackageUnit], list[dict[str, Any]]]:
    """Listed files -> packages in date order, and ledger rows for files that are no package."""
    units: dict[str, PackageUnit] = {}
    rejected: list[dict[str, Any]] = []
    for f in files:
        source = {
            "source_uri": f.uri,
            "source_size_bytes": f.size,
            "source_modified_at": f.modified_at,
            "file_uri": f.uri,
        }
        if f.uri.lower().endswith(package_suffix):
            parsed = names.parse_package_name(f.uri)
            if parsed is None:
                rejected.append(
                    ledger_row(
                        **source,
                        package_uri=f.uri,
                        file_kind=names.KIND_PACKAGE,
                        status=STATUS_REJECTED,
                        errors=[
                            _error(
                                None,
                                "not_a_package",
                                "a data package is named {org}-{YYYY-MM-DD}.zip",
                            )
                        ],
                    )
                )
                continue
            units[f.uri] = PackageUnit(f.uri, parsed.org, parsed.package_date, zip=f)
            continue
        found = names.package_of_path(f.uri)
        if found is None:
            rejected.append(
                ledger_row(
                    **source,
                    member_path=f.uri.rsplit("/", 1)[-1],
                    file_kind=names.KIND_UNKNOWN,
                    status=STATUS_REJECTED,
                    errors=[
                        _error(
                            None,
                            "no_package",
                            "a file of an unzipped package must be inside a folder named like "
                            "the package, {org}-{YYYY-MM-DD}",
                        )
                    ],
                )
            )
            continue
        folder, parsed = found
        unit = units.setdefault(folder, PackageUnit(folder, parsed.org, parsed.package_date))
        unit.loose.append(f)
    ordered = sorted(units.values(), key=lambda u: (u.package_date, u.uri))
    return ordered, rejected


@dataclass
class RunPlan:
    """What a run must read, from the listing and the ledger, before any package is opened."""

    todo: list[PackageUnit] = field(default_factory=list)  # zips not complete, unzipped folders
    listing_rows: list[dict[str, Any]] = field(default_factory=list)  # rejections, not yet final
    # Listed objects that need nothing: complete zips, final loose files and listing rejections
    # (`SourceFile.identity`s, as `precheck.run_unless_nothing_new` compares the listing with).
    unchanged: set[Identity] = field(default_factory=set)
    files_seen: int = 0  # package files counted so far (a complete zip counts its members)
    files_unchanged: int = 0

    @property
    def files_if_nothing_new(self) -> int:
        """The files a run that reads nothing counts (seen, and all unchanged)."""
        return self.files_seen + sum(len(u.loose) for u in self.todo)


def plan_run(
    units: list[PackageUnit], listing_rows: list[dict[str, Any]], state: LedgerState
) -> RunPlan:
    """Leave out what the ledger already has final: complete packages and listing rejections
    (loose files are left out per file, in `olx_spark.spark.data_packages._run_pass`)."""
    plan = RunPlan()
    for unit in units:
        if unit.zip is not None and unit.zip.identity in state.complete_packages:
            members = state.complete_packages[unit.zip.identity]
            plan.files_seen += members
            plan.files_unchanged += members
            plan.unchanged.add(unit.zip.identity)
        else:
            plan.todo.append(unit)
            plan.unchanged.update(f.identity for f in unit.loose if f.identity in state.final_files)
    for row in listing_rows:
        plan.files_seen += 1
        identity = (row["file_uri"], row["source_size_bytes"], to_micros(row["source_modified_at"]))
        if identity in state.final_files or identity in state.complete_packages:
            plan.files_unchanged += 1
            plan.unchanged.add(identity)
        else:
            plan.listing_rows.append(row)
    return plan


def _zip_tasks(unit: PackageUnit, config: Config) -> tuple[list[MemberTask], dict[str, Any] | None]:
    """The members of a package zip (from its central directory), or its rejection row."""
    assert unit.zip is not None
    z = unit.zip
    try:
        with open_seekable(z.uri, z.size, config.s3) as handle:
            members = list_members(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        kind, message, retryable = "not_a_zip", f"the package is not a readable zip ({exc})", False
    except Exception as exc:  # storage clients raise many kinds
        kind, retryable = "unreadable", True
        message = f"the package could not be read ({type(exc).__name__}: {exc}); retried next run"
    else:
        return [
            MemberTask(
                file_uri=f"{z.uri}!/{m.path}",
                source_uri=z.uri,
                source_size_bytes=z.size,
                source_modified_at=z.modified_at,
                package_uri=z.uri,
                package_date=unit.package_date,
                org=unit.org,
                member_path=m.path,
                header_offset=m.header_offset,
                compress_size=m.compress_size,
                file_size=m.file_size,
                compress_type=m.compress_type,
                crc=m.crc,
                flag_bits=m.flag_bits,
            )
            for m in members
        ], None
    return [], ledger_row(
        file_uri=z.uri,
        package_uri=z.uri,
        source_uri=z.uri,
        source_size_bytes=z.size,
        source_modified_at=z.modified_at,
        package_date=unit.package_date,
        org=unit.org,
        file_kind=names.KIND_PACKAGE,
        status=STATUS_REJECTED,
        retryable=retryable,
        errors=[_error(None, kind, message)],
    )


def _loose_tasks(unit: PackageUnit) -> list[MemberTask]:
    return [
        MemberTask(
            file_uri=f.uri,
            source_uri=f.uri,
            source_size_bytes=f.size,
            source_modified_at=f.modified_at,
            package_uri=unit.uri,
            package_date=unit.package_date,
            org=unit.org,
            member_path=unquote(f.uri[len(unit.uri) + 1 :]),
        )
        for f in unit.loose
    ]


def _task_identity(task: MemberTask) -> Identity:
    modified = task.source_modified_at
    return (task.file_uri, task.source_size_bytes, to_micros(modified) if modified else -1)
