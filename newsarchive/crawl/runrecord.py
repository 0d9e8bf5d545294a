"""RunRecorder: a Scrapy extension that records a crawl run however the crawl was started.

``newsarchive crawl`` records its run itself (the runner knows its exit status and sets
``NEWSARCHIVE_RUN_ID``); then this extension does nothing, so a run is never recorded twice.
Under ``scrapy crawl <source>`` or scrapyd it opens the run as the crawler is built (and sets
``NEWSARCHIVE_RUN_ID`` there, before the settings freeze, so the store pipeline links the
versions it writes to the run) and closes it when the spider closes, with the same counts,
fill rates, errors and status the runner computes (``runner.summarise``, ``runner.exit_status``,
``runner.storage_failed``), so ``newsarchive stats`` and the drift alarm see those crawls too.

Settings read: ``NEWSARCHIVE_RUN_ID``, ``NEWSARCHIVE_DB``, ``NEWSARCHIVE_MAX_ERROR_SHARE``,
``NEWSARCHIVE_RUN_RECORD_ENABLED`` (True).
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from newsarchive import redact
from newsarchive.crawl.runner import EXIT_STORAGE, exit_status, storage_failed, summarise
from newsarchive.crawl.runner import _ErrorCollector as ErrorCollector

log = logging.getLogger(__name__)


class RunRecorder:
    """Opens a crawl_runs row as the crawler is built and finishes it on spider_closed."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.archive: Any = None
        self.run_id: int | None = None
        self.collector = ErrorCollector()

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunRecorder:
        settings = crawler.settings
        if settings.get("NEWSARCHIVE_RUN_ID") or not settings.getbool("NEWSARCHIVE_RUN_RECORD_ENABLED", True):
            raise NotConfigured("the run is recorded by newsarchive crawl")
        ext = cls(crawler)
        ext.open_run(crawler.spider or crawler.spidercls)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def open_run(self, spider: Any) -> None:
        """Record the run's start; a failure is logged loudly and the crawl goes on unrecorded."""
        from newsarchive.storage import Archive

        db_url = self.crawler.settings.get("NEWSARCHIVE_DB") or None
        try:
            self.archive = Archive(db_url)
            self.archive.fail_stale_runs(spider.name)
            self.run_id = self.archive.start_run(spider.name, _spider_args(spider))
        except Exception as exc:  # no run record must not stop the crawl: loud in the log
            log.error("cannot record the %s run: %s", spider.name,
                      redact.redact(f"{type(exc).__name__}: {exc}"))
            self._close_archive()
            return
        # the store pipeline, built after the extensions, reads it: versions point at this run
        self.crawler.settings.set("NEWSARCHIVE_RUN_ID", self.run_id, priority="cmdline")
        logging.getLogger().addHandler(self.collector)

    def spider_closed(self, spider: Any, reason: str) -> None:
        logging.getLogger().removeHandler(self.collector)
        if self.archive is None or self.run_id is None:
            return
        stats = dict(self.crawler.stats.get_stats()) if self.crawler.stats else {}
        counts, skipped, _discovery, fill_rates = summarise(stats)
        max_share = self.crawler.settings.getfloat("NEWSARCHIVE_MAX_ERROR_SHARE", 0.5)
        status, code = exit_status(reason, counts, max_share)
        if storage_failed(stats):
            status, code = "failed", EXIT_STORAGE
        for key, value in skipped.items():
            counts[f"skipped/{key}"] = value
        try:
            self.archive.finish_run(self.run_id, status=status, counts=counts, errors=self.collector.messages,
                                    fill_rates=fill_rates, exit_status=code)
        except Exception as exc:
            log.error("cannot finish the %s run record %s: %s", spider.name, self.run_id,
                      redact.redact(f"{type(exc).__name__}: {exc}"))
        finally:
            self._close_archive()

    def _close_archive(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None


def _spider_args(spider: Any) -> dict[str, Any]:
    """What the crawl was asked to do, as the runner records it (plus who started it)."""
    args: dict[str, Any] = {"started_by": "scrapy"}
    base = getattr(spider, "base_url", None)
    if base and base != getattr(spider, "declared_base", base):
        args["base_url"] = redact.redact(base)
    for key in ("since", "until"):
        moment = getattr(spider, key, None)
        if moment is not None:
            args[key] = moment.isoformat()
    for key in ("max_articles", "refetch"):
        if getattr(spider, key, None):
            args[key] = getattr(spider, key)
    return args
