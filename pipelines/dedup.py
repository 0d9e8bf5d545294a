"""Drop repeats of one canonical URL within a run; pass on the same text under another URL.

A story listed in the feed, the sitemap and a section page, or with tracking parameters, is
expected on every crawl: such a repeat is dropped at INFO and counted ``newsarchive/duplicate``
plus ``newsarchive/dedup/url``. The same text under another URL (a syndicated copy) is counted
``newsarchive/dedup/content`` and goes on to the store pipeline, whose archive records it as a
``duplicate`` outcome (counted ``newsarchive/duplicate`` there) and remembers the URL, so the
next run does not fetch it again.
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
            self.stats.inc_value("newsarchive/duplicate")
            self.stats.inc_value("newsarchive/dedup/url")
            raise DropItem(f"duplicate URL in this run: {item.canonical_url}", log_level="INFO")
        self.urls.add(url_key)
        text_key = bytes.fromhex(item.content_hash)[:16]
        if text_key in self.hashes:
            # kept: only the archive can record this URL as a duplicate of the stored story
            self.stats.inc_value("newsarchive/dedup/content")
        self.hashes.add(text_key)
        return item
