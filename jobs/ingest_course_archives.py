"""spark-submit entry point for the course archive job (same arguments as the CLI).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/ingest_course_archives.py s3://bucket/exports/ --platform edxorg --source-system prod \
      --config conf/emr.toml

With `spark.mode = "cluster"` in the config (conf/emr.toml, conf/databricks.toml) the job uses
the session spark-submit gives it; with the default local mode it builds its own.
"""

import sys

from olx_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", "course-archives", *sys.argv[1:]]))
