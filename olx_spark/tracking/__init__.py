"""Tracking logs -> raw event rows, the pure-Python half (no Spark here).

edX.org delivers one log per day and site, `{org}-{site}-events-{YYYY-MM-DD}.log.gz.gpg`; Open edX
instances write `tracking.log` files. Both are JSON lines, sometimes behind a syslog prefix. This
package reads such a file as a stream on an executor (decrypting with `olx_spark.packages.gpg`,
gunzipping, keeping what precedes a damaged gzip) and cuts it into Arrow arrays of raw lines in
bulk; the JSON itself is parsed by Spark's built-in functions (`olx_spark.spark.tracking_logs`).

Modules: `tables` (the three tables' names and columns, and the JSON shape Spark parses),
`names` (what a file name says: org, site, date, encryption), `lines` (plaintext from a plain or
gzip stream, truncation recorded instead of raised; lines in bulk), `events` (the line-prefix and
PII patterns Spark applies, with Python references for tests), `files` (one file end to end on an
executor: open, decrypt, read, emit staging batches and the file's ledger row last).
"""
