"""Days without a tracking log: what a night's summary says is missing.

Logs arrive one file per day and stream (edX.org: `{org}-{site}-events-{day}.log.gz.gpg`; an
Open edX host: `tracking.log-{day}.gz`). A day whose file never came (a failed export, a sync
that stopped) loses nothing visible: every other day loads and the marts just show a dip. So
the tracking job's summary names, per stream, the days between the stream's first and last
file that have no file in the source. They disappear from the summary on the night the late
file arrives, and that night loads it like any new file: nothing to do by hand.

Pure: names in, lines out (`olx_spark.tracking.names` reads the day from a name).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from olx_spark.tracking.names import ANY_DATE, base_name, parse_log_name

MAX_RANGES = 10  # per stream; more are counted, not listed


def stream_of(uri: str) -> tuple[str, date] | None:
    """(the stream a log belongs to, its day): the name with its day replaced by `*`
    (`MITx-prod-events-*.log.gz`); None for a name without a day."""
    parsed = parse_log_name(uri)
    if parsed.log_date is None:
        return None
    name = base_name(uri)
    folder = uri.rstrip("/")[: -len(name)] if uri.rstrip("/").endswith(name) else ""
    return f"{folder}{ANY_DATE.sub('*', name, count=1)}", parsed.log_date


def _ranges(days: list[date]) -> list[tuple[date, date]]:
    spans: list[tuple[date, date]] = []
    for day in days:
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def missing_days(uris: Iterable[str]) -> list[str]:
    """One line per stream with gaps: `MITx-prod-events-*.log.gz: 2024-01-03, 2024-01-05..07`
    (the days between its first and last file that have none), sorted by stream name."""
    seen: dict[str, set[date]] = defaultdict(set)
    for uri in uris:
        found = stream_of(uri)
        if found is not None:
            seen[found[0]].add(found[1])
    names = [base_name(stream) for stream in seen]
    # The file name pattern says which stream; two folders with the same pattern (two hosts'
    # `tracking.log-*.gz`) are told apart by their whole path.
    label = {s: base_name(s) if names.count(base_name(s)) == 1 else s for s in seen}
    lines = []
    for stream, days in sorted(seen.items(), key=lambda item: (label[item[0]], item[0])):
        first, last = min(days), max(days)
        gaps = [
            first + timedelta(days=n)
            for n in range((last - first).days + 1)
            if first + timedelta(days=n) not in days
        ]
        if not gaps:
            continue
        spans = _ranges(gaps)
        shown = [
            a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}"
            for a, b in spans[:MAX_RANGES]
        ]
        more = f" and {len(spans) - MAX_RANGES} more gaps" if len(spans) > MAX_RANGES else ""
        count = f"{len(gaps)} day{'s' if len(gaps) > 1 else ''}"
        lines.append(f"{label[stream]}: no log for {', '.join(shown)}{more} ({count})")
    return lines
