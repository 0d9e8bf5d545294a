"""Drop items that are not articles, each with a counted reason (``newsarchive/skipped/<reason>``).

Reasons: ``not_article`` (not an Article item), ``no_headline``, ``no_body``, ``body_too_short``
(fewer than NEWSARCHIVE_MIN_BODY_CHARS characters: index pages, teasers, error pages),
``no_published`` (the page states no date) and ``unparseable_published`` (it states one we could
not read). Without a date an item cannot be placed in time, so it is dropped, not stored half-known.

Every Article's extraction warnings are counted first, by kind (``newsarchive/warning/<kind>``,
the part of the warning before its colon, e.g. ``empty_body``), kept or dropped alike: a crawl
runs one source, so the counts are per source.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from newsarchive.article import DEFAULT_MIN_BODY_CHARS, Article, skip_reason, warning_kinds

log = logging.getLogger(__name__)
class ValidatePipeline:
    """Keep only items that are complete articles; count every drop by reason."""

    def __init__(self, stats: StatsCollector, min_body_chars: int = DEFAULT_MIN_BODY_CHARS) -> None:
        self.stats = stats
        self.min_body_chars = min_body_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        if not crawler.settings.getbool("NEWSARCHIVE_VALIDATE_ENABLED", True):
            raise NotConfigured("NEWSARCHIVE_VALIDATE_ENABLED is off")
        assert crawler.stats is not None
        min_chars = crawler.settings.getint("NEWSARCHIVE_MIN_BODY_CHARS", DEFAULT_MIN_BODY_CHARS)
        return cls(crawler.stats, min_chars)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Article):
            for kind in warning_kinds(item):
                self.stats.inc_value(f"newsarchive/warning/{kind}")
        reason = skip_reason(item, self.min_body_chars)
        if reason is None:
            return item
        self.stats.inc_value(f"newsarchive/skipped/{reason}")
        url = getattr(item, "url", None) or (item.get("url") if isinstance(item, dict) else None)
        raise DropItem(f"skipped ({reason}): {url or type(item).__name__}", log_level="INFO")
