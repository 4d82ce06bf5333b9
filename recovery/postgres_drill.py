"""PostgreSQL point-in-time recovery, drilled end to end on a private server.

1. `initdb` a private server on a free loopback port with WAL archiving
   (`archive_mode=on`, `archive_timeout` = ARCHIVE_TIMEOUT_S: the RPO bound).
2. Migrate the bullpen schema and fill it through the project's own code
   (`bench.stack.prepare`: Alembic, the 2022 sample, an Elo model walked to `warming`,
   a read API key), then promote that model: registry, aliases and audit log all have rows.
3. `pg_basebackup`; more writes (a second model promoted over the first, so only the
   archived WAL holds them); the target time T, with the three tables fingerprinted;
   writes after T that must not survive (a third model promoted); a WAL switch.
4. Destroy: stop the server the way a crash would (`-m immediate`) and `rm -rf` its data.
5. Restore the base backup, replay archived WAL up to T (`recovery.signal`,
   `recovery_target_time`, `recovery_target_action=promote`), point Redis at what the
   restored store serves, start the API (uvicorn) and ask it for a prediction.

Exit status 0 only if the restored tables are identical to T's, the writes after T are
gone and the API answers `/health`, `/ready` and a prediction with the model of T.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from sqlalchemy import Engine, text

from bench import stack
from bench.loopback import LOGS, RedisNode, free_port, uvicorn, wait_until
from bullpen.cache.contract import ActiveModel
from bullpen.serving import active
from bullpen.serving.lifecycle import Status, transition
from bullpen.store import get_model, make_engine, register_model
from recovery import Stopwatch, table

ARCHIVE_TIMEOUT_S = 10
DATABASE = "bullpen"
DAYS = 10  # the sample's first dates with games (0: the whole 2022 season)
ACTOR = "recovery-drill"
SECOND_MODEL = "drill-elo-before-t"  # promoted after the base backup, before T: WAL only
AFTER_T_MODEL = "drill-elo-after-t"  # promoted after T: must not come back
# The tables that must come back exactly as at T, each in primary-key order.
AUDITED = {"models": "version", "model_aliases": "alias", "model_audit": "id"}
WAIT_S = 120.0  # generous on purpose: a loaded 2-core CI machine
WAL_SEGMENT = re.compile(r"^[0-9A-F]{24}$")


def postgres_bin() -> Path:
    """The newest installed server's bin directory (Debian keeps it off PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not installed")
    return Path(initdb).parent


class PgServer:
    """A private PostgreSQL with WAL archiving, in a directory owned by `postgres`
    (as root, every server command runs as that user: the server refuses root)."""

    def __init__(self, root: Path) -> None:
        self.bindir = postgres_bin()
        self.root = root
        self.data = root / "data"
        self.archive = root / "wal-archive"
        self.base = root / "base-backup"
        self.log = root / "server.log"
        self.port = free_port()

    # --- commands -------------------------------------------------------------------

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`command` as the `postgres` user; a failure raises with its stderr and log tail."""
        argv = ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else [*command]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}\n{self.tail()}")
        return done

    def tool(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bindir / name), *args, check=check)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def own(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    # --- lifecycle ------------------------------------------------------------------

    def init(self) -> None:
        self.archive.mkdir()
        self.own(self.root, self.archive)
        self.root.chmod(0o755)
        # --no-sync: this cluster's creation is not what is drilled; its WAL is.
        self.tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(self.archiving())

    def archiving(self) -> str:
        """Settings kept in the data directory, so the base backup carries them too."""
        copy = f"test ! -f {self.archive}/%f && cp %p {self.archive}/%f"
        return (
            "\n# recovery drill: loopback only, WAL archived to a local directory\n"
            f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.root}'\n"
            "wal_level = replica\narchive_mode = on\n"
            f"archive_command = '{copy}'\narchive_timeout = {ARCHIVE_TIMEOUT_S}\n"
            "max_wal_senders = 4\n"
        )

    def start(self) -> None:
        self.tool("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t",
                  str(int(WAIT_S)), "start")  # fmt: skip

    def running(self) -> bool:
        if not self.data.is_dir():
            return False
        return self.tool("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def crash(self) -> None:
        """`immediate`: every backend gone at once, no shutdown checkpoint (a crash)."""
        if self.running():
            self.tool("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, sql: str, *params: Any) -> Any:
        """The first column of the first row of `sql` (if it returns rows), on the maintenance
        database."""
        login = {"host": "127.0.0.1", "port": self.port, "user": "postgres", "dbname": "postgres"}
        with psycopg.connect(**login, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params)  # type: ignore[arg-type]
            row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None

    def answers(self) -> bool:
        try:
            self.query("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def promoted(self) -> bool:
        """Out of recovery: read-write, on a new timeline."""
        return self.answers() and self.query("SELECT pg_is_in_recovery()") is False

    # --- backup, WAL, restore -------------------------------------------------------

    def base_backup(self) -> None:
        # -c fast: checkpoint now instead of spreading it; -X stream: the WAL the copy
        # needs to be consistent comes along, so the archive is only needed to go past it.
        self.tool("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "-D", str(self.base), "-c", "fast", "-X", "stream")  # fmt: skip

    def now(self) -> str:
        return str(self.query("SELECT clock_timestamp()::text"))

    def wait_past(self, instant: str) -> None:
        """Until the server's clock is past `instant`: later commits carry later times."""
        later = "SELECT clock_timestamp() > %s::timestamptz"
        if not wait_until(lambda: bool(self.query(later, instant)), WAIT_S, every=0.01):
            raise RuntimeError(f"the server clock did not pass {instant}")

    def last_archived(self) -> str:
        name = self.query("SELECT last_archived_wal FROM pg_stat_archiver")
        return str(name or "")[:24]  # no suffix (.partial, .backup) in the comparison

    def wait_archived(self, segment: str) -> float:
        """Seconds until `segment` (or a later one) is in the archive."""
        start = time.monotonic()
        if not wait_until(lambda: self.last_archived() >= segment, WAIT_S, every=0.05):
            failed = self.query("SELECT last_failed_wal FROM pg_stat_archiver")
            raise RuntimeError(f"WAL {segment} not archived (last failure: {failed})")
        return time.monotonic() - start

    def archive_lag(self) -> float:
        """Seconds from now until the segment holding the latest commit is archived with
        no help (archive_timeout switches it): what a crash right now would lose, at most."""
        return self.wait_archived(str(self.query("SELECT pg_walfile_name(pg_current_wal_lsn())")))

    def switch_wal(self) -> None:
        """Close the current segment and wait for it to be archived."""
        self.wait_archived(str(self.query("SELECT pg_walfile_name(pg_switch_wal())")))

    def base_backup_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.base.rglob("*") if path.is_file())

    def archived_segments(self) -> int:
        return sum(1 for path in self.archive.iterdir() if WAL_SEGMENT.match(path.name))

    def destroy(self) -> None:
        self.crash()
        shutil.rmtree(self.data)

    def restore(self, target: str) -> None:
        """The base backup back in place, set to replay archived WAL up to `target`."""
        self.run("cp", "-a", str(self.base), str(self.data))
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# point-in-time recovery (remove once promoted)\n"
                f"restore_command = 'cp {self.archive}/%f %p'\n"
                f"recovery_target_time = '{target}'\nrecovery_target_action = 'promote'\n"
            )
        signal = self.data / "recovery.signal"
        signal.touch()
        self.own(signal)

    def start_recovery(self) -> None:
        """Start, then wait for the promotion at the target (pg_ctl returns earlier,
        once recovery is consistent and read-only connections are accepted)."""
        self.start()
        if not wait_until(self.promoted, WAIT_S, every=0.1):
            raise RuntimeError(f"the restored server did not promote at the target\n{self.tail()}")


# --- the store's side: writes through the project's code, fingerprints ---------------


def promote_copy(engine: Engine, client: Any, version: str) -> None:
    """A copy of the sample's Elo model registered as `version` and walked to active the
    audited way (trained, checked, warming, active): registry, aliases and audit change."""
    entry = get_model(engine, stack.MODEL_VERSION)
    assert entry is not None, "the sample's model is registered by bench.stack.prepare"
    register_model(engine, dataclasses.replace(entry, version=version, status=Status.TRAINED,
                                               created_at=None))  # fmt: skip
    transition(engine, version, Status.CHECKED, ACTOR, "drill copy, unchecked")
    active.begin_warming(engine, version, ACTOR)
    active.promote(engine, client, version, ACTOR, "drill")


def fingerprint(engine: Engine) -> dict[str, str]:
    """Per audited table: its row count and a digest of its rows in key order (artifacts as
    their own digests), so two states compare exactly without keeping the rows."""
    prints: dict[str, str] = {}
    with engine.connect() as conn:
        for name, key in AUDITED.items():
            rows = conn.execute(text(f"SELECT * FROM {name} ORDER BY {key}")).mappings().all()
            body = json.dumps([_canonical(row) for row in rows], sort_keys=True, default=str)
            prints[name] = f"{len(rows)} rows sha256:{hashlib.sha256(body.encode()).hexdigest()}"
    return prints


def _canonical(row: Any) -> dict[str, Any]:
    return {k: hashlib.sha256(v).hexdigest() if isinstance(v, bytes | memoryview) else v
            for k, v in dict(row).items()}  # fmt: skip


def versions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT version FROM models")).scalars())


# --- the drill ----------------------------------------------------------------------


@dataclass
class ApiCheck:
    """What the restored API answered: status codes and the model it named."""

    health: int = 0
    ready: int = 0
    ready_model: str | None = None
    prediction: int = 0
    prediction_model: str | None = None

    def serves(self, model: str) -> bool:
        return (self.health, self.ready, self.prediction) == (200, 200, 200) and (
            self.ready_model == self.prediction_model == model
        )


@dataclass
class PostgresDrillResult:
    target_time: str
    at_target: dict[str, str]  # fingerprints at T
    after_target: dict[str, str]  # …after the writes that must not survive
    restored: dict[str, str]  # …of the restored server
    restored_versions: list[str]
    redis_pointer_before: str | None  # what Redis named once the store was restored
    redis_pointer_after: str | None  # …after the pointer was reconciled with it
    api: ApiCheck
    wal_segments_archived: int
    archive_lag_s: float
    base_backup_bytes: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.restored == self.at_target

    @property
    def post_target_absent(self) -> bool:
        """The writes after T changed the tables, and none of them came back."""
        return self.after_target != self.at_target and AFTER_T_MODEL not in self.restored_versions

    @property
    def ok(self) -> bool:
        return (self.identical and self.post_target_absent and self.api.serves(SECOND_MODEL)
                and self.redis_pointer_after == SECOND_MODEL)  # fmt: skip

    def rows(self) -> list[tuple[str, object]]:
        s, api, pointer_after = self.seconds, self.api, self.redis_pointer_after
        answers = f"{api.health}, {api.ready}, {api.prediction}"
        tables = [(f"{name}: at T", self.at_target[name]) for name in AUDITED] + [
            (f"{name}: restored", "identical" if self.restored[name] == self.at_target[name]
             else self.restored[name]) for name in AUDITED
        ]  # fmt: skip
        return [
            ("base backup (pg_basebackup -c fast)", f"{s['base_backup']:.2f} s"),
            ("base backup size", f"{self.base_backup_bytes / 1e6:.1f} MB"),
            ("WAL segments archived", self.wal_segments_archived),
            ("last commit -> archived, no switch", f"{self.archive_lag_s:.2f} s"),
            ("RPO bound (archive_timeout)", f"{ARCHIVE_TIMEOUT_S} s"),
            ("target time T", self.target_time),
            ("restore: copy base backup", f"{s['restore_copy']:.2f} s"),
            ("restore: replay WAL to T, promote", f"{s['replay']:.2f} s"),
            ("reconcile Redis pointer", f"{s['reconcile']:.3f} s"),
            ("API start -> prediction answered", f"{s['api']:.2f} s"),
            ("RTO: destroy -> API answering", f"{s['rto']:.2f} s"),
            *tables,
            ("post-T writes absent", self.post_target_absent),
            ("Redis pointer before / after", f"{self.redis_pointer_before} / {pointer_after}"),
            ("API /health, /ready, prediction", f"{answers} ({api.prediction_model})"),
            ("verdict", "PASS" if self.ok else "FAIL"),
        ]


@dataclass
class _Before:
    """What the drill knows just before the disaster."""

    data: stack.BenchData
    target: str
    at_target: dict[str, str]
    after_target: dict[str, str]
    archive_lag_s: float


def run_drill(days: int = DAYS) -> PostgresDrillResult:
    """The whole drill on private servers; every process and directory gone afterwards."""
    root = Path(tempfile.mkdtemp(prefix="bullpen-drill-pg-"))
    server = PgServer(root)
    node = RedisNode(root / "redis", None, "--appendonly", "no")
    logs = set(LOGS)
    try:
        node.start()
        return _drill(server, node, days)
    finally:
        node.stop()
        server.crash()
        for url in set(LOGS) - logs:  # uvicorn's log files
            LOGS.pop(url).unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def _drill(server: PgServer, node: RedisNode, days: int) -> PostgresDrillResult:
    watch = Stopwatch()
    server.init()
    server.start()
    server.query(f'CREATE DATABASE "{DATABASE}"')
    client = redis.Redis.from_url(node.url, socket_timeout=5)
    try:
        before = _before_disaster(server, client, watch, days)
        segments = server.archived_segments()
        start = time.monotonic()
        server.destroy()
        with watch.time("restore_copy"):
            server.restore(before.target)
        with watch.time("replay"):
            server.start_recovery()
        restored = _restored_state(server, client, watch)
        with watch.time("api"):
            api = check_api(before.data, node.url)
        watch.seconds["rto"] = round(time.monotonic() - start, 3)
    finally:
        client.close()
    return PostgresDrillResult(
        target_time=before.target,
        at_target=before.at_target,
        after_target=before.after_target,
        restored=restored.prints,
        restored_versions=restored.versions,
        redis_pointer_before=restored.pointer_before,
        redis_pointer_after=restored.pointer_after,
        api=api,
        wal_segments_archived=segments,
        archive_lag_s=round(before.archive_lag_s, 3),
        base_backup_bytes=server.base_backup_bytes(),
        seconds=watch.seconds,
    )


def _before_disaster(server: PgServer, client: redis.Redis, watch: Stopwatch, days: int) -> _Before:
    data = stack.prepare(server.url(), days=days or None)  # Alembic upgrade included
    engine = make_engine(server.url())
    try:
        active.promote(engine, client, stack.MODEL_VERSION, ACTOR, "drill: first model")
        with watch.time("base_backup"):
            server.base_backup()
        promote_copy(engine, client, SECOND_MODEL)
        target = server.now()
        at_target = fingerprint(engine)
        server.wait_past(target)
        promote_copy(engine, client, AFTER_T_MODEL)
        after_target = fingerprint(engine)
    finally:
        engine.dispose()
    lag = server.archive_lag()
    # Belt and braces: whatever came after is archived too, so the replay has to stop at
    # T by itself rather than because the WAL ran out.
    server.switch_wal()
    return _Before(data, target, at_target, after_target, lag)


@dataclass
class _Restored:
    """The restored store's fingerprints and models; Redis's pointer before and after it
    was reconciled with that store (Redis outlived the database: it named the post-T model)."""

    prints: dict[str, str]
    versions: list[str]
    pointer_before: str | None
    pointer_after: str | None


def _restored_state(server: PgServer, client: redis.Redis, watch: Stopwatch) -> _Restored:
    engine = make_engine(server.url())
    try:
        prints, names = fingerprint(engine), versions(engine)
        stale = active.read_pointer(client)
        with watch.time("reconcile"):
            pointer = active.reconcile(engine, client)
    finally:
        engine.dispose()
    return _Restored(prints, names, _version(stale), _version(pointer))


def _version(pointer: ActiveModel | None) -> str | None:
    return pointer.model_version if pointer else None


def check_api(data: stack.BenchData, redis_url: str) -> ApiCheck:
    """Start the API on the restored store and ask `/health`, `/ready` and a prediction."""
    check = ApiCheck()
    game = data.all_game_ids()[0]
    env = stack.app_env(data, redis_url)
    with (
        uvicorn("online.app:app", env, startup_s=WAIT_S) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        check.health = http.get("/health").status_code
        ready = http.get("/ready")
        check.ready, check.ready_model = ready.status_code, ready.json().get("model_version")
        answer = http.get(f"/v1/games/{game}/prediction", headers={"X-API-Key": data.key})
        check.prediction = answer.status_code
        if answer.status_code == 200:
            check.prediction_model = answer.json()["model_version"]
    return check


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--days", type=int, default=DAYS, help="dates of 2022 in the store (0: all)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    result = run_drill(args.days)
    print(table("PostgreSQL recovery drill (base backup + WAL archive, PITR)", result.rows()))
    if args.json:
        print(json.dumps(dataclasses.asdict(result) | {"ok": result.ok}, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
