"""Killing a job at a chosen moment, for the kill-and-rerun tests: a watcher thread that SIGKILLs
the job's whole process group (driver and JVM) as soon as a given Delta commit file exists."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path


def kill_when_committed(
    proc: subprocess.Popen[bytes], commit: Path, outcome: list[str], timeout_s: float = 300
) -> None:
    """Wait for `commit` to exist, then SIGKILL `proc`'s process group; what happened goes into
    `outcome` ("killed", or why not). The group is killed whatever happened."""
    deadline = time.monotonic() + timeout_s
    try:
        while not commit.exists():
            if proc.poll() is not None:
                outcome.append(f"the job ended before it wrote {commit.name}")
                return
            if time.monotonic() > deadline:
                outcome.append(f"the job never wrote {commit.name}")
                return
            time.sleep(0.05)
        outcome.append("killed")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_killer(
    proc: subprocess.Popen[bytes], commit: Path, outcome: list[str]
) -> threading.Thread:
    """`kill_when_committed` on a thread of its own (the test works on meanwhile)."""
    killer = threading.Thread(target=kill_when_committed, args=(proc, commit, outcome))
    killer.start()
    return killer
