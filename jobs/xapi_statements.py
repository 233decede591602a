"""spark-submit entry point for the xAPI job (same arguments as `olx-spark xapi`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/xapi_statements.py --lms-root-url https://courses.example.org \
      --since 2026-01-01 --out s3://bucket/xapi/ --config conf/emr.toml

The pseudonym salt comes from the environment variable named by xapi.actor_salt_env (default
OLX_SPARK_XAPI_SALT), or pass --actor-map TABLE_OR_CSV.

On a Spark standalone cluster, see the README ("Running on a cluster"): the command there
is what tests/cluster/ runs. Before any session exists the driver checks that the master
answers and that the classes the settings name load (olx_spark.spark.submit_check): a
mistake there is one line naming the option to fix, exit 2, nothing written.
"""

import sys

from olx_spark.spark.submit_check import run_job

if __name__ == "__main__":
    sys.exit(run_job(["xapi"], sys.argv[1:]))
