"""spark-submit entry point for the course archive job (same arguments as the CLI).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/ingest_course_archives.py s3://bucket/exports/ --platform edxorg --source-system prod \
      --config conf/emr.toml

With `spark.mode = "cluster"` in the config (conf/emr.toml, conf/databricks.toml) the job uses
the session spark-submit gives it; with the default local mode it builds its own.

On a Spark standalone cluster, see the README ("Running on a cluster"): the command there
is what tests/cluster/ runs. Before any session exists the driver checks that the master
answers and that the classes the settings name load (olx_spark.spark.submit_check): a
mistake there is one line naming the option to fix, exit 2, nothing written.
"""

import sys

from olx_spark.spark.submit_check import run_job

if __name__ == "__main__":
    sys.exit(run_job(["ingest", "course-archives"], sys.argv[1:]))
