"""Tracking log lines for one learner's visit to a course, shaped as the LMS logs them.

The learning simulation decides what a learner does (opens a subsection, plays a video from
where they left it, answers a problem's parts, posts in a discussion topic); the builders here
turn each action into the line the LMS would write, with the common fields and `context` of
`olx_spark.synth.tracking` (`lms_line`) and the payload fields the xAPI transformers and the
marts read: browser events carry `event` as a JSON string, server events as an object, mobile
app events use the event-bus `name` beside the legacy `event_type`. Every line names the
learner (`username`, `context.user_id`), the course run and, where the LMS does, the block
(`context.module.usage_key`, `problem_id`, the video's `id`).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from olx_spark.synth.courseware import Component, Courseware, Section, Subsection
from olx_spark.synth.people import MOBILE_AGENT, Learner
from olx_spark.synth.tracking import LMS, MOBILE_VIDEO, lms_line

Line = dict[str, Any]
# legacy video event type -> the mobile app's event-bus name
_MOBILE_NAMES = {legacy: name for name, legacy in MOBILE_VIDEO.items()}


def _stamp(moment: datetime) -> str:
    return moment.isoformat()


def transaction(rng: random.Random) -> dict[str, str]:
    """The grading transaction fields the LMS puts on grade events."""
    return {
        "event_transaction_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_transaction_type": "edx.grades.problem.submitted",
    }


@dataclass(frozen=True)
class Visit:
    """One session of one learner in one course: what every line of it shares."""

    learner: Learner
    course: Courseware
    session: str
    mobile: bool  # through the mobile app (video events logged by the app)
    page: str = ""  # the courseware page the learner is on

    @property
    def agent(self) -> str:
        return MOBILE_AGENT if self.mobile else self.learner.agent

    def _base(self, moment: datetime, referer: str | None) -> Line:
        return {
            "username": self.learner.username,
            "session": self.session,
            "ip": self.learner.ip,
            "agent": self.agent,
            "host": "courses.example.org",
            "referer": referer or f"{LMS}/courses/{self.course.course_id}/courseware/",
            "accept_language": "en-US,en;q=0.9",
            "time": _stamp(moment),
        }

    def _context(self, path: str, module: Component | None = None) -> Line:
        context: Line = {
            "user_id": self.learner.user_id,
            "org_id": self.course.org,
            "course_id": self.course.course_id,
            "path": path,
            "enterprise_uuid": "",
        }
        if module is not None:
            context["module"] = {"display_name": module.title, "usage_key": module.block_id}
        return context

    def server(
        self,
        moment: datetime,
        name: str,
        payload: Line,
        *,
        path: str,
        module: Component | None = None,
        referer: str | None = None,
    ) -> Line:
        """A server event: `event` is an object."""
        return lms_line(
            self._base(moment, referer),
            "server",
            name,
            payload,
            None,
            self._context(path, module),
        )

    def browser(
        self,
        moment: datetime,
        name: str,
        payload: Line | str,
        page: str,
        module: Component | None = None,
    ) -> Line:
        """A browser event: `event` is a JSON string (or the form's query string)."""
        event = payload if isinstance(payload, str) else json.dumps(payload)
        return lms_line(
            self._base(moment, page),
            "browser",
            name,
            event,
            page,
            self._context("/event", module),
        )

    # --- pages and navigation -----------------------------------------------------------

    def page_view(self, moment: datetime, section: Section, subsection: Subsection) -> Line:
        """The courseware page, as the LMS logs a page request: the path is the event type."""
        path = (
            f"/courses/{self.course.course_id}/courseware/{section.url_name}/{subsection.url_name}/"
        )
        return {
            **self._base(moment, None),
            "event_source": "server",
            "event_type": path,
            "event": {"GET": {}, "POST": {}},
            "page": None,
            "context": self._context(path),
        }

    def outline_selected(
        self, moment: datetime, section: Section, subsection: Subsection, page: str
    ) -> Line:
        target = self.course.courseware_url(LMS, section, subsection)
        payload = {
            "current_url": f"{LMS}/courses/{self.course.course_id}/course/",
            "target_name": subsection.title,
            "target_url": target,
            "widget_placement": "accordion",
        }
        return self.browser(moment, "edx.ui.lms.outline.selected", payload, page)

    def sequence(
        self, moment: datetime, name: str, subsection: Subsection, current: int, target: int
    ) -> Line:
        """`edx.ui.lms.sequence.{next,previous,tab}_selected` (tabs are 1-based)."""
        payload: Line = {
            "current_tab": current,
            "tab_count": len(subsection.units),
            "id": subsection.block_id,
            "widget_placement": "top",
        }
        if name.endswith("tab_selected"):
            payload["target_tab"] = target
        return self.browser(moment, f"edx.ui.lms.sequence.{name}", payload, self.page)

    def on(self, page: str) -> Visit:
        """This visit, on another courseware page."""
        return Visit(self.learner, self.course, self.session, self.mobile, page)

    # --- video ---------------------------------------------------------------------------

    def video(self, moment: datetime, action: str, video: Component, **fields: Any) -> Line:
        """`{action}_video` from the browser, or the app's `edx.video.*` event when mobile."""
        legacy = f"{action}_video"
        payload: Line = {"id": video.url_name, "code": "html5", **fields}
        if self.mobile and legacy in _MOBILE_NAMES:
            payload["code"] = "mobile"
            if "currentTime" in payload:
                payload["current_time"] = payload.pop("currentTime")
            line = lms_line(
                self._base(moment, None),
                "mobile",
                _MOBILE_NAMES[legacy],
                payload,
                None,
                self._context("/event", video),
            )
            line["event_type"] = legacy
            line["context"]["application"] = {"name": "edx.mobileapp.android", "version": "2.26.1"}
            return line
        return self.browser(moment, legacy, payload, self.page, video)

    def transcript(self, moment: datetime, video: Component, shown: bool, position: float) -> Line:
        name = "show_transcript" if shown else "hide_transcript"
        payload = {"id": video.url_name, "code": "html5", "current_time": position}
        return self.browser(moment, name, payload, self.page, video)

    # --- problems ------------------------------------------------------------------------

    def _handler(self, block: Component, handler: str) -> str:
        return f"/courses/{self.course.course_id}/xblock/{block.block_id}/handler/xmodule_handler/{handler}"

    def problem_check_browser(self, moment: datetime, problem: Component, answers: Line) -> Line:
        """The browser's problem_check: `event` is the form, as a query string."""
        fields = []
        for key, value in answers.items():
            values = value if isinstance(value, list) else [value]
            suffix = "[]" if isinstance(value, list) else ""
            fields += [f"input_{key}{suffix}={v}" for v in values]
        return self.browser(moment, "problem_check", "&".join(fields), self.page, problem)

    def problem_check(self, moment: datetime, problem: Component, payload: Line) -> Line:
        path = self._handler(problem, "problem_check")
        return self.server(
            moment, "problem_check", payload, path=path, module=problem, referer=self.page
        )

    def problem_event(self, moment: datetime, name: str, problem: Component, payload: Line) -> Line:
        """showanswer, hints, `edx.grades.problem.submitted`, ...: server events of a problem."""
        path = self._handler(problem, name.rsplit(".", 1)[-1])
        return self.server(moment, name, payload, path=path, module=problem, referer=self.page)

    # --- the LMS's services --------------------------------------------------------------

    def service(self, moment: datetime, name: str, payload: Line) -> Line:
        """Grades, completion, certificates: server events the LMS logs for the learner."""
        full = {"user_id": self.learner.user_id, "course_id": self.course.course_id, **payload}
        return self.server(moment, name, full, path=f"/courses/{self.course.course_id}/")

    def forum(self, moment: datetime, name: str, payload: Line, path: str) -> Line:
        return self.server(moment, name, payload, path=path, referer=self.page)


def enrollment_line(
    learner: Learner, course: Courseware, moment: datetime, action: str, mode: str
) -> Line:
    """`edx.course.enrollment.{activated,deactivated,mode_changed}`, from the server."""
    visit = Visit(learner, course, "", False)
    payload = {"course_id": course.course_id, "user_id": learner.user_id, "mode": mode}
    line = visit.server(
        moment, f"edx.course.enrollment.{action}", payload, path="/api/enrollment/v1/enrollment"
    )
    line["session"] = ""
    return line
