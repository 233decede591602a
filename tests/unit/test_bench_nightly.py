"""`benchmarks/bench_nightly.py` (issue 17): its staging and parsing without Spark (seconds),
and, marked `e2e`, one whole run at tiny sizes whose JSON keeps the public contract
(`night_cost_ratio`, `transform_incremental_over_full`, every step of every night)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from olx_spark.synth import generate_corpus

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
WHOLE_RUN_ENV = "OLX_SPARK_BENCH_NIGHTLY"
sys.path.insert(0, str(BENCHMARKS))
try:
    import bench_nightly as nightly
    import nightly_inputs
    import nightly_targets
finally:
    sys.path.remove(str(BENCHMARKS))


def run_script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_nightly.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_names_the_issue_options() -> None:
    done = run_script("--help")
    assert done.returncode == 0, done.stderr
    for option in ("--history-days", "--events-per-day", "--courses", "--nights", "--json"):
        assert option in done.stdout


def test_weekly_packages_fall_on_night_one_and_every_7th_day_before() -> None:
    assert nightly_inputs.package_days(30, 3) == [3, 10, 17, 24, 31]  # 4 in the history, night 1
    assert nightly_inputs.package_days(14, 2) == [1, 8, 15]
    assert nightly_inputs.package_days(2, 1) == [3]


def test_a_changed_archive_is_new_bytes_with_an_edited_title(tmp_path: Path) -> None:
    generate_corpus(tmp_path / "src", 1, seed=3, scale="small")
    (source,) = sorted((tmp_path / "src").glob("*.tar.gz"))
    changed = nightly_inputs.changed_archive(source, tmp_path, 2)
    assert changed.name.endswith("-r2.tar.gz") and changed.read_bytes() != source.read_bytes()
    with tarfile.open(source) as a, tarfile.open(changed) as b:
        assert a.getnames() == b.getnames()
        (course,) = [n for n in b.getnames() if n.count("/") == 2 and "/course/" in n]
        text = b.extractfile(course).read()  # type: ignore[union-attr]
        assert b'display_name="[rev 2] ' in text
        assert a.extractfile(course).read() != text  # type: ignore[union-attr]


def test_stage_links_the_same_files(tmp_path: Path) -> None:
    log = tmp_path / "x-prod-events-2024-01-01.log.gz"
    log.write_bytes(b"log")
    nightly_inputs.stage(tmp_path / "landing", [], [log], [])
    nightly_inputs.stage(tmp_path / "landing", [], [log], [])  # again: nothing to add
    staged = tmp_path / "landing" / "tracking-logs" / log.name
    assert staged.stat().st_ino == log.stat().st_ino
    assert (tmp_path / "landing" / "course-archives").is_dir()


def test_rows_in_and_out_of_transform_and_report() -> None:
    before = {"x_raw.events": 10, "x_staging.stg": 0}
    after = {"x_raw.events": 10, "x_staging.stg": 7, "x_marts.m": 3}
    delta = {"x_staging.stg": 7, "x_marts.m": 3}
    done = "... Done. PASS=5 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=8\n"
    transform = nightly.rows_in_out("transform", done, before, after, delta)
    assert (transform["rows_in"], transform["rows_out"]) == (10, 10)
    assert transform["summary"]["dbt_nodes"]["error"] == 1
    line = "olx-spark report: wrote i.html (overview) and 3 course run page(s) in c, 12 CSV file(s)"
    report = nightly.rows_in_out("report", line, after, after, {})
    assert (report["rows_in"], report["rows_out"]) == (3, 12)
    ingest = nightly.rows_in_out(
        "ingest_tracking_logs",
        'tail\n{"files_seen": 2, "loaded": 1, "rows_written": {"t": 40}}\n',
        {},
        {},
        {},
    )
    assert ingest["rows_in"]["loaded"] == 1 and ingest["rows_out"] == 40


def _chain(rows: int, loaded: int = 1, packages: int = 1) -> dict[str, Any]:
    step = {"exit_code": 0, "wall_s": 1.0, "cpu_s": {"jvm": 1.0}, "peak_rss_mib": 1.0}
    steps = {name: {**step, "rows_out": rows, "rows_in": {"loaded": 0}} for name in nightly.STEPS}
    steps["ingest_course_archives"]["rows_in"] = {"loaded": loaded}
    steps["ingest_data_packages"]["rows_in"] = {"files_seen": 21 + packages, "unchanged": 21}
    return nightly.chain_totals(steps)


def test_checks_catch_a_silent_no_op() -> None:
    inputs = {"archives_changed": 1, "packages": 1}
    good = {"night": 1, "inputs": inputs, "on_history": _chain(5), "on_empty": _chain(5)}
    result = {"history": _chain(5), "nights": [good]}
    assert nightly.checks(result) == []
    noop = {**good, "on_history": _chain(0, loaded=0, packages=0)}
    problems = nightly.checks({"history": _chain(5), "nights": [noop]})
    assert any("no new events" in p for p in problems)
    assert any("0 archives loaded" in p for p in problems)
    assert any("0 package files read" in p for p in problems)


@pytest.mark.e2e
@pytest.mark.skipif(
    not os.environ.get(WHOLE_RUN_ENV),
    reason=f"the whole run takes 10-40 minutes on 2 cores; set {WHOLE_RUN_ENV}=1 to run it",
)
def test_a_tiny_nightly_run(tmp_path: Path) -> None:
    """The whole benchmark at tiny sizes: 3 chains of 7 commands and a full rebuild, each a
    new JVM (about 10 minutes on 2 idle cores, 30-40 on a busy one): `e2e`, and opt-in so that
    `pytest tests/unit` stays fast."""
    out = tmp_path / "nightly.json"
    done = run_script(
        *("--history-days", "2", "--events-per-day", "300", "--courses", "2"),
        *("--nights", "1", "--learners", "60", "--work", str(tmp_path / "work")),
        *("--max-load", "1000", "--json", str(out), "--no-earlier-targets"),
        timeout=3600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert json.loads(out.read_text()) == result
    assert result["benchmark"] == "nightly" and result["checks"] == []
    assert result["night_cost_ratio"] > 0 and result["transform_incremental_over_full"] > 0
    assert {"nproc", "cpu_model"} <= result["machine"].keys()
    history = result["history"]["steps"]
    assert set(history) == set(nightly.STEPS)
    assert history["ingest_course_archives"]["rows_out"] > 0
    assert history["ingest_tracking_logs"]["rows_out"] > 0
    assert history["xapi"]["rows_out"] > 0
    (night,) = result["nights"]
    assert night["inputs"]["packages"] >= 1 and night["inputs"]["archives_changed"] == 1
    for side in ("on_history", "on_empty"):
        steps = night[side]["steps"]
        assert set(steps) == set(nightly.STEPS)
        assert all(s["exit_code"] == 0 and s["wall_s"] > 0 for s in steps.values())
        assert all(s["cpu_s"]["total"] > 0 for s in steps.values())
        assert steps["ingest_tracking_logs"]["rows_out"] > 0
        assert steps["ingest_data_packages"]["rows_in"]["loaded"] > 0
        assert night[side]["wall_s"] == pytest.approx(
            sum(s["wall_s"] for s in steps.values()), abs=0.05
        )
    assert result["full_refresh_transform"]["exit_code"] == 0


def _job_result(job_over_floor: float) -> dict[str, Any]:
    aggregate = {"wall_s_median": 58.1, "blocks_per_s_median": 7124.0}
    return {
        "by_master": {"local[2]": {"aggregate": aggregate, "runs": []}},
        "floor": {"seconds_median": 10.85},
        "job_over_floor": job_over_floor,
    }


def test_the_earlier_targets_read_from_the_two_benchmarks_results() -> None:
    """Issue 17, item 3: the course job / floor (at most 4) and landing events/s (at least
    100,000), from `bench_job.py --floor` and `bench_tracking.py` JSON, each judged."""
    tracking = {"landing": {"events": 1_000_000, "events_per_s_job": 37_351.0}}
    missed = nightly_targets.figures(_job_result(5.35), tracking)
    assert missed == {
        "course_job_wall_s": 58.1,
        "course_job_blocks_per_s": 7124.0,
        "course_floor_s": 10.85,
        "tracking_events": 1_000_000,
        "targets": {
            "course_job_over_floor": {"at_most": 4.0, "value": 5.35, "met": False},
            "tracking_landing_events_per_s": {
                "at_least": 100_000.0,
                "value": 37_351.0,
                "met": False,
            },
        },
    }
    fast = {"landing": {"events": 10, "events_per_s_job": 100_000.0}}
    met = nightly_targets.figures(_job_result(4.0), fast)["targets"]
    assert [t["met"] for t in met.values()] == [True, True]  # both bounds inclusive
    lines = nightly_targets.summary_lines(missed)
    assert "job / floor 5.35 (target <= 4.0)" in lines[0]
    assert lines[1] == "tracking landing: 37,351 events/s (target >= 100,000)"


def test_a_failing_sub_benchmark_names_its_log(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"bench_job\.py failed .*job\.log"):
        nightly_targets.run_benchmark("bench_job.py", ["--no-such-option"], tmp_path / "job.log")
    assert "usage" in (tmp_path / "job.log").read_text()
