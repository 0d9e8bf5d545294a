"""TASS in English (tass.com): site profile for both page designs, and the spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Two designs live side by side: archives (and our 2017-style samples) hold the early
# "b-material" markup with Angular leftovers; tass.com today serves news-header__*,
# text-content/text-block and <dateformat time="epoch seconds">, plus JSON-LD NewsArticle.
PROFILE = SiteProfile(
    name="tass",
    domains=("tass.com", "www.tass.com"),
    language="en",
    timezone="Europe/Moscow",
    fields={
        "headline": (
            "h1.news-header__title::text",
            ".article__title-wrap ::text",
            ".interview-header__title-wrapper ::text",
            ".opinion-header__title-wrapper ::text",
            "h1.b-material__title::text",
        ),
        "description": (
            "div.news-header__lead::text",
            ".article-lead ::text",
            ".opinion-header__lead ::text",
            ".b-material__preview::text",
        ),
        # epoch seconds on today's pages.  2017 pages show "January 19, 13:48 UTC+3" without
        # a year: the extractor takes it from the page's own date (<meta name="date">), so
        # published_raw stays the string the reader saw.
        "published": (
            "dateformat[mode=abs]::attr(time)",
            "dateformat::attr(time)",
            ".b-material__date::text",
        ),
        "section": (
            ".news-header__section ::text",
            ".b-material__section ::text",
        ),
        "topics": (
            "a.tags__item::text",
            ".b-material__tags a::text",
        ),
    },
    body=(
        "div.text-content",
        "div.b-material-text__l",
        "div.b-material-text",
    ),
    drop=(
        "[ng-repeat]",
        "[ng-if]",
        "[ng-bind]",
        ".b-links",
        ".read-also",
        ".b-banner",
        ".adv",
        ".text-include-photo",
        ".b-material__share",
        ".share",
    ),
    read_also=(".b-links", ".read-also"),
    title_suffixes=(" - TASS",),
)


class TassSpider(NewsSpider):
    """tass.com: RSS, the news sitemaps, section pages and in-article read-also links."""

    name = "tass"
    profile = PROFILE
    base_url = "https://tass.com"
    start_pages: ClassVar[tuple[str, ...]] = ("/",)
    feeds: ClassVar[tuple[str, ...]] = ("/rss/v2.xml",)
    sitemaps: ClassVar[tuple[str, ...]] = ("/sitemap.xml",)
    sections: ClassVar[tuple[str, ...]] = ("/politics",)
    pagination: ClassVar[tuple[str, ...]] = (
        "a[rel=next]::attr(href)",
        "a.pagination__next::attr(href)",
    )
    # /<section-slug>/<numeric id>; slugs change over the years, so any slug is accepted
    article_pattern = r"^/[a-z][a-z\-]*/\d+/?$"
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/(ads|contacts|specialprojects)/",)
    extra_discovery = "JSON list API /userApi/categoryNewsList (not used: sitemaps and RSS cover it)"
