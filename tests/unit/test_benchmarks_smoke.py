"""The benchmark scripts keep working: the parser and floor benchmarks on two small generated
archives (seconds, no Spark), their `--help`, and the JSON line each prints last."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from olx_spark.synth import generate_corpus

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench_corpus")
    generate_corpus(out, 2, seed=11, scale="small")
    return out


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def last_json(stdout: str) -> dict[str, Any]:
    line = stdout.strip().splitlines()[-1]
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def assert_positive(result: dict[str, Any], *keys: str) -> None:
    for key in keys:
        assert isinstance(result[key], int | float), key
        assert result[key] > 0, (key, result[key])


@pytest.mark.parametrize(
    "script",
    [
        "bench_parser.py",
        "bench_floor.py",
        "bench_baseline.py",
        "bench_job.py",
        "bench_synth.py",
        "bench_tracking.py",
        "bench_olx_export.py",
    ],
)
def test_help(script: str) -> None:
    done = run_script(script, "--help")
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_parser_benchmark(corpus: Path, tmp_path: Path) -> None:
    json_out = tmp_path / "parser.json"
    done = run_script(
        "bench_parser.py",
        str(corpus),
        "--repeat",
        "1",
        "--with-arrow",
        "--phases",
        "--profile",
        str(tmp_path / "parser.pstats"),
        "--json-out",
        str(json_out),
    )
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert result["benchmark"] == "parser"
    assert result["archives"] == 2
    assert result["rejected"] == 0
    assert_positive(
        result,
        "blocks",
        "compressed_bytes",
        "uncompressed_bytes",
        "seconds_median",
        "blocks_per_s",
        "compressed_mb_per_s",
        "uncompressed_mb_per_s",
        "peak_rss_mib",
    )
    assert result["uncompressed_bytes"] > result["compressed_bytes"]
    assert len(result["load_average_before"]) == 3
    assert {"nproc", "cpu_model", "python", "memory_total_gb"} <= result["machine"].keys()
    assert result["profile"]["top_self"] and result["profile"]["areas_pct"]
    assert 0 < sum(result["phases_pct"].values()) <= 100.5
    assert json.loads(json_out.read_text()) == result
    assert "blocks/s" in done.stdout


@pytest.mark.parametrize("hash_bytes", [False, True])
def test_floor_benchmark(corpus: Path, hash_bytes: bool) -> None:
    done = run_script(
        "bench_floor.py",
        str(corpus),
        "--processes",
        "2",
        "--repeat",
        "1",
        *(["--hash"] if hash_bytes else []),
    )
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert result["benchmark"] == "floor"
    assert result["archives"] == 2
    assert result["processes"] == 2
    assert result["hash_bytes"] is hash_bytes
    assert_positive(
        result,
        "members",
        "xml_files",
        "xml_bytes",
        "compressed_bytes",
        "uncompressed_bytes",
        "seconds_median",
        "archives_per_s",
        "compressed_mb_per_s",
        "uncompressed_mb_per_s",
    )
    assert result["compressed_bytes"] == sum(p.stat().st_size for p in corpus.glob("*.tar.gz"))


def test_floor_and_parser_agree_on_uncompressed_size(corpus: Path) -> None:
    parser = last_json(run_script("bench_parser.py", str(corpus), "--repeat", "1").stdout)
    floor = last_json(run_script("bench_floor.py", str(corpus), "--repeat", "1").stdout)
    # The parser reads the size from the gzip trailer; the floor counts what it inflates.
    assert floor["uncompressed_bytes"] == parser["uncompressed_bytes"] > 0
    assert floor["compressed_bytes"] == parser["compressed_bytes"] > 0


def test_baseline_makes_one_row_per_xml_file_the_floor_parses(corpus: Path) -> None:
    done = run_script("bench_baseline.py", str(corpus), "--repeat", "1")
    assert done.returncode == 0, done.stderr
    baseline = last_json(done.stdout)
    floor = last_json(run_script("bench_floor.py", str(corpus), "--repeat", "1").stdout)
    assert (baseline["benchmark"], baseline["archives"], baseline["processes"]) == (
        "baseline",
        2,
        1,
    )
    assert baseline["rows"] == floor["xml_files"] > 0
    assert baseline["xml_errors"] == 0
    assert_positive(baseline, "seconds_median", "rows_per_s")


def test_rss_sampler_classifies_this_process() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from benchlib import RssSampler, classify, process_tree
    finally:
        sys.path.remove(str(BENCHMARKS))
    import os

    tree = process_tree(os.getpid())
    assert tree and tree[0].pid == os.getpid() and tree[0].rss_bytes > 0
    assert classify(tree[0], os.getpid(), set()) == "driver"
    sampler = RssSampler(os.getpid(), interval=0.01)
    sampler.sample()
    assert sampler.peaks.driver > 0 and sampler.peaks.samples == 1


def test_bench_job_config_and_pinning(tmp_path: Path) -> None:
    """`bench_job.py --ingest` reaches the job's config; `--pin-cpus` gives a master as many
    CPUs as it has cores (a child started with them sees exactly those)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from bench_job import pinned_cpus, write_config
    finally:
        sys.path.remove(str(BENCHMARKS))
    import os

    from olx_spark.config import load_config

    path = tmp_path / "job.toml"
    write_config(path, "local[1]", {"spark.ui.enabled": "false"}, {"max_parse_tasks": 16})
    config = load_config(path)
    assert config.spark.master == "local[1]"
    assert config.ingest.max_parse_tasks == 16
    assert config.spark.conf["spark.ui.enabled"] == "false"

    allowed = os.sched_getaffinity(0)
    one = pinned_cpus("local[1]")
    assert len(one) == 1 and one <= allowed
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, one),
    )
    assert json.loads(done.stdout) == sorted(one)
    with pytest.raises(SystemExit, match="needs"):
        pinned_cpus(f"local[{len(allowed) + 1}]")


def test_olx_export_benchmark(corpus: Path) -> None:
    done = run_script("bench_olx_export.py", str(corpus))
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert (result["benchmark"], result["archives"], result["round_trips_equal"]) == (
        "olx_export",
        2,
        2,
    )
    assert_positive(result, "blocks", "source_mb", "export_mb", "peak_rss_mib")
    assert all(v > 0 for v in result["blocks_per_s"].values())
