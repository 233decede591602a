"""Hand-written courses for the OLX workflow's tests: one with every shape the round trip must
keep (drafts, orphans, a block under two parents, inline blocks with and without url_names,
`:` in url_names, unicode names and files, a `filename` definition, library content, course
fields, policies, pages), the same course with an inline course.xml, a content library, and two
versions of a small course whose every change is known (see `test_olx_changes`)."""

from __future__ import annotations

import json

RUN = "2025_T1"
KEY = f"OLXSparkX+VERS101+{RUN}"
COURSE_ID = f"course-v1:{KEY}"
PNG = bytes(range(256)) * 3  # a "static file": arbitrary bytes, not text
UNICODE_STATIC = "static/Übung ü.png"


def block_id(block_type: str, url_name: str, key: str = KEY) -> str:
    return f"block-v1:{key}+type@{block_type}+block@{url_name}"


def _course_body(chapters: str) -> str:
    return (
        '<course display_name="Versions \u2013 Ünïcode 日本" start="2025-01-01T00:00:00Z">'
        '<wiki slug="vers101"/><textbook title="Book" book_url="https://example.org/book/"/>'
        f"{chapters}</course>"
    )


INLINE_CHAPTER = (
    '<chapter url_name="ch2" display_name="Inline chapter">\n  '
    '<sequential url_name="seq_inline" display_name="Inline seq">'
    '<vertical url_name="shared_v"/></sequential>\n</chapter>'
)


def tricky_course(inline_root: bool = False) -> dict[str, str | bytes]:
    """Every shape of OLX the round trip must keep (paths under `course/`)."""
    chapters = '<chapter url_name="ch1"/>' + INLINE_CHAPTER
    files: dict[str, str | bytes] = {
        "chapter/ch1.xml": (
            '<chapter display_name="Week 1"><sequential url_name="seq1"/>'
            '<sequential url_name="ns:seq2"/></chapter>'
        ),
        "sequential/seq1.xml": (
            '<sequential display_name="Lesson 1"><vertical url_name="v1"/>'
            '<vertical url_name="shared_v"/></sequential>'
        ),
        "sequential/ns/seq2.xml": (
            '<sequential display_name="Lesson 2"><vertical url_name="v2"/></sequential>'
        ),
        "vertical/v1.xml": (
            '<vertical display_name="Unit 1">\n  <html url_name="h1"/>\n  <problem url_name="p1"/>'
            '\n  <problem display_name="Inline problem"><multiplechoiceresponse>'
            '<choicegroup><choice correct="true">yes</choice></choicegroup>'
            "</multiplechoiceresponse></problem>\n  <html><p>anonymous inline html</p></html>"
            '\n  <problem url_name="p_file"/>\n</vertical>'
        ),
        "vertical/shared_v.xml": (
            '<vertical display_name="Shared"><video url_name="vid1" youtube_id_1_0="abc"/></vertical>'
        ),
        "vertical/v2.xml": (
            '<vertical display_name="Unit 2"><library_content url_name="lc1"/>'
            '<problem url_name="ns:q:deep"/></vertical>'
        ),
        "library_content/lc1.xml": (
            '<library_content display_name="Pool" source_library_id="library-v1:OLXSparkX+LIB1" '
            'max_count="1"><problem url_name="lib_p1"/><problem url_name="lib_p2"/>'
            "</library_content>"
        ),
        "problem/lib_p1.xml": '<problem display_name="Lib 1"><p>one</p></problem>',
        "problem/lib_p2.xml": '<problem display_name="Lib 2"><p>two</p></problem>',
        "problem/ns/q/deep.xml": '<problem display_name="Deep ✓"><p>deep</p></problem>',
        "html/h1.xml": '<html filename="h1" display_name="Intro"/>',
        "html/h1.html": f'<p>Hello <img src="/{UNICODE_STATIC}"/> and /static/notes.pdf</p>',
        "problem/p1.xml": '<problem display_name="P1" max_attempts="2"><p>Q</p></problem>',
        "problem/p_file.xml": '<problem filename="p_body" display_name="From filename"/>',
        "problem/p_body.xml": '<problem weight="2"><p>body from another file</p></problem>',
        "problem/orphan_p.xml": '<problem display_name="Nobody\'s"><p>lost</p></problem>',
        "drafts/vertical/draft_v.xml": (
            '<vertical display_name="Draft unit" '
            f'parent_url="{block_id("sequential", "seq1")}" index_in_children_list="1">'
            '<html url_name="dh"/><problem url_name="p1"/></vertical>'
        ),
        "drafts/html/dh.xml": '<html filename="dh" display_name="Draft html"/>',
        "drafts/html/dh.html": "<p>draft</p>",
        f"policies/{RUN}/policy.json": json.dumps(
            {
                f"course/{RUN}": {"advanced_modules": ["lti"], "days_early_for_beta": 2},
                "problem/p1": {"weight": 3},
                "chapter/ch1": {},
            }
        ),
        f"policies/{RUN}/grading_policy.json": json.dumps(
            {"GRADER": [{"type": "HW", "weight": 1.0}], "GRADE_CUTOFFS": {"Pass": 0.5}}
        ),
        "policies/assets.json": json.dumps(
            {"Übung ü.png": {"contentType": "image/png", "displayname": "Übung ü.png"}}
        ),
        "about/overview.html": "<section>About ü</section>",
        "info/updates.html": "<ol><li>news</li></ol>",
        "tabs/syllabus.html": "<p>syllabus</p>",
        UNICODE_STATIC: PNG,
        "static/notes.pdf": b"%PDF-1.4 not really\n",
        "static/unused/other.txt": "never named by a block",
    }
    if inline_root:
        files["course.xml"] = (
            f'<course url_name="{RUN}" org="OLXSparkX" course="VERS101" '
            'display_name="Inline root">' + chapters + "</course>"
        )
    else:
        files["course.xml"] = f'<course url_name="{RUN}" org="OLXSparkX" course="VERS101"/>'
        files[f"course/{RUN}.xml"] = _course_body(chapters)
    return {f"course/{path}": data for path, data in files.items()}


def content_library() -> dict[str, str | bytes]:
    """A content library (library.xml at the root, children as pointers)."""
    return {
        "library/library.xml": (
            '<library org="OLXSparkX" library="LIB1" display_name="Library 1" '
            'url_name="library"><problem url_name="lib_p1"/><html url_name="lh"/></library>'
        ),
        "library/problem/lib_p1.xml": '<problem display_name="Lib 1"><p>one</p></problem>',
        "library/html/lh.xml": '<html filename="lh" display_name="Lib html"/>',
        "library/html/lh.html": "<p>from the library</p>",
    }


# Two versions of a small course whose every change is known (worked out in test_olx_changes).
DIFF_KEY = "OLXSparkX+DIFF101+2025"


def diff_course(version: int) -> dict[str, str]:
    """v1: course -> ch1 -> seq1 -> u1 [h1, p1, p2, p3], u2 [p4]; course -> ch2 -> seq2 -> u3
    [p5]. v2: ch1 and ch2 swapped, ch2 renamed, u1 [p3, h1, p1, p_new] (p1's markup edited,
    p2 moved to u3 with new settings, p3 to the front), u2 [] (p4 removed), u3 [p5, p2]."""
    v2 = version == 2
    chapters = ["ch2", "ch1"] if v2 else ["ch1", "ch2"]
    u1 = ["p3", "h1", "p1", "p_new"] if v2 else ["h1", "p1", "p2", "p3"]
    u3 = ["p5", "p2"] if v2 else ["p5"]

    def pointers(block_type: str, names: list[str]) -> str:
        return "".join(f'<{"html" if n == "h1" else block_type} url_name="{n}"/>' for n in names)

    files = {
        "course.xml": '<course url_name="2025" org="OLXSparkX" course="DIFF101"/>',
        "course/2025.xml": f'<course display_name="Diff">{pointers("chapter", chapters)}</course>',
        "chapter/ch1.xml": '<chapter display_name="One"><sequential url_name="seq1"/></chapter>',
        "chapter/ch2.xml": (
            f'<chapter display_name="{"Two (renamed)" if v2 else "Two"}">'
            '<sequential url_name="seq2"/></chapter>'
        ),
        "sequential/seq1.xml": (
            '<sequential display_name="S1"><vertical url_name="u1"/><vertical url_name="u2"/>'
            "</sequential>"
        ),
        "sequential/seq2.xml": '<sequential display_name="S2"><vertical url_name="u3"/></sequential>',
        "vertical/u1.xml": f'<vertical display_name="U1">{pointers("problem", u1)}</vertical>',
        "vertical/u2.xml": (
            f'<vertical display_name="U2">{"" if v2 else pointers("problem", ["p4"])}</vertical>'
        ),
        "vertical/u3.xml": f'<vertical display_name="U3">{pointers("problem", u3)}</vertical>',
        "html/h1.xml": '<html filename="h1" display_name="H1"/>',
        "html/h1.html": "<p>hi</p>",
        "problem/p1.xml": (
            f'<problem display_name="P1"><p>{"What is 2+2?" if v2 else "What is 1+1?"}</p></problem>'
        ),
        "problem/p2.xml": (
            '<problem display_name="P2 (new)" max_attempts="3"><p>two</p></problem>'
            if v2
            else '<problem display_name="P2"><p>two</p></problem>'
        ),
        "problem/p3.xml": '<problem display_name="P3"><p>three</p></problem>',
        "problem/p5.xml": '<problem display_name="P5"><p>five</p></problem>',
    }
    if v2:
        files["problem/p_new.xml"] = '<problem display_name="New"><p>new</p></problem>'
    else:
        files["problem/p4.xml"] = '<problem display_name="P4"><p>four</p></problem>'
    return {f"course/{path}": data for path, data in files.items()}
