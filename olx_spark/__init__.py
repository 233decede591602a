"""olx-spark: Open edX course exports, research data packages and tracking logs into Delta tables.

The package is split so that everything that understands a file format is pure Python
(`olx`, `packages`, `tracking`, `storage`) and testable without a JVM, while `spark` is the
thin layer that distributes that work, declares table schemas to Spark and writes Delta.
"""

__version__ = "0.1.0"
