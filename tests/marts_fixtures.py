"""A small hand-made world for the marts: one course archive, one data package (plain, not
encrypted: the package job's GPG path has its own tests) and one tracking log, with learners
whose every number is worked out by hand in tests/e2e/test_marts.py.

The course `course-v1:MITx+M101+2024_T1` ("Marts 101", starts 2024-01-01, passing grade 0.6):

    Week 1 (ch1) > Lesson 1 (s1, graded Homework) > Unit 1 (u1) > Addition (p1), Intro video (vid1, 100 s)
    Week 2 (ch2) > Lesson 2 (s2)                  > Unit 2 (u2) > Choices (p2), Notes (h2)
    Week 3 (ch3, empty)

Learners: ann (1), ben (2), cat (3), dan (4, staff, no profile) in the package; eve (5) only in
the logs. The log's last day is 2024-01-25.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.spark.courses import write_tar_gz

RUN = "2024_T1"
COURSE_ID = f"course-v1:MITx+M101+{RUN}"
OTHER_COURSE_ID = "course-v1:Other+X1+2024"  # events only: no archive, no package
PACKAGE_COURSE = f"MITx-M101-{RUN}"
KEY = f"MITx+M101+{RUN}"


def block(block_type: str, url_name: str) -> str:
    return f"block-v1:{KEY}+type@{block_type}+block@{url_name}"


def course_files() -> dict[str, str]:
    return {
        "course/course.xml": f'<course url_name="{RUN}" org="MITx" course="M101"/>',
        f"course/course/{RUN}.xml": (
            '<course display_name="Marts 101" start="2024-01-01T00:00:00Z" end="2024-06-30T00:00:00Z">'
            '<chapter url_name="ch1"/><chapter url_name="ch2"/><chapter url_name="ch3"/></course>'
        ),
        "course/chapter/ch1.xml": '<chapter display_name="Week 1"><sequential url_name="s1"/></chapter>',
        "course/chapter/ch2.xml": '<chapter display_name="Week 2"><sequential url_name="s2"/></chapter>',
        "course/chapter/ch3.xml": '<chapter display_name="Week 3"/>',
        "course/sequential/s1.xml": (
            '<sequential display_name="Lesson 1" graded="true" format="Homework" '
            'due="2024-02-01T00:00:00Z"><vertical url_name="u1"/></sequential>'
        ),
        "course/sequential/s2.xml": (
            '<sequential display_name="Lesson 2"><vertical url_name="u2"/></sequential>'
        ),
        "course/vertical/u1.xml": (
            '<vertical display_name="Unit 1"><problem url_name="p1"/><video url_name="vid1"/></vertical>'
        ),
        "course/vertical/u2.xml": (
            '<vertical display_name="Unit 2"><problem url_name="p2"/><html url_name="h2"/></vertical>'
        ),
        "course/problem/p1.xml": (
            '<problem display_name="Addition"><stringresponse answer="4"/></problem>'
        ),
        "course/problem/p2.xml": (
            '<problem display_name="Choices"><choiceresponse><checkboxgroup>'
            '<choice correct="true">a</choice><choice correct="false">b</choice>'
            "</checkboxgroup></choiceresponse></problem>"
        ),
        "course/video/vid1.xml": (
            '<video display_name="Intro video" youtube_id_1_0="abcDEF12345">'
            '<video_asset duration="100.0"/></video>'
        ),
        "course/html/h2.xml": '<html filename="h2" display_name="Notes"/>',
        "course/html/h2.html": "<p>Notes</p>",
        f"course/policies/{RUN}/policy.json": json.dumps({f"course/{RUN}": {"self_paced": False}}),
        f"course/policies/{RUN}/grading_policy.json": json.dumps(
            {
                "GRADER": [{"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1.0}],
                "GRADE_CUTOFFS": {"Pass": 0.6, "A": 0.9},
            }
        ),
    }


AUTH_USER = (
    "id\tusername\temail\tis_staff\tdate_joined\n"
    "1\tann\tann@example.org\t0\t2023-12-01 00:00:00\n"
    "2\tben\tben@example.org\t0\t2023-12-02 00:00:00\n"
    "3\tcat\tcat@example.org\t0\t2023-12-03 00:00:00\n"
    "4\tdan\tdan@example.org\t1\t2023-12-04 00:00:00\n"
)
PROFILE = (
    "id\tuser_id\tname\tgender\tyear_of_birth\tlevel_of_education\tcountry\n"
    "11\t1\tAnn\tf\t1990\tm\tUS\n"
    "12\t2\tBen\tm\t2001\tb\tFR\n"
    "13\t3\tCat\to\t1970\ths\tUS\n"
)
ENROLLMENT = (
    "id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n"
    f"21\t1\t{COURSE_ID}\t2024-01-10 09:00:00\t1\tverified\n"
    f"22\t2\t{COURSE_ID}\t2024-01-10 10:00:00\t1\taudit\n"
    f"23\t3\t{COURSE_ID}\t2024-01-11 12:00:00\t0\taudit\n"
    f"24\t4\t{COURSE_ID}\t2024-01-05 08:00:00\t1\thonor\n"
)
CERTIFICATES = (
    "id\tuser_id\tgrade\tcourse_id\tstatus\tmode\tcreated_date\n"
    f"31\t1\t0.85\t{COURSE_ID}\tdownloadable\tverified\t2024-01-16 00:00:00\n"
    f"32\t2\t0.4\t{COURSE_ID}\tnotpassing\taudit\t2024-01-16 00:00:00\n"
)
STUDENTMODULE = (
    "id\tmodule_type\tmodule_id\tstudent_id\tstate\tgrade\tmax_grade\tcourse_id\n"
    f"41\tvideo\t{block('video', 'vid1')}\t3\t{{}}\tNULL\tNULL\t{COURSE_ID}\n"
)
PACKAGE_TABLES = {
    "auth_user": AUTH_USER,
    "auth_userprofile": PROFILE,
    "student_courseenrollment": ENROLLMENT,
    "certificates_generatedcertificate": CERTIFICATES,
    "courseware_studentmodule": STUDENTMODULE,
}


def write_package(folder: Path) -> Path:
    """The package as a decrypted folder, `mitx-2024-01-20/{course}-{table}-prod-analytics.sql`."""
    package = folder / "mitx-2024-01-20"
    package.mkdir(parents=True)
    for table, content in PACKAGE_TABLES.items():
        (package / f"{PACKAGE_COURSE}-{table}-prod-analytics.sql").write_text(content)
    return folder


USERS = {1: "ann", 2: "ben", 3: "cat", 4: "dan", 5: "eve"}
COURSEWARE = f"https://lms.example.org/courses/{COURSE_ID}/courseware"


def line(
    user: int,
    time: str,
    event_type: str,
    source: str,
    payload: dict[str, Any] | None = None,
    course: str = COURSE_ID,
    page: str | None = None,
) -> dict[str, Any]:
    """One tracking log event by `user` in `course`. Browser events carry `event` as a JSON
    string, the way the LMS logs them."""
    data = payload or {}
    return {
        "username": USERS[user],
        "event_type": event_type,
        "event_source": source,
        "time": time,
        "page": page,
        "session": f"s{user}",
        "context": {"course_id": course, "user_id": user, "org_id": "MITx", "path": "/x"},
        "event": json.dumps(data) if source == "browser" else data,
    }


def enrollment(user: int, time: str, action: str, mode: str) -> dict[str, Any]:
    payload = {"course_id": COURSE_ID, "user_id": user, "mode": mode}
    return line(user, time, f"edx.course.enrollment.{action}", "server", payload)


def server_enrollment(user: int, time: str, action: str, mode: str) -> dict[str, Any]:
    """An enrollment event logged by a server process: no username, no user id in the
    context, only the learner the payload names."""
    event = enrollment(user, time, action, mode)
    event["username"] = ""
    event["context"]["user_id"] = None
    return event


def video(user: int, time: str, action: str, **fields: Any) -> dict[str, Any]:
    return line(user, time, f"{action}_video", "browser", {"code": "html5", **fields})


def check(
    user: int, time: str, problem: str, attempts: int, grade: int, max_grade: int, answers: Any
) -> dict[str, Any]:
    """A graded problem_check from the server; `answers` = (answer, correct) of part `_2_1`."""
    answer, correct = answers
    payload = {
        "problem_id": block("problem", problem),
        "attempts": attempts,
        "grade": grade,
        "max_grade": max_grade,
        "success": "correct" if correct else "incorrect",
        "submission": {
            f"{problem}_2_1": {
                "question": f"{problem} question",
                "answer": answer,
                "correct": correct,
                "response_type": "stringresponse",
            }
        },
    }
    return line(user, time, "problem_check", "server", payload)


def tracking_events() -> list[dict[str, Any]]:
    return [
        # Enrollment events (not activity)
        enrollment(1, "2024-01-10T09:00:00+00:00", "activated", "audit"),
        enrollment(2, "2024-01-10T10:00:00+00:00", "activated", "audit"),
        enrollment(1, "2024-01-11T09:00:00+00:00", "mode_changed", "verified"),
        enrollment(3, "2024-01-11T12:00:00+00:00", "activated", "audit"),
        enrollment(3, "2024-01-12T08:00:00+00:00", "deactivated", "audit"),
        # cat's (inactive) enrollment moves to honor: cat stays unenrolled
        server_enrollment(3, "2024-01-13T07:00:00+00:00", "mode_changed", "honor"),
        # ann, 2024-01-10: a subsection, the whole video, p1 wrong then right
        line(
            1,
            "2024-01-10T10:00:00+00:00",
            "seq_goto",
            "browser",
            {"id": block("sequential", "s1"), "old": 1, "new": 1},
            page=f"{COURSEWARE}/ch1/s1/",
        ),
        video(1, "2024-01-10T10:02:00+00:00", "play", id="vid1", currentTime=0, duration=100),
        video(1, "2024-01-10T10:03:40+00:00", "pause", id="vid1", currentTime=100, duration=100),
        check(1, "2024-01-10T10:10:00+00:00", "p1", 1, 0, 1, ("5", False)),
        check(1, "2024-01-10T10:11:00+00:00", "p1", 2, 1, 1, ("4", True)),
        # ann, 2024-01-15: a forum thread, a courseware page of Week 2
        line(1, "2024-01-15T09:00:00+00:00", "edx.forum.thread.created", "server", {"id": "t1"}),
        line(1, "2024-01-15T09:01:00+00:00", f"/courses/{COURSE_ID}/courseware/ch2/s2/", "server"),
        # ann, 2024-01-13, in a course nobody landed
        line(
            1,
            "2024-01-13T08:00:00+00:00",
            "seq_goto",
            "browser",
            {"id": "x"},
            course=OTHER_COURSE_ID,
        ),
        # ben, 2024-01-10: plays, seeks from 30 to 80 (the next play's currentTime is stale),
        # stops at the end; p1 right
        video(2, "2024-01-10T11:00:00+00:00", "play", id="vid1", currentTime=0, duration=100),
        video(2, "2024-01-10T11:00:30+00:00", "seek", id="vid1", old_time=30, new_time=80),
        video(2, "2024-01-10T11:00:31+00:00", "play", id="vid1", currentTime=30, duration=100),
        video(2, "2024-01-10T11:00:51+00:00", "stop", id="vid1", currentTime=100),
        check(2, "2024-01-10T11:05:00+00:00", "p1", 1, 1, 1, ("4", True)),
        # ben, 2024-01-12: p2 wrong (a two-choice answer); a background task event (not activity)
        check(2, "2024-01-12T14:00:00+00:00", "p2", 1, 0, 2, (["a", "b"], False)),
        line(2, "2024-01-12T15:00:00+00:00", "edx.grades.subsection.grade_calculated", "task"),
        # cat, 2024-01-11: the last 5 s of the video, then a play never closed (dropped)
        video(3, "2024-01-11T13:00:00+00:00", "play", id="vid1", currentTime=95, duration=100),
        video(3, "2024-01-11T13:00:05+00:00", "pause", id="vid1", currentTime=100, duration=100),
        video(3, "2024-01-11T13:01:00+00:00", "play", id="vid1", currentTime=10, duration=100),
        # eve (no package row), 2024-01-14: Lesson 2, then 10 s of a video the course lacks
        line(
            5, "2024-01-14T10:00:00+00:00", "seq_goto", "browser", {"id": block("sequential", "s2")}
        ),
        video(5, "2024-01-14T10:01:00+00:00", "play", id="ghost", currentTime=0),
        video(5, "2024-01-14T10:01:10+00:00", "pause", id="ghost", currentTime=10),
        # eve, 2024-01-25: the last day of the log
        line(
            5, "2024-01-25T16:00:00+00:00", "seq_goto", "browser", {"id": block("sequential", "s2")}
        ),
    ]


def write_inputs(root: Path) -> dict[str, Path]:
    """The archive, the package and the log under `root`; returns their source folders."""
    archives = root / "archives"
    write_tar_gz(archives / f"MITx-M101-{RUN}.tar.gz", course_files())
    packages = write_package(root / "packages")
    logs = root / "logs"
    logs.mkdir(parents=True)
    text = "".join(json.dumps(event) + "\n" for event in tracking_events())
    (logs / "MITx-prod-events-2024-01-25.log").write_text(text)
    return {"archives": archives, "packages": packages, "logs": logs}
