"""Fault-injection tools: private servers on loopback, a TCP fault proxy, a bounded load loop.

Everything runs on 127.0.0.1 and free ports; every process is started here and
stopped by its own PID (never by name). Nothing touches the shared Redis or
PostgreSQL.

* `RedisNode` / `RedisClusterProcs` — redis-server processes to kill, freeze and restart.
* `PostgresCluster` — a throwaway `initdb` + `pg_ctl` cluster (as the `postgres` user when
  run as root), stoppable and restartable on the same port and data directory.
* `FaultProxy` — a TCP proxy that adds latency, blackholes or resets connections.
* `drive` — a paced, time- and count-bounded load loop that records every request;
  `LoadReport` turns it into the figures of the fault table (`FaultRow`).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import redis
from fastapi import FastAPI
from redis.backoff import NoBackoff
from redis.retry import Retry

# --- the fault table ---------------------------------------------------------------------


@dataclass
class FaultRow:
    """One line of the table printed at the end of the session."""

    fault: str
    sent: int | None
    failed: int | None
    longest_gap_s: float | None
    recover_s: float | None
    data_lost: int
    note: str = ""


FAULT_ROWS: list[FaultRow] = []


def _cell(value: object, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}{unit}"
    return f"{value}{unit}"


def format_table(rows: list[FaultRow]) -> list[str]:
    header = ("fault", "sent", "failed", "longest gap", "recover", "data lost", "notes")
    body = [
        (r.fault, _cell(r.sent), _cell(r.failed), _cell(r.longest_gap_s, " s"),
         _cell(r.recover_s, " s"), _cell(r.data_lost), r.note)
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in (header, *body)) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return lines


# --- ports and processes -----------------------------------------------------------------


def probe_client(port: int, password: str | None = None) -> redis.Redis:
    """A client that fails at once: redis-py's default retries back off for seconds."""
    return redis.Redis(
        port=port, password=password, socket_timeout=1, socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def redis_binary() -> str | None:
    return shutil.which("redis-server")


class RedisNode:
    """One redis-server on a fixed loopback port that can be killed, frozen and restarted."""

    def __init__(
        self, workdir: Path, port: int | None = None, *extra: str, password: str | None = None
    ) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server not installed")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.extra = (*extra, "--requirepass", password) if password else extra
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisNode:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.workdir), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_until(self.ping, 10):
            raise RuntimeError(f"redis-server on port {self.port} did not start")
        return self

    def ping(self) -> bool:
        client = probe_client(self.port, self.password)
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


class RedisClusterProcs:
    """Six redis-server processes (3 masters, 3 replicas) on free loopback ports."""

    def __init__(self, workdir: Path, node_timeout_ms: int = 2000) -> None:
        from tests.online.conftest import _free_ports  # the cluster-bus ports are free too

        self.ports = _free_ports(6)
        self.nodes = [
            RedisNode(workdir / str(port), port, "--cluster-enabled", "yes",
                      "--cluster-node-timeout", str(node_timeout_ms), "--appendonly", "no",
                      "--repl-diskless-sync-delay", "0",
                      "--cluster-config-file", "nodes.conf")
            for port in self.ports
        ]  # fmt: skip
        self.node_timeout_s = node_timeout_ms / 1000

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def live_url(self) -> str:
        """A URL of a node that is still running (the first one may have been killed)."""
        port = next(n.port for n in self.nodes if n.proc is not None and n.proc.poll() is None)
        return f"redis://127.0.0.1:{port}/0"

    def start(self) -> RedisClusterProcs:
        from tests.online.conftest import _wait_ok

        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli not installed")
        for node in self.nodes:
            node.start()
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        _wait_ok(self.ports)
        # Every replica attached and in sync, so a kill right after this is a clean test.
        if not wait_until(self._replicas_synced, 30):
            raise RuntimeError("cluster replicas did not sync")
        return self

    def _replicas_synced(self) -> bool:
        masters = self.masters()
        if len(masters) != 3:
            return False
        for port in masters:
            info = probe_client(port).info("replication")
            replica = info.get("slave0")
            if not isinstance(replica, dict) or replica.get("state") != "online":
                return False
        return True

    def masters(self) -> list[int]:
        """Ports of the live masters, as the cluster sees them."""
        live = [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]
        for node in live:
            try:
                nodes = probe_client(node.port).cluster("nodes")
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
            port: probe_client(port).info("replication")["master_repl_offset"]
            for port in self.masters()
        }

        def acked() -> bool:
            for port, offset in targets.items():
                replica = probe_client(port).info("replication").get("slave0")
                if not isinstance(replica, dict) or int(replica.get("offset", -1)) < offset:
                    return False
            return True

        return wait_until(acked, timeout)

    def node(self, port: int) -> RedisNode:
        return next(n for n in self.nodes if n.port == port)

    def cluster_ok(self) -> bool:
        live = [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]
        try:
            return all(
                probe_client(n.port).cluster("info").get("cluster_state") == "ok" for n in live
            )
        except redis.RedisError:
            return False

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary directory on a free loopback port.

    As root the server runs as the `postgres` user (PostgreSQL refuses to run as root),
    so the directory is made in /tmp and handed to that user.
    """

    def __init__(self, password: str | None = None) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not installed")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bullpen-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        # With a password, TCP logins need it (SCRAM); the socket stays trust for pg_ctl.
        self.password = password

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> PostgresCluster:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o755)
        auth = ["--auth=trust"]
        if self.password is not None:
            pwfile = self.root / "pwfile"
            pwfile.write_text(self.password + "\n")
            if os.geteuid() == 0:
                shutil.chown(pwfile, "postgres", "postgres")
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  *auth, "-E", "UTF8", "--no-sync")  # fmt: skip
        if self.password is not None:
            (self.root / "pwfile").unlink()
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.log), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as clients can tell: every connection cut at once."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)  # fmt: skip

    def running(self) -> bool:
        status = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status",
                           check=False)  # fmt: skip
        return status.returncode == 0

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A SQLAlchemy URL; `password` (default: the cluster's) is percent-encoded."""
        secret = self.password if password is None else password
        login = "postgres" if secret is None else f"postgres:{quote(secret, safe='')}"
        return f"postgresql+psycopg://{login}@127.0.0.1:{self.port}/{database}"

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


# --- a TCP fault proxy ---------------------------------------------------------------------


class FaultProxy:
    """A loopback TCP proxy (its own event loop in a thread) between a client and `upstream`.

    Modes, switchable at any time: `pass`; `latency` (each chunk is delivered `delay` s
    after it arrived, both directions, without serialising chunks); `blackhole`
    (connections stay open, nothing is forwarded: the peer sees silence); `reset`
    (every connection, open or new, is aborted with an RST). With `hold_on` set, the
    first chunk containing those bytes switches to `blackhole` before it is forwarded
    and sets `held`: the client is stopped exactly at one command.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.mode = "pass"
        self.delay = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.hold_on: bytes | None = None
        self.held = threading.Event()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> FaultProxy:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, "127.0.0.1", self.port), self._loop
        )
        self._server = future.result(timeout=5)
        return self

    def set(self, mode: str, delay: float = 0.0) -> None:
        assert mode in ("pass", "latency", "blackhole", "reset")
        self.mode, self.delay = mode, delay
        if mode == "reset":
            self._loop.call_soon_threadsafe(self._abort_all)

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "reset":
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
        )
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.hold_on is not None and self.hold_on in data:
                    self.mode = "blackhole"
                    self.held.set()
                if self.mode == "blackhole":
                    continue  # swallowed
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                delay = self.delay if self.mode == "latency" else 0.0
                queue.put_nowait((time.monotonic() + delay, data))
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(Exception):
                await sender
            writer.transport.abort()

    def close(self) -> None:
        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            self._abort_all()

        self._loop.call_soon_threadsafe(shutdown)
        time.sleep(0.05)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


# --- the load loop -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    started: float  # seconds since the loop started
    ended: float
    status: int  # HTTP status; 0 = exception or client timeout
    full: bool  # served at full service (e.g. from the cache, not a fallback)
    error: str = ""  # the exception of a request that got no response

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class LoadReport:
    samples: list[Sample]
    duration: float
    marks: dict[str, float] = field(default_factory=dict)  # event name → seconds since start
    origin: float = 0.0  # the event loop's clock when the loop started

    @property
    def sent(self) -> int:
        return len(self.samples)

    @property
    def failed(self) -> int:
        return sum(not s.ok for s in self.samples)

    def failed_ratio(self) -> float:
        return self.failed / self.sent if self.sent else 0.0

    def longest_gap(self) -> float:
        """The longest time in which no request succeeded (from the loop's start to its end)."""
        ends = sorted(s.ended for s in self.samples if s.ok)
        points = [0.0, *ends, self.duration]
        return max(b - a for a, b in itertools.pairwise(points))

    def latency_percentile(self, q: float, since: float = 0.0, until: float = math.inf) -> float:
        values = sorted(s.latency for s in self.samples if since <= s.started < until)
        if not values:
            return 0.0
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]

    def recovered_after(self, mark: str) -> float | None:
        """Seconds from `mark` until every request started from then on had full service.

        None if service was still degraded at the end of the loop.
        """
        start = self.marks[mark]
        degraded = [s.started for s in self.samples if s.started >= start and not s.full]
        if not degraded:
            return 0.0
        last = max(degraded)
        after = [s for s in self.samples if s.started > last]
        if not after:
            return None
        return min(s.started for s in after) - start

    def window(self, since: float, until: float = math.inf) -> list[Sample]:
        return [s for s in self.samples if since <= s.started < until]


Request = Callable[[int], Awaitable[tuple[int, bool]]]


async def drive(
    request: Request,
    *,
    duration: float,
    workers: int = 8,
    rate: float = 400.0,
    max_requests: int = 100_000,
    timeout: float = 5.0,
    events: dict[str, tuple[float, Callable[[], object]]] | None = None,
) -> LoadReport:
    """Run `request(i)` from `workers` paced workers (`rate` req/s in all) for `duration` s.

    `request` returns (status, full service?). Each call is cut at `timeout` (a client
    timeout counts as failed). `events` are name → (at seconds, blocking callable), run
    in a thread at that time (a kill, a restart); `report.marks` records when each
    finished.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    samples: list[Sample] = []
    marks: dict[str, float] = {}
    counter = iter(range(max_requests))
    interval = workers / rate

    async def worker(offset: float) -> None:
        next_at = started + offset
        while (now := loop.time()) - started < duration:
            if now < next_at:
                await asyncio.sleep(next_at - now)
            next_at = max(next_at + interval, loop.time() - interval)
            i = next(counter, None)
            if i is None:
                return
            t0 = loop.time()
            try:
                async with asyncio.timeout(timeout):
                    status, full = await request(i)
                error = ""
            except Exception as exc:
                status, full, error = 0, False, repr(exc)[:200]
            t1 = loop.time()
            ok = 200 <= status < 300
            samples.append(Sample(t0 - started, t1 - started, status, full and ok, error))

    async def event(name: str, at: float, action: Callable[[], object]) -> None:
        await asyncio.sleep(at)
        await asyncio.to_thread(action)
        marks[name] = loop.time() - started

    tasks = [asyncio.create_task(event(n, a, f)) for n, (a, f) in (events or {}).items()]
    async with asyncio.timeout(duration + timeout + 60):  # a hung event is a failure
        await asyncio.gather(*(worker(i * interval / workers) for i in range(workers)))
        await asyncio.gather(*tasks)
    return LoadReport(
        sorted(samples, key=lambda s: s.started), loop.time() - started, marks, started
    )


@contextlib.contextmanager
def temporary_env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app in process with its lifespan, and an HTTP client on it (no sockets)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://faults") as client:
            yield client


def prediction_rows(logs: Any, features: Any) -> list[dict[str, Any]]:
    """Predictions rows (as the batch side stores them) of the Elo model on `features`."""
    import datetime as dt

    from bullpen.model import WinModel

    teams = logs.frame().set_index("game_id")[["home", "away"]]
    now = dt.datetime.now(dt.UTC)
    p_home = WinModel(kind="elo").predict(features)
    return [
        {"game_id": g, "date": d.date(), "home": teams.at[g, "home"], "away": teams.at[g, "away"],
         "p_home": float(p), "computed_at": now}
        for g, d, p in zip(features["game_id"], features["date"], p_home, strict=True)
    ]  # fmt: skip


@contextlib.contextmanager
def uvicorn_server(
    env: dict[str, str], startup_s: float = 60.0, app: str = "online.app:app"
) -> Iterator[str]:
    """`uvicorn online.app:app` (one worker) on a free loopback port; yields its base URL.

    Its stderr goes to a file next to nothing shared: `server.log_path` tests read it.
    """
    import sys

    from bullpen.settings import PROJECT_ROOT

    port = free_port()
    fd, log_name = tempfile.mkstemp(prefix="bullpen-uvicorn-", suffix=".log")
    log = os.fdopen(fd, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "info"],
        env={**os.environ, **env}, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    LOGS[url] = Path(log_name)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with {proc.returncode}: {Path(log_name).read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {port}")
            time.sleep(0.1)
        yield url
    finally:
        stop_process(proc)
        log.close()


LOGS: dict[str, Path] = {}  # base URL → the server's combined stdout/stderr


def app_env(db_url: str, redis_url: str, secret: str, **extra: object) -> dict[str, str]:
    """BULLPEN_* variables of a server on `db_url` and `redis_url`; `extra` as settings."""
    env = {
        "BULLPEN_DATABASE_URL": db_url,
        "BULLPEN_REDIS_URL": redis_url,
        "BULLPEN_API_KEY_SECRET": secret,
        "BULLPEN_MIGRATE_ON_START": "false",
        "BULLPEN_RATE_LIMIT_PER_S": "1000000",
        "BULLPEN_RATE_LIMIT_BURST": "1000000",
        "BULLPEN_RATE_LIMIT_LEASE": "1000",
    }
    env.update({f"BULLPEN_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in extra.items()})  # fmt: skip
    return env


# --- a lean HTTP/1.1 load client (httpx costs more CPU than the server it loads) -----------


class RawClient:
    """Keep-alive HTTP/1.1 connections to one loopback server; one request at a time each."""

    def __init__(self, base_url: str, max_connections: int = 512) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.max_connections = max_connections
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    @staticmethod
    def build(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", "Host: bullpen"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def send(self, raw: bytes, timeout: float) -> int:
        """The response status of `raw` (a whole request); raises on timeout or error."""
        async with asyncio.timeout(timeout):  # a full accept queue can stall a connect
            return await self._send(raw)

    async def _send(self, raw: bytes) -> int:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            if self.opened >= self.max_connections:
                raise RuntimeError("client connection limit")
            self.opened += 1
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except BaseException:
                self.opened -= 1
                raise
        try:
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
        except BaseException:
            writer.transport.abort()
            self.opened -= 1
            raise
        self._idle.append((reader, writer))
        return status

    def close(self) -> None:
        for _, writer in self._idle:
            writer.transport.abort()
        self._idle.clear()


@dataclass
class OpenLoopResult:
    offered_rps: float
    duration: float
    statuses: dict[int, int]
    latencies: dict[int, list[float]]  # by status; 0 = timeout or error

    def count(self, *statuses: int) -> int:
        return sum(self.statuses.get(s, 0) for s in statuses)

    def p(self, status: int, q: float) -> float:
        values = sorted(self.latencies.get(status, []))
        return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)] if values else 0.0


async def open_loop(
    client: RawClient, raw: bytes, rate: float, duration: float, timeout: float
) -> OpenLoopResult:
    """Send `raw` at `rate` req/s for `duration` s whatever the answers (arrivals do not
    wait for responses, as real clients do not); each request is cut at `timeout`."""
    loop = asyncio.get_running_loop()
    statuses: dict[int, int] = {}
    latencies: dict[int, list[float]] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def one() -> None:
        t0 = loop.time()
        try:
            status = await client.send(raw, timeout)
        except Exception:
            status = 0
        statuses[status] = statuses.get(status, 0) + 1
        latencies.setdefault(status, []).append(loop.time() - t0)

    started = loop.time()
    sent = 0
    while (now := loop.time()) - started < duration:
        due = int((now - started) * rate) + 1
        while sent < due:
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.002)
    if tasks:  # every request is cut at `timeout`, connecting included
        await asyncio.wait(tasks)
    return OpenLoopResult(rate, duration, statuses, latencies)


async def closed_loop(client: RawClient, raw: bytes, workers: int, duration: float) -> float:
    """Completed 2xx per second with `workers` back-to-back clients: the capacity."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    done = 0

    async def worker() -> None:
        nonlocal done
        while loop.time() - started < duration:
            if 200 <= await client.send(raw, 10.0) < 300:
                done += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (loop.time() - started)


# --- a warmed private Redis ----------------------------------------------------------------


def warm_all(client: Any, rows: list[dict[str, Any]]) -> dict[str, bytes]:
    """Warm every game and slate of `rows`, point at them; the exact bytes written, by key."""
    from bullpen import cache
    from bullpen.features import FEATURE_VERSION
    from tests.online.conftest import MODEL_VERSION

    entries = cache.warm_entries(rows, MODEL_VERSION, FEATURE_VERSION)
    cache.write_entries(client, entries, ttl=3600)
    cache.set_active(client, cache.ActiveModel(MODEL_VERSION, FEATURE_VERSION))
    return entries


@dataclass
class WarmNode:
    """A private redis-server with the 2022 sample warmed: its process, a client, the bytes."""

    node: RedisNode
    client: redis.Redis
    entries: dict[str, bytes]
