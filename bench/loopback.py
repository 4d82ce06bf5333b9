"""Private servers on loopback: free ports, redis-server (one, or a six-node cluster), uvicorn.

The one implementation the benchmarks and the tests (`tests/support`) both start
their servers with. Everything binds 127.0.0.1 on a free port, every process is
stopped by its own PID (never by name), and nothing touches the machine's shared
Redis or PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STARTUP_S = 60.0
LOGS: dict[str, Path] = {}  # base URL of a uvicorn started here → its stdout + stderr
PIDS: dict[str, int] = {}  # … → its process id (one worker: the process that serves)


# --- ports and processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    """`count` free ports whose cluster-bus ports (+10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port < 55000 and port not in ports and port_free(port + 10000):
            ports.append(port)
    return ports


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Terminate `proc` (and SIGCONT it first, in case it was frozen); kill if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --- Redis ---------------------------------------------------------------------------------


def probe_client(port: int, password: str | None = None, **tls: Any) -> redis.Redis:
    """A client that fails at once: redis-py's default retries back off for seconds."""
    return redis.Redis(
        host="127.0.0.1", port=port, password=password, socket_timeout=1,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0), **tls,
    )  # fmt: skip


class RedisNode:
    """One redis-server on a fixed loopback port that can be killed, frozen and restarted.

    With `password`, clients must AUTH (`requirepass`; `masterauth` too, for replicas).
    With `tls` (certificate, key), it listens for TLS only, the certificate its own CA.
    """

    def __init__(
        self, workdir: Path, port: int | None = None, *extra: str, password: str | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:  # fmt: skip
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not installed: apt-get install -y redis-server")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        auth = ("--requirepass", password, "--masterauth", password) if password else ()
        self.extra = (*extra, *auth)
        self.password = password
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        login = f":{quote(self.password, safe='')}@" if self.password else ""
        if self.tls:
            return f"rediss://{login}127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls[0]}"
        return f"redis://{login}127.0.0.1:{self.port}/0"

    def _listen(self) -> list[str]:
        if self.tls is None:
            return ["--port", str(self.port)]
        cert, key = self.tls
        return ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert),
                "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
                "--tls-auth-clients", "no"]  # fmt: skip

    def start(self, timeout: float = 10) -> RedisNode:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, *self._listen(), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.workdir), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_until(self.ping, timeout):
            self.stop()
            raise RuntimeError(f"redis-server on port {self.port} did not start")
        return self

    def client(self) -> redis.Redis:
        """A client that fails at once (no retries)."""
        tls = {"ssl": True, "ssl_ca_certs": str(self.tls[0])} if self.tls else {}
        return probe_client(self.port, self.password, **tls)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ping(self) -> bool:
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: the process is gone at once, sockets reset."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A private redis-server (no persistence) on a free loopback port; yields its URL."""
    node = RedisNode(workdir, None, "--appendonly", "no").start()
    try:
        yield node.url
    finally:
        node.stop()


class RedisClusterProcs:
    """A Redis Cluster of redis-server processes on free loopback ports (default: 3 masters,
    one replica each)."""

    def __init__(
        self, workdir: Path, node_timeout_ms: int = 2000, masters: int = 3, replicas: int = 1,
        password: str | None = None,
    ) -> None:  # fmt: skip
        self.password = password
        self.replicas = replicas
        self.masters_wanted = masters
        self.ports = free_cluster_ports(masters * (1 + replicas))
        self.nodes = [
            RedisNode(workdir / str(port), port, "--cluster-enabled", "yes",
                      "--cluster-node-timeout", str(node_timeout_ms), "--appendonly", "no",
                      "--repl-diskless-sync-delay", "0",
                      "--cluster-config-file", "nodes.conf", password=password)
            for port in self.ports
        ]  # fmt: skip
        self.node_timeout_s = node_timeout_ms / 1000

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def live_url(self) -> str:
        """A URL of a node that is still running (the first one may have been killed)."""
        return next(n.url for n in self.nodes if n.alive())

    def start(self) -> RedisClusterProcs:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli not installed")
        try:
            for node in self.nodes:
                node.start()
            auth = ["--no-auth-warning", "-a", self.password] if self.password else []
            subprocess.run(
                [cli, *auth, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                 "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            if not wait_until(self.cluster_ok, 30, every=0.2):
                raise RuntimeError(f"cluster on {self.ports} did not reach cluster_state:ok")
            # Every replica attached and in sync, so a kill right after this is a clean test.
            if not wait_until(self._replicas_synced, 30):
                raise RuntimeError("cluster replicas did not sync")
        except BaseException:
            self.stop()
            raise
        return self

    def _replicas_synced(self) -> bool:
        masters = self.masters()
        if len(masters) != self.masters_wanted:
            return False
        if not self.replicas:
            return True
        for port in masters:
            info = self._probe(port).info("replication")
            replica = info.get("slave0")
            if not isinstance(replica, dict) or replica.get("state") != "online":
                return False
        return True

    def masters(self) -> list[int]:
        """Ports of the live masters, as the cluster sees them."""
        for node in (n for n in self.nodes if n.alive()):
            try:
                nodes = node.client().cluster("nodes")
            except redis.RedisError:
                continue
            ports = []
            for addr, info in nodes.items():
                flags = set(str(info["flags"]).split(","))
                if "master" in flags and not flags & {"fail", "fail?"} and info.get("slots"):
                    ports.append(int(addr.split(":")[1].split("@")[0]))
            return sorted(ports)
        return []

    def wait_replicated(self, timeout: float = 5.0) -> bool:
        """Every replica has acknowledged every write its master had taken when called."""
        targets = {
            port: self._probe(port).info("replication")["master_repl_offset"]
            for port in self.masters()
        }

        def acked() -> bool:
            for port, offset in targets.items():
                replica = self._probe(port).info("replication").get("slave0")
                if not isinstance(replica, dict) or int(replica.get("offset", -1)) < offset:
                    return False
            return True

        return wait_until(acked, timeout)

    def _probe(self, port: int) -> redis.Redis:
        return probe_client(port, self.password)

    def node(self, port: int) -> RedisNode:
        return next(n for n in self.nodes if n.port == port)

    def cluster_ok(self) -> bool:
        try:
            return all(
                n.client().cluster("info").get("cluster_state") == "ok"
                for n in self.nodes
                if n.alive()
            )
        except redis.RedisError:
            return False

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


# --- uvicorn -------------------------------------------------------------------------------


@contextlib.contextmanager
def uvicorn(
    app: str, env: dict[str, str], workers: int = 1, startup_s: float = STARTUP_S
) -> Iterator[str]:
    """`uvicorn APP` on a free loopback port until the block ends; yields its base URL.

    `env` is added to this process's environment. The server's stdout and stderr go
    to a file, `LOGS[url]`, which tests read.
    """
    port = free_port()
    fd, log_name = tempfile.mkstemp(prefix="bullpen-uvicorn-", suffix=".log")
    log = os.fdopen(fd, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-access-log", "--log-level", "info"],
        env={**os.environ, **env}, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    LOGS[url] = Path(log_name)
    PIDS[url] = proc.pid
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                tail = Path(log_name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{app} exited with {proc.returncode} on start: {tail}")
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not start on port {port}")
            time.sleep(0.1)
        yield url
    finally:
        stop_process(proc)
        log.close()
