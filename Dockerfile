# One image for every service of docker-compose.yml (Spark master and workers, the Thrift server,
# the Derby metastore server, the olx-spark runner): Python 3.11, Java 17, gpg, olx-spark with
# its pinned dependencies (PySpark ships Spark itself: bin/spark-class, bin/spark-submit), and the
# JVM jars fetched at build time, so no container downloads anything when it starts.
#
#   docker build -t olx-spark:local .          (docker compose build does the same)
#   docker run --rm olx-spark:local --help     (the entrypoint is the olx-spark console script)
#
# tests/unit/test_compose_file.py checks what this file must keep doing (Java 17, gpg, the jar
# prefetch, the package install, a non-root user, the entrypoint); there is no Docker engine on
# the machines that run the tests, so the image itself is not built there.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- base: the runtime every stage shares ---------------------------------------------------------
FROM ${PYTHON_IMAGE} AS base
# Java 17 runs Spark; gpg decrypts research data packages and tracking logs (python-gnupg calls
# the `gpg` binary, on the executors too, so every service has it).
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless gnupg \
    && rm -rf /var/lib/apt/lists/*
# OLX_SPARK_JARS_DIR is where olx_spark.spark.jars caches the Delta jars and where the session
# looks for them: the code reads this variable, so the build and every container use one folder.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    OLX_SPARK_JARS_DIR=/opt/olx-spark/jars

# --- build: the package into a virtualenv, then the jars, exactly as `make setup` does -----------
FROM base AS build
# Maven is what `python -m olx_spark.spark.jars` fetches the Delta jars with (without it the code
# leaves the download to Spark at run time, in every container): needed here only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends maven \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY olx_spark/ olx_spark/
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --upgrade pip \
    && pip install .
# The Delta jars into $OLX_SPARK_JARS_DIR/delta-{version}/ (the build fails if none arrived), and
# `delta` linked to that folder: a classpath without a version in it for the Thrift server. Also
# the S3A jars (s3a-hadoop-*/), for a warehouse on S3.
RUN python -m olx_spark.spark.jars --s3a \
    && delta="$(python -c 'from olx_spark.spark.jars import jar_cache_dir; print(jar_cache_dir())')" \
    && test -n "$(find "$delta" -name '*.jar')" \
    && ln -s "$(basename "$delta")" "$OLX_SPARK_JARS_DIR/delta"
# The shared metastore is a Derby network server (see docker-compose.yml). Spark ships Derby's
# engine but neither its network server nor its client driver: fetch both from Maven Central at
# the version of the engine PySpark ships, and put the server's classpath together in one folder.
RUN set -eu; \
    spark_jars="$(python -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"; \
    engine="$(ls "$spark_jars"/derby-[0-9]*.jar)"; \
    version="$(basename "$engine" .jar)"; version="${version#derby-}"; \
    server="$OLX_SPARK_JARS_DIR/derby-server"; client="$OLX_SPARK_JARS_DIR/derby-client"; \
    mkdir -p "$server" "$client"; \
    mvn -q -B dependency:copy -Dartifact="org.apache.derby:derbynet:$version" -DoutputDirectory="$server"; \
    mvn -q -B dependency:copy -Dartifact="org.apache.derby:derbyclient:$version" -DoutputDirectory="$client"; \
    cp "$engine" "$spark_jars/derbyshared-$version.jar" "$spark_jars/derbytools-$version.jar" "$server/"; \
    ls "$server" "$client"

# --- runtime ---------------------------------------------------------------------------------------
FROM base AS runtime
# The user every service runs as. Its uid owns the shared volumes; set OLX_UID (docker compose:
# OLX_SPARK_UID) to your own uid if you bind-mount a folder of yours for output.
ARG OLX_UID=1000
RUN useradd --create-home --uid "$OLX_UID" --shell /bin/bash olx \
    && mkdir -p /warehouse /keyring /landing \
    && chown olx:olx /warehouse /keyring \
    && chmod 700 /keyring
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/olx-spark/jars /opt/olx-spark/jars
WORKDIR /opt/olx-spark
# What the installed package does not carry: the spark-submit entry points, the config files and
# the dbt project (`olx-spark transform` finds it through OLX_SPARK_DBT_PROJECT_DIR; dbt writes its
# target/ and logs/ there, so it belongs to the user).
COPY jobs/ jobs/
COPY conf/ conf/
COPY --chown=olx:olx dbt/ dbt/
ENV OLX_SPARK_DBT_PROJECT_DIR=/opt/olx-spark/dbt \
    GNUPGHOME=/keyring
USER olx
ENTRYPOINT ["olx-spark"]
CMD ["--help"]
