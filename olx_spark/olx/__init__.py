"""Course export archives (OLX) <-> rows, in pure Python.

Reading: `parse.parse_course_archive` is the entry point the Spark job calls on an executor:
`archive` streams a `.tar.gz`/`.zip` once (safety checks, bomb limits, hashing every member),
`xml_safety` parses XML with entities, DTDs and network off, `course` resolves the OLX tree
(pointers, drafts, orphans) with `identity` (course and usage keys, url_names), `elements`
(containers, pointers, course fields), `sources` (the text files, problems recorded) and
`policies`, into a `tree` that `rows` turns into table rows; `hashing` holds the block and
subtree hashes and the course version, `tables` the one declaration of every course table's
columns (as Arrow schemas), `model` the parse result and limits, and `arrow` turns parsed rows
into Arrow record batches.

The OLX workflow (specs/olx-versions.md): `versions` holds one loaded version's rows,
`export` / `export_write` write a course or subtree back as OLX, `changes` lists what changed
between two versions, and `edit` (with `edit_*`) replaces, moves or deletes blocks in an
archive offline. Nothing here imports Spark (`olx_spark.spark.course_versions` reads versions
from the lakehouse).
"""
