"""The guard in tests/conftest.py: under `--dist loadgroup`, a test whose xdist group was lost
(no `@group` suffix in its node id) fails in setup, before its fixtures run, saying what to install; with
the group kept, it runs. Each case is a real inner pytest run over a two-test suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GROUPS_LOST_MESSAGE

REPO = Path(__file__).resolve().parents[2]

INNER_TESTS = """
import pytest

@pytest.mark.xdist_group("reference_world")
def test_grouped():
    pass

def test_alone():
    pass
"""

# The hooks under test, and (for the "lost" case) what a worker sees when xdist drops the
# suffix: a worker id and the loadgroup option, but node ids without `@reference_world`.
INNER_CONFTEST = """
from tests.conftest import pytest_collection_modifyitems, pytest_runtest_setup  # noqa: F401

def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): a test group")
    if {lost!r}:
        config.option.loadgroup = True
"""


def _inner_run(folder: Path, *, lost: bool, args: list[str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "test_inner.py").write_text(INNER_TESTS)
    (folder / "conftest.py").write_text(INNER_CONFTEST.format(lost=lost))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTEST_XDIST_WORKER", None)
    if lost:
        env["PYTEST_XDIST_WORKER"] = "gw0"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rE", *args, str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_lost_group_fails_its_tests_saying_why(tmp_path):
    run = _inner_run(tmp_path / "lost", lost=True, args=["-p", "no:xdist"])
    assert run.returncode == 1, run.stdout
    assert "1 passed, 1 error" in run.stdout  # failed in setup: an error, before any fixture
    assert "ERROR test_inner.py::test_grouped" in run.stdout
    assert GROUPS_LOST_MESSAGE[:60] in run.stdout.replace("\n", " ")


def test_a_kept_group_runs(tmp_path):
    run = _inner_run(tmp_path / "kept", lost=False, args=["-n", "1", "--dist", "loadgroup"])
    assert run.returncode == 0, run.stdout
    assert "2 passed" in run.stdout
