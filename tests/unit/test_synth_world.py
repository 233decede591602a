"""The generated world (`olx-spark synth --learners`): its three inputs agree with each other.

Built on the bundled sample archives (no Spark): the logs and the package are deterministic for
a seed; every event names a course of the archives and only blocks those archives hold; every
learner in the logs is in the package's auth_user; what the logs' enrollment events leave is
what the package's enrollments say; the package decodes with the ingest's own readers, and
its encrypted form decrypts to the same plaintext.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from olx_spark.cli import main
from olx_spark.olx.parse import parse_course_archive
from olx_spark.packages import names
from olx_spark.packages.course_structure import parse_course_structure
from olx_spark.packages.forum import parse_forum_line
from olx_spark.packages.gpg import open_decrypted
from olx_spark.packages.tsv import decode_dump
from olx_spark.synth.inputs import Keyring, LearningInputs, write_learning_inputs
from olx_spark.tracking.names import parse_log_name

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "course-archives"
ARCHIVES = sorted(SAMPLES.glob("*.tar.gz"))
SIZE = {"learners": 80, "days": 21, "events_per_day": 250}


def _write(
    out: Path, seed: int = 7, encrypt: str = "none", keyring: Keyring | None = None
) -> LearningInputs:
    return write_learning_inputs(out, ARCHIVES, seed=seed, encrypt=encrypt, keyring=keyring, **SIZE)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    _write(out)
    return out


@pytest.fixture(scope="module")
def blocks() -> dict[str, dict[str, dict[str, Any]]]:
    """Every course's blocks as the ingest reads them: course id -> block id -> row."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for path in ARCHIVES:
        with path.open("rb") as handle:
            parsed = parse_course_archive(handle, path.name)
        found[str(parsed.course_id)] = {row["block_id"]: row for row in parsed.rows["blocks"]}
    return found


def _events(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((out / "tracking-logs").iterdir()):
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
            yield path.name, json.loads(line)


def _members(out: Path) -> dict[str, bytes]:
    members = {}
    for package in sorted((out / "data-packages").glob("*.zip")):
        with zipfile.ZipFile(package) as archive:
            for name in archive.namelist():
                members[name] = archive.read(name)
    return members


def _table(members: dict[str, bytes], course_id: str, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, data in members.items():
        member = names.parse_member_name(name, None)
        if (member.kind, member.table, member.course_id) == (names.KIND_TABLE, table, course_id):
            header, values, bad = decode_dump(data.decode("utf-8"))
            assert bad == [], name
            rows += [dict(zip(header, row, strict=True)) for row in values]
    return rows


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path, world):
    again = _write(tmp_path / "again")
    files = sorted(p.relative_to(world) for p in world.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file()
    )
    for name in files:
        assert (world / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert again.events > 5_000 and again.log_files >= 3 * SIZE["days"] - 3
    other = _write(tmp_path / "other", seed=8)
    assert other.events != again.events or _members(tmp_path / "other") != _members(world)


def test_every_event_names_a_course_of_the_archives_and_only_its_blocks(world, blocks):
    url_names: dict[str, set[str]] = {
        course: {row["url_name"] for row in rows.values()} for course, rows in blocks.items()
    }
    videos = {
        course: {r["url_name"] for r in rows.values() if r["block_type"] == "video"}
        for course, rows in blocks.items()
    }
    checked = 0
    for file_name, event in _events(world):
        parsed = parse_log_name(file_name)
        stamp = event.get("time")
        assert stamp and datetime.fromisoformat(stamp).astimezone(UTC).date() == parsed.log_date
        course = event["context"]["course_id"]
        assert course in blocks, course
        assert parsed.org == event["context"]["org_id"].lower()
        payload = event["event"]
        payload = (
            json.loads(payload) if isinstance(payload, str) and payload[:1] == "{" else payload
        )
        named = [event["context"].get("module", {}).get("usage_key")]
        if isinstance(payload, dict):
            named += [payload.get("problem_id"), payload.get("block_id"), payload.get("module_id")]
            if str(event.get("name", "")).startswith("edx.ui.lms.sequence."):
                named.append(payload["id"])
            if event["event_type"].endswith("_video") or event["event_source"] == "mobile":
                assert payload["id"] in videos[course]
                checked += 1
        if event["event_type"].startswith("/courses/"):
            section, subsection = event["event_type"].rstrip("/").split("/")[-2:]
            assert {section, subsection} <= url_names[course]
            checked += 1
        for block in filter(None, named):
            assert block in blocks[course], (event.get("name"), block)
            checked += 1
    assert checked > 10_000


def test_the_logs_learners_and_enrollments_are_the_packages(world):
    members = _members(world)
    logged: dict[tuple[str, int], list[tuple[str, str, str]]] = defaultdict(list)
    active: set[tuple[str, int]] = set()
    usernames: dict[int, str] = {}
    for _, event in _events(world):
        course, user = event["context"]["course_id"], event["context"]["user_id"]
        usernames[user] = event["username"]
        name = event.get("name", "")
        if name.startswith("edx.course.enrollment."):
            action = name.rsplit(".", 1)[1]
            logged[(course, user)].append((event["time"], action, event["event"]["mode"]))
        else:
            active.add((course, user))
    courses = {course for course, _ in logged}
    assert len(courses) == len(ARCHIVES)
    for course in courses:
        users = {int(r["id"]): r["username"] for r in _table(members, course, "auth_user")}
        enrolled = {
            int(r["user_id"]): r for r in _table(members, course, "student_courseenrollment")
        }
        assert set(enrolled) <= set(users)
        for (event_course, user), changes in logged.items():
            if event_course != course:
                continue
            assert users[user] == usernames[user]
            final_active, final_mode = True, None
            for _, action, mode in sorted(changes):
                final_active = {"activated": True, "deactivated": False}.get(action, final_active)
                final_mode = mode
            row = enrolled[user]
            assert (row["is_active"], row["mode"]) == (str(int(final_active)), final_mode)
        assert {u for c, u in logged if c == course} == set(enrolled)
        assert {u for c, u in active if c == course} <= set(enrolled)
        assert any(mode == "mode_changed" for c in logged.values() for _, mode, _ in c)


def test_the_package_holds_what_the_learners_did(world, blocks):
    members = _members(world)
    assert all(names.parse_member_name(n, None).kind != names.KIND_UNKNOWN for n in members)
    checks: dict[tuple[str, int, str], int] = {}
    for _, event in _events(world):
        if event.get("name") == "problem_check" and event["event_source"] == "server":
            key = (
                event["context"]["course_id"],
                event["context"]["user_id"],
                event["event"]["problem_id"],
            )
            checks[key] = max(checks.get(key, 0), event["event"]["attempts"])
    for course, course_blocks in blocks.items():
        modules = _table(members, course, "courseware_studentmodule")
        assert modules and {m["module_id"] for m in modules} <= set(course_blocks)
        problems = {
            (course, int(m["student_id"]), m["module_id"]): json.loads(m["state"] or "{}")
            for m in modules
            if m["module_type"] == "problem"
        }
        assert {k: s["attempts"] for k, s in problems.items()} == {
            k: v for k, v in checks.items() if k[0] == course
        }
        certificates = _table(members, course, "certificates_generatedcertificate")
        statuses = {"downloadable", "audit_passing", "notpassing", "audit_notpassing"}
        assert certificates and {c["status"] for c in certificates} <= statuses
        assert all(0 <= float(c["grade"]) <= 1 for c in certificates)
    structures = [n for n in members if n.endswith("course_structure-prod-analytics.json")]
    for name in structures:
        rows, _ = parse_course_structure(members[name])
        course = rows[0]["block_id"].split(":", 1)[1].split("+type@")[0]
        assert {r["block_id"] for r in rows} <= set(blocks[f"course-v1:{course}"])
    forum = [n for n in members if n.endswith("-prod.mongo")]
    documents = [parse_forum_line(line) for n in forum for line in members[n].decode().splitlines()]
    assert {d["document_type"] for d in documents} == {"CommentThread", "Comment"}


def test_encrypted_packages_decrypt_to_the_same_plaintext(tmp_path, gpg_keys):
    one = ARCHIVES[:1]  # one course: its package has every kind of file
    size = {"learners": 30, "days": 7, "events_per_day": 100}
    write_learning_inputs(tmp_path / "plain", one, encrypt="none", **size)
    keyring = Keyring(gpg_keys.home, gpg_keys.fingerprint)
    write_learning_inputs(tmp_path / "gpg", one, encrypt="all", keyring=keyring, **size)
    plain = _members(tmp_path / "plain")
    sealed = _members(tmp_path / "gpg")
    assert sorted(sealed) == sorted(f"{name}.gpg" for name in plain)
    for name, data in sealed.items():
        with open_decrypted(io.BytesIO(data), gpg_keys.settings()) as out:
            assert out.read() == plain[name.removesuffix(".gpg")], name
    logs = sorted((tmp_path / "gpg" / "tracking-logs").iterdir())
    assert logs and all(log.name.endswith(".log.gz.gpg") for log in logs)
    with logs[0].open("rb") as stored, open_decrypted(stored, gpg_keys.settings()) as out:
        expected = tmp_path / "plain" / "tracking-logs" / logs[0].name.removesuffix(".gpg")
        assert out.read() == expected.read_bytes()


def test_the_cli_writes_all_three_inputs_or_archives_only(tmp_path, capsys):
    code = main(
        [
            "synth",
            str(tmp_path / "all"),
            "--courses",
            "1",
            "--learners",
            "15",
            "--days",
            "7",
            "--events-per-day",
            "60",
            "--encrypt",
            "none",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "tracking logs" in out and "data packages" in out
    assert len(list((tmp_path / "all" / "course-archives").glob("*.tar.gz"))) == 1
    assert list((tmp_path / "all" / "tracking-logs").glob("*.log.gz"))
    assert list((tmp_path / "all" / "data-packages").glob("*.zip"))
    assert main(["synth", str(tmp_path / "old"), "--courses", "2"]) == 0
    assert len(list((tmp_path / "old").glob("*.tar.gz"))) == 2
    assert main(["synth", str(tmp_path / "x"), "--archives", str(SAMPLES)]) == 2


def test_the_demo_needs_course_archives_and_starts_nothing_without_them(tmp_path, capsys):
    assert main(["demo", "--archives", str(tmp_path), "--warehouse", str(tmp_path / "wh")]) == 2
    assert "no course archives" in capsys.readouterr().out
    assert not (tmp_path / "wh").exists()
