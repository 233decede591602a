"""A Spark standalone cluster on 127.0.0.1 for the tests, from PySpark's own `bin/spark-class`:
a master, two one-core workers, a Derby network server as the metastore every JVM shares, and
(on demand) Spark's Thrift server as an application of that cluster. It mirrors
docker-compose.yml's services, without containers.

Why a Derby *network* server: the embedded Derby database a local session uses admits one JVM,
and here several drivers (each spark-submit, the Thrift server) share one catalog. Spark ships
Derby's engine but neither its network server (`derbynet`) nor its client driver
(`derbyclient`): both are fetched from Maven Central with `mvn dependency:copy`, at the version
of the engine PySpark ships, into `~/.cache/olx-spark/jars/derby-{version}/` (or under
`$OLX_SPARK_JARS_DIR`), as the Dockerfile does for the image.

Every process runs in a process group of its own and `Processes.stop` kills each group, so a
failed test leaves no JVM behind. Commands of the README are run from the README itself
(`readme_block`): the tests prove what the README says.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SPARK_HOME = Path(pyspark.__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: object, seconds: float, log: Path | None = None) -> None:
    """Poll `check()` (a callable returning truthy when ready) every 0.5 s for `seconds`."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{what} not ready after {seconds:.0f} s\n{tail}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def derby_version() -> str:
    engine = next((SPARK_HOME / "jars").glob("derby-[0-9]*.jar"))
    return engine.stem.removeprefix("derby-")


def derby_jars() -> tuple[Path, Path]:
    """(server classpath folder, client jar): derbynet + the engine jars PySpark ships, and
    derbyclient, fetched once with Maven and cached."""
    version = derby_version()
    base = os.environ.get("OLX_SPARK_JARS_DIR")
    root = (Path(base) if base else Path.home() / ".cache" / "olx-spark" / "jars") / (
        f"derby-{version}"
    )
    server, client = root / "server", root / "client"
    client_jar = client / f"derbyclient-{version}.jar"
    if not (server / f"derbynet-{version}.jar").is_file() or not client_jar.is_file():
        mvn = shutil.which("mvn")
        assert mvn, "Maven (mvn) is needed to fetch Derby's network server and client"
        for artifact, folder in (("derbynet", server), ("derbyclient", client)):
            folder.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [mvn, "-q", "-B", "dependency:copy", f"-Dartifact=org.apache.derby:{artifact}:"
                 f"{version}", f"-DoutputDirectory={folder}"],
                check=True,
                capture_output=True,
            )  # fmt: skip
        for name in ("derby", "derbyshared", "derbytools"):
            shutil.copy2(SPARK_HOME / "jars" / f"{name}-{version}.jar", server)
    return server, client_jar


def spark_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every Spark process: PySpark's Spark, this interpreter for the
    Python workers, everything on the loopback interface."""
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "PATH": f"{VENV_BIN}{os.pathsep}{SPARK_HOME / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": HOST,
        "SPARK_LOCAL_HOSTNAME": "localhost",
        "SPARK_NO_DAEMONIZE": "1",
    }
    env.pop("PYSPARK_GATEWAY_PORT", None)
    env.pop("PYSPARK_GATEWAY_SECRET", None)
    env.update(extra or {})
    return env


@dataclass
class Processes:
    """Long-running processes, each in its own process group, killed together by `stop`."""

    logs: Path
    running: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Path:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
            )
        self.running.append((name, proc))
        return log

    def alive(self, name: str) -> bool:
        return any(n == name and p.poll() is None for n, p in self.running)

    def stop(self) -> None:
        for _, proc in reversed(self.running):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 20
        for _, proc in reversed(self.running):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.running.clear()


@dataclass(frozen=True)
class Cluster:
    """What the README's commands need to know about the running cluster."""

    master_url: str
    master_ui: str
    warehouse: Path
    metastore: str  # host:port of the Derby network server
    derby_client_jar: Path
    processes: Processes
    root: Path

    def workers_alive(self) -> int:
        with urllib.request.urlopen(f"{self.master_ui}/json/", timeout=5) as response:
            state = json.load(response)
        return sum(1 for w in state["workers"] if w["state"] == "ALIVE")


def start_cluster(root: Path, workers: int = 2) -> Cluster:
    """Derby's network server, a master and `workers` one-core workers; returns once every
    worker has registered with the master. On failure, whatever started is stopped."""
    logs = root / "logs"
    logs.mkdir(parents=True)
    warehouse = root / "warehouse"
    warehouse.mkdir()
    processes = Processes(logs)
    try:
        server, client = derby_jars()
        derby_port, master_port, ui_port = free_port(), free_port(), free_port()
        env = spark_env()
        derby_log = processes.start(
            "derby",
            ["java", f"-Dderby.system.home={warehouse}", "-cp", f"{server}/*",
             "org.apache.derby.drda.NetworkServerControl", "start", "-h", HOST,
             "-p", str(derby_port), "-noSecurityManager"],
            env,
            root,
        )  # fmt: skip
        spark_class = str(SPARK_HOME / "bin" / "spark-class")
        master_log = processes.start(
            "master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", HOST,
             "--port", str(master_port), "--webui-port", str(ui_port)],
            env,
            root,
        )  # fmt: skip
        master_url = f"spark://{HOST}:{master_port}"
        wait_for("the Spark master", lambda: port_open(master_port), 60, master_log)
        for n in range(1, workers + 1):
            work = root / f"worker-{n}"
            work.mkdir()
            processes.start(
                f"worker-{n}",
                [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", HOST,
                 "--cores", "1", "--memory", "1g", "--work-dir", str(work),
                 "--webui-port", "0", master_url],
                env,
                root,
            )  # fmt: skip
        cluster = Cluster(
            master_url=master_url,
            master_ui=f"http://{HOST}:{ui_port}",
            warehouse=warehouse,
            metastore=f"{HOST}:{derby_port}",
            derby_client_jar=client,
            processes=processes,
            root=root,
        )
        wait_for(
            f"{workers} workers registered", lambda: cluster.workers_alive() == workers, 90,
            master_log,
        )  # fmt: skip
        wait_for("Derby's network server", lambda: port_open(derby_port), 60, derby_log)
        return cluster
    except BaseException:
        processes.stop()
        raise


def readme_block(tag: str) -> str:
    """The shell block of the README that follows the marker `<!-- tests/cluster: TAG -->`."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- tests/cluster: {re.escape(tag)} -->\s*```bash\n(.*?)```", text, flags=re.S
    )
    assert match, f"README.md has no block marked <!-- tests/cluster: {tag} -->"
    return match.group(1)


def readme_env(cluster: Cluster, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the README's cluster blocks use, for this cluster."""
    return spark_env(
        {
            "SPARK_MASTER": cluster.master_url,
            "WAREHOUSE": str(cluster.warehouse),
            "METASTORE": cluster.metastore,
            "DERBY_CLIENT_JAR": str(cluster.derby_client_jar),
            **(extra or {}),
        }
    )


def run_block(
    tag: str, env: Mapping[str, str], timeout: float, log: Path
) -> subprocess.CompletedProcess[str]:
    """Run the README's block `tag` with bash (stop at the first failing command)."""
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", readme_block(tag)],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log.write_text(f"$ README block {tag}\n{result.stdout}\n--- stderr ---\n{result.stderr}")
    return result


def launch_thrift_server(cluster: Cluster, port: int, env: Mapping[str, str]) -> Path:
    """Start the README's Thrift server command, as an application of the cluster, and return
    its log at once (`wait_thrift_server` waits until it accepts connections). With dynamic
    allocation it holds no executor while idle, so jobs can run meanwhile."""
    return cluster.processes.start(
        "thrift-server",
        ["bash", "-euo", "pipefail", "-c", readme_block("thrift")],
        {**env, "THRIFT_HOST": HOST, "THRIFT_PORT": str(port)},
        ROOT,
    )


def wait_thrift_server(cluster: Cluster, port: int, log: Path) -> None:
    def up() -> bool:
        if not cluster.processes.alive("thrift-server"):
            raise AssertionError(f"the Thrift server exited:\n{log.read_text()[-4000:]}")
        return port_open(port)

    wait_for("the Spark Thrift server", up, 300, log)
