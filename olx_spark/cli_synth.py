"""`olx-spark synth` and `olx-spark demo`: generated inputs, and the whole pipeline on them.

`synth` writes generated course archives (as it always did), and with `--learners` also the
other two inputs for the same courses and learners: daily tracking logs and a weekly research
data package (`olx_spark.synth.inputs`). `demo` runs every step of the README on the bundled
sample archives in one process (`olx_spark.demo`). Both are registered on the main parser by
`add_synth_commands`; `run_synth_command` runs them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SYNTH_DESCRIPTION = """\
Write generated inputs to OUT_DIR. Deterministic for a seed.

Course archives only (as before):
  olx-spark synth OUT_DIR --courses N [--scale small|medium|large]
writes N Studio-style course exports (OLX with html, problems, videos, discussions, open
response assessments, library content, drafts, policies, pages and static files) to OUT_DIR.

All three inputs, for the same courses and learners (--learners):
  olx-spark synth OUT_DIR --courses N --learners L [--days D] [--events-per-day E]
  olx-spark synth OUT_DIR --archives DIR --learners L ...      (courses from existing archives)
writes OUT_DIR/course-archives/ (unless --archives), OUT_DIR/tracking-logs/ (one
{org}-prod-events-{date}.log.gz per org and day, the learners' activity in the courses' real
blocks) and OUT_DIR/data-packages/ (one {org}-{date}.zip per org: auth_user, profiles,
enrollments, user_id_map, certificates, courseware_studentmodule, course_structure, forum and
email opt-in, all agreeing with the logs). Package files are GPG-encrypted (--encrypt) to a
throwaway key made in OUT_DIR/gnupg (passphrase in OUT_DIR/gnupg-passphrase.txt), or to
--recipient in --gnupg-home. The plaintext is the same for the same seed and options; the
ciphertext differs on every run (GPG draws a new session key each time).
"""


def add_synth_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `olx-spark synth` and `olx-spark demo`."""
    synth = commands.add_parser(
        "synth",
        help="write generated course archives, and with --learners tracking logs and data "
        "packages for the same courses and learners (for demos, tests, benchmarks)",
        description=SYNTH_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    synth.add_argument("out_dir", metavar="OUT_DIR")
    source = synth.add_mutually_exclusive_group()
    source.add_argument("--courses", type=int, metavar="N", help="course archives to generate")
    source.add_argument(
        "--archives",
        metavar="DIR",
        help="with --learners: build the logs and packages on these archives (*.tar.gz) "
        "instead of generating courses",
    )
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    synth.add_argument("--workers", type=int, default=1, help="processes generating archives")
    synth.add_argument(
        "--big-static-mb",
        type=int,
        default=0,
        metavar="MB",
        help="also write one archive that is mostly static files of this total size",
    )
    world = synth.add_argument_group("tracking logs and data packages (with --learners)")
    world.add_argument("--learners", type=int, metavar="L", help="learners in the world")
    world.add_argument(
        "--days", type=int, default=56, metavar="D", help="days of logs per course (default 56)"
    )
    world.add_argument(
        "--events-per-day",
        type=int,
        default=800,
        metavar="E",
        help="target events per course and day (default 800; fewer when few learners are active)",
    )
    world.add_argument(
        "--encrypt",
        choices=("packages", "all", "none"),
        default="packages",
        help="what to GPG-encrypt: the package files (default), the logs too, or nothing",
    )
    world.add_argument(
        "--gnupg-home", metavar="DIR", help="keyring holding --recipient (default: a new one)"
    )
    world.add_argument("--recipient", metavar="KEY", help="key fingerprint or user id")
    add_demo_command(commands)


def add_demo_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from olx_spark.demo import DEFAULTS, DEMO_DESCRIPTION

    demo = commands.add_parser(
        "demo",
        help="run the whole pipeline on the bundled samples (what `make demo` runs)",
        description=DEMO_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--archives",
        default=DEFAULTS.archives,
        metavar="DIR",
        help=f"course archives to run on (default {DEFAULTS.archives})",
    )
    demo.add_argument(
        "--report", default=DEFAULTS.report, metavar="DIR", help="report folder (default report)"
    )
    demo.add_argument(
        "--learners",
        type=int,
        default=DEFAULTS.learners,
        metavar="L",
        help=f"learners in the generated logs and packages (default {DEFAULTS.learners})",
    )
    demo.add_argument(
        "--days",
        type=int,
        default=DEFAULTS.days,
        metavar="D",
        help=f"days of logs per course (default {DEFAULTS.days})",
    )
    demo.add_argument(
        "--events-per-day",
        type=int,
        default=DEFAULTS.events_per_day,
        metavar="E",
        help=f"target events per course and day (default {DEFAULTS.events_per_day})",
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--inputs",
        metavar="DIR",
        help="write the generated logs and packages (and the throwaway keyring) here and keep "
        "them (default: a temporary folder, removed at the end)",
    )
    demo.add_argument(
        "--warehouse", metavar="DIR", help="warehouse folder or URI (default ./warehouse)"
    )
    demo.add_argument("--config", metavar="FILE", help="TOML config file (see conf/local.toml)")


def run_synth_command(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from olx_spark.demo import DemoOptions, run_demo

        options = DemoOptions(
            archives=args.archives,
            report=args.report,
            learners=args.learners,
            days=args.days,
            events_per_day=args.events_per_day,
            seed=args.seed,
            inputs=args.inputs,
        )
        return run_demo(options, config_file=args.config, warehouse=args.warehouse)
    if args.learners is None:
        if args.archives:
            return _usage("--archives needs --learners (it builds logs and packages on them)")
        if args.courses is None:
            return _usage("say how many course archives to write (--courses N)")
        return _archives_only(args, Path(args.out_dir))
    return _all_inputs(args)


def _usage(message: str) -> int:
    print(f"olx-spark synth: {message}", file=sys.stderr)
    return 2


def _archives_only(args: argparse.Namespace, out_dir: Path) -> int:
    from olx_spark.synth import generate_corpus

    summary = generate_corpus(
        out_dir,
        args.courses,
        seed=args.seed,
        scale=args.scale,
        big_static_bytes=args.big_static_mb * 1024 * 1024,
        workers=args.workers,
    )
    facts = summary.to_dict()
    print(f"wrote {facts['archive_count']:,} archives to {out_dir} in {facts['seconds']:.1f}s")
    print(f"  blocks              {facts['block_count']:>14,}")
    print(f"  compressed bytes    {facts['compressed_bytes']:>14,}")
    print(f"  uncompressed bytes  {facts['uncompressed_bytes']:>14,}")
    print(f"  static bytes        {facts['static_bytes']:>14,}")
    return 0


def _all_inputs(args: argparse.Namespace) -> int:
    from olx_spark.synth.courseware import CoursewareError
    from olx_spark.synth.inputs import ARCHIVES_DIR, Keyring, write_learning_inputs

    out_dir = Path(args.out_dir)
    if (args.gnupg_home is None) != (args.recipient is None):
        return _usage("--gnupg-home and --recipient go together")
    if args.archives:
        archives_dir = Path(args.archives)
        archives = sorted(archives_dir.glob("*.tar.gz")) + sorted(archives_dir.glob("*.tgz"))
        if not archives:
            return _usage(f"no course archives (*.tar.gz, *.tgz) in {archives_dir}")
    else:
        if not args.courses:
            return _usage("say how many courses (--courses N) or which archives (--archives)")
        archives_dir = out_dir / ARCHIVES_DIR
        if _archives_only(args, archives_dir):
            return 1
        archives = sorted(archives_dir.glob("*.tar.gz"))
    keyring = Keyring(args.gnupg_home, args.recipient) if args.recipient else None
    try:
        summary = write_learning_inputs(
            out_dir,
            archives,
            learners=args.learners,
            days=args.days,
            events_per_day=args.events_per_day,
            seed=args.seed,
            encrypt=args.encrypt,
            keyring=keyring,
            archives_dir=archives_dir,
        )
    except (CoursewareError, ValueError, RuntimeError) as exc:
        print(f"olx-spark synth: {exc}", file=sys.stderr)
        return 2
    print(summary.render())
    return 0
