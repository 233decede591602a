"""`olx-spark olx export` and `olx diff` against a real warehouse: archives ingested by the job,
versions read back from Delta (maps, unicode, timestamps over Arrow), exported and diffed.

One scenario in steps (each Spark read costs seconds): two versions of the small diff course and
the tricky course are loaded; the newest and an older version export to archives that parse to
the same rows as the archives loaded; a subtree exports with its manifest; the diff of the two
versions is the hand-worked one; bad requests fail with exit 2, a message, and no output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from olx_spark.cli import main
from olx_spark.config import Config
from olx_spark.olx.changes import diff_versions
from olx_spark.olx.versions import CourseVersion
from olx_spark.spark.course_archives import CourseArchiveJob, run_course_archives
from tests.cli_fixtures import config_file
from tests.olx_versions_fixtures import COURSE_ID, DIFF_KEY, block_id, diff_course, tricky_course
from tests.spark.courses import write_tar_gz
from tests.unit.test_olx_export import kept, parse_file

DIFF_COURSE = f"course-v1:{DIFF_KEY}"


def ingest(spark: SparkSession, config: Config, folder: Path) -> None:
    summary = run_course_archives(spark, config, CourseArchiveJob(str(folder), "edxorg", "prod"))
    assert summary.rejected == 0, summary.render()


def test_export_and_diff_from_the_warehouse(
    spark: SparkSession, config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_tar_gz(tmp_path / "in1" / "diff.tar.gz", diff_course(1))
    tricky = write_tar_gz(tmp_path / "in1" / "tricky.tar.gz", tricky_course())
    ingest(spark, config, tmp_path / "in1")
    second = write_tar_gz(tmp_path / "in2" / "diff.tar.gz", diff_course(2))
    ingest(spark, config, tmp_path / "in2")
    toml = config_file(config, tmp_path)
    v1, v2 = parse_file(first), parse_file(second)

    # The newest version by default; an older one by --version; the tricky course whole.
    out = tmp_path / "out"
    assert (
        main(["olx", "export", DIFF_COURSE, "--out", str(out / "new.tar.gz"), "--config", toml])
        == 0
    )
    assert kept(parse_file(out / "new.tar.gz")) == kept(v2)
    assert f"exported {DIFF_COURSE} version {v2.course_version}" in capsys.readouterr().out
    old_args = ["--version", str(v1.course_version), "--out", str(out / "old.tar.gz")]
    assert main(["olx", "export", DIFF_COURSE, *old_args, "--config", toml]) == 0
    assert kept(parse_file(out / "old.tar.gz")) == kept(v1)
    assert (
        main(["olx", "export", COURSE_ID, "--out", str(out / "tricky.tgz"), "--config", toml]) == 0
    )
    assert kept(parse_file(out / "tricky.tgz")) == kept(parse_file(tricky))
    printed = capsys.readouterr().out
    assert "static files         3 written, 0 listed only" in printed

    # A subtree, to a folder: the files under it and its manifest.
    u1 = block_id("vertical", "u1", DIFF_KEY)
    assert (
        main(
            [
                "olx",
                "export",
                DIFF_COURSE,
                "--block",
                u1,
                "--out",
                str(out / "u1"),
                "--config",
                toml,
            ]
        )
        == 0
    )
    manifest = json.loads((out / "u1" / "manifest.json").read_text())
    u1_row = next(b for b in v2.rows["blocks"] if b["block_id"] == u1)
    assert (manifest["root_block_id"], manifest["subtree_hash"], manifest["position"]) == (
        u1,
        u1_row["subtree_hash"],
        0,
    )
    assert sorted(p.relative_to(out / "u1").as_posix() for p in (out / "u1").rglob("*.*")) == [
        "html/h1.html",
        "html/h1.xml",
        "manifest.json",
        "problem/p1.xml",
        "problem/p3.xml",
        "problem/p_new.xml",
        "vertical/u1.xml",
    ]
    capsys.readouterr()

    # The diff: the same changes as the pure function on the archives (worked out by hand in
    # tests/unit/test_olx_changes.py), as JSON and as a table.
    versions = ["--from", str(v1.course_version), "--to", str(v2.course_version)]
    assert main(["olx", "diff", DIFF_COURSE, *versions, "--json", "--config", toml]) == 0
    document = json.loads(capsys.readouterr().out)
    expected = diff_versions(CourseVersion.from_parsed(v1), CourseVersion.from_parsed(v2))
    assert len(expected) == 12
    assert document["changes"] == [c.as_dict() for c in expected]
    assert main(["olx", "diff", DIFF_COURSE, *versions, "--config", toml]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-1] == (
        "12 change(s): 1 added, 4 children_changed, 1 content_changed, 1 moved, 1 removed, "
        "2 reordered, 2 settings_changed"
    )

    # Bad requests: exit 2, a message saying what to do, nothing written.
    bad = tmp_path / "bad"
    cases = [
        (["export", "course-v1:No+Such+Course"], "no loaded archive of course-v1:No+Such+Course"),
        (["export", DIFF_COURSE, "--version", "abc123"], "version abc123 of"),
        (
            ["export", DIFF_COURSE, "--block", block_id("problem", "zz", DIFF_KEY)],
            "is not a published block",
        ),
        (
            ["diff", DIFF_COURSE, "--from", "abc123", "--to", str(v2.course_version)],
            "is not loaded",
        ),
    ]
    for args, message in cases:
        if args[0] == "export":
            args = [*args, "--out", str(bad / "x.tar.gz")]
        assert main(["olx", *args, "--config", toml]) == 2
        assert message in capsys.readouterr().err
    assert not bad.exists() or list(bad.iterdir()) == []
    assert main(["olx", "export", DIFF_COURSE, "--out", str(out / "u1"), "--config", toml]) == 2
    assert "is not empty" in capsys.readouterr().err
