"""A deterministic generator of realistic Open edX course export archives (pure Python, no Spark).

Tests, the demo samples and the benchmarks need course archives that look like real Studio
exports (pointers, policies, drafts, inline ORA, library content, static files) without shipping
real courses. `generate_corpus` writes N seeded `.tar.gz` archives and returns what is in them
(`CorpusSummary`), so a benchmark or a test can compare the ingest's rows with the truth.

Modules: `scales` (how big a course is), `text` (words, titles, XML escaping), `identity`
(org/number/run of a course), `bundle` (a course's files and counts as it is built),
`components` (leaf blocks: html, problem, video, ...), `course` (the whole OLX tree as files),
`static` (cheap incompressible static file content), `tarball` (byte-reproducible tar.gz
writing), `corpus` (archives, corpus, workers), `facts` (what an archive holds) and `samples`
(the bundled demo archives). Beside the courses: `tracking` writes daily tracking logs and
`packages` a research data package (encrypted dumps) for the other jobs' benchmarks.

One coherent world over given archives (`olx-spark synth --learners`, `olx-spark demo`):
`courseware` (an archive's outline, videos, problems, as learners see it), `people` (learners,
profiles, enrollments), `events` (tracking log lines as the LMS writes them), `activity` (what
a learner does at a block), `learning` (the world, played day by day), `research` (the world's
data package) and `inputs` (all three inputs written side by side).
"""

from olx_spark.synth.corpus import generate_corpus, generate_course_archive
from olx_spark.synth.facts import ArchiveFacts, CorpusSummary
from olx_spark.synth.scales import SCALES

__all__ = ["SCALES", "ArchiveFacts", "CorpusSummary", "generate_corpus", "generate_course_archive"]
