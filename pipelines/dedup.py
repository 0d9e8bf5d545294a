"""Drop repeats within one run: the same canonical URL, or the same text under another URL.

Expected on every crawl (a story listed in the feed, the sitemap and a section page; tracking
parameters; syndicated copies), so drops log at INFO and count ``newsarchive/duplicate`` plus
``newsarchive/dedup/url`` or ``newsarchive/dedup/content``. Repeats across runs are decided by
the archive itself (``unchanged`` / ``duplicate`` outcomes in the store pipeline).
"""

from __future__ import annotations

import hashlib
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from newsarchive.article import Article
from newsarchive.urls import canonical_url


def _digest(text: str) -> bytes:
    # 16-byte digests keep a run of a million articles at a few tens of MB of state
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class DedupPipeline:
    """Keys seen in this run (never module-level state: one instance per crawler)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.urls: set[bytes] = set()
        self.hashes: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        if not crawler.settings.getbool("NEWSARCHIVE_DEDUP_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_DEDUP_ENABLED is off")
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if not item.canonical_url:
            item.canonical_url = canonical_url(item.url)
        url_key = _digest(item.canonical_url)
        if url_key in self.urls:
            self._drop("url", f"duplicate URL in this run: {item.canonical_url}")
        text_key = bytes.fromhex(item.content_hash)[:16]
        if text_key in self.hashes:
            self.urls.add(url_key)
            self._drop("content", f"same text as an earlier article in this run: {item.canonical_url}")
        self.urls.add(url_key)
        self.hashes.add(text_key)
        return item

    def _drop(self, why: str, message: str) -> None:
        self.stats.inc_value("newsarchive/duplicate")
        self.stats.inc_value(f"newsarchive/dedup/{why}")
        raise DropItem(message, log_level="INFO")
