"""Course export archives (OLX) -> rows, in pure Python.

`archive` streams a `.tar.gz`/`.zip` once (safety checks, bomb limits, hashing static files),
`course` resolves the OLX tree (pointers, policies, drafts, pages) into rows, `hashing` holds
the canonical block hash and course version, `tables` the one declaration of every course
table's columns (as Arrow schemas) and `arrow` turns parsed rows into Arrow record batches.
Nothing here imports Spark.
"""
