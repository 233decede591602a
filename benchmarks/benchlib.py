"""Shared helpers of the benchmark scripts: the machine, the load, corpora, RSS sampling, output.

Nothing here imports Spark. The RSS sampler reads `/proc` directly (no psutil): every
`interval` seconds it walks the process tree under one root pid and records each process's
resident set size, classified as the JVM (`java`), the Python driver (the root process, or any
Python process that is not a PySpark daemon/worker) or a Python worker (`pyspark.daemon`,
`pyspark.worker` and the processes they fork).
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MB = 1_000_000
MIB = 1024 * 1024
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (as `uptime` shows them)."""
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def wait_for_low_load(threshold: float, max_wait_s: float, quiet: bool = False) -> dict[str, Any]:
    """Wait (up to `max_wait_s`) until the 1-minute load average is at most `threshold`.

    Returns what happened, so the result can say under which load it was measured.
    """
    started = time.monotonic()
    while os.getloadavg()[0] > threshold and time.monotonic() - started < max_wait_s:
        if not quiet:
            print(f"# load {os.getloadavg()[0]:.2f} > {threshold}; waiting", file=sys.stderr)
        time.sleep(10)
    return {
        "threshold": threshold,
        "waited_s": round(time.monotonic() - started, 1),
        "load_at_start": load_average(),
    }


def _command_output(args: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info(with_java: bool = False) -> dict[str, Any]:
    """The machine and software a figure was measured on."""
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "memory_total_gb": round(_memory_total_bytes() / 1024**3, 1),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "lxml": _package_version("lxml"),
        "pyarrow": _package_version("pyarrow"),
        "kernel": platform.release(),
    }
    if with_java:
        info["java"] = _command_output(["java", "-version"])
        info["pyspark"] = _package_version("pyspark")
        info["delta_spark"] = _package_version("delta-spark")
    return info


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spark_result_header(benchmark: str, script: str, argv: Sequence[str] | None) -> dict[str, Any]:
    """The first keys of a Spark benchmark's result: its name, when, the machine (with Java and
    the Spark packages) and the command as run (`script` is its path from the repository)."""
    return {
        "benchmark": benchmark,
        "date": now_utc(),
        "machine": machine_info(with_java=True),
        "command": " ".join([script, *(argv or sys.argv[1:])]),
    }


def list_archives(corpus: Path, limit: int | None = None) -> list[Path]:
    """The corpus's archives (`*.tar.gz`, `*.tgz`, `*.tar`, recursively), sorted by path."""
    if not corpus.is_dir():
        raise SystemExit(f"{corpus} is not a folder of course archives")
    found = sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES)
    )
    if not found:
        raise SystemExit(f"no *.tar.gz/*.tgz/*.tar archives under {corpus}")
    return found[:limit] if limit else found


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def rounded(value: float, digits: int = 3) -> float:
    return round(value, digits)


def emit(result: dict[str, Any], summary_lines: list[str], json_out: Path | None) -> None:
    """Print the human summary, then one JSON line (the last line of stdout, prefix-free)."""
    for line in summary_lines:
        print(line)
    line = json.dumps(result, sort_keys=False, default=str)
    print(line, flush=True)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2, default=str) + "\n")


def last_json_line(text: str) -> dict[str, Any]:
    """The last line of `text` that is a JSON object (how the scripts' output is read back)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    raise ValueError("no JSON object line in the output")


# ---------------------------------------------------------------------------------------------
# /proc sampling of a process tree
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    rss_bytes: int
    cmdline: str
    cpu_s: float = 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _read_stat(pid: int) -> tuple[int, float] | None:
    """(ppid, CPU seconds used so far: user + system) of a process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    after = stat[stat.rfind(")") + 2 :].split()
    return int(after[1]), (int(after[11]) + int(after[12])) / CLOCK_TICKS


def _read_proc(pid: int, ppid: int, cpu_s: float) -> ProcInfo | None:
    # The command line is read every time: `spark-class` (bash) execs `java` in the same pid.
    try:
        statm = Path(f"/proc/{pid}/statm").read_text().split()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    cmdline = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return ProcInfo(pid, ppid, int(statm[1]) * PAGE_BYTES, cmdline, cpu_s)


def process_tree(root: int) -> list[ProcInfo]:
    """`root` and every descendant alive now (only their statm and cmdline are read)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _read_stat(int(entry.name))
            if stat is not None:
                stats[int(entry.name)] = stat
                children.setdefault(stat[0], []).append(int(entry.name))
    tree: list[ProcInfo] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        ppid, cpu_s = stats.get(pid, (0, 0.0))
        info = _read_proc(pid, ppid, cpu_s)
        if info is not None:
            tree.append(info)
            stack.extend(children.get(pid, ()))
    return tree


_WORKER = re.compile(r"pyspark[./](daemon|worker)")


def classify(info: ProcInfo, root: int, worker_pids: set[int]) -> str:
    """`jvm`, `driver`, `worker` or `other` (a shell, a launcher script)."""
    argv0 = info.cmdline.split(" ", 1)[0]
    if argv0.endswith("/java") or argv0 == "java":
        return "jvm"
    if info.ppid in worker_pids or _WORKER.search(info.cmdline):
        return "worker"
    if info.pid == root or "python" in argv0:
        return "driver"
    return "other"


@dataclass
class RssPeaks:
    """Peak RSS per role over a run, and the peak of the whole tree's sum at one instant."""

    samples: int = 0
    jvm: int = 0
    driver: int = 0
    workers_sum: int = 0
    worker_single: int = 0
    tree_sum: int = 0
    worker_processes_seen: int = 0
    per_worker_peak: dict[int, int] = field(default_factory=dict)
    # Last CPU seconds seen per pid, and its role: summed, the CPU each role used (a process's
    # last interval before it exits is missed).
    cpu_by_pid: dict[int, tuple[str, float]] = field(default_factory=dict)

    def cpu_by_role(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for role, seconds in self.cpu_by_pid.values():
            totals[role] = totals.get(role, 0.0) + seconds
        return {role: round(seconds, 1) for role, seconds in sorted(totals.items())}

    def as_mib(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "jvm_peak_mib": round(self.jvm / MIB, 1),
            "python_driver_peak_mib": round(self.driver / MIB, 1),
            "driver_jvm_plus_python_peak_mib": round((self.jvm + self.driver) / MIB, 1),
            "python_workers_sum_peak_mib": round(self.workers_sum / MIB, 1),
            "python_worker_single_peak_mib": round(self.worker_single / MIB, 1),
            "tree_sum_peak_mib": round(self.tree_sum / MIB, 1),
            "python_worker_processes_seen": self.worker_processes_seen,
            "cpu_s_by_role": self.cpu_by_role(),
        }


class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds on a background thread."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peaks = RssPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._worker_pids: set[int] = set()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def role_of(self, info: ProcInfo) -> str:
        """The role a process is counted under (subclasses may add roles of their own)."""
        return classify(info, self.root, self._worker_pids)

    def sampled(self, totals: dict[str, int]) -> None:
        """Called after each sample with the RSS summed per role (for subclasses)."""

    def sample(self) -> None:
        totals: dict[str, int] = {"jvm": 0, "driver": 0, "worker": 0, "other": 0}
        peaks = self.peaks
        for info in process_tree(self.root):
            role = self.role_of(info)
            if role == "worker":
                self._worker_pids.add(info.pid)
                peaks.worker_single = max(peaks.worker_single, info.rss_bytes)
                previous = peaks.per_worker_peak.get(info.pid, 0)
                peaks.per_worker_peak[info.pid] = max(previous, info.rss_bytes)
            totals[role] = totals.get(role, 0) + info.rss_bytes
            peaks.cpu_by_pid[info.pid] = (role, info.cpu_s)
        peaks.samples += 1
        peaks.jvm = max(peaks.jvm, totals["jvm"])
        peaks.driver = max(peaks.driver, totals["driver"])
        peaks.workers_sum = max(peaks.workers_sum, totals["worker"])
        peaks.tree_sum = max(peaks.tree_sum, sum(totals.values()))
        peaks.worker_processes_seen = len(self._worker_pids)
        self.sampled(totals)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def self_peak_rss_mib() -> float:
    """This process's peak RSS so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0
