"""SourceLoader: Scrapy's spider loader plus the user's sources file (``NEWSARCHIVE_SOURCES``).

Set as ``SPIDER_LOADER_CLASS``, so ``newsarchive crawl``, ``scrapy crawl`` and scrapyd all find
the user's outlets beside the built-in spiders.  A bad file ends the process with its one-line
error and exit status 1 (``scrapy crawl`` would otherwise print a traceback).
"""

from __future__ import annotations

from typing import Any

from scrapy.spiderloader import SpiderLoader


class SourceLoader(SpiderLoader):
    """The spiders of SPIDER_MODULES, then one generic spider per source of NEWSARCHIVE_SOURCES."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.user_sources: set[str] = set()
        path = settings.get("NEWSARCHIVE_SOURCES")
        if not path:
            return
        from newsarchive.errors import ConfigError
        from newsarchive.sources import load_sources
        from spiders.user import user_spider

        try:
            sources = load_sources(path, builtin=set(self._spiders))
        except ConfigError as exc:
            raise SystemExit(f"error: {exc}") from None
        for source in sources:
            self._spiders[source.name] = user_spider(source)
            self.user_sources.add(source.name)
