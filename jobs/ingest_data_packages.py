"""spark-submit entry point for the data package job (same arguments as the CLI).

    export OLX_SPARK_GPG_PASSPHRASE=...   # or packages.secrets_file in the config
    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      --conf spark.executorEnv.GNUPGHOME=/etc/olx-spark/gnupg \
      jobs/ingest_data_packages.py s3://bucket/edx-data-packages/ \
      --gnupg-home /etc/olx-spark/gnupg --config conf/emr.toml

The keyring folder must exist at the same path on the driver and every executor (a bootstrap
step copies it there); the passphrase is read on the driver and reaches the executors masked,
inside the job's closure, never on a command line.

On a Spark standalone cluster, see the README ("Running on a cluster"): the command there
is what tests/cluster/ runs. Before any session exists the driver checks that the master
answers and that the classes the settings name load (olx_spark.spark.submit_check): a
mistake there is one line naming the option to fix, exit 2, nothing written.
"""

import sys

from olx_spark.spark.submit_check import run_job

if __name__ == "__main__":
    sys.exit(run_job(["ingest", "data-packages"], sys.argv[1:]))
