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
from newsarchive.redact import mask_url

log = logging.getLogger(__name__)
T = TypeVar("T")

#: the URL without its password, for messages (also when it does not parse)
describe = mask_url
#: WAL pages after which a commit checkpoints: a saved batch writes more than SQLite's default
#: 1,000, and at 10,000 pages that several batches rewrote are copied once (a third less commit cost)
WAL_AUTOCHECKPOINT = 10_000
#: page cache (KiB) of a connection once it has written: a batch seeks large indexes at random
#: keys (benchmarks/README.md); readers keep SQLite's 2 MB, so exports stay small
WRITE_CACHE_KIB = 256 * 1024
#: PostgreSQL errors a rerun resolves: serialization failure, deadlock, a key another writer inserted
_PG_RETRY = frozenset({"40001", "40P01", "23505"})
#: revisions 0001-0013, squashed into the 0014 baseline (issue 16): newsarchive 0.1 upgrades them
SQUASHED = frozenset(f"{n:04d}" for n in range(1, 14))


def create_engine(url: str, *, busy_timeout: float = 5.0, write_cache_kib: int | None = None) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE writes."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StorageError(f"cannot open the archive at {describe(url)!r}: not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
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
        sa.event.listen(engine, "connect", _utc)
    return engine


def _utc(dbapi_connection: Any, _record: Any) -> None:
    # date() in stats and timestamp rendering must not depend on the server's zone
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _sqlite_events(engine: sa.Engine, busy_timeout: float, write_cache_kib: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # no pysqlite implicit transactions: _begin issues BEGIN (a deferred write lock invites deadlocks)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # 16 KB pages for a new database, so several ~2 KB versions share a page; before WAL fixes the size
        cursor.execute("PRAGMA page_size = 16384")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode and mode[0] != "wal":
            log.debug("SQLite journal mode stays %s (WAL unavailable here)", mode[0])
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        # writers take the lock up front, so contention shows as a retryable "locked" at BEGIN
        immediate = conn.get_execution_options().get("newsarchive_write", False)
        if immediate and not conn.connection.info.get("write_cache"):
            conn.exec_driver_sql(f"PRAGMA cache_size = -{write_cache_kib}")
            conn.connection.info["write_cache"] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked/busy" (worth retrying)."""
    orig = getattr(exc, "orig", exc)
    if not isinstance(orig, sqlite3.OperationalError):
        return False
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def with_retry(url: str, work: Callable[[], T], *, attempts: int = 5, first_delay: float = 0.2) -> T:
    """Run ``work`` (one whole transaction), retrying with backoff while SQLite is locked or a
    PostgreSQL writer conflicts; after ``attempts`` one StorageError sentence, not a traceback."""
    attempt, delay = 1, first_delay
    while True:
        try:
            return work()
        except sa.exc.DBAPIError as exc:
            locked = is_locked(exc)
            if not locked and getattr(exc.orig, "sqlstate", None) not in _PG_RETRY:
                raise
            if attempt >= attempts:
                what = "stayed locked by another process" if locked else "kept conflicting with other writers"
                raise StorageError(
                    f"the archive at {describe(url)} {what} after {attempts} attempts; "
                    "is another crawl or export writing to it?"
                ) from None
            log.warning("archive busy (attempt %d/%d), retrying in %.1fs", attempt, attempts, delay)
            time.sleep(delay)
            attempt, delay = attempt + 1, delay * 2


def _config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest migration shipped with this package."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction, refusing an archive too old or too new."""
    with engine.connect().execution_options(newsarchive_write=True) as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        scripts = ScriptDirectory.from_config(_config())
        where = describe(str(engine.url))
        if current in SQUASHED:
            raise StorageError(
                f"the archive at {where} is at schema revision {current}, older than this version of "
                "newsarchive upgrades: run `newsarchive db upgrade` with newsarchive 0.1 first (it brings "
                "the archive to 0014), then use this version"
            )
        if current is not None and current not in {script.revision for script in scripts.walk_revisions()}:
            raise StorageError(
                f"the archive at {where} has schema revision {current}, newer than this version of "
                f"newsarchive knows (latest {scripts.get_current_head()}): upgrade newsarchive"
            )
        command.upgrade(_config(conn), revision)
        conn.commit()


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (tests and emergencies)."""
    with engine.connect().execution_options(newsarchive_write=True) as conn:
        command.downgrade(_config(conn), revision)
        conn.commit()
