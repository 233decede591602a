"""`olx-spark demo` (what `make demo` runs): every step of the README on bundled samples.

A new user should see the whole system work on one machine before giving it any data of their
own. The demo generates, in a temporary folder, tracking logs and a GPG-encrypted research
data package for the sample course archives (`samples/course-archives`), with a throwaway key
pair in a keyring of its own, then runs the same commands a user would: ingest the archives,
the package and the logs, make xAPI statements, `transform` (dbt: staging, intermediate,
marts) and `report`, and ends with what landed where. The steps run in this one process, on
one Spark session (each `olx-spark` command started on its own pays for a new JVM); each step
prints the command that does the same on its own. The temporary folder, key and gpg-agent are
removed at the end, whatever happens, unless `--inputs DIR` asks to keep the inputs.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from olx_spark.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from olx_spark.synth.inputs import LearningInputs

LMS_ROOT_URL = "https://courses.example.org"
PASSPHRASE_ENV = "OLX_SPARK_DEMO_GPG_PASSPHRASE"  # the throwaway key's; never the user's own
SALT_ENV = "OLX_SPARK_XAPI_SALT"
EDXORG = ("--platform", "edxorg", "--source-system", "prod")

DEMO_DESCRIPTION = """\
Run the whole pipeline on the bundled sample course archives, in one process:

  1. olx-spark synth: tracking logs and a GPG-encrypted research data package for the sample
     courses (same learners in both; a throwaway key in a temporary keyring)
  2. olx-spark ingest course-archives / data-packages / tracking-logs
  3. olx-spark xapi
  4. olx-spark transform (dbt build: staging, intermediate, marts, and their tests)
  5. olx-spark report

then print what landed in which tables, the marts built, and where the report is. The
generated inputs are removed at the end unless --inputs DIR keeps them.
"""


@dataclass(frozen=True)
class DemoOptions:
    archives: str = "samples/course-archives"
    report: str = "report"
    learners: int = 500
    days: int = 56
    events_per_day: int = 800
    seed: int = 0
    inputs: str | None = None  # keep the generated inputs here


DEFAULTS = DemoOptions()


def _say(text: str = "") -> None:
    print(text, flush=True)


def _command(argv: list[str]) -> str:
    return "olx-spark " + " ".join(shlex.quote(a) for a in argv)


def run_demo(options: DemoOptions, config_file: str | None, warehouse: str | None) -> int:
    """Run the demo; returns the exit code of the first failing step, else 0."""
    started = time.perf_counter()
    try:
        config = load_config(config_file, warehouse=warehouse)
    except ConfigError as exc:
        _say(f"olx-spark demo: {exc}")
        return 2
    archives = Path(options.archives)
    if not sorted(archives.glob("*.tar.gz")):
        _say(f"olx-spark demo: no course archives in {archives} (run it from the repository)")
        return 2
    keep = options.inputs is not None
    root = Path(options.inputs) if keep else _scratch(config)
    common = ["--warehouse", config.warehouse.dir]
    if config_file:
        common += ["--config", config_file]
    previous = {name: os.environ.get(name) for name in (PASSPHRASE_ENV, SALT_ENV)}
    keyring_home: str | None = None
    handler = _on_terminate(_terminated)  # so that the cleanup below runs
    try:
        inputs = _synth(options, archives, root)
        if inputs.keyring is not None:
            keyring_home = inputs.keyring.home
            os.environ[PASSPHRASE_ENV] = inputs.keyring.passphrase or ""
        # The xAPI actors' pseudonyms need a secret salt; a user's own one is kept.
        os.environ.setdefault(SALT_ENV, secrets.token_hex(16))
        _start_spark(config)
        gpg = ["--gnupg-home", keyring_home or "", "--passphrase-env", PASSPHRASE_ENV]
        steps: list[tuple[str, list[str]]] = [
            ("the sample course archives", ["ingest", "course-archives", str(archives), *EDXORG]),
            ("the research data packages", ["ingest", "data-packages", inputs.packages_dir, *gpg]),
            ("the tracking logs", ["ingest", "tracking-logs", inputs.logs_dir]),
            ("xAPI statements from the events", ["xapi", "--lms-root-url", LMS_ROOT_URL]),
            ("dbt: staging, intermediate, marts", ["transform"]),
            ("the report", ["report", "--out", options.report]),
        ]
        for number, (what, argv) in enumerate(steps, start=2):
            code = _step(number, len(steps) + 1, what, [*argv, *common])
            if code:
                _say(f"olx-spark demo: step {number} failed (exit {code}); see the output above")
                return code
        _summary(config, options.report, started, root if keep else None)
        return 0
    finally:
        if handler is not None:
            _on_terminate(handler)
        if keyring_home:
            from olx_spark.synth.packages import stop_agent

            stop_agent(keyring_home)
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _on_terminate(handler: Any) -> Any:
    """Set the SIGTERM handler (only the main thread can); returns the one it replaces."""
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _scratch(config: Config) -> Path:
    """A private temporary folder for the generated inputs, the same for the same warehouse:
    a second demo on a warehouse lists the same files (same names, sizes and times), which the
    ingests then know as already loaded."""
    digest = hashlib.sha256(str(Path(config.warehouse.dir).resolve()).encode()).hexdigest()
    root = Path(tempfile.gettempdir()) / f"olx-spark-demo-{digest[:12]}"
    shutil.rmtree(root, ignore_errors=True)  # left by a demo that was killed
    root.mkdir(mode=0o700)
    return root


def _start_spark(config: Config) -> None:
    """Start the one Spark session every step will use, without console progress bars (the
    steps print what they do)."""
    from olx_spark.spark.session import get_session

    if config.spark.mode == "local":
        conf = {"spark.ui.showConsoleProgress": "false", **config.spark.conf}
        get_session(replace(config, spark=replace(config.spark, conf=conf)))


def _synth(options: DemoOptions, archives: Path, root: Path) -> LearningInputs:
    from olx_spark.synth.inputs import write_learning_inputs

    argv = [
        "synth",
        str(root),
        "--archives",
        str(archives),
        "--learners",
        str(options.learners),
        "--days",
        str(options.days),
        "--events-per-day",
        str(options.events_per_day),
        "--seed",
        str(options.seed),
    ]
    _heading(1, 7, "tracking logs and a data package for the sample courses", argv)
    inputs = write_learning_inputs(
        root,
        sorted(archives.glob("*.tar.gz")),
        learners=options.learners,
        days=options.days,
        events_per_day=options.events_per_day,
        seed=options.seed,
        archives_dir=archives,
    )
    _say(inputs.render(passphrase=False))
    return inputs


def _heading(number: int, total: int, what: str, argv: list[str]) -> None:
    _say()
    _say(f"== [{number}/{total}] {what}")
    _say(f"$ {_command(argv)}")


def _step(number: int, total: int, what: str, argv: list[str]) -> int:
    from olx_spark.cli import main

    _heading(number, total, what, argv)
    step_started = time.perf_counter()
    code = main(argv)
    _say(f"   ({time.perf_counter() - step_started:.0f}s)")
    return code


def _summary(config: Config, report: str, started: float, kept: Path | None) -> None:
    from olx_spark.spark.session import get_session
    from olx_spark.transform import dbt_schema

    spark = get_session(config)
    raw, marts = config.warehouse.raw_schema, dbt_schema(config, "marts")
    _say()
    _say("== What the demo made")
    _say(f"Tables landed (schema {raw}, the non-empty ones), rows:")
    for name, rows in _counts(spark, raw, lambda n: True, keep_empty=False):
        _say(f"  {name:<58} {rows:>10,}")
    _say(f"Marts built (schema {marts}), rows:")
    for name, rows in _counts(spark, marts, lambda n: n.startswith("marts__"), keep_empty=True):
        _say(f"  {name:<58} {rows:>10,}")
    index = Path(report) / "index.html"
    _say(f"The report: {index.resolve()} (open it in a browser; CSVs in {Path(report) / 'data'})")
    _say(f'Warehouse: {config.warehouse.dir}; query it with olx-spark sql "SELECT ..."')
    if kept is not None:
        _say(f"Inputs kept in {kept} (logs, packages, the throwaway keyring)")
    _say(f"Demo took {time.perf_counter() - started:.0f}s.")


def _counts(
    spark: SparkSession, schema: str, wanted: Callable[[str], bool], *, keep_empty: bool
) -> list[tuple[str, int]]:
    """Row counts of the schema's tables (the empty ones too if `keep_empty`), in one query."""
    names = sorted(
        row.tableName
        for row in spark.sql(f"SHOW TABLES IN `{schema}`").collect()
        if not row.isTemporary and wanted(row.tableName)
    )
    if not names:
        return []
    query = " UNION ALL ".join(
        f"SELECT '{name}' AS name, count(*) AS n FROM `{schema}`.`{name}`" for name in names
    )
    counts = {row["name"]: int(row["n"]) for row in spark.sql(query).collect()}
    return [(name, counts.get(name, 0)) for name in names if keep_empty or counts.get(name)]
