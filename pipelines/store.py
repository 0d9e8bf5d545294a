"""Hand articles to the archive in batches (one transaction each) and count what happened.

Settings: NEWSARCHIVE_DB (archive URL), NEWSARCHIVE_RUN_ID (set by the crawl runner),
NEWSARCHIVE_STORE_BATCH (articles per transaction, default 100), NEWSARCHIVE_STORE_ENABLED.
Stats: ``newsarchive/<outcome>`` for new, updated, unchanged and duplicate, and
``newsarchive/fill/<field>``: how many kept articles (new, updated, unchanged) have each field,
which the runner divides into the run's fill rates for the layout-drift alarm.
A batch the archive refuses (e.g. still locked after retries) is logged as an ERROR and counted
in ``newsarchive/store_failed``; nothing of it is written, so the next run fetches it again.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from newsarchive.article import FILL_FIELDS, Article
from newsarchive.errors import StorageError
from newsarchive.storage import Archive

log = logging.getLogger(__name__)
KEPT = frozenset({"new", "updated", "unchanged"})


class StorePipeline:
    """Batches Articles into Archive.save_batch; flushes the rest when the spider closes."""

    def __init__(self, stats: StatsCollector, db_url: str | None, run_id: int | None,
                 batch_size: int = 100) -> None:
        self.stats = stats
        self.db_url = db_url
        self.run_id = run_id
        self.batch_size = max(1, batch_size)
        self.pending: list[Article] = []
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_STORE_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_STORE_ENABLED is off")
        assert crawler.stats is not None
        run_id = settings.get("NEWSARCHIVE_RUN_ID")
        return cls(
            crawler.stats,
            settings.get("NEWSARCHIVE_DB") or None,
            int(run_id) if run_id not in (None, "") else None,
            settings.getint("NEWSARCHIVE_STORE_BATCH", 100),
        )

    def open_spider(self) -> None:
        # StorageError here stops the crawl before anything is fetched in vain.
        self.archive = Archive(self.db_url)

    def close_spider(self) -> None:
        try:
            self.flush()
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

    def flush(self) -> None:
        """Save the pending batch in one transaction and count its outcomes."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        if self.archive is None:
            self.archive = Archive(self.db_url)
        try:
            results = self.archive.save_batch(batch, self.run_id)
        except StorageError as exc:
            self.stats.inc_value("newsarchive/store_failed", len(batch))
            log.error("could not store %d articles: %s", len(batch), exc)
            return
        for article, result in zip(batch, results, strict=True):
            self.stats.inc_value(f"newsarchive/{result.outcome}")
            if result.outcome in KEPT:
                for name in FILL_FIELDS:
                    if getattr(article, name):
                        self.stats.inc_value(f"newsarchive/fill/{name}")
