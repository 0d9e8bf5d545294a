"""Engine factory, SQLite pragmas, locked-database retries and Alembic upgrades."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from newsarchive.errors import StorageError

log = logging.getLogger(__name__)
T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def describe(url: str) -> str:
    """The URL without its password, for messages (also when it does not parse)."""
    from newsarchive.redact import mask_url

    return mask_url(url)


def create_engine(url: str, *, busy_timeout: float = 5.0, write_cache_kib: int | None = None) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE writes.

    ``write_cache_kib``: SQLite page cache of a connection that writes (default WRITE_CACHE_KIB).
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StorageError(f"cannot open the archive at {describe(url)!r}: not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot write the archive at {describe(url)}: {exc.strerror or exc}"
                ) from None
        engine = sa.create_engine(parsed, connect_args={"timeout": busy_timeout})
        _sqlite_events(engine, busy_timeout, WRITE_CACHE_KIB if write_cache_kib is None else write_cache_kib)
        return engine
    try:
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise StorageError(f"cannot open the archive at {describe(url)}: {exc}") from None
    if engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _utc(dbapi_connection: Any, _record: Any) -> None:
            # date() in stats and timestamp rendering must not depend on the server's zone.
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'UTC'")
            dbapi_connection.commit()

    return engine


def _sqlite_events(engine: sa.Engine, busy_timeout: float, write_cache_kib: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's implicit
        # transactions would defer the write lock and invite mid-transaction deadlocks).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # 16 KB pages for a new database: several ~2 KB versions share a page (benchmarks/README.md);
        # before WAL, which fixes the page size
        cursor.execute("PRAGMA page_size = 16384")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode and mode[0] != "wal":
            log.debug("SQLite journal mode stays %s (WAL unavailable here)", mode[0])
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # Writers take the lock up front, so contention shows as a retryable "locked" at BEGIN.
        immediate = conn.get_execution_options().get("newsarchive_write", False)
        if immediate and not conn.connection.info.get("write_cache"):
            conn.exec_driver_sql(f"PRAGMA cache_size = -{write_cache_kib}")
            conn.connection.info["write_cache"] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: WAL pages after which a commit checkpoints (SQLite's wal_autocheckpoint). A saved batch
#: writes more than the default 1,000, so every commit also checkpointed; at 10,000 (up to
#: ~160 MB of WAL) a checkpoint copies pages that several batches rewrote (index, FTS and
#: band-level pages) once: a third less commit cost
WAL_AUTOCHECKPOINT = 10_000
#: page cache of a connection once it has written (KiB; SQLite's default is 2 MB): a batch seeks
#: large indexes with random keys (benchmarks/README.md); readers keep the default, so exports stay small
WRITE_CACHE_KIB = 256 * 1024
def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked/busy" (worth retrying)."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


#: PostgreSQL errors a concurrent writer can cause and a rerun of the batch resolves:
#: serialization failure, deadlock, and a unique key inserted by another writer meanwhile
_PG_RETRY = frozenset({"40001", "40P01", "23505"})


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a PostgreSQL conflict with a concurrent transaction (worth a rerun)."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _PG_RETRY


def with_retry(url: str, work: Callable[[], T], *, attempts: int = 5, first_delay: float = 0.2) -> T:
    """Run ``work`` (one whole transaction), retrying with backoff while the database is contended.

    SQLite "database is locked" (another process holds the write lock past the busy timeout)
    and PostgreSQL conflicts with concurrent writers are retried; after ``attempts`` the
    caller gets one StorageError sentence instead of a traceback.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except sa.exc.DBAPIError as exc:
            locked = is_locked(exc)
            if not (locked or is_conflict(exc)):
                raise
            if attempt == attempts:
                what = "stayed locked by another process" if locked else "kept conflicting with other writers"
                raise StorageError(
                    f"the archive at {describe(url)} {what} after {attempts} attempts; "
                    "is another crawl or export writing to it?"
                ) from None
            log.warning("archive busy (attempt %d/%d), retrying in %.1fs", attempt, attempts, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


#: revisions 0001-0013, squashed into the 0014 baseline (issue 16): newsarchive 0.1 upgrades them
SQUASHED = frozenset(f"{n:04d}" for n in range(1, 14))


def _config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str | None:
    """The newest migration shipped with this package."""
    return _scripts().get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _refuse_unknown(current: str | None, where: str) -> None:
    if current is None:
        return
    if current in SQUASHED:
        raise StorageError(
            f"the archive at {where} is at schema revision {current}, older than this version of "
            "newsarchive upgrades: run `newsarchive db upgrade` with newsarchive 0.1 first (it brings "
            "the archive to 0014), then use this version"
        )
    if current not in {script.revision for script in _scripts().walk_revisions()}:
        raise StorageError(
            f"the archive at {where} has schema revision {current}, newer than this version of "
            f"newsarchive knows (latest {head_revision()}): upgrade newsarchive"
        )


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction; an unknown revision is refused first."""
    with engine.connect().execution_options(newsarchive_write=True) as conn:
        _refuse_unknown(MigrationContext.configure(conn).get_current_revision(), describe(str(engine.url)))
        command.upgrade(_config(conn), revision)
        conn.commit()


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (tests and emergencies)."""
    with engine.connect().execution_options(newsarchive_write=True) as conn:
        command.downgrade(_config(conn), revision)
        conn.commit()
