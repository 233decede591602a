"""The thin Spark layer: session building, schemas derived from the table declarations, the
Delta writers and the ledger logic, and the jobs that distribute the pure parsers.
Only modules in this package import pyspark.
"""
