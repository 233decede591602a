"""edX research data packages -> rows, in pure Python (no Spark).

A weekly package is `{org}-{YYYY-MM-DD}.zip` of GPG-encrypted files (see
/work/shared/specs/data-packages.md). `names` parses package and member file names,
`zipmembers` lists a package's members from its central directory and streams one member from a
byte range (so one member is one Spark task), `gpg` decrypts a stream with python-gnupg without
plaintext touching disk, `tsv` is the reference decoder of the `.sql` TSV dumps (the Spark job
decodes with built-in functions; tests prove both agree), `lines` cuts a dump into Arrow batches
of raw lines in bulk, `course_structure`, `forum` and `email_opt_in` turn the other file kinds
into rows, `tables` declares every package table once (names and Arrow schemas), `staging` the
layout executors emit, and `member` reads one member end to end on an executor.
"""
