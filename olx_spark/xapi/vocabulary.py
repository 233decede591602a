"""The xAPI vocabulary the transformers use: verbs, activity types and extension IRIs, once.

A `Verb` carries the exact JSON the statement id is made from (`specs/xapi.md`: `json.dumps`
with default separators, `id` then `display`) and the UUID namespace derived from it, so the
id of a statement costs one `uuid5` per event, not two.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

# The namespace the spec names for the first uuid5 (RFC 4122's DNS namespace).
ID_NAMESPACE = uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
XAPI_VERSION = "1.0.3"
EN = "en"
EN_US = "en-US"


@dataclass(frozen=True)
class Verb:
    iri: str
    display: str
    json_text: str = field(init=False, repr=False, compare=False)
    namespace: uuid.UUID = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = json.dumps({"id": self.iri, "display": {EN: self.display}})
        object.__setattr__(self, "json_text", text)
        object.__setattr__(self, "namespace", uuid.uuid5(ID_NAMESPACE, text))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.iri, "display": {EN: self.display}}


_ADL = "http://adlnet.gov/expapi/verbs/"
INITIALIZED = Verb(_ADL + "initialized", "initialized")
TERMINATED = Verb(_ADL + "terminated", "terminated")
COMPLETED = Verb(_ADL + "completed", "completed")
ATTEMPTED = Verb(_ADL + "attempted", "attempted")
ASKED = Verb(_ADL + "asked", "asked")
REGISTERED = Verb(_ADL + "registered", "registered")
PASSED = Verb(_ADL + "passed", "passed")
FAILED = Verb(_ADL + "failed", "failed")
PROGRESSED = Verb(_ADL + "progressed", "progressed")
INTERACTED = Verb(_ADL + "interacted", "interacted")
PLAYED = Verb("https://w3id.org/xapi/video/verbs/played", "played")
PAUSED = Verb("https://w3id.org/xapi/video/verbs/paused", "paused")
SEEKED = Verb("https://w3id.org/xapi/video/verbs/seeked", "seeked")
NAVIGATED = Verb("https://w3id.org/xapi/dod-isd/verbs/navigated", "navigated")
DELETED = Verb("https://w3id.org/xapi/dod-isd/verbs/deleted", "deleted")
EVALUATED = Verb("https://w3id.org/xapi/acrossx/verbs/evaluated", "evaluated")
POSTED = Verb("https://w3id.org/xapi/acrossx/verbs/posted", "posted")
EDITED = Verb("https://w3id.org/xapi/acrossx/verbs/edited", "edited")
REPORTED = Verb("https://w3id.org/xapi/acrossx/verbs/reported", "reported")
UNREPORTED = Verb("https://w3id.org/xapi/openedx/verb/unreported", "unreported")
VOTED = Verb("https://w3id.org/xapi/openedx/verb/voted", "voted")
UNREGISTERED = Verb("http://id.tincanapi.com/verb/unregistered", "unregistered")
VIEWED = Verb("http://id.tincanapi.com/verb/viewed", "viewed")
EARNED = Verb("http://id.tincanapi.com/verb/earned", "earned")

# Activity types.
ACTIVITY_COURSE = "http://adlnet.gov/expapi/activities/course"
ACTIVITY_MODULE = "http://adlnet.gov/expapi/activities/module"
ACTIVITY_RESOURCE = "http://id.tincanapi.com/activitytype/resource"
ACTIVITY_LINK = "http://adlnet.gov/expapi/activities/link"
ACTIVITY_LESSON = "http://adlnet.gov/expapi/activities/lesson"
ACTIVITY_QUESTION = "http://adlnet.gov/expapi/activities/question"
ACTIVITY_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
ACTIVITY_SOLUTION = "http://id.tincanapi.com/activitytype/solution"
ACTIVITY_SUPPLEMENTAL_INFO = "https://w3id.org/xapi/acrossx/activities/supplemental-info"
ACTIVITY_VIDEO = "https://w3id.org/xapi/video/activity-type/video"
ACTIVITY_DISCUSSION = "http://id.tincanapi.com/activitytype/discussion"

# Context extensions every statement may carry.
EXT_TRANSFORMER_VERSION = "https://w3id.org/xapi/openedx/extension/transformer-version"
EXT_SESSION_ID = "https://w3id.org/xapi/openedx/extensions/session-id"

# --- video/navigation families (families/video.py, families/navigation.py) ---
# Video profile (https://w3id.org/xapi/video) context and result extensions.
EXT_VIDEO_LENGTH = "https://w3id.org/xapi/video/extensions/length"
EXT_VIDEO_TIME = "https://w3id.org/xapi/video/extensions/time"
EXT_VIDEO_TIME_FROM = "https://w3id.org/xapi/video/extensions/time-from"
EXT_VIDEO_TIME_TO = "https://w3id.org/xapi/video/extensions/time-to"
EXT_VIDEO_CC_ENABLED = "https://w3id.org/xapi/video/extensions/cc-enabled"
# Playback speed: Open edX's own extensions (the video profile has none for a speed change).
EXT_VIDEO_SPEED_FROM = "https://w3id.org/xapi/openedx/extension/speed-from"
EXT_VIDEO_SPEED_TO = "https://w3id.org/xapi/openedx/extension/speed-to"
# Sequence navigation: where the learner was, where they went, how many units there are.
EXT_STARTING_POSITION = "http://id.tincanapi.com/extension/starting-position"
EXT_ENDING_POSITION = "http://id.tincanapi.com/extension/ending-point"
EXT_TOTAL_ITEMS = "https://w3id.org/xapi/acrossx/extensions/total-items"

# --- grading/completion/forum/exam families (families/grading.py, completion.py, forum.py,
# exam.py) ---
# The acrossx "type" extension: ERB's one key for a kind of thing (enrollment mode, thread
# type, vote direction).
EXT_ACROSSX_TYPE = "https://w3id.org/xapi/acrossx/extensions/type"
# Course grade: the letter grade ("Pass", "A", ...) as a result extension.
EXT_GRADE_CLASSIFICATION = "http://www.tincanapi.co.uk/activitytypes/grade_classification"
# Block completion: progress in percent (cmi5 result extension).
EXT_CMI5_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
# Special exams: one activity type per kind, the attempt grouped with its timing.
ACTIVITY_TIMED_ASSESSMENT = "https://w3id.org/xapi/openedx/activity/timed-assessment"
ACTIVITY_PRACTICE_ASSESSMENT = "https://w3id.org/xapi/openedx/activity/practice-assessment"
ACTIVITY_PROCTORED_ASSESSMENT = "https://w3id.org/xapi/openedx/activity/proctored-assessment"
ACTIVITY_ATTEMPT = "http://adlnet.gov/expapi/activities/attempt"
EXT_TIME_LIMIT = "https://w3id.org/xapi/acrossx/extensions/time-limit"
EXT_ATTEMPT_STARTED = "https://w3id.org/xapi/openedx/extension/attempt-started"
EXT_ATTEMPT_COMPLETED = "https://w3id.org/xapi/openedx/extension/attempt-completed"
EXT_DURATION = "http://id.tincanapi.com/extension/duration"
EXT_EXAM_ATTEMPT_ID = "http://id.tincanapi.com/extension/attempt-id"

# --- problem family (families/problem.py) ---
# problem_check: the attempt number (`data.attempts`) on the problem's definition.
EXT_PROBLEM_ATTEMPT_ID = "http://id.tincanapi.com/extension/attempt-id"
# demandhint_displayed: the activity type ERB gives a hint. ERB's constant is this `extensions/`
# IRI, not the acrossx profile's `activities/supplemental-info` (ACTIVITY_SUPPLEMENTAL_INFO
# above); the problem family follows ERB so the statements match what Aspects receives.
PROBLEM_ACTIVITY_SUPPLEMENTAL_INFO = "https://w3id.org/xapi/acrossx/extensions/supplemental-info"
