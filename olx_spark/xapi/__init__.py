"""Tracking events -> xAPI statements, as Open edX's event-routing-backends would emit them.

Pure Python, no Spark: `event` normalises one raw tracking-log row, `statement` builds the parts
every statement shares (id, actor, context, timestamp, version), `families/` holds one module
per event family, `registry` maps event names to their transformer, `batch` turns Arrow batches
of raw events into Arrow batches of statements (what the Spark job runs on the executors), and
`validate` checks a statement against xAPI 1.0.3. Formats: `specs/xapi.md`.
"""
