"""Spark SQL literals and identifiers written into statement text, quoted in one place.

Pure Python (no Spark import), so that the compaction planner, the Delta helpers and the Thrift
DDL of `olx-spark transform` all quote the same way.
"""

from __future__ import annotations


def sql_string(value: str) -> str:
    """A Spark SQL string literal (backslash escapes, Spark's default)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_identifier(name: str) -> str:
    """A backquoted Spark SQL identifier (or path)."""
    return "`" + name.replace("`", "``") + "`"
