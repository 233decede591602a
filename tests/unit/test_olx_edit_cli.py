"""`olx-spark olx replace | move | delete` on the command line: JSON on stdout, `olx-spark: ...`
and the exit code on a refusal, the help text; and the replace benchmark script. The course
and the helpers are in `tests/olx_edit_fixtures.py`; no Spark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from olx_spark.cli import main as cli_main
from tests.olx_edit_fixtures import (
    P1_XML,
    S1_XML,
    archive_fixture,  # noqa: F401 (pytest finds the `archive` fixture here)
    build,
    key,
    namespaced_course,
    nothing_written,
    parse_file,
    replacement_s1,
    run_cli,
)


def test_cli_replace_move_delete(
    tmp_path: Path, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    version = str(parse_file(archive).course_version)
    rep = replacement_s1(tmp_path, {"problem/p1.xml": P1_XML.replace("4", "6")})
    out = tmp_path / "new.tar.gz"
    s1 = key("sequential", "s1")
    common = ["--block", s1, "--with", str(rep), "--orphans", "decline", "--out", str(out)]
    code, stdout, _ = run_cli(capsys, "replace", str(archive), *common, "--expect-version", version)
    assert code == 0
    output = json.loads(stdout)
    assert output["course_version"] == parse_file(out).course_version
    assert output["old_course_version"] == version
    assert output["blocks_changed"] == [key("problem", "p1")]
    assert output["block_id"] == s1 and output["out"] == str(out)
    assert set(output) >= {"subtree_hash", "blocks_added", "blocks_removed", "course_id"}

    out.unlink()
    code, stdout, stderr = run_cli(
        capsys, "replace", str(archive), *common, "--expect-version", "f" * 64
    )
    assert (code, stdout) == (3, "")
    assert stderr.startswith("olx-spark: version conflict")
    nothing_written(out)

    without_v2 = S1_XML.replace('  <vertical url_name="v2"/>\n', "")
    dropped = replacement_s1(
        tmp_path / "o", {"sequential/s1.xml": without_v2, "vertical/v2.xml": None}
    )
    orphan_args = ["--block", s1, "--with", str(dropped), "--orphans", "decline", "--out", str(out)]
    code, _, stderr = run_cli(capsys, "replace", str(archive), *orphan_args)
    assert code == 4 and key("vertical", "v2") in stderr and key("video", "vid2") in stderr
    nothing_written(out)

    code, _, stderr = run_cli(
        capsys,
        "move",
        str(archive),
        "--block",
        key("vertical", "v3"),
        "--to",
        key("chapter", "ch2"),
        "--out",
        str(out),
    )
    assert code == 2 and stderr.startswith("olx-spark: ") and "same level" in stderr
    code, stdout, _ = run_cli(
        capsys,
        "move",
        str(archive),
        "--block",
        key("vertical", "v3"),
        "--to",
        s1,
        "--position",
        "0",
        "--out",
        str(out),
    )
    assert code == 0 and json.loads(stdout)["blocks_changed"] == [s1, key("sequential", "s2")]
    out.unlink()
    code, stdout, _ = run_cli(
        capsys, "delete", str(archive), "--block", key("vertical", "v2"), "--out", str(out)
    )
    assert code == 0 and json.loads(stdout)["subtree_hash"] is None
    code, _, stderr = run_cli(
        capsys, "delete", str(archive), "--block", key("vertical", "zz"), "--out", str(out)
    )
    assert code == 2 and "is not in this archive" in stderr


def test_cli_orphan_advice_fits_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`move` has no --orphans: its exit-4 message does not advise it."""
    archive = build(tmp_path, namespaced_course())
    out = tmp_path / "new.tar.gz"
    argv = ["--block", key("vertical", "vm"), "--to", key("sequential", "s1"), "--out", str(out)]
    code, stdout, stderr = run_cli(capsys, "move", str(archive), *argv)
    assert (code, stdout) == (4, "")
    assert "--orphans" not in stderr and "then move again" in stderr
    nothing_written(out)


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("replace", "move", "delete"):
        with pytest.raises(SystemExit) as exited:
            cli_main(["olx", command, "--help"])
        assert exited.value.code == 0
        text = capsys.readouterr().out
        assert "exit codes: 0 written; 2 refused" in text and "--expect-version" in text


def test_benchmark_script_runs(tmp_path: Path) -> None:
    """benchmarks/bench_olx_replace.py on a tiny generated archive (1 MiB of video)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_olx_replace.py"
    done = subprocess.run(
        [sys.executable, str(script), "--big-static-mb", "1", "--work-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["course_version_matches_ingest"] is True
    assert len(result["blocks_changed"]) == 1 and result["peak_rss_mib"] > 0
