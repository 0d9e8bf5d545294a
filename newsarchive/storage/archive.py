"""The Archive: one object over one database URL (SQLite or PostgreSQL) shared by pipelines and CLI."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from newsarchive.article import Article
from newsarchive.config import default_db_url
from newsarchive.errors import StorageError
from newsarchive.spool import process_alive
from newsarchive.storage import engine as engines
from newsarchive.storage.models import ArticleRow, ArticleVersion, CrawlRun, Source
from newsarchive.storage.models import UrlState as UrlStateRow
from newsarchive.storage.save import (
    BatchWriter,
    Prepared,
    SaveResult,
    article_key,
    listed_json,
    prepare,
    upsert_url_states,
    utcnow,
)
from newsarchive.storage.search import (
    EARLIEST_COPIES,
    ROW_COLUMNS,
    ROW_INDEX,
    SearchQueryError,
    filters,
    row_dict,
    search_statement,
)
from newsarchive.storage.story import StoryCopy, story_copies
from newsarchive.urls import canonical_url

log = logging.getLogger(__name__)
T = TypeVar("T")
RUN_STATUSES = frozenset({"finished", "failed", "interrupted", "crashed"})


@dataclass(frozen=True)
class UrlState:
    """What the archive knows about one canonical URL (for the revisit policy)."""

    canonical_url: str
    first_seen: datetime
    last_fetched: datetime | None
    content_hash: str | None
    etag: str | None
    last_modified: str | None
    published: datetime | None
    #: listing path -> the modification time it gave when the URL was last fetched
    listed_modified: Mapping[str, datetime] | None = None


def _listed(value: Any) -> dict[str, datetime] | None:
    # the JSON column holds ISO strings; a value that no longer parses is simply not compared
    if not isinstance(value, dict):
        return None
    out: dict[str, datetime] = {}
    for listing, moment in value.items():
        try:
            out[str(listing)] = datetime.fromisoformat(str(moment))
        except ValueError:
            continue
    return out


class Archive:
    """The archive at one SQLAlchemy URL: migrated on first use, every write one transaction."""

    def __init__(self, url: str | None = None, *, busy_timeout: float = 5.0, lock_attempts: int = 5,
                 migrate: bool = True, write_cache_kib: int | None = None) -> None:
        self.url = url or default_db_url()
        self.lock_attempts = lock_attempts
        self.engine = engines.create_engine(self.url, busy_timeout=busy_timeout,
                                            write_cache_kib=write_cache_kib)
        self.dialect = self.engine.dialect.name
        try:
            if migrate:
                self._migrate()
        except StorageError:
            self.engine.dispose()
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            self.engine.dispose()
            reason = getattr(exc, "orig", None) or exc
            where = engines.describe(self.url)
            raise StorageError(f"cannot write the archive at {where}: {reason}") from None

    def _migrate(self) -> None:
        if engines.current_revision(self.engine) != engines.head_revision():
            engines.with_retry(self.url, lambda: engines.upgrade(self.engine), attempts=self.lock_attempts)

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Archive({engines.describe(self.url)!r})"

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self.engine.connect().execution_options(newsarchive_write=True) as conn, conn.begin():
            yield conn

    def write(self, work: Callable[[sa.Connection], T]) -> T:
        """Run ``work(conn)`` in one write transaction, retried while SQLite is locked."""

        def attempt() -> T:
            with self._write() as conn:
                return work(conn)

        return engines.with_retry(self.url, attempt, attempts=self.lock_attempts)

    # -- writes -------------------------------------------------------------------------
    def save_batch(self, articles: Sequence[Article | Prepared],
                   run_id: int | None = None) -> list[SaveResult]:
        """Store a batch in ONE transaction and return one outcome per article, in order."""
        if not articles:
            return []
        prepared = prepare(articles)  # outside the transaction: pure work, not redone on a retry
        return self.write(lambda conn: BatchWriter(conn, run_id).save_all(prepared))

    def mark_fetched(self, url: str, *, fetched_at: datetime, status: int, etag: str | None = None,
                     last_modified: str | None = None, listing: str | None = None,
                     listed_modified: datetime | None = None) -> None:
        """Record a fetch that produced no new version (e.g. HTTP 304): crawl state only.

        ``listing``/``listed_modified``: the listing that led to the fetch and the time it gave,
        which the copy we hold now answers to.
        """
        key = canonical_url(url)

        def work(conn: sa.Connection) -> None:
            values: dict[str, Any] = {"last_fetched": fetched_at, "last_status": status}
            if etag is not None:
                values["etag"] = etag
            if last_modified is not None:
                values["last_modified"] = last_modified
            listed = listed_json(listing, listed_modified)
            if listed is not None:
                values["listed_modified"] = listed
            upsert_url_states(conn, [{"canonical_url": key, "first_seen": utcnow(), **values}])
            conn.execute(
                sa.update(ArticleRow)
                .where(ArticleRow.canonical_url == key, ArticleRow.last_seen < fetched_at)
                .values(last_seen=fetched_at)
            )

        self.write(work)

    def adopt_listed(self, values: Mapping[str, Mapping[str, datetime]]) -> None:
        """Add listing times to known URLs' state without a fetch: {canonical URL: {listing: time}}.

        For a listing that gave no time at the URL's last fetch (a URL fetched from another
        listing, or before these times were kept): its value now is the baseline a later
        change is measured against. Listings already recorded for a URL are left as they are.
        """
        if not values:
            return
        table: sa.Table = UrlStateRow.__table__  # type: ignore[assignment]

        def work(conn: sa.Connection) -> None:
            keys = sorted(values)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = conn.execute(sa.select(table.c.canonical_url, table.c.listed_modified)
                                    .where(table.c.canonical_url.in_(chunk))).all()
                for key, stored in rows:
                    merged = dict(stored) if isinstance(stored, dict) else {}
                    added = {k: v.isoformat() for k, v in values[key].items() if k not in merged}
                    if added:
                        conn.execute(sa.update(table).where(table.c.canonical_url == key)
                                     .values(listed_modified={**merged, **added}))

        self.write(work)

    # -- crawl runs ---------------------------------------------------------------------
    def start_run(self, source: str, args: Mapping[str, Any] | None = None) -> int:
        """Record the start of a crawl of ``source`` and return its run id."""

        def work(conn: sa.Connection) -> int:
            return conn.execute(
                sa.insert(CrawlRun)
                .values(source=source, started_at=utcnow(), status="running", args=dict(args or {}),
                        counts={}, errors=[], fill_rates={}, pid=os.getpid(), host=socket.gethostname())
                .returning(CrawlRun.id)
            ).scalar_one()

        return self.write(work)

    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int], errors: Sequence[str] = (),
                   fill_rates: Mapping[str, float] | None = None, exit_status: int | None = None) -> None:
        """Record how a run ended: status, counts by outcome, errors and field fill rates."""
        if status not in RUN_STATUSES:
            raise ValueError(f"run status must be one of {sorted(RUN_STATUSES)}, not {status!r}")

        def work(conn: sa.Connection) -> None:
            done = conn.execute(
                sa.update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(finished_at=utcnow(), status=status, counts=dict(counts),
                        errors=[str(e) for e in errors], fill_rates=dict(fill_rates or {}),
                        exit_status=exit_status)
            )
            if done.rowcount != 1:
                raise StorageError(f"crawl run {run_id} does not exist in {self!r}")

        self.write(work)

    def fail_stale_runs(self, source: str) -> int:
        """Mark runs of ``source`` left "running" by a process that no longer exists as "crashed"."""
        host = socket.gethostname()

        def work(conn: sa.Connection) -> int:
            rows = conn.execute(
                sa.select(CrawlRun.id, CrawlRun.pid, CrawlRun.host)
                .where(CrawlRun.source == source, CrawlRun.status == "running")
            ).all()
            # Runs on other hosts cannot be checked from here; they are left alone.
            stale = [r.id for r in rows if r.host == host and r.pid != os.getpid()
                     and not (r.pid and process_alive(r.pid))]
            if stale:
                conn.execute(
                    sa.update(CrawlRun)
                    .where(CrawlRun.id.in_(stale))
                    .values(status="crashed", finished_at=utcnow())
                )
            return len(stale)

        return self.write(work)

    def runs(self, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent crawl runs, newest first."""
        table = CrawlRun.__table__
        stmt = sa.select(table).order_by(table.c.started_at.desc(), table.c.id.desc()).limit(limit)
        if source:
            stmt = stmt.where(table.c.source == source)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # -- incremental crawl state --------------------------------------------------------
    def url_states(self, urls: Iterable[str]) -> dict[str, UrlState]:
        """State of the known URLs among ``urls``, keyed by canonical URL."""
        keys = sorted({canonical_url(u) for u in urls})
        out: dict[str, UrlState] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                stmt = sa.select(UrlStateRow).where(UrlStateRow.canonical_url.in_(keys[start : start + 500]))
                for row in conn.execute(stmt):
                    out[row.canonical_url] = UrlState(
                        row.canonical_url, row.first_seen, row.last_fetched, row.content_hash,
                        row.etag, row.last_modified, row.published, _listed(row.listed_modified),
                    )
        return out

    # -- reads --------------------------------------------------------------------------
    def iter_articles(self, *, since: datetime | None = None, until: datetime | None = None,
                      source: str | None = None, topic: str | None = None, language: str | None = None,
                      wire: str | None = None, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Current version of each matching article, streamed in id order with constant memory."""
        for rows in self.iter_row_pages(since=since, until=until, source=source, topic=topic,
                                        language=language, wire=wire, batch_size=batch_size):
            yield from map(row_dict, rows)

    def iter_row_pages(self, *, since: datetime | None = None, until: datetime | None = None,
                       source: str | None = None, topic: str | None = None, language: str | None = None,
                       wire: str | None = None, batch_size: int = 5000,
                       text_as_bytes: bool = False) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of ROW_COLUMNS tuples (search.row_dict reads one) in id order, one short read
        transaction each: a long export holds no snapshot against crawls. ``text_as_bytes``:
        SQLite text as undecoded UTF-8 (the CSV export's), PostgreSQL's stays str."""
        where = filters(since=since, until=until, source=source, topic=topic, language=language, wire=wire)
        last_id = 0
        while rows := self._read(
            sa.select(*ROW_COLUMNS).select_from(ArticleRow)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .join(Source, Source.id == ArticleRow.source_id)
            .where(ArticleRow.id > last_id, *where).order_by(ArticleRow.id).limit(batch_size), text_as_bytes
        ):
            yield rows
            last_id = rows[-1][_ID]

    def count_articles(self, *, since: datetime | None = None, until: datetime | None = None,
                       source: str | None = None, topic: str | None = None,
                       language: str | None = None, wire: str | None = None) -> int:
        """How many articles iter_articles would yield (for progress bars)."""
        where = filters(since=since, until=until, source=source, topic=topic, language=language, wire=wire)
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(ArticleRow).where(*where))
                       .scalar_one())

    def search(self, query: str, *, since: datetime | None = None, until: datetime | None = None,
               source: str | None = None, topic: str | None = None, language: str | None = None,
               wire: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Best-matching current articles for ``query`` (see newsarchive.storage.search for the syntax)."""
        where = filters(since=since, until=until, source=source, topic=topic, language=language, wire=wire)
        try:
            rows = self._read(search_statement(self.dialect, query, max(1, int(limit)), where))
        except sa.exc.OperationalError as exc:
            if "fts5" in str(exc.orig).lower():
                raise SearchQueryError(f"search query {query!r} cannot be run: {exc.orig}") from None
            raise
        return [{**row_dict(row), "score": None if row[-2] is None else -float(row[-2]), "snippet": row[-1]}
                for row in rows]

    def versions(self, url_or_id: str | int) -> list[dict[str, Any]]:
        """Every stored version of one article, oldest first (its revision history)."""
        article_id = url_or_id if isinstance(url_or_id, int) else sa.select(ArticleRow.id).where(
            ArticleRow.canonical_url == canonical_url(url_or_id)).scalar_subquery()
        rows = self._read(sa.select(*ROW_COLUMNS, ArticleRow.current_version_id, ArticleVersion.origin)
                          .select_from(ArticleVersion)
                          .join(ArticleRow, ArticleVersion.article_id == ArticleRow.id)
                          .join(Source, Source.id == ArticleRow.source_id)
                          .where(ArticleVersion.article_id == article_id).order_by(ArticleVersion.id))
        return [{**row_dict(row), "current": row[_VERSION] == row[-2], "origin": row[-1]} for row in rows]

    def _read(self, stmt: sa.Select[Any], text_as_bytes: bool = False) -> list[tuple[Any, ...]]:
        """The driver's tuples of a ROW_COLUMNS select (Rows and result processors cost time), with
        copy_of filled in: SHARED_CLUSTER left the cluster of each article that has copies there."""
        with self.engine.connect() as conn:
            raw: Any = conn.connection.dbapi_connection if text_as_bytes and self.dialect == "sqlite" \
                else None
            if raw is not None:
                raw.text_factory = bytes  # decoding, then encoding again, cost a Cyrillic export 1/3
            try:
                result = conn.execute(stmt)
                rows = list(result.cursor.fetchall()) if result.cursor is not None else []
                result.close()
            finally:
                if raw is not None:
                    raw.text_factory = str  # the connection goes back to the pool: other readers want str
            shared = sorted({row[_COPY] for row in rows if row[_COPY] is not None})
            earliest: dict[int, int] = {}
            for start in range(0, len(shared), 500):  # within SQLite's bound-variable limit
                earliest.update(conn.execute(EARLIEST_COPIES, {"clusters": shared[start:][:500]}).all())
        for i, row in enumerate(rows):
            if row[_COPY] is not None:
                first = earliest.get(row[_COPY])
                rows[i] = (*row[:_COPY], first if first != row[_ID] else None, *row[_COPY + 1 :])
        return rows

    def story(self, url_or_id: str | int) -> list[StoryCopy]:
        """Every copy of one article's story (its near-duplicate cluster), earliest first, with
        outlet, wire credit, times and how much of the longest copy each carries; [] when the
        archive holds no such article (see newsarchive.storage.story)."""
        article_id = url_or_id if isinstance(url_or_id, int) else self.article_id(url_or_id)
        if article_id is None:
            return []
        with self.engine.connect() as conn:
            return story_copies(conn, article_id)

    def stats(self, *, source: str | None = None, since: datetime | None = None,
              recent_runs: int = 5) -> dict[str, Any]:
        """Per source per day counts plus layout-drift alarms (see newsarchive.storage.stats)."""
        from newsarchive.storage.stats import archive_stats

        with self.engine.connect() as conn:
            return archive_stats(conn, source=source, since=since, recent_runs=recent_runs)

    def add_versions(self, items: Sequence[tuple[int, Article]], *, origin: str,
                     expected: Mapping[int, int | None] | None = None) -> dict[int, int]:
        """Make each Article the new current version of the article id given with it, in one
        transaction (re-extraction's write): {article id: new version id}.

        With ``expected`` (article id -> the current version id the caller read), an article
        whose current version has moved since (a crawl stored a newer text) is left out.
        """

        def work(conn: sa.Connection) -> dict[int, int]:
            keep = list(items)
            if expected is not None:
                ids = sorted({article_id for article_id, _ in items})
                now = dict(conn.execute(sa.select(ArticleRow.id, ArticleRow.current_version_id)
                                        .where(ArticleRow.id.in_(ids))).all())
                keep = [(a, article) for a, article in items if a in now and now[a] == expected.get(a)]
            if not keep:
                return {}
            written = BatchWriter(conn, run_id=None).add_versions(keep, origin=origin)
            return {a: v for (a, _), v in zip(keep, written, strict=True)}

        return self.write(work) if items else {}

    def article_id(self, url: str) -> int | None:
        """The id of the article stored under ``url``'s canonical form (None when unknown)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(ArticleRow.id).where(ArticleRow.canonical_url == article_key(Article(url=url)))
            ).scalar()


_ID, _VERSION, _COPY = ROW_INDEX["article_id"], ROW_INDEX["version_id"], ROW_INDEX["copy_of"]
