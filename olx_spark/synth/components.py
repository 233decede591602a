"""Leaf blocks of a unit, written the way Studio exports them.

`html`, `problem`, `video`, `discussion` and `library_content` get their own files and are
pointed to from the vertical; `openassessment` is written inline in the vertical, as the ORA
XBlock exports itself. Each builder writes its files into the `Bundle`, counts its blocks and
returns the XML the vertical holds for it. `folder` is `""` for published blocks, `"drafts/"`
for unpublished ones.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable

from olx_spark.synth.bundle import Bundle
from olx_spark.synth.static import text_file
from olx_spark.synth.text import (
    container,
    element,
    hex_id,
    lines,
    paragraph,
    sentence,
    words,
    xml_text,
)

Builder = Callable[[Bundle, str], str]

_YOUTUBE_ALPHABET = string.ascii_letters + string.digits + "-_"


def html(bundle: Bundle, folder: str) -> str:
    """`html/{u}.xml` (a `filename` pointer) and its body `html/{u}.html`."""
    rng, lang = bundle.rng, bundle.language
    url_name = hex_id(rng)
    parts = [f"<h3>{xml_text(sentence(rng, lang, 2, 5))}</h3>"]
    parts += [f"<p>{xml_text(paragraph(rng, lang, rng.randint(2, 6)))}</p>" for _ in range(3)]
    if bundle.images and rng.random() < 0.4:
        image = rng.choice(bundle.images)
        parts.append(f'<p><img src="/static/{image}" alt="{xml_text(words(rng, lang, 3))}"/></p>')
    if rng.random() < 0.2:
        parts.append("<p>Recall that&nbsp;\\(E = mc^2\\) and \\[\\int_0^1 x\\,dx = 1/2\\].</p>")
    bundle.add_text(f"{folder}html/{url_name}.html", "\n".join(parts) + "\n")
    display_name = rng.choice(("Text", "Reading", "Introduction", "Summary", "Overview"))
    xml = element("html", {"filename": url_name, "display_name": display_name, "editor": "visual"})
    return bundle.define("html", url_name, xml, folder)


def _label(bundle: Bundle) -> str:
    return f"<label>{xml_text(sentence(bundle.rng, bundle.language))}</label>"


def _choices(bundle: Bundle, correct: set[int], count: int) -> str:
    return "".join(
        element("choice", {"correct": str(i in correct).lower()}, _words(bundle, 3))
        for i in range(count)
    )


def _words(bundle: Bundle, count: int) -> str:
    return xml_text(words(bundle.rng, bundle.language, count))


def _multiple_choice(bundle: Bundle) -> str:
    count = bundle.rng.randint(3, 5)
    group = _choices(bundle, {bundle.rng.randrange(count)}, count)
    return (
        f"<multiplechoiceresponse>{_label(bundle)}"
        f'<choicegroup type="MultipleChoice">{group}</choicegroup></multiplechoiceresponse>'
    )


def _checkboxes(bundle: Bundle) -> str:
    count = bundle.rng.randint(3, 6)
    correct = set(bundle.rng.sample(range(count), bundle.rng.randint(1, count - 1)))
    group = _choices(bundle, correct, count)
    return (
        f"<choiceresponse>{_label(bundle)}<checkboxgroup>{group}</checkboxgroup></choiceresponse>"
    )


def _numerical(bundle: Bundle) -> str:
    answer = f"{bundle.rng.uniform(-100, 100):.3g}"
    return (
        f'<numericalresponse answer="{answer}">{_label(bundle)}'
        '<responseparam type="tolerance" default="5%"/><formulaequationinput/></numericalresponse>'
    )


def _string(bundle: Bundle) -> str:
    answer = words(bundle.rng, bundle.language, 1)
    body = _label(bundle) + element("additional_answer", {"answer": answer.upper()})
    return element(
        "stringresponse", {"answer": answer, "type": "ci"}, body + '<textline size="20"/>'
    )


def _option(bundle: Bundle) -> str:
    options = bundle.rng.sample(["yes", "no", "maybe", "always", "never"], 3)
    listed = ",".join(f"'{o}'" for o in options)
    return (
        f"<optionresponse>{_label(bundle)}"
        f'<optioninput options="({listed})" correct="{options[0]}"/></optionresponse>'
    )


def _formula(bundle: Bundle) -> str:
    attrs = {
        "type": "ci",
        "samples": "x,y@1,2:3,4#10",
        "answer": f"x^2+{bundle.rng.randint(1, 9)}*y",
    }
    body = '<responseparam type="tolerance" default="0.00001"/><formulaequationinput size="40"/>'
    return element("formularesponse", attrs, _label(bundle) + body)


def _custom(bundle: Bundle) -> str:
    expect = bundle.rng.randint(1, 99)
    script = "def check(expect, ans):\n    return int(ans) == int(expect)\n"
    return (
        f'<script type="loncapa/python"><![CDATA[\n{script}]]></script>'
        f'<customresponse cfn="check" expect="{expect}">{_label(bundle)}'
        '<textline size="10" correct_answer="42"/></customresponse>'
    )


_RESPONSES: tuple[tuple[str, Callable[[Bundle], str], float], ...] = (
    ("multiplechoiceresponse", _multiple_choice, 0.35),
    ("choiceresponse", _checkboxes, 0.2),
    ("numericalresponse", _numerical, 0.15),
    ("stringresponse", _string, 0.1),
    ("optionresponse", _option, 0.1),
    ("formularesponse", _formula, 0.05),
    ("customresponse", _custom, 0.05),
)


def problem(bundle: Bundle, folder: str) -> str:
    """`problem/{u}.xml`: one or two responses of the usual CAPA types, with a solution."""
    rng = bundle.rng
    url_name = hex_id(rng)
    weights = [r[2] for r in _RESPONSES]
    responses = [
        r[1](bundle) for r in rng.choices(_RESPONSES, weights=weights, k=rng.randint(1, 2))
    ]
    solution = (
        '<solution><div class="detailed-solution"><p>Explanation</p>'
        f"<p>{xml_text(paragraph(rng, bundle.language, 2))}</p></div></solution>"
    )
    attrs = {
        "display_name": rng.choice(("Problem", "Checkpoint", "Quiz question", "Exercise")),
        "markdown": "null",
        "max_attempts": str(rng.choice((1, 2, 3, 5))),
        "weight": rng.choice(("1.0", "2.0", "0.5")),
        "showanswer": rng.choice(("finished", "past_due", "attempted")),
    }
    return bundle.define(
        "problem", url_name, container("problem", attrs, [*responses, solution]), folder
    )


def _srt(bundle: Bundle, cues: int) -> str:
    """A SubRip transcript: `cues` numbered 4-second cues."""
    return "\n".join(
        f"{i + 1}\n{_CUE_TIMES[i]}\n{text}\n"
        for i, text in enumerate(lines(bundle.rng, bundle.language, cues))
    )


def _srt_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d},000"


_MAX_CUES = 150
_CUE_TIMES = tuple(f"{_srt_time(i * 4)} --> {_srt_time(i * 4 + 4)}" for i in range(_MAX_CUES))


def video(bundle: Bundle, folder: str) -> str:
    """`video/{u}.xml` with YouTube and edx_video_id, a `<source>` and an English transcript."""
    rng = bundle.rng
    url_name = hex_id(rng)
    video_id = "-".join(
        (hex_id(rng, 32), hex_id(rng, 16), hex_id(rng, 16), hex_id(rng, 16), hex_id(rng, 48))
    )
    youtube = "".join(rng.choices(_YOUTUBE_ALPHABET, k=11))
    mp4 = f"https://edx-video.net/{video_id}-mp4_720p.mp4"
    transcript = f"{video_id}-en.srt"
    bundle.static.append(
        text_file(transcript, "application/x-subrip", _srt(bundle, rng.randint(20, _MAX_CUES)))
    )
    attrs = {
        "youtube": f"1.00:{youtube}",
        "display_name": rng.choice(("Video", "Lecture video", "Demonstration")),
        "youtube_id_1_0": youtube,
        "edx_video_id": video_id,
        "download_video": rng.choice(("true", "false")),
        "html5_sources": json.dumps([mp4]),
        "transcripts": json.dumps({"en": transcript}),
    }
    children = [
        element("source", {"src": mp4}),
        element("transcript", {"language": "en", "src": transcript}),
    ]
    return bundle.define("video", url_name, container("video", attrs, children), folder)


def discussion(bundle: Bundle, folder: str) -> str:
    """`discussion/{u}.xml`: an inline discussion with its id, category and target."""
    rng = bundle.rng
    url_name = hex_id(rng)
    attrs = {
        "discussion_category": words(rng, bundle.language, 2).capitalize(),
        "discussion_id": hex_id(rng, 160),
        "discussion_target": words(rng, bundle.language, 3).capitalize(),
        "display_name": "Discussion",
    }
    return bundle.define("discussion", url_name, element("discussion", attrs), folder)


def _criterion(bundle: Bundle, index: int) -> str:
    rng, lang = bundle.rng, bundle.language
    options = "".join(
        f'<option points="{points}"><name>{name}</name><label>{name}</label>'
        f"<explanation>{xml_text(sentence(rng, lang))}</explanation></option>"
        for points, name in enumerate(("Poor", "Fair", "Good", "Excellent")[: rng.randint(2, 4)])
    )
    name = f"Criterion {index + 1}"
    return (
        f'<criterion feedback="optional"><name>{name}</name><label>{name}</label>'
        f"<prompt>{xml_text(sentence(rng, lang))}</prompt>{options}</criterion>"
    )


def openassessment(bundle: Bundle, folder: str) -> str:
    """An inline `<openassessment url_name=...>` with prompts, assessments and a rubric."""
    rng, lang = bundle.rng, bundle.language
    bundle.count("openassessment", draft=bool(folder))
    attrs = {
        "url_name": hex_id(rng),
        "display_name": "Open Response Assessment",
        "submission_start": bundle.iso(0),
        "submission_due": bundle.iso(rng.randint(30, 90)),
        "text_response": "required",
        "file_upload_response": rng.choice(("", "optional")),
        "allow_latex": "False",
    }
    prompts = "".join(
        f"<prompt><description>{xml_text(paragraph(rng, lang, 2))}</description></prompt>"
        for _ in range(rng.randint(1, 2))
    )
    criteria = "".join(_criterion(bundle, i) for i in range(rng.randint(2, 4)))
    body = (
        f"<title>{xml_text(sentence(rng, lang, 2, 5))}</title>"
        '<assessments><assessment name="peer-assessment" must_grade="5" must_be_graded_by="3"/>'
        '<assessment name="self-assessment"/></assessments>'
        f"<prompts>{prompts}</prompts>"
        f"<rubric>{criteria}<feedbackprompt>{xml_text(sentence(rng, lang))}</feedbackprompt>"
        "<feedback_default_text>Enter your feedback here.</feedback_default_text></rubric>"
    )
    return element("openassessment", attrs, body)


def library_content(bundle: Bundle, folder: str) -> str:
    """`library_content/{u}.xml` pointing to the library problems copied into the course."""
    rng, ident = bundle.rng, bundle.identity
    url_name = hex_id(rng)
    count = rng.randint(2, 6)
    children = [problem(bundle, folder) for _ in range(count)]
    library = f"{ident.number.replace('.', '_')}_bank"
    attrs = {
        "display_name": "Randomized Content Block",
        "max_count": str(rng.randint(1, count)),
        "mode": "random",
        "source_library_id": f"library-v1:{ident.org}+{library}",
        "source_library_version": hex_id(rng, 96),
    }
    return bundle.define(
        "library_content", url_name, container("library_content", attrs, children), folder
    )


# Which leaf a unit holds, and how often.
COMPONENTS: tuple[tuple[Builder, float], ...] = (
    (html, 0.35),
    (problem, 0.33),
    (video, 0.20),
    (discussion, 0.07),
    (openassessment, 0.02),
    (library_content, 0.03),
)
