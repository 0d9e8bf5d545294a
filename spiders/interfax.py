"""Interfax (interfax.ru, Russian): site profile and spider, with day-archive backfill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from newsarchive.extract.profile import SiteProfile
from spiders.base import META_VIA, NewsSpider

# Article pages mark the fields with microdata (h1[itemprop=headline], a byline
# p[itemprop=author] inside article[itemprop=articleBody]), which the generic layer reads;
# topics are the links in aside.textML, which it cannot know. Dates carry +03:00. The
# text opens with the dateline "Москва. 19 сентября. INTERFAX.RU - ".
PROFILE = SiteProfile(
    name="interfax",
    domains=("interfax.ru", "www.interfax.ru"),
    language="ru",
    timezone="Europe/Moscow",
    fields={
        "headline": ("h1[itemprop=headline]::text",),
        "topics": ("aside.textML a::text",),
    },
    body=("article[itemprop=articleBody]",),
    drop=(
        "p[itemprop=author]",
        "aside.textML",
        ".textMLink",
    ),
)

#: day archives reach back years; one request per day, so the backfill span is bounded
MAX_ARCHIVE_DAYS = 400


class InterfaxSpider(NewsSpider):
    """interfax.ru: RSS, the last-changes sitemap, and day archives for --since/--until backfill."""

    name = "interfax"
    profile = PROFILE
    base_url = "https://www.interfax.ru"
    feeds: ClassVar[tuple[str, ...]] = ("/rss.asp",)
    sitemaps: ClassVar[tuple[str, ...]] = ("/SEO_SiteMapLastChanges.xml",)
    sections: ClassVar[tuple[str, ...]] = ("/news/",)
    # /<section>/<numeric id>
    article_pattern = r"^/[a-z]+/\d{5,}/?$"
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/(?:news|photo|story|tags?|rss)/",)
    extra_discovery = "day archives /news/YYYY/MM/DD and their page_N pages for --since/--until"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.since is not None:
            # per-crawl listing pages: an instance value shadowing the declared default
            self.sections = tuple(archive_days(self.since, self.until or datetime.now(UTC)))  # type: ignore[misc]

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """A day archive: its article links, and every page its pager lists (".../page_2", ...)."""
        yield from super().parse_section(response)
        if not response.meta.get("newsarchive_paginate", True) or not hasattr(response, "css"):
            return
        # the pager under div.pages links all of the day's pages at once, so they are taken
        # from the first page only; the seen-set stops loops
        for href in response.css("div.pages a::attr(href)").getall():
            url = self.link(response, href)
            if url and self.on_site(url) and self.claim_listing(url):
                yield scrapy.Request(url, callback=self.parse_section, dont_filter=True, priority=5,
                                     meta={META_VIA: "section", "newsarchive_paginate": False})


def archive_days(since: datetime, until: datetime) -> list[str]:
    """Day-archive paths from ``until`` back to ``since`` (newest first, at most MAX_ARCHIVE_DAYS)."""
    day, first = until.date(), since.date()
    paths: list[str] = []
    while day >= first and len(paths) < MAX_ARCHIVE_DAYS:
        paths.append(f"/news/{day:%Y/%m/%d}")
        day -= timedelta(days=1)
    return paths
