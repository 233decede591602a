"""Data package file names: packages, members of every kind, course ids, from the right."""

from __future__ import annotations

from datetime import date

import pytest

from olx_spark.packages import names
from olx_spark.packages.names import (
    PackageName,
    package_of_path,
    parse_member_name,
    parse_package_name,
    split_course_prefix,
)


def test_package_names():
    assert parse_package_name("mitx-2024-01-07.zip") == PackageName("mitx", date(2024, 1, 7))
    assert parse_package_name("s3://b/x/HarvardX-2023-12-31.zip") == PackageName(
        "HarvardX", date(2023, 12, 31)
    )
    assert parse_package_name("/data/mitx-2024-01-07/") == PackageName("mitx", date(2024, 1, 7))
    assert parse_package_name("mitx-2024-13-07.zip") is None
    assert parse_package_name("course.zip") is None


def test_package_of_a_loose_file_is_its_nearest_package_folder():
    found = package_of_path("/data/in/mitx-2024-01-07/ora/MITx-a-b-t-prod-analytics.sql")
    assert found == ("/data/in/mitx-2024-01-07", PackageName("mitx", date(2024, 1, 7)))
    assert package_of_path("/data/in/loose/MITx-a-b-t-prod-analytics.sql") is None


@pytest.mark.parametrize(
    ("path", "kind", "table", "site", "course_id", "encrypted"),
    [
        (
            "MITx-6.00x-2024_T1-auth_user-prod-analytics.sql.gpg",
            names.KIND_TABLE,
            "auth_user",
            "prod",
            "course-v1:MITx+6.00x+2024_T1",
            True,
        ),
        (
            "pkg/ora/MITx-6.00x-2024_T1-assessment_assessmentpart-edge-analytics.sql",
            names.KIND_TABLE,
            "assessment_assessmentpart",
            "edge",
            "course-v1:MITx+6.00x+2024_T1",
            False,
        ),
        (
            "MITx-6.00x-2024_T1-course_structure-prod-analytics.json.gpg",
            names.KIND_COURSE_STRUCTURE,
            None,
            "prod",
            "course-v1:MITx+6.00x+2024_T1",
            True,
        ),
        (
            "MITx-6.00x-2024_T1-prod.mongo.gpg",
            names.KIND_FORUM,
            None,
            "prod",
            "course-v1:MITx+6.00x+2024_T1",
            True,
        ),
        (
            "MITx-email_opt_in-prod-analytics.csv.gpg",
            names.KIND_EMAIL_OPT_IN,
            "email_opt_in",
            "prod",
            None,
            True,
        ),
        (
            "MITx-6.00x-2024_T1-course-prod.xml.tar.gz.gpg",
            names.KIND_COURSE_XML,
            None,
            "prod",
            "course-v1:MITx+6.00x+2024_T1",
            True,
        ),
        ("README.txt", names.KIND_UNKNOWN, None, None, None, False),
    ],
)
def test_member_names(path, kind, table, site, course_id, encrypted):
    name = parse_member_name(path, "mitx")
    assert (name.kind, name.table, name.site, name.course_id, name.encrypted) == (
        kind,
        table,
        site,
        course_id,
        encrypted,
    )


def test_any_table_name_is_taken_and_made_safe():
    name = parse_member_name("MITx-6.00x-2024_T1-Some_New_Table9-prod-analytics.sql", None)
    assert name.table == "some_new_table9"
    assert name.plain_name == "MITx-6.00x-2024_T1-Some_New_Table9-prod-analytics.sql"


def test_course_prefix_uses_the_package_org_and_takes_the_run_last():
    assert split_course_prefix("MITx-6.00x-2024_T1", "mitx") == ("MITx", "6.00x", "2024_T1")
    # A course code with a hyphen: the org comes from the package, the run is the last token.
    assert split_course_prefix("MITx-HKS-211.1x-3T2016", "mitx") == ("MITx", "HKS-211.1x", "3T2016")
    # Org unknown: first token.
    assert split_course_prefix("Foo-Bar-Baz", None) == ("Foo", "Bar", "Baz")
    assert split_course_prefix("Foo-Bar", None) == ("Foo", "Bar", None)


def test_course_id_forms():
    assert names.course_v1_id("MITx", "6.00x", "T1") == "course-v1:MITx+6.00x+T1"
    assert names.slash_course_id("MITx", "6.00x", "T1") == "MITx/6.00x/T1"
    assert names.course_v1_id("MITx", None, "T1") is None
