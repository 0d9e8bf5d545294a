"""Downloader middlewares: Retry-After backoff, block detection, WARC capture of article responses.

Enabled in ``newsarchive/settings.py``.  Order matters: Scrapy hands responses to
middlewares from the highest number down, so WARC capture (890) sees the bytes as
received, block detection (570) classifies before Retry-After backoff (560) and
Scrapy's RetryMiddleware (550), which no longer retries 429/503 itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

META_ARTICLE = "newsarchive_article"
META_WARC = "newsarchive_warc"
META_BLOCKED = "newsarchive_blocked"
META_RETRY_AFTER = "newsarchive_retry_after_times"

# Markers of anti-bot interstitials (Cloudflare, DataDome, servicepipe, generic captchas),
# matched in the lowercased head of a response: plain substring tests, cheap on every page.
_CHALLENGE_MARKERS = (
    b"cf-chl", b"challenge-platform", b"just a moment...", b"datadome", b"captcha-delivery",
    b"servicepipe", b"g-recaptcha", b"h-captcha", b"verify you are a human", b"verify you are human",
    b"access denied",
)


def _looks_like_challenge(body: bytes) -> bool:
    head = body[:20000].lower()
    return any(marker in head for marker in _CHALLENGE_MARKERS)


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """``Retry-After`` (delta seconds or an HTTP date) -> seconds to wait, or None if absent/invalid."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def drop_queued(crawler: Crawler, why: str) -> int:
    """Drop the requests waiting in the downloader's slot queues; how many were dropped.

    Closing the spider still downloads what already waits there (up to CONCURRENT_REQUESTS).
    """
    downloader = getattr(crawler.engine, "downloader", None)
    dropped = 0
    for slot in list(getattr(downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        while queue:
            request, waiting = queue.popleft()
            waiting.errback(IgnoreRequest(f"crawl stopped ({why}): {request.url}"))
            dropped += 1
    return dropped


class RetryAfterMiddleware:
    """On 429/503 wait as the server asks (or back off exponentially), then retry a bounded number of times.

    The wait applies to the whole host: every later request to it is held until the
    pause ends.  A ``Retry-After`` longer than ``NEWSARCHIVE_RETRY_AFTER_MAX`` is not
    honoured by waiting: the request is given up and counted.
    """

    codes = (429, 503)

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_RETRY_AFTER_ENABLED", True):
            raise NotConfigured
        self.stats = crawler.stats
        self.max_times = settings.getint("NEWSARCHIVE_RETRY_AFTER_TIMES", 3)
        self.max_delay = settings.getfloat("NEWSARCHIVE_RETRY_AFTER_MAX", 300.0)
        self.base_delay = settings.getfloat("NEWSARCHIVE_RETRY_AFTER_BASE", 2.0)
        self.not_before: dict[str, float] = defaultdict(float)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).netloc
        wait = self.not_before[host] - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes or request.meta.get(META_BLOCKED):
            return response
        times = int(request.meta.get(META_RETRY_AFTER, 0))
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        delay = asked if asked is not None else self.base_delay * (2**times)
        self.stats.inc_value(f"newsarchive/http/{response.status}")
        if times >= self.max_times or delay > self.max_delay:
            self.stats.inc_value("newsarchive/retry_after/gave_up")
            logger.warning("giving up on %s after %d waits (status %d, asked %s s)",
                           request.url, times, response.status, asked)
            return response
        host = urlparse_cached(request).netloc
        self.not_before[host] = max(self.not_before[host], time.monotonic() + delay)
        self.stats.inc_value("newsarchive/retry_after/retries")
        self.stats.inc_value("newsarchive/retry_after/waited_seconds", round(delay))
        logger.info("%d from %s: waiting %.1f s before retry %d", response.status, host, delay, times + 1)
        retry = request.copy()
        retry.meta[META_RETRY_AFTER] = times + 1
        retry.dont_filter = True
        retry.priority = request.priority - 1
        return retry


class BlockDetectionMiddleware:
    """Recognise blocks (401/403, challenge pages), count them per source, and stop a blocked crawl.

    Blocks are never retried or evaded.  After ``NEWSARCHIVE_BLOCK_LIMIT`` blocked
    responses in a row the spider is closed with reason ``blocked``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.limit = crawler.settings.getint("NEWSARCHIVE_BLOCK_LIMIT", 10)
        self.in_a_row = 0
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        return cls(crawler)

    def is_block(self, response: Response) -> str | None:
        """The kind of block this response is, or None."""
        if response.status in (401, 403):
            return f"http_{response.status}"
        if response.status in (429, 503) and _looks_like_challenge(response.body):
            return "challenge"
        if response.status == 200 and len(response.body) < 20000 and _looks_like_challenge(response.body):
            # a tiny 200 page that is only a captcha wall
            ctype = response.headers.get(b"Content-Type") or b""
            if b"html" in ctype and b"<article" not in response.body:
                return "challenge"
        return None

    def _drop_queued(self) -> None:
        # a blocked site should not get the requests already queued for it
        dropped = drop_queued(self.crawler, "blocked")
        if dropped:
            self.stats.inc_value("newsarchive/blocked/not_sent", dropped)

    def process_response(self, request: Request, response: Response) -> Response:
        kind = self.is_block(response)
        name = getattr(self.crawler.spider, "name", "?")
        if kind is None:
            if 200 <= response.status < 400:
                self.in_a_row = 0
            return response
        request.meta[META_BLOCKED] = kind
        self.in_a_row += 1
        self.stats.inc_value("newsarchive/blocked")
        self.stats.inc_value(f"newsarchive/blocked/{kind}")
        if self.stats.get_value("newsarchive/blocked") == 1:
            logger.error("%s is blocking us (%s at %s); not retrying, not evading", name, kind, request.url)
        if self.in_a_row >= self.limit and not self.closing:
            self.closing = True
            logger.error("%s: %d blocked responses in a row, stopping the crawl", name, self.in_a_row)
            assert self.crawler.engine is not None
            self._drop_queued()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))
        if response.status == 200:
            # a captcha wall served as 200 must not reach extraction as if it were an article
            return response.replace(status=403)
        return response


class WarcCaptureMiddleware:
    """Write each fetched article's request and response to WARC; the ref goes to ``request.meta``.

    The spider copies ``meta["newsarchive_warc"]`` (a ``WarcRef(file, offset, length)``)
    into ``Article.fetch``, so every stored version points at its raw bytes.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("NEWSARCHIVE_WARC_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.directory = settings.get("NEWSARCHIVE_WARC_DIR") or None
        self.writer: Any = None
        self.failed = False
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        from scrapy import signals

        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def _writer(self, spider: Spider | None) -> Any:
        if self.writer is None and not self.failed:
            try:
                from newsarchive.capture import WarcWriter
                from newsarchive.config import warc_dir

                prefix = getattr(spider, "name", "crawl")
                self.writer = WarcWriter(self.directory or warc_dir(), prefix=prefix)
            except Exception as exc:  # WARC is provenance: losing it is logged, never fatal to the crawl
                self.failed = True
                self.stats.inc_value("newsarchive/warc/unavailable")
                logger.error("WARC capture disabled: %s: %s", type(exc).__name__, exc)
        return self.writer

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get(META_ARTICLE) or not 200 <= response.status < 300:
            return response
        writer = self._writer(self.crawler.spider)
        if writer is None:
            return response
        try:
            ref = writer.write_response(
                response.url,
                status=response.status,
                headers=_headers(response.headers),
                body=response.body,
                request_headers=_headers(request.headers),
                method=request.method,
            )
        except Exception as exc:  # counted and logged; the article itself is still archived
            self.stats.inc_value("newsarchive/warc/errors")
            logger.warning("WARC write failed for %s: %s", response.url, exc)
            if isinstance(exc.__cause__, OSError) or isinstance(exc, OSError):
                self._stop(exc)
            return response
        request.meta[META_WARC] = ref
        self.stats.inc_value("newsarchive/warc/records")
        return response

    def _stop(self, exc: Exception) -> None:
        # a full disk (or a directory gone read-only) fails every later record as well: stop
        # cleanly rather than archive the rest of the crawl without its raw responses
        if self.stopping:
            return
        self.stopping = True
        logger.error("the WARC directory cannot be written (%s): stopping the crawl", exc)
        from scrapy.utils.defer import deferred_from_coro

        assert self.crawler.engine is not None
        # not fetched now, so the next crawl finds them unarchived and fetches them
        self.stats.inc_value("newsarchive/warc/not_sent", drop_queued(self.crawler, "WARC unwritable"))
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="warc_failed"))

    def spider_closed(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _headers(headers: Any) -> list[tuple[str, str]]:
    out = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out
