"""Two runs at once on one warehouse: they take turns, and a run that cannot get its turn says why.

Why this exists: a nightly run overlapping a backfill (two ingests of the same kind on the same
warehouse) must leave no duplicate and nothing missing, and the laptop's embedded Derby
metastore can be opened by one process at a time: before this module, a second process failed
after ~25 s with 20,000 lines of Derby and Hive stack traces ending in "Unable to instantiate
org.apache.hadoop.hive.ql.metadata.SessionHiveMetaStoreClient".

Two kinds of lock, both exclusive `flock`s on files, taken in this order (never the reverse, so
two processes can never wait for each other):
1. The metastore lock, `_locks/metastore.lock` next to the embedded Derby database (local
   sessions only), taken before a run and before the Spark session starts; once this process
   has opened the metastore it keeps the lock until it ends (Derby stays open as long as the
   JVM does). Any other olx-spark process on that warehouse waits.
2. One run lock per job, `{warehouse}/_locks/{raw_schema}.{job}.lock` (the folder can be set:
   `warehouse.lock_dir`), held for the Spark part of a run: from reading the ledger to its last
   commit. A second run of the same job waits, then reads the ledger again and finds what the
   first loaded already there.

Waiting is bounded by `[warehouse] lock_wait_seconds`; past it the run stops with
`RunLockTimeout`, whose message names the other run (pid, host, start, command), the setting,
and what to do. The lock is the operating system's: it goes with the process that held it
(killed or not), so there is never a stale lock to delete; a leftover lock file from a dead
process is simply taken over. A warehouse on S3 has no file locks. A local session keeps its
metastore on local disk even then (`session.metastore_home`), so commands on one machine still
take turns through the metastore lock; between machines, unless `lock_dir` names a folder every
run sees, what protects it is Delta's optimistic concurrency (a commit that
conflicts with another run's fails with `CommitConflictError`, and the ledger rows are an
insert-only MERGE, see `olx_spark.spark.delta.append_ledger_rows`), within the limits of
Delta's S3 log store (one writing driver at a time unless the DynamoDB log store is configured).

Pure Python (fcntl): testable without Spark.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from olx_spark.config import Config

try:
    import fcntl
except ImportError:  # not POSIX: no file locks; Delta's own conflict checks still apply
    fcntl = None  # type: ignore[assignment]

SETTING_WAIT = "lock_wait_seconds under [warehouse] in the config file"
SETTING_DIR = "lock_dir under [warehouse]"
POLL_SECONDS = 0.2
LOCKS_FOLDER = "_locks"
METASTORE_LOCK = "metastore"


class ConcurrentRunError(RuntimeError):
    """Another run got in the way of this one; nothing of this run's unfinished work counts, and
    running the same command again completes it. `exit_code` is sysexits' EX_TEMPFAIL (75)."""

    exit_code = 75


class RunLockTimeout(ConcurrentRunError):
    """Another run still held the lock after `lock_wait_seconds`."""


class MetastoreInUseError(ConcurrentRunError):
    """The embedded metastore is open in a process that does not take olx-spark's lock."""


class CommitConflictError(ConcurrentRunError):
    """Delta refused a commit of this run because another run wrote the same rows meanwhile."""


def _say(line: str) -> None:
    print(f"olx-spark: {line}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Who holds a lock: written into the lock file by its holder, read by whoever waits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    pid: int | None = None
    host: str = ""
    started_at: str = ""  # ISO 8601, UTC
    command: str = ""

    @staticmethod
    def me() -> Holder:
        argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
        return Holder(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            command=" ".join(argv)[:300],
        )

    @staticmethod
    def parse(text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return Holder(
                pid=int(data["pid"]) if data.get("pid") is not None else None,
                host=str(data.get("host", "")),
                started_at=str(data.get("started_at", "")),
                command=str(data.get("command", "")),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def to_json(self) -> str:
        return json.dumps(
            {
                "pid": self.pid,
                "host": self.host,
                "started_at": self.started_at,
                "command": self.command,
            }
        )

    def describe(self) -> str:
        since = self.started_at.replace("T", " ").replace("+00:00", " UTC")
        where = f"pid {self.pid} on {self.host}" if self.host else f"pid {self.pid}"
        return f"{where}, holding it since {since}: `{self.command}`"


def read_holder(path: Path) -> Holder | None:
    """Who says they hold the lock at `path` (None: nobody has written it, or it is unreadable).
    Only meaningful while the lock is held: a holder empties the file when it lets go."""
    try:
        return Holder.parse(path.read_text(encoding="utf-8"))
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
# One lock file
# ---------------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """This process's hold on one lock file: threads of the process take turns on `turn`;
    `depth` counts nested holds by the thread that has it (the file is locked once)."""

    turn: threading.RLock = field(default_factory=threading.RLock)
    fd: int | None = None
    depth: int = 0
    for_process: bool = False  # held until the process ends (the metastore lock)


_entries: dict[str, _Entry] = {}
_entries_guard = threading.Lock()


def _entry(path: Path) -> _Entry:
    with _entries_guard:
        return _entries.setdefault(str(path), _Entry())


@dataclass(frozen=True)
class LockSpec:
    """A lock file and the words for it: what a waiting run is told, and the advice given when
    the wait runs out."""

    path: Path
    what: str  # who is waited for, e.g. "another run with the `xapi` lock of this warehouse"
    why: str  # why runs take turns, one sentence
    advice: str  # what to do instead of waiting, one sentence ("" = nothing more)


# What flock raises on a file system without locks (some FUSE and network mounts).
NO_LOCKS_ERRNOS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def _try_flock(fd: int) -> bool:
    """True if this process now holds the lock on `fd`; False if another process does."""
    assert fcntl is not None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _locks_unsupported(spec: LockSpec, exc: OSError, on_wait: Callable[[str], None]) -> None:
    on_wait(
        f"the file system of {spec.path.parent} has no file locks ({exc.strerror}): runs there "
        f"do not take turns, and only Delta's conflict checks keep two at once apart. Point "
        f"{SETTING_DIR} at a local folder every run shares to have them take turns."
    )


def _timeout_message(spec: LockSpec, holder: Holder | None, waited: float) -> str:
    other = holder.describe() if holder else "another process (it has not said which yet)"
    parts = [
        f"{spec.what} has not ended after {waited:.0f} s of waiting: {other}."
        if waited > 0
        else f"{spec.what} is running ({other}), and this run does not wait for it.",
        spec.why,
        "Let that run finish, then run this command again: it picks up whatever is still "
        "missing, and nothing twice.",
        f"To wait longer, raise {SETTING_WAIT} (now {waited:.0f} s; 0 = do not wait).",
    ]
    if spec.advice:
        parts.append(spec.advice)
    parts.append(
        "The lock is the operating system's and ends with the process that holds it: there is "
        f"no lock file to delete ({spec.path})."
    )
    return " ".join(parts)


def _flock_waiting(spec: LockSpec, wait_seconds: float, on_wait: Callable[[str], None]) -> float:
    """Lock `spec.path` for this process, waiting up to `wait_seconds` for another process to let
    go; returns the seconds waited (0.0: it was free). The holder's details go into the file
    once it is ours."""
    spec.path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(spec.path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    announced = False
    try:
        while not _try_flock(fd):
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise RunLockTimeout(_timeout_message(spec, read_holder(spec.path), wait_seconds))
            if not announced:
                holder = read_holder(spec.path)
                other = holder.describe() if holder else "another process"
                on_wait(
                    f"waiting for {spec.what} to end ({other}). {spec.why} Waiting up to "
                    f"{wait_seconds:.0f} s ({SETTING_WAIT})."
                )
                announced = True
            time.sleep(min(POLL_SECONDS, max(wait_seconds - waited, 0.01)))
    except OSError as exc:
        if exc.errno not in NO_LOCKS_ERRNOS:
            os.close(fd)
            raise
        _locks_unsupported(spec, exc, on_wait)
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, Holder.me().to_json().encode(), 0)
    _entry(spec.path).fd = fd
    if not announced:
        return 0.0
    waited = time.monotonic() - started
    on_wait(f"the other run has finished (waited {waited:.0f} s); going on")
    return waited


def _unflock(entry: _Entry) -> None:
    """Let go: the file emptied first (whoever reads it next must not take us for the holder);
    closing the file releases the lock."""
    assert entry.fd is not None
    fd, entry.fd = entry.fd, None
    try:
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)


@contextlib.contextmanager
def holding(
    spec: LockSpec, wait_seconds: float, on_wait: Callable[[str], None] = _say
) -> Iterator[float]:
    """Hold the lock `spec` for the block; yields the seconds waited for it (0.0: it was free).
    Re-entrant in a thread; other threads of the process wait their turn as processes do."""
    if fcntl is None:
        yield 0.0
        return
    entry = _entry(spec.path)
    started = time.monotonic()
    waited = 0.0
    if not entry.turn.acquire(blocking=False):
        if not (wait_seconds > 0 and entry.turn.acquire(timeout=wait_seconds)):
            raise RunLockTimeout(_timeout_message(spec, Holder.me(), wait_seconds))
        waited = time.monotonic() - started
    try:
        if entry.fd is None:
            waited += _flock_waiting(spec, max(wait_seconds - waited, 0.0), on_wait)
        entry.depth += 1
        try:
            yield waited
        finally:
            entry.depth -= 1
            if entry.depth == 0 and not entry.for_process and entry.fd is not None:
                _unflock(entry)
    finally:
        entry.turn.release()


def hold_for_process(
    spec: LockSpec, wait_seconds: float, on_wait: Callable[[str], None] = _say
) -> float:
    """Hold the lock `spec` from now until the process ends (no-op if it already does); returns
    the seconds waited. Any thread of the process counts as holding it."""
    if fcntl is None:
        return 0.0
    entry = _entry(spec.path)
    with entry.turn:
        if entry.for_process:
            return 0.0
        waited = 0.0 if entry.fd is not None else _flock_waiting(spec, wait_seconds, on_wait)
        entry.for_process = True
        return waited


# ---------------------------------------------------------------------------------------------
# Which locks a run takes, from the config
# ---------------------------------------------------------------------------------------------


def lock_folder(config: Config) -> Path | None:
    """Where the run locks of this warehouse live: `warehouse.lock_dir`, else `_locks` in a local
    warehouse folder; None for a warehouse on S3/DBFS/HDFS without `lock_dir` (no file locks)."""
    from olx_spark.spark.session import is_local_path, warehouse_location

    if config.warehouse.lock_dir:
        return Path(config.warehouse.lock_dir).expanduser().resolve()
    if is_local_path(config.warehouse.dir):
        return Path(warehouse_location(config)) / LOCKS_FOLDER
    return None


def metastore_lock(config: Config) -> LockSpec | None:
    """The lock on the embedded Derby metastore of a local session (None: another metastore)."""
    from olx_spark.spark.session import embedded_derby_path

    if config.spark.mode != "local":
        return None
    derby = embedded_derby_path(config)
    if derby is None:
        return None
    return LockSpec(
        path=Path(derby).parent / LOCKS_FOLDER / f"{METASTORE_LOCK}.lock",
        what="another olx-spark process with this warehouse's metastore open",
        why=(
            f"The warehouse's embedded metastore (Derby, {derby}) admits one process at a "
            "time, so olx-spark commands on one local warehouse take turns."
        ),
        advice=(
            "To run jobs of different kinds side by side, give the warehouse a shared metastore "
            "(spark.hadoop.javax.jdo.option.ConnectionURL under [spark.conf], e.g. a Derby "
            "network server or PostgreSQL)."
        ),
    )


# The run locks, one per set of tables a job writes. Course exports found in data packages land
# in the edxorg course tables, so the package job takes that lock too.
DATA_PACKAGES = "data-packages"
TRACKING_LOGS = "tracking-logs"
XAPI = "xapi"


def course_archives(platform: str) -> str:
    return f"course-archives-{platform}"


def job_lock(config: Config, job: str) -> LockSpec | None:
    """The run lock `job` (e.g. `course_archives("edxorg")`) of this warehouse's raw schema,
    `{lock folder}/{raw_schema}.{job}.lock`; None when the warehouse has no lock folder."""
    folder = lock_folder(config)
    if folder is None:
        return None
    schema = re.sub(r"[^A-Za-z0-9_.-]+", "_", config.warehouse.raw_schema)
    return LockSpec(
        path=folder / f"{schema}.{job}.lock",
        what=f"another run with the `{job}` lock of this warehouse",
        why=(
            "Two runs of one job on the same warehouse take turns, so that no file is loaded twice."
        ),
        advice="",
    )


@dataclass(frozen=True)
class Turn:
    """What getting a run's locks took: seconds waited (0.0 = nobody was in the way)."""

    waited: float

    @property
    def waited_for_another_run(self) -> bool:
        return self.waited > 0.0


@contextlib.contextmanager
def run_turn(config: Config, *jobs: str, on_wait: Callable[[str], None] = _say) -> Iterator[Turn]:
    """Hold, for the block, what a run of `jobs` needs on this warehouse: the metastore lock
    (kept until the process ends once the run has opened the metastore: `hold_metastore`), then
    each job's run lock, sorted by name so that runs sharing some jobs cannot wait for each
    other. Raises `RunLockTimeout` when one is still taken after `lock_wait_seconds`."""
    wait = max(float(config.warehouse.lock_wait_seconds), 0.0)
    waited = 0.0
    specs = [metastore_lock(config), *(job_lock(config, job) for job in sorted(set(jobs)))]
    with contextlib.ExitStack() as stack:
        for spec in specs:
            if spec is not None:
                waited += stack.enter_context(holding(spec, wait, on_wait))
        yield Turn(waited)


def hold_metastore(config: Config, on_wait: Callable[[str], None] = _say) -> None:
    """Before a local session opens the embedded metastore: wait for any other olx-spark process
    that has it open, then keep the lock until this process ends, as Derby stays open as long as
    the JVM (`get_session` calls this; a no-op once this process holds it)."""
    meta = metastore_lock(config)
    if meta is not None:
        hold_for_process(meta, max(float(config.warehouse.lock_wait_seconds), 0.0), on_wait)


# ---------------------------------------------------------------------------------------------
# Delta's conflicts, in words
# ---------------------------------------------------------------------------------------------

# Delta's commit conflict exceptions (delta.exceptions and io.delta.exceptions).
DELTA_CONFLICTS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DeltaConcurrentModificationException",
)


def is_commit_conflict(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is Delta refusing a commit that conflicts with another
    writer's (matched by name: no Spark import here)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {cls.__name__ for cls in type(current).__mro__}
        if names & set(DELTA_CONFLICTS):
            return True
        if any(f"io.delta.exceptions.{name}" in str(current) for name in DELTA_CONFLICTS):
            return True
        current = current.__cause__ or current.__context__
    return False


def conflict_message(job_name: str, exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return (
        f"{job_name}: another run wrote the same tables at the same time and Delta refused this "
        f"run's commit ({first}). Nothing is lost or doubled: the other run's commits stand, and "
        "the rows this run had already replaced are the same files' rows. Run this command "
        "again: it loads only what is still missing. To make runs of one job take turns "
        f"instead, let them share a lock folder ({SETTING_DIR}; on a local warehouse they do "
        "by default)."
    )


@contextlib.contextmanager
def commit_conflicts_explained(job_name: str) -> Iterator[None]:
    """Turn a Delta commit conflict raised in the block into a `CommitConflictError` that says
    what happened and what to do."""
    try:
        yield
    except ConcurrentRunError:
        raise
    except Exception as exc:
        if is_commit_conflict(exc):
            raise CommitConflictError(conflict_message(job_name, exc)) from exc
        raise
