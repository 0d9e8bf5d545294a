"""Progress extension: live counts on a terminal, a log line per minute otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)


def counts_from_stats(stats: Mapping[str, Any]) -> dict[str, int]:
    """The run's headline counts from Scrapy stats (shared by progress, summary and finish_run)."""

    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    def prefixed(prefix: str) -> int:
        return sum(int(v) for k, v in stats.items() if k.startswith(prefix) and isinstance(v, int | float))

    return {
        "pages": get("response_received_count"),
        "stored": get("newsarchive/new"),
        "updated": get("newsarchive/updated"),
        "unchanged": get("newsarchive/unchanged"),
        # same text under another URL (pipelines) + same article under a tracking-parameter URL
        "duplicates": get("newsarchive/duplicate") + get("newsarchive/discovery/duplicate_url"),
        "skipped": prefixed("newsarchive/skipped/"),
        "not_modified": get("newsarchive/not_modified"),
        # IgnoreRequest (robots.txt, offsite) is policy, not an error
        "errors": get("log_count/ERROR") + prefixed("newsarchive/fetch_failed/")
        + get("downloader/exception_count")
        - get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest"),
        "blocked": get("newsarchive/blocked"),
        "robots_disallowed": get("robotstxt/forbidden"),
    }


def progress_line(counts: Mapping[str, int], elapsed: float) -> str:
    """One line of live counts."""
    rate = counts["pages"] / elapsed * 60 if elapsed > 0 else 0.0
    return (
        f"pages {counts['pages']}  stored {counts['stored']}  updates {counts['updated']}  "
        f"duplicates {counts['duplicates']}  skipped {counts['skipped']}  errors {counts['errors']}  "
        f"({rate:.0f} pages/min)"
    )


class Progress:
    """Redraws one status line each second on a terminal; logs a line every minute when piped."""

    def __init__(self, crawler: Crawler, stream: TextIO | None = None) -> None:
        if not crawler.settings.getbool("NEWSARCHIVE_PROGRESS_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = 1.0 if self.tty else crawler.settings.getfloat("NEWSARCHIVE_PROGRESS_INTERVAL", 60.0)
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        """Build the extension and hook it to spider open/close."""
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        """Start the periodic tick."""
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.interval, now=False)

    def tick(self) -> None:
        """Redraw the live line (terminal) or log it (pipe)."""
        assert self.crawler.stats is not None
        counts = counts_from_stats(self.crawler.stats.get_stats())
        line = progress_line(counts, time.monotonic() - self.started)
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
            self.stream.flush()
        else:
            logger.info("progress: %s", line)

    def closed(self) -> None:
        """Stop ticking and clear the live line."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.tty:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
