"""One executemany per statement for the batched save, without SQLAlchemy's per-row machinery.

``executemany(conn, stmt, rows)`` runs a Core statement for a list of parameter dicts, like
``conn.execute(stmt, rows)``. On SQLite that generic path (a parameter dict built and
processed per row, per statement) was about a sixth of a batched save's time; here the
statement is compiled once per shape and dialect, the same bind processors SQLAlchemy would
run (UTC datetimes as text, JSON) are applied in one comprehension, and the DBAPI cursor gets
plain tuples. PostgreSQL keeps SQLAlchemy's own path: psycopg's executemany is the cost there.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsarchive.storage.models import UTCDateTime

_Processor = Callable[[Any], Any] | None
# (statement id, parameter names) -> (SQL text, parameter order, bind processors); the
# statement itself is kept in the value so its id cannot be reused while the entry lives
_Compiled = tuple[str, tuple[str, ...], tuple[_Processor, ...]]
_COMPILED: dict[tuple[int, str, tuple[str, ...]], tuple[Any, _Compiled]] = {}
_COMPILED_MAX = 256
_INSERT_IGNORE: dict[tuple[str, str], Any] = {}


def executemany(conn: sa.Connection, stmt: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run ``stmt`` once per row of ``rows`` (parameter dicts with the same keys), as one batch."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(stmt, list(rows))
        return
    sql, names, processors = _compiled(conn.dialect, stmt, tuple(rows[0]))
    if not any(processors):
        params = [tuple([row[n] for n in names]) for row in rows]
    else:
        pairs = tuple(zip(names, processors, strict=True))
        params = [tuple([row[n] if p is None else p(row[n]) for n, p in pairs]) for row in rows]
    conn.exec_driver_sql(sql, params)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    # UTCDateTime's processing and SQLite's DATETIME text in one step: naive means UTC,
    # "YYYY-MM-DD HH:MM:SS.ffffff" as SQLAlchemy writes it (tests/storage/test_bulk.py compares
    # the stored text)
    return None if value is None else _utc_text(value)


@lru_cache(maxsize=4096)
def _utc_text(value: datetime) -> str:
    # a save binds about a dozen datetimes per article, most of them several times (published
    # goes to four tables, the batch's own time to several columns): equal datetimes are the
    # same instant, or both naive with the same fields, so they have the same text
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


_SQLITE = sqlite.dialect()


def sqlite_bind_values(table: sa.Table, names: tuple[str, ...], row: Mapping[str, Any]) -> tuple[Any, ...]:
    """``row``'s values of the columns ``names`` as SQLite's driver takes them: exactly what
    ``executemany`` binds for them (UTC datetimes as text, JSON as text), computed ahead, e.g.
    by a worker process (``save.prepare``)."""
    processors = _sqlite_processors(table, names)
    return tuple([row[n] if p is None else p(row[n]) for n, p in zip(names, processors, strict=True)])


@lru_cache(maxsize=16)
def _sqlite_processors(table: sa.Table, names: tuple[str, ...]) -> tuple[_Processor, ...]:
    return tuple(_processor(table.c[name].type, _SQLITE) for name in names)


def _processor(type_: Any, dialect: sa.Dialect) -> _Processor:
    # dialect_impl: the type as this dialect runs it (SQLite keeps datetimes as text)
    impl = type_.dialect_impl(dialect)
    return _sqlite_utc_text if isinstance(impl, UTCDateTime) else impl.bind_processor(dialect)


def insert_ignore_statement(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table`` for the connection's dialect (cached)."""
    key = (conn.dialect.name, table.name)
    stmt = _INSERT_IGNORE.get(key)
    if stmt is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = _INSERT_IGNORE[key] = dialect.insert(table).on_conflict_do_nothing()
    return stmt


def _compiled(dialect: sa.Dialect, stmt: Any, keys: tuple[str, ...]) -> _Compiled:
    cache_key = (id(stmt), dialect.name, keys)
    hit = _COMPILED.get(cache_key)
    if hit is not None and hit[0] is stmt:
        return hit[1]
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    if not compiled.positional or compiled.positiontup is None:
        raise TypeError(f"{dialect.name} statements are expected to use positional parameters")
    names = tuple(compiled.positiontup)
    processors = tuple(_processor(compiled.binds[name].type, dialect) for name in names)
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()  # callers pass long-lived statements; this only bounds a misuse
    _COMPILED[cache_key] = (stmt, (compiled.string, names, processors))
    return compiled.string, names, processors


#: container allocations between the cyclic collector's passes during bulk work (Python's
#: default is 700). A save allocates rows, tuples and dicts by the hundred thousand, almost none
#: of them in a reference cycle, and every pass also walks what the process holds (a caller's
#: articles, SQLAlchemy's caches): at 1M articles the passes were ~55 µs of the writer's ~480 per
#: article, against ~6 µs at this threshold (benchmarks/README.md). Memory is unaffected but
#: for cyclic garbage, which still goes at the next pass.
BULK_GC_THRESHOLD = 50_000

_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, ...] | None = None


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic garbage collector less often inside the block (process-wide; nests, and
    threads may overlap: the first to enter raises the threshold, the last to leave restores it)."""
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0:
            current = gc.get_threshold()
            if 0 < current[0] < BULK_GC_THRESHOLD:
                _gc_saved = current
                gc.set_threshold(BULK_GC_THRESHOLD, *current[1:])
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                # unless someone else set a threshold meanwhile
                if gc.get_threshold()[0] == BULK_GC_THRESHOLD:
                    gc.set_threshold(*_gc_saved)
                _gc_saved = None
