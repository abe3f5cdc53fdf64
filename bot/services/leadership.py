"""Which `deskwatch serve` replica runs each scheduled job: one at a time, per job.

PostgreSQL: one session-level advisory lock per job id (`pg_try_advisory_lock`, key from a hash of
"deskwatch:<job id>", namespaced by schema when not `public`), all held on one dedicated autocommit
connection outside the pool. Every replica's scheduler keeps ticking every job; a tick first checks
that connection (one round trip that also tries the locks this replica does not hold yet) and runs the
job only if this replica holds its lock. A leader that dies loses its connection, PostgreSQL frees
its locks, and the next tick of any job on another replica takes them: takeover within one tick of
the fastest job (delivery: 1 s), and a job runs again at most one of its intervals late.

SQLite is single-process: `serve` takes an exclusive `flock` on `<db file>.serve.lock` and a second
`serve` on the same file is refused; the one process leads every job (`LocalLeadership`).

Nothing else is home-made: no lease rows, no heartbeats, no consensus of our own.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import structlog
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

KEY_PREFIX = "deskwatch"


def lock_key(job_id: str, schema: str = "public") -> int:
    """A stable signed 64-bit advisory-lock key for one job (the same in every replica and release)."""
    name = f"{KEY_PREFIX}:{job_id}" if schema == "public" else f"{KEY_PREFIX}:{schema}:{job_id}"
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class SingleProcessError(RuntimeError):
    """A second `serve` on one SQLite file."""


class ServeFileLock:
    """An exclusive, non-blocking `flock` on `<db file>.serve.lock`, held for the process' life (the
    kernel frees it when the process dies, however it dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise SingleProcessError(
                f"another `deskwatch serve` already runs on this SQLite database (it holds {self.path}); "
                "SQLite is single-process: run replicas on PostgreSQL "
                "(DATABASE_URL=postgresql://user:password@host:5432/deskwatch)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def sqlite_serve_lock(database_url: str) -> ServeFileLock | None:
    """The lock file for a SQLite file database; None for PostgreSQL and in-memory SQLite."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return ServeFileLock(Path(f"{Path(url.database).resolve()}.serve.lock"))


class _Guarded(ABC):
    """The common part: job wrapping, a stop flag, and in-flight tracking for a bounded shutdown.
    Subclasses say whether this process may run a job now and which jobs it leads."""

    def __init__(self) -> None:
        self._jobs: list[str] = []
        self._stopping = threading.Event()
        self._running = 0
        self._idle = threading.Condition()

    # -- subclasses ------------------------------------------------------------------------------
    @abstractmethod
    def _may_run(self, job_id: str) -> bool: ...

    @abstractmethod
    def leading(self) -> dict[str, bool]: ...

    def close(self) -> None:  # noqa: B027 - a single process holds no lock to give back
        """Give back whatever leadership is held (PostgreSQL: the locks and their connection)."""

    # -- wrapping --------------------------------------------------------------------------------
    def register(self, job_id: str) -> None:
        if job_id not in self._jobs:
            self._jobs.append(job_id)

    def guard(self, job_id: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """`func` as a scheduler job: runs only while this process leads `job_id` and is not stopping."""
        self.register(job_id)

        def run(*args: Any, **kwargs: Any) -> Any:
            if self._stopping.is_set() or not self._may_run(job_id):
                return None
            with self._idle:
                if self._stopping.is_set():
                    return None
                self._running += 1
            try:
                return func(*args, **kwargs)
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        run.__name__ = getattr(func, "__name__", "job")
        run.__qualname__ = getattr(func, "__qualname__", run.__name__)
        run.__wrapped__ = func  # type: ignore[attr-defined]
        return run

    def wrap_scheduler(self, scheduler) -> None:
        """Guard every job already added to `scheduler` (ids kept), then try to lead them all now."""
        for job in scheduler.get_jobs():
            func = job.func
            if getattr(func, "__wrapped__", None) is None:
                job.modify(func=self.guard(job.id, func))
        self.campaign()

    def campaign(self) -> None:  # noqa: B027 - a single process leads every job from the start
        """Try to lead every registered job now (ticks do it later anyway)."""

    # -- stopping --------------------------------------------------------------------------------
    def stop(self) -> None:
        """No job run starts after this (runs already going carry on)."""
        self._stopping.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no guarded job is running; False if some still run after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    @property
    def jobs(self) -> list[str]:
        return list(self._jobs)


class LocalLeadership(_Guarded):
    """SQLite: the single `serve` process (it holds the file lock) leads every job."""

    backend = "sqlite-single-process"

    def _may_run(self, job_id: str) -> bool:
        return True

    def leading(self) -> dict[str, bool]:
        return {job_id: not self._stopping.is_set() for job_id in self._jobs}


class AdvisoryLockLeadership(_Guarded):
    """PostgreSQL: a session advisory lock per job on one dedicated connection."""

    backend = "postgresql-advisory-locks"

    def __init__(self, engine: Engine, *, connect_timeout: int = 5) -> None:
        super().__init__()
        # A connection of its own (not from the app's pool, never returned to it); keepalives so a
        # dead server is noticed by the client too. Autocommit: never idle inside a transaction.
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={
                "connect_timeout": connect_timeout,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "application_name": "deskwatch-leadership",
            },
        )
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._schema = "public"
        self._keys: dict[str, int] = {}
        self._held: set[str] = set()
        self._failing = False

    def _connect(self) -> Connection:
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
        self._keys = {job_id: lock_key(job_id, self._schema) for job_id in self._jobs}
        return conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception:  # noqa: BLE001 (it is already broken)
                pass
        self._conn = None
        if self._held:
            log.warning("leadership_lost", jobs=sorted(self._held))
        self._held.clear()

    def _refresh(self) -> None:
        """One round trip: proves the lock connection (hence the locks held) is alive, and tries every
        lock not held yet. Any failure: everything is considered lost, the connection dropped."""
        with self._lock:
            if self._stopping.is_set():
                return
            try:
                if self._conn is None:
                    self._conn = self._connect()
                for job_id in self._jobs:
                    self._keys.setdefault(job_id, lock_key(job_id, self._schema))
                wanted = {self._keys[j]: j for j in self._jobs if j not in self._held}
                rows = self._conn.execute(
                    text("SELECT k, pg_try_advisory_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
                    {"keys": list(wanted)},
                ).all()
            except Exception as exc:  # noqa: BLE001 (the database is down: no job runs here)
                if not self._failing:
                    log.warning("leadership_unavailable", error=type(exc).__name__)
                self._failing = True
                self._drop_connection()
                return
            if self._failing:
                log.info("leadership_available")
            self._failing = False
            gained = sorted(wanted[int(k)] for k, ok in rows if ok)
            if gained:
                self._held.update(gained)
                log.info("leadership_gained", jobs=gained, pid=os.getpid())

    def _may_run(self, job_id: str) -> bool:
        self._refresh()
        with self._lock:
            return job_id in self._held

    def campaign(self) -> None:
        self._refresh()

    def leading(self) -> dict[str, bool]:
        with self._lock:
            return {job_id: job_id in self._held for job_id in self._jobs}

    def close(self) -> None:
        """Give every lock back (closing the session frees them all at once)."""
        self._stopping.set()
        with self._lock:
            held = sorted(self._held)
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                    self._conn.close()
                except Exception:  # noqa: BLE001 (closing drops the session, and the locks with it)
                    self._drop_connection()
            self._conn = None
            self._held.clear()
        self._engine.dispose()
        if held:
            log.info("leadership_released", jobs=held)


Leadership = LocalLeadership | AdvisoryLockLeadership


MIGRATION_LOCK_ID = "migrations"


@contextmanager
def migration_lock(database_url: str, *, timeout_seconds: int = 120) -> Iterator[None]:
    """Replicas starting together migrate one after the other (PostgreSQL: a blocking advisory lock
    around `upgrade`; two concurrent `CREATE TABLE alembic_version` would fail one of them)."""
    if not database_url.startswith("postgresql"):
        yield
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
            key = lock_key(MIGRATION_LOCK_ID, schema)
            conn.execute(text(f"SET lock_timeout = '{int(timeout_seconds)}s'"))
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()


def build_leadership(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return LocalLeadership()
