"""One whole course as OLX files, laid out as a Studio export.

`build_course` draws the tree (chapters -> sequentials -> verticals -> components) from the
scale's ranges, then writes what a Studio export holds around it: the `course.xml` pointer, the
course definition, drafts, policies (`policy.json`, `grading_policy.json`, `assets.json`),
`assets/assets.xml`, about/info/tab pages, and the static files. Paths are relative to the course
root; `tarball` puts the root folder in front.
"""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from olx_spark.synth.bundle import Bundle
from olx_spark.synth.components import COMPONENTS, html, problem
from olx_spark.synth.identity import CourseIdentity
from olx_spark.synth.scales import Scale
from olx_spark.synth.static import StaticFile, plan_big_media, plan_media
from olx_spark.synth.text import container, element, hex_id, paragraph, sentence, title, xml_text

_GRADERS = (
    {"type": "Homework", "short_label": "HW", "min_count": 8, "drop_count": 2, "weight": 0.3},
    {"type": "Lab", "short_label": "Lab", "min_count": 6, "drop_count": 1, "weight": 0.2},
    {
        "type": "Midterm Exam",
        "short_label": "Midterm",
        "min_count": 1,
        "drop_count": 0,
        "weight": 0.2,
    },
    {"type": "Final Exam", "short_label": "Final", "min_count": 1, "drop_count": 0, "weight": 0.3},
)
_CUTOFFS = ({"Pass": 0.5}, {"A": 0.9, "B": 0.8, "C": 0.7}, {"Pass": 0.6})


def build_course(
    rng: random.Random,
    identity: CourseIdentity,
    scale: Scale,
    *,
    drafts: int | None,
    media_bytes: int | None,
    big_static_bytes: int,
) -> Bundle:
    """All files of one course (paths relative to the course root) and its block counts."""
    start = datetime(_year(identity.run, rng), rng.randint(1, 12), 1, tzinfo=UTC)
    bundle = Bundle(rng, identity, start)
    if media_bytes is None:
        media_bytes = int(scale.static_bytes_mean * rng.uniform(0.5, 1.5))
    bundle.static += plan_media(rng, media_bytes) + plan_big_media(big_static_bytes)
    bundle.images = [f.name for f in bundle.static if f.mime_type.startswith("image/")]
    chapters = [_chapter(bundle, scale, i) for i in range(rng.randint(*scale.chapters))]
    _course(bundle, chapters)
    _drafts(bundle, scale, drafts)
    _policies(bundle)
    _assets(bundle)
    _pages(bundle)
    return bundle


def _year(run: str, rng: random.Random) -> int:
    """The year the run names (`2024_T1`, `1T2025`), else a random recent one."""
    found = re.search(r"20\d\d", run)
    return int(found.group()) if found else rng.randint(2014, 2025)


def _chapter(bundle: Bundle, scale: Scale, index: int) -> str:
    rng = bundle.rng
    url_name = hex_id(rng)
    count = rng.randint(*scale.sequentials_per_chapter)
    children = [_sequential(bundle, scale, i, index * 7 + i) for i in range(count)]
    if rng.random() < 0.3:
        bundle.policy[f"chapter/{url_name}"] = {"start": bundle.iso(index * 7)}
    attrs = {"display_name": title(rng, bundle.language, "chapter", index + 1)}
    return bundle.define("chapter", url_name, container("chapter", attrs, children), "")


def _sequential(bundle: Bundle, scale: Scale, index: int, day: int) -> str:
    rng = bundle.rng
    url_name = hex_id(rng)
    count = rng.randint(*scale.verticals_per_sequential)
    children = [_vertical(bundle, scale, i, "") for i in range(count)]
    attrs = {"display_name": title(rng, bundle.language, "sequential", index + 1)}
    if rng.random() < 0.35:
        grading = {
            "format": str(rng.choice(_GRADERS)["type"]),
            "graded": "true",
            "due": bundle.iso(day + 7),
        }
        if rng.random() < 0.5:
            attrs |= grading
        else:
            bundle.policy[f"sequential/{url_name}"] = {**grading, "graded": True}
    return bundle.define("sequential", url_name, container("sequential", attrs, children), "")


def _vertical(bundle: Bundle, scale: Scale, index: int, folder: str) -> str:
    rng = bundle.rng
    builders = rng.choices(
        [c[0] for c in COMPONENTS],
        weights=[c[1] for c in COMPONENTS],
        k=rng.randint(*scale.components_per_vertical),
    )
    children = [build(bundle, folder) for build in builders]
    attrs = {"display_name": title(rng, bundle.language, "vertical", index + 1)}
    return bundle.define("vertical", hex_id(rng), container("vertical", attrs, children), folder)


def _course(bundle: Bundle, chapters: list[str]) -> None:
    """`course.xml` (the pointer) and `course/{run}.xml` with chapter pointers and the wiki."""
    ident, rng = bundle.identity, bundle.rng
    course_title = title(rng, bundle.language, "course", 1).split(": ", 1)[-1]
    attrs = {
        "advanced_modules": json.dumps(["openassessment", "library_content"]),
        "display_name": f"{ident.number}: {course_title}",
        "language": ident.language,
        "start": json.dumps(bundle.iso(0)),
    }
    wiki = element("wiki", {"slug": f"{ident.org}.{ident.number}.{ident.run}"})
    bundle.add_xml(f"course/{ident.run}.xml", container("course", attrs, [*chapters, wiki]) + "\n")
    bundle.count("course", draft=False)  # the <wiki slug> is the course's field, not a block
    pointer = {"url_name": ident.run, "org": ident.org, "course": ident.number}
    bundle.add_xml("course.xml", element("course", pointer) + "\n")


def _drafts(bundle: Bundle, scale: Scale, drafts: int | None) -> None:
    """Unpublished units under `drafts/`, each naming its published parent sequential."""
    rng = bundle.rng
    if drafts is None:
        drafts = rng.randint(*scale.drafts) if rng.random() < scale.draft_probability else 0
    sequentials = [p for p in bundle.files if p.startswith("sequential/")]
    for _ in range(drafts):
        parent = rng.choice(sequentials)
        url_name = parent.removeprefix("sequential/").removesuffix(".xml")
        children = [
            rng.choice((html, problem))(bundle, "drafts/") for _ in range(rng.randint(1, 3))
        ]
        attrs = {
            "display_name": f"Draft: {sentence(rng, bundle.language, 2, 4)}",
            "parent_url": bundle.identity.block_key("sequential", url_name),
            "index_in_children_list": str(
                rng.randint(0, bundle.files[parent].count(b"<vertical "))
            ),
        }
        unit = hex_id(rng)
        bundle.define("vertical", unit, container("vertical", attrs, children), "drafts/")


def _policies(bundle: Bundle) -> None:
    """`policies/{run}/policy.json` and `grading_policy.json`, `policies/assets.json`."""
    ident, rng = bundle.identity, bundle.rng
    tabs: list[dict[str, Any]] = [
        {"type": "courseware", "name": "Course"},
        {"type": "course_info", "name": "Home"},
        {"type": "discussion", "name": "Discussion"},
        {"type": "wiki", "name": "Wiki"},
        {"type": "progress", "name": "Progress"},
    ]
    for name in rng.sample(["Syllabus", "Resources", "FAQ", "Calendar"], rng.randint(1, 3)):
        slug = hex_id(rng)
        tabs.append({"type": "static_tab", "name": name, "url_slug": slug})
        bundle.add_text(
            f"tabs/{slug}.html",
            f"<h2>{name}</h2>\n<p>{xml_text(paragraph(rng, bundle.language, 4))}</p>\n",
        )
    course_policy = {
        "advanced_modules": ["openassessment", "library_content"],
        "discussion_topics": {"General": {"id": "course"}},
        "end": bundle.iso(120),
        "enrollment_start": bundle.iso(-30),
        "start": bundle.iso(0),
        "tabs": tabs,
    }
    policy = {f"course/{ident.run}": course_policy} | bundle.policy
    bundle.add_text(
        f"policies/{ident.run}/policy.json", json.dumps(policy, indent=4, ensure_ascii=False)
    )
    graders = rng.sample(_GRADERS, rng.randint(2, 4))
    grading = {"GRADER": graders, "GRADE_CUTOFFS": rng.choice(_CUTOFFS)}
    bundle.add_text(f"policies/{ident.run}/grading_policy.json", json.dumps(grading, indent=4))
    assets = {f.name: _asset_entry(bundle, f) for f in bundle.static}
    bundle.add_text("policies/assets.json", json.dumps(assets, indent=4))


def _asset_key(bundle: Bundle, kind: str, name: str) -> str:
    ident = bundle.identity
    return f"asset-v1:{ident.org}+{ident.number}+{ident.run}+type@{kind}+block@{name}"


def _asset_entry(bundle: Bundle, file: StaticFile) -> dict[str, Any]:
    thumbnail = None
    if file.mime_type.startswith("image/"):
        thumbnail = _asset_key(
            bundle, "thumbnail", file.name.rsplit(".", 1)[0].replace(" ", "_") + ".jpg"
        )
    return {
        "contentType": file.mime_type,
        "displayname": file.name,
        "filename": _asset_key(bundle, "asset", file.name),
        "import_path": None,
        "locked": False,
        "thumbnail_location": thumbnail,
    }


def _assets(bundle: Bundle) -> None:
    """`assets/assets.xml`, the XML twin of `policies/assets.json` in newer exports."""
    entries = [
        element(
            "asset",
            {"filename": f.name},
            f"<contentType>{f.mime_type}</contentType><displayname>{xml_text(f.name)}</displayname>"
            f"<filename>{xml_text(_asset_key(bundle, 'asset', f.name))}</filename>"
            "<import_path>None</import_path><locked>False</locked>",
        )
        for f in bundle.static
    ]
    bundle.add_xml("assets/assets.xml", container("assets", {}, entries) + "\n")


def _pages(bundle: Bundle) -> None:
    """about/ (overview, short description, effort), info/ (updates, handouts)."""
    rng, lang = bundle.rng, bundle.language
    sections = (("about", "About This Course"), ("prerequisites", "Requirements"))
    overview = "".join(
        f'<section class="{name}"><h2>{heading}</h2>'
        f"<p>{xml_text(paragraph(rng, lang, 5))}</p></section>\n"
        for name, heading in sections
    )
    bundle.add_text("about/overview.html", overview)
    bundle.add_text("about/short_description.html", xml_text(sentence(rng, lang, 10, 20)))
    bundle.add_text("about/effort.html", f"{rng.randint(2, 10)}:00")
    updates = [
        {
            "id": i + 1,
            "date": (bundle.start + timedelta(days=7 * i)).strftime("%B %d, %Y"),
            "content": f"<p>{xml_text(paragraph(rng, lang, 2))}</p>",
            "status": "visible",
        }
        for i in range(rng.randint(1, 5))
    ]
    bundle.add_text("info/updates.items.json", json.dumps(updates, indent=4, ensure_ascii=False))
    articles = "".join(
        f"<article><h2>{u['date']}</h2>{u['content']}</article>" for u in reversed(updates)
    )
    bundle.add_text("info/updates.html", f"<section>{articles}</section>\n")
    pdfs = [f.name for f in bundle.static if f.mime_type == "application/pdf"]
    handouts = "".join(f'<li><a href="/static/{name}">{xml_text(name)}</a></li>' for name in pdfs)
    bundle.add_text("info/handouts.html", f"<ol>{handouts}</ol>\n")
