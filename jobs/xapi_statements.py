"""spark-submit entry point for the xAPI job (same arguments as `olx-spark xapi`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/xapi_statements.py --lms-root-url https://courses.example.org \
      --since 2026-01-01 --out s3://bucket/xapi/ --config conf/emr.toml

The pseudonym salt comes from the environment variable named by xapi.actor_salt_env (default
OLX_SPARK_XAPI_SALT), or pass --actor-map TABLE_OR_CSV.
"""

import sys

from olx_spark.cli import main

if __name__ == "__main__":
    sys.exit(main(["xapi", *sys.argv[1:]]))
