"""What tracking log file names say: org, site, day, encryption."""

from __future__ import annotations

from datetime import date

import pytest

from olx_spark.tracking.names import parse_log_name, source_system_of


@pytest.mark.parametrize(
    ("uri", "org", "site", "day", "encrypted"),
    [
        (
            "s3://b/logs/MITx-prod-events-2024-03-03.log.gz.gpg",
            "MITx",
            "prod",
            date(2024, 3, 3),
            True,
        ),
        (
            "file:///x/HarvardX-edge-events-2019-12-31.log.gz",
            "HarvardX",
            "edge",
            date(2019, 12, 31),
            False,
        ),
        ("/x/Some-Org-prod-events-2024-01-02.log", "Some-Org", "prod", date(2024, 1, 2), False),
        ("/x/MITx-prod-events-2024-03-03.log.gpg", "MITx", "prod", date(2024, 3, 3), True),
        ("file:///x/tracking.log-20240303.gz", None, None, date(2024, 3, 3), False),
        ("file:///x/tracking.log", None, None, None, False),
        ("file:///x/MITx-prod-events-2024-13-40.log.gz", None, None, None, False),
        ("file:///x/a%20b-prod-events-2024-03-03.log", "a b", "prod", date(2024, 3, 3), False),
    ],
)
def test_names(uri, org, site, day, encrypted):
    parsed = parse_log_name(uri)
    assert (parsed.org, parsed.site, parsed.log_date, parsed.encrypted) == (
        org,
        site,
        day,
        encrypted,
    )


def test_source_system_comes_from_the_site_else_the_default():
    assert source_system_of(parse_log_name("/MITx-edge-events-2024-03-03.log"), "unknown") == "edge"
    assert source_system_of(parse_log_name("/tracking.log"), "mitxonline") == "mitxonline"
