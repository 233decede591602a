"""A world's research data package: the files edX.org delivers weekly, from the world's state.

After the simulation's last day, `package_members` writes, for each course of an org, the
table dumps the ingest reads (`auth_user`, `auth_userprofile`, `student_courseenrollment`,
`user_id_map`, `certificates_generatedcertificate`, `courseware_studentmodule`), the
`course_structure` JSON and the forum `.mongo` dump, plus the org's email opt-in CSV, named and
encoded as edX names and encodes them (`{org}-{course}-{run}-{table}-prod-analytics.sql`:
tab-separated, `NULL`, backslash escapes, UTC datetimes without a zone). The rows are the
world's: the learners who enrolled in the course, their enrollments' final state, the blocks
they opened with the state the LMS keeps (a problem's attempts, answers and score, a video's
saved position), their certificates, and the forum posts whose ids the tracking logs name.
`write_package` zips them as `{org}-{YYYY-MM-DD}.zip`, each member encrypted (`.gpg`) or not.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from olx_spark.synth.courseware import Courseware
from olx_spark.synth.learning import World, certificate_uuid, course_grade
from olx_spark.synth.packages import encode_value
from olx_spark.synth.people import Learner

SITE = "prod"
TABLES = (
    "auth_user",
    "auth_userprofile",
    "student_courseenrollment",
    "user_id_map",
    "certificates_generatedcertificate",
    "courseware_studentmodule",
)


def package_date(world: World) -> date:
    """The weekly package after the world's last day: the next Sunday."""
    last = world.last_day
    return last + timedelta(days=(6 - last.weekday()) or 7)


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _dump(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """A `.sql` dump: a header line, then one tab-separated line per row."""
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join(encode_value(None if v is None else str(v)) for v in row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


def member_name(course: Courseware, table: str) -> str:
    return f"{course.file_prefix}-{table}-{SITE}-analytics.sql"


def package_members(world: World, org: str) -> dict[str, bytes]:
    """Every file of `org`'s package, decrypted: member name -> content."""
    members: dict[str, bytes] = {}
    seen = last_seen(world)
    for course in (c for c in world.courses if c.org == org):
        enrollments = [e for e in world.enrollments if e.course_id == course.course_id]
        learners = [world.learner(e.user_id) for e in enrollments]
        members[member_name(course, "auth_user")] = _auth_user(learners, seen)
        members[member_name(course, "auth_userprofile")] = _profiles(learners)
        members[member_name(course, "student_courseenrollment")] = _dump(
            ("id", "user_id", "course_id", "created", "is_active", "mode"),
            [
                (
                    e.enrollment_id,
                    e.user_id,
                    e.course_id,
                    _stamp(e.created),
                    0 if e.unenrolled_at else 1,
                    e.final_mode(),
                )
                for e in enrollments
            ],
        )
        members[member_name(course, "user_id_map")] = _dump(
            ("hash_id", "id", "username"),
            [(_hash_id(world.seed, x.user_id), x.user_id, x.username) for x in learners],
        )
        members[member_name(course, "certificates_generatedcertificate")] = _certificates(
            world, course
        )
        members[member_name(course, "courseware_studentmodule")] = _modules(world, course)
        structure = json.dumps(course.structure, indent=1, ensure_ascii=False)
        members[f"{course.file_prefix}-course_structure-{SITE}-analytics.json"] = structure.encode(
            "utf-8"
        )
        forum = world.forums[course.course_id].documents
        members[f"{course.file_prefix}-{SITE}.mongo"] = "".join(
            json.dumps(document) + "\n" for document in forum
        ).encode("utf-8")
    members[f"{org}-email_opt_in-{SITE}-analytics.csv"] = _email_opt_in(world, org)
    return members


def _hash_id(seed: int, user_id: int) -> str:
    return hashlib.sha1(f"olx-spark-synth:{seed}:{user_id}".encode()).hexdigest()


def last_seen(world: World) -> dict[int, datetime]:
    """When each learner who did anything was last seen (their last block opened)."""
    seen: dict[int, datetime] = {}
    for (_, user_id), progress in world.progress.items():
        for module in progress.modules.values():
            if user_id not in seen or module.modified > seen[user_id]:
                seen[user_id] = module.modified
    return seen


def _auth_user(learners: Sequence[Learner], seen: dict[int, datetime]) -> bytes:
    columns = _columns(
        "id username first_name last_name email is_staff is_active is_superuser "
        "last_login date_joined"
    )
    return _dump(
        columns,
        [
            (
                x.user_id,
                x.username,
                x.first_name,
                x.last_name,
                x.email,
                int(x.is_staff),
                1,
                0,
                _stamp(seen.get(x.user_id, x.joined + timedelta(minutes=3))),
                _stamp(x.joined),
            )
            for x in learners
        ],
    )


def _profiles(learners: Sequence[Learner]) -> bytes:
    columns = _columns(
        "id user_id name language location meta courseware gender mailing_address "
        "year_of_birth level_of_education goals allow_certificate country city bio"
    )
    return _dump(
        columns,
        [
            (
                x.user_id - 90_000,
                x.user_id,
                x.name,
                "",
                "",
                "",
                "course.xml",
                x.gender or None,
                None,
                x.year_of_birth,
                x.education or None,
                "",
                1,
                x.country,
                "",
                None,
            )
            for x in learners
            if not x.is_staff
        ],
    )


def _certificates(world: World, course: Courseware) -> bytes:
    """A certificate row for every learner the LMS graded: passing and verified is
    `downloadable`, else `audit_passing` / `notpassing` / `audit_notpassing`."""
    columns = _columns(
        "id user_id download_url grade course_id key distinction status verify_uuid "
        "download_uuid name created_date modified_date error_reason mode"
    )
    rows = []
    when = datetime.combine(package_date(world), datetime.min.time(), course.start.tzinfo)
    for e in (e for e in world.enrollments if e.course_id == course.course_id):
        progress = world.progress[(course.course_id, e.user_id)]
        if not progress.scores:
            continue
        grade = course_grade(course, progress)
        passing = grade >= course.passing_grade
        verified = e.final_mode() == "verified"
        status = (
            ("downloadable" if verified else "audit_passing")
            if passing
            else ("notpassing" if verified else "audit_notpassing")
        )
        created = progress.certified_at or when - timedelta(days=1)
        uuid = certificate_uuid(world.seed, e) if status == "downloadable" else ""
        rows.append(
            (
                e.enrollment_id,
                e.user_id,
                "",
                f"{grade:.2f}",
                course.course_id,
                "",
                0,
                status,
                uuid,
                "",
                world.learner(e.user_id).name,
                _stamp(created),
                _stamp(created),
                "",
                e.final_mode(),
            )
        )
    return _dump(columns, rows)


def _modules(world: World, course: Courseware) -> bytes:
    columns = _columns(
        "id module_type module_id student_id state grade created modified max_grade done course_id"
    )
    rows = []
    for e in (e for e in world.enrollments if e.course_id == course.course_id):
        progress = world.progress[(course.course_id, e.user_id)]
        for block, module in progress.modules.items():
            state = {k: v for k, v in module.state.items() if not k.startswith("_")}
            rows.append(
                (
                    module.block_type,
                    block,
                    e.user_id,
                    json.dumps(state),
                    module.grade,
                    _stamp(module.created),
                    _stamp(module.modified),
                    module.max_grade,
                    "na",
                    course.course_id,
                )
            )
    rows.sort(key=lambda r: (str(r[5]), r[2], r[1]))
    return _dump(columns, [(i + 1, *row) for i, row in enumerate(rows)])


def _email_opt_in(world: World, org: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        (
            "user_id",
            "username",
            "email",
            "full_name",
            "course_id",
            "is_opted_in_for_email",
            "preference_set_datetime",
        )
    )
    rng = random.Random(f"opt-in:{world.seed}:{org}")
    courses = {c.course_id for c in world.courses if c.org == org}
    for e in (e for e in world.enrollments if e.course_id in courses):
        learner = world.learner(e.user_id)
        writer.writerow(
            (
                learner.user_id,
                learner.username,
                learner.email,
                learner.name,
                e.course_id,
                rng.random() < 0.6,
                _stamp(e.created),
            )
        )
    return out.getvalue().encode("utf-8")


def write_package(
    path: Path,
    members: dict[str, bytes],
    day: date,
    encrypt: Callable[[bytes], bytes] | None,
) -> int:
    """Zip `members` into `path` (each encrypted to `.gpg` by `encrypt`, if given); the zip's
    member times are the package's date, so the same plaintext gives the same names and times.
    Returns the plaintext bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    total = 0
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(members):
            data = members[name]
            total += len(data)
            if encrypt is None:
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
            else:
                info = zipfile.ZipInfo(f"{name}.gpg", stamp)
                archive.writestr(info, encrypt(data), compress_type=zipfile.ZIP_STORED)
    return total
