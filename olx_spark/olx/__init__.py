"""Course export archives (OLX) -> rows, in pure Python.

`parse.parse_course_archive` is the entry point the Spark job calls on an executor:
`archive` streams a `.tar.gz`/`.zip` once (safety checks, bomb limits, hashing every member),
`xml_safety` parses XML with entities, DTDs and network off, `course` resolves the OLX tree
(pointers, policies, drafts, pages) into rows, `hashing` holds the canonical block hash and
course version, `tables` the one declaration of every course table's columns (as Arrow schemas),
`model` the parse result and limits, and `arrow` turns parsed rows into Arrow record batches.
Nothing here imports Spark.
"""
