"""Hand articles to the archive in batches (one transaction each) and count what happened.

Settings: NEWSARCHIVE_DB (archive URL), NEWSARCHIVE_RUN_ID (set by the crawl runner),
NEWSARCHIVE_STORE_BATCH (articles per transaction, default 100), NEWSARCHIVE_STORE_ENABLED,
NEWSARCHIVE_STORE_DEADLINE (seconds the archive may refuse batches before the crawl stops,
default 300), NEWSARCHIVE_STORE_RETRY_INTERVAL (seconds between retries, default 5),
NEWSARCHIVE_STORE_MEMORY_ITEMS (refused articles kept in memory before they are spooled to
disk, default 1000), NEWSARCHIVE_SPOOL_DIR (see newsarchive.spool),
NEWSARCHIVE_STORE_BUSY_TIMEOUT / NEWSARCHIVE_STORE_LOCK_ATTEMPTS (SQLite lock waits of one
attempt, default 5 s and 5), NEWSARCHIVE_STORE_CACHE_KIB (SQLite page cache of the writer,
default 32 MB: a crawl's batches are small, and the import-sized default grew the crawl's
memory with the archive).

Stats: ``newsarchive/<outcome>`` for new, updated, unchanged and duplicate, and
``newsarchive/fill/<field>``: how many kept articles (new, updated, unchanged) have each field,
which the runner divides into the run's fill rates for the layout-drift alarm.

Nothing refused is dropped. A batch the archive refuses (locked past its retries, PostgreSQL
restarting, a full disk) is kept in memory (``newsarchive/store/refused``) and retried every
retry interval and before each new batch; past NEWSARCHIVE_STORE_MEMORY_ITEMS the oldest kept
batches are spooled to disk. When the archive takes them again they are stored
(``newsarchive/store/retried``). If it refuses for longer than the deadline, everything still
held is spooled (``newsarchive/store/spooled``) and the crawl stops with finish reason
``store_failed`` (the runner records the run failed, exit 5). The next run stores the spooled
batches, under the runs that fetched them, before it fetches anything
(``newsarchive/store/replayed``). Articles that could not even be spooled are counted in
``newsarchive/store/lost`` and logged as CRITICAL.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.statscollectors import StatsCollector

from newsarchive.article import FILL_FIELDS, Article
from newsarchive.config import default_db_url
from newsarchive.crawl import signals as crawl_signals
from newsarchive.errors import StorageError
from newsarchive.spool import Spool
from newsarchive.storage import Archive
from newsarchive.storage.engine import describe

log = logging.getLogger(__name__)
KEPT = frozenset({"new", "updated", "unchanged"})
#: finish reason of a crawl stopped because the archive refused its articles past the deadline
STORE_FAILED = "store_failed"


class StorePipeline:
    """Batches Articles into Archive.save_batch; flushes the rest when the spider closes."""

    def __init__(self, stats: StatsCollector, db_url: str | None, run_id: int | None,
                 batch_size: int = 100, *, crawler: Crawler | None = None, deadline: float = 300.0,
                 retry_interval: float = 5.0, memory_items: int = 1000, spool_dir: str | None = None,
                 busy_timeout: float = 5.0, lock_attempts: int = 5,
                 write_cache_kib: int | None = 32 * 1024) -> None:
        self.stats = stats
        self.db_url = db_url
        self.run_id = run_id
        self.batch_size = max(1, batch_size)
        self.pending: list[Article] = []
        self.archive: Archive | None = None
        self.crawler = crawler
        self.deadline = deadline
        self.retry_interval = retry_interval
        self.memory_items = max(0, memory_items)
        self.spool_dir = spool_dir
        self.archive_options: dict[str, Any] = {"busy_timeout": busy_timeout, "lock_attempts": lock_attempts,
                                                "write_cache_kib": write_cache_kib}
        #: refused batches still in memory, oldest first
        self.backlog: list[list[Article]] = []
        #: when the archive began refusing (None while it takes batches)
        self.failing_since: float | None = None
        #: batches this crawl spooled to disk while the archive refused
        self.spooled_here = 0
        self.gave_up = False
        self._spool: Spool | None = None
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_STORE_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_STORE_ENABLED is off")
        assert crawler.stats is not None
        run_id = settings.get("NEWSARCHIVE_RUN_ID")
        pipeline = cls(
            crawler.stats,
            settings.get("NEWSARCHIVE_DB") or None,
            int(run_id) if run_id not in (None, "") else None,
            settings.getint("NEWSARCHIVE_STORE_BATCH", 100),
            crawler=crawler,
            deadline=settings.getfloat("NEWSARCHIVE_STORE_DEADLINE", 300.0),
            retry_interval=settings.getfloat("NEWSARCHIVE_STORE_RETRY_INTERVAL", 5.0),
            memory_items=settings.getint("NEWSARCHIVE_STORE_MEMORY_ITEMS", 1000),
            spool_dir=settings.get("NEWSARCHIVE_SPOOL_DIR") or None,
            busy_timeout=settings.getfloat("NEWSARCHIVE_STORE_BUSY_TIMEOUT", 5.0),
            lock_attempts=settings.getint("NEWSARCHIVE_STORE_LOCK_ATTEMPTS", 5),
            write_cache_kib=settings.getint("NEWSARCHIVE_STORE_CACHE_KIB", 32 * 1024),
        )
        # the distributed frontier releases a request's lease only once its articles are stored
        crawler.signals.connect(pipeline.flush, signal=crawl_signals.flush_store)
        return pipeline

    # -- lifecycle ----------------------------------------------------------------------
    def open_spider(self) -> None:
        # StorageError here stops the crawl before anything is fetched in vain.
        self.archive = Archive(self.db_url, **self.archive_options)
        self._spool = Spool(self.archive.url, self.spool_dir)
        replayed = self._drain_spool()
        if replayed is None:
            log.error("%d spooled batches in %s could not be stored (see the warning above); stopping "
                      "before anything is fetched", self._spool.count(), self._spool.directory)
            self.stats.set_value("newsarchive/store/gave_up", 1)
            # Scrapy closes a spider whose component raises CloseSpider while opening, before any request
            raise CloseSpider(STORE_FAILED)
        if replayed:
            log.warning("stored %d articles spooled by an earlier run that the archive had refused", replayed)

    def close_spider(self) -> None:
        try:
            self._stop_loop()
            self.flush()
            if self.gave_up:
                self._spool_all()
                return
            # the crawl is over: wait out the rest of the deadline for the archive to come back
            while (self.backlog or self._spooled_files_left()) and not self._past_deadline():
                time.sleep(min(self.retry_interval, max(0.1, self._time_left())))
                self._retry_now()
            if self.backlog or self._spooled_files_left():
                self._give_up(stop_crawl=False)
        finally:
            if self.archive is not None:
                self.archive.close()
                self.archive = None

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
        return item

    # -- storing ------------------------------------------------------------------------
    def flush(self) -> None:
        """Save the pending batch in one transaction and count its outcomes (kept if refused)."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.gave_up:
            self.backlog.append(batch)
            self._spool_all()
            return
        if self.backlog or self.failing_since is not None:
            self.backlog.append(batch)
            self._retry_now()
        elif not self._save(batch, self.run_id):
            self.backlog.append(batch)
            self._refused()
        self._bound_memory()

    def _save(self, batch: list[Article], run_id: int | None) -> bool:
        """One batch into the archive; False (logged) when the archive refuses it."""
        if self.archive is None:
            try:
                self.archive = Archive(self.db_url, **self.archive_options)
            except StorageError as exc:
                self._log_refusal(len(batch), exc)
                return False
        try:
            results = self.archive.save_batch(batch, run_id)
        except Exception as exc:  # locked, connection lost, disk full, ...: kept and retried
            self._log_refusal(len(batch), exc)
            return False
        for article, result in zip(batch, results, strict=True):
            self.stats.inc_value(f"newsarchive/{result.outcome}")
            if result.outcome in KEPT:
                for name in FILL_FIELDS:
                    if getattr(article, name):
                        self.stats.inc_value(f"newsarchive/fill/{name}")
        self._stored(batch)
        return True

    def _stored(self, batch: list[Article]) -> None:
        if self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=crawl_signals.articles_stored, articles=batch)

    def _log_refusal(self, count: int, exc: Exception) -> None:
        self.stats.inc_value("newsarchive/store/refused", count)
        what = f"{type(exc).__name__}: {exc}" if not isinstance(exc, StorageError) else str(exc)
        log.warning("the archive refused %d articles (kept, retrying): %s", count, what.splitlines()[0][:300])

    def _refused(self) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            log.error("the archive refuses to store articles; they are kept and retried for up to %.0f s",
                      self.deadline)
        self._start_loop()

    def _retry_now(self) -> None:
        """Store what is kept, oldest first; give up (spool, stop) once past the deadline."""
        while self.backlog:
            if not self._save(self.backlog[0], self.run_id):
                self._refused()
                if self._past_deadline():
                    self._give_up(stop_crawl=True)
                return
            stored = self.backlog.pop(0)
            self.stats.inc_value("newsarchive/store/retried", len(stored))
        if self.spooled_here and self._drain_spool() is None:
            self._refused()
            return
        if self.failing_since is not None:
            log.warning("the archive takes articles again after %.0f s; nothing was lost",
                        time.monotonic() - self.failing_since)
            self.failing_since = None
            self._stop_loop()

    def _drain_spool(self) -> int | None:
        """Store the spooled batches, oldest first: articles stored, or None when refused."""
        assert self._spool is not None
        stored = 0
        for batch in self._spool.batches():
            if not self._save(batch.articles, batch.run_id):
                return None
            self._spool.done(batch)
            stored += len(batch.articles)
            self.stats.inc_value("newsarchive/store/replayed", len(batch.articles))
        self.spooled_here = 0
        return stored

    def _spooled_files_left(self) -> bool:
        return self.spooled_here > 0 and self._spool is not None and self._spool.count() > 0

    # -- memory bound, deadline ---------------------------------------------------------
    def _bound_memory(self) -> None:
        while self.backlog and sum(len(b) for b in self.backlog) > self.memory_items:
            if not self._spool_batch(self.backlog[0]):
                return
            self.backlog.pop(0)

    def _spool_batch(self, batch: list[Article]) -> bool:
        if self._spool is None:
            self._spool = Spool(self.db_url or default_db_url(), self.spool_dir)
        try:
            path = self._spool.write(batch, self.run_id)
        except Exception as exc:  # e.g. the spool's disk is full too: held in memory meanwhile
            log.error("could not spool %d refused articles to %s: %s", len(batch), self._spool.directory, exc)
            return False
        self.spooled_here += 1
        self.stats.inc_value("newsarchive/store/spooled", len(batch))
        self._stored(batch)  # on disk, stored first by the next run on this machine
        log.warning("spooled %d refused articles to %s", len(batch), path)
        return True

    def _spool_all(self) -> None:
        while self.backlog:
            batch = self.backlog.pop(0)
            if not self._spool_batch(batch):
                self.stats.inc_value("newsarchive/store/lost", len(batch))
                log.critical("LOST %d articles: the archive refused them and the spool could not take "
                             "them (%s)", len(batch), ", ".join(a.url for a in batch[:5]))

    def _give_up(self, *, stop_crawl: bool) -> None:
        self.gave_up = True
        self._stop_loop()
        self._spool_all()
        where = self._spool.directory if self._spool else "the spool"
        log.error("the archive at %s refused articles for over %.0f s: stopping; %d articles kept in %s "
                  "are stored first by the next run",
                  describe(self.archive.url if self.archive else self.db_url or default_db_url()),
                  self.deadline, self.stats.get_value("newsarchive/store/spooled", 0), where)
        self.stats.set_value("newsarchive/store/gave_up", 1)
        if not stop_crawl or self.crawler is None:
            return
        try:
            engine = self.crawler.engine
        except RuntimeError:  # no crawl running (the pipeline driven directly)
            return
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(engine.close_spider_async(reason=STORE_FAILED))

    def _time_left(self) -> float:
        if self.failing_since is None:
            return self.deadline
        return self.deadline - (time.monotonic() - self.failing_since)

    def _past_deadline(self) -> bool:
        return self._time_left() <= 0

    # -- the retry timer ----------------------------------------------------------------
    def _start_loop(self) -> None:
        if self._loop is not None or self.crawler is None or self.gave_up:
            return
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.retry_interval, now=False).addErrback(
            lambda failure: log.error("store retry timer failed: %s", failure.getErrorMessage()))

    def _tick(self) -> None:
        if self.backlog and not self.gave_up:
            self._retry_now()

    def _stop_loop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._loop = None
