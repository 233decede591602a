"""What a tracking log's file name says: org, site (`source_system`), day, and whether it is
encrypted.

edX.org names its daily logs `{org}-{site}-events-{YYYY-MM-DD}.log.gz.gpg`; Open edX instances
rotate `tracking.log` into names like `tracking.log-20240303.gz` or `tracking.log.1`. Only the
edX.org form yields an org and a site; a day is taken from any name that holds one. Whether a
file is gzip is decided from its bytes when it is read, not from its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote

_EDX = re.compile(
    r"^(?P<org>.+?)-(?P<site>[A-Za-z0-9_.]+)-events-(?P<date>\d{4}-\d{2}-\d{2})"
    r"\.log(?:\.gz)?(?:\.gpg)?$"
)
ANY_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
GPG_SUFFIXES = (".gpg", ".pgp")


@dataclass(frozen=True)
class LogFileName:
    name: str  # the base name, URL-decoded
    org: str | None
    site: str | None
    log_date: date | None
    encrypted: bool


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def base_name(uri: str) -> str:
    return unquote(uri.rstrip("/").rsplit("/", 1)[-1])


def parse_log_name(uri: str) -> LogFileName:
    """The facts in a tracking log's name (any name: what is not there is None)."""
    name = base_name(uri)
    encrypted = name.lower().endswith(GPG_SUFFIXES)
    edx = _EDX.match(name)
    if edx is not None:
        day = _date(*edx.group("date").split("-"))
        if day is not None:
            return LogFileName(name, edx.group("org"), edx.group("site"), day, encrypted)
    found = ANY_DATE.search(name)
    day = _date(*found.groups()) if found else None
    return LogFileName(name, None, None, day, encrypted)


def source_system_of(parsed: LogFileName, default: str) -> str:
    """The site the name gives (`prod`, `edge`), else the configured default."""
    return parsed.site or default
