"""`benchmarks/bench_tracking_floor.py` keeps working: a tiny generated log set through its three
steps (a subprocess with its own local Spark), and the JSON line it prints last."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from olx_spark.synth.tracking import generate_tracking_logs

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_tracking_floor.py"


def test_floor_counts_every_line_of_the_logs_in_each_step(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    generate_tracking_logs(logs, days=2, events_per_day=300, seed=5)
    expected = 0
    for log in sorted(logs.glob("*.log.gz")):
        expected += gzip.decompress(log.read_bytes()).count(b"\n")
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(logs),
            "--master",
            "local[1]",
            "--scratch",
            str(tmp_path / "scratch"),
            "--max-load",
            "1000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["benchmark"] == "tracking_logs_floor"
    assert result["files"] == 2 and result["lines"] == expected >= 600
    assert set(result["steps"]) == {"text", "from_json", "parquet"}
    for step in result["steps"].values():
        assert step["seconds"] > 0 and step["lines_per_s"] > 0
    assert not (tmp_path / "scratch").exists()  # the script cleans up after itself
