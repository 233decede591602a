"""The end-of-run summary every ingest prints: files seen, loaded, skipped, rejected, rows
written per table, warnings, time taken. Pure data and formatting, shared by all jobs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class FileWarning:
    uri: str
    status: str
    errors: list[dict[str, str | None]]


@dataclass
class IngestSummary:
    job: str
    source: str
    files_seen: int = 0
    unchanged: int = 0  # already in the ledger with the same name, size and time: not read
    duplicates: int = 0  # read, but the same bytes were already loaded: nothing written
    loaded: int = 0
    rejected: int = 0
    loaded_with_errors: int = 0
    rows_written: dict[str, int] = field(default_factory=dict)
    warnings: list[FileWarning] = field(default_factory=list)
    seconds: float = 0.0
    # Inputs the source should hold and does not (tracking logs: days without a file), in words.
    missing: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.unchanged + self.duplicates

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "skipped": self.skipped}, indent=2, default=str)

    def render(self, max_warnings: int = 20) -> str:
        lines = [
            f"olx-spark {self.job}: {self.source}",
            f"  files seen      {self.files_seen:>10,}",
            f"  loaded          {self.loaded:>10,}"
            + (
                f"   ({self.loaded_with_errors:,} with errors in parts)"
                if self.loaded_with_errors
                else ""
            ),
            f"  skipped         {self.skipped:>10,}   "
            f"({self.unchanged:,} unchanged, {self.duplicates:,} same bytes already loaded)",
            f"  rejected        {self.rejected:>10,}",
        ]
        if not self.rows_written:
            lines.append("  nothing new to load" if self.files_seen else "  no files found")
        else:
            lines.append("  rows written:")
            width = max(len(t) for t in self.rows_written)
            lines += [f"    {t:<{width}}  {n:>12,}" for t, n in self.rows_written.items()]
        lines.append(f"  time            {self.seconds:>9.1f}s")
        if self.missing:
            lines.append(f"  missing ({len(self.missing)}; loaded when they arrive):")
            lines += [f"    {line}" for line in self.missing]
        if self.warnings:
            lines.append(f"  warnings ({len(self.warnings)}):")
            for w in self.warnings[:max_warnings]:
                for e in w.errors[:3]:
                    where = f" {e['path']}" if e.get("path") else ""
                    lines.append(f"    {w.status:<8} {w.uri}:{where} [{e['kind']}] {e['message']}")
                if len(w.errors) > 3:
                    lines.append(
                        f"             ... and {len(w.errors) - 3} more errors in this file"
                    )
            if len(self.warnings) > max_warnings:
                lines.append(f"    ... and {len(self.warnings) - max_warnings} more files")
        return "\n".join(lines)
