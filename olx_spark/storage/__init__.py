"""Where input files come from: local folders and S3-compatible object stores.

`listing` enumerates a source (on the driver: names, sizes, modification times only),
`reading` opens one file as a binary stream (on the executors). Both speak URIs: a plain path
or `file://...` for local files, `s3://bucket/key` for objects.
"""
