"""TASS in Russian (tass.ru): site profile for its successive designs, and the spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Designs met in archives and live: "b-material" (to early 2018; date text "3 декабря,
# 12:00" without a year), "article__text" (mid-2018), news-header__*/text-block with
# <dateformat time="epoch seconds"> (2020-21, shared with tass.com), then Next.js with
# hashed CSS-module classes, left to the generic layer (JSON-LD, meta, h1). Inline
# "b-links" boxes inside the text are the related-story links.
PROFILE = SiteProfile(
    name="tass_ru",
    domains=("tass.ru", "www.tass.ru", "itar-tass.com", "www.itar-tass.com"),
    language="ru",
    timezone="Europe/Moscow",
    fields={
        "headline": (
            "h1.news-header__title::text",
            "h1.b-material__title::text",
        ),
        "description": (
            "div.news-header__lead::text",
            ".b-material__preview::text",
        ),
        "published": (
            "dateformat[mode=abs]::attr(time)",
            "dateformat::attr(time)",
            ".b-material__date::text",
        ),
        "topics": ("a.tags__item::text",),
    },
    body=(
        "div.text-content",
        "div.b-material-text__l",
        "div.article__text",
    ),
    drop=(
        ".b-links",
        "#block_material_text_broadcast",
        ".extra-content",
        "[ng-repeat]",
        "[ng-if]",
        "[ng-bind]",
        ".text-include-photo",
    ),
    read_also=(".b-links",),
    title_suffixes=(" - ТАСС", " | ТАСС"),
)


class TassRuSpider(NewsSpider):
    """tass.ru: RSS (v2 and the full-text Yandex feed), the news sitemaps and rubric pages."""

    name = "tass_ru"
    profile = PROFILE
    base_url = "https://tass.ru"
    feeds: ClassVar[tuple[str, ...]] = ("/rss/v2.xml", "/rss/yandex.xml")
    sitemaps: ClassVar[tuple[str, ...]] = ("/sitemap.xml",)
    # the index also lists non-news sitemaps; sitemap_news0.xml is the newest of ~70
    sitemap_follow: ClassVar[tuple[str, ...]] = (r"/sitemap/sitemap_news\d*\.xml",)
    sections: ClassVar[tuple[str, ...]] = ("/politika", "/ekonomika", "/mezhdunarodnaya-panorama")
    # /<rubric>/<id of 6+ digits>; rubric slugs change over the years, so any slug is accepted
    article_pattern = r"^/[a-z][a-z0-9\-]*/\d{6,}/?$"
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/(?:tag|spec|info|rss|tbp|press-relizy)/",)
    extra_discovery = (
        "expect blocks: article pages sit behind a servicepipe.ru JS challenge for datacenter IPs "
        "(HTTP 403); the RSS feeds stay reachable; JSON list API /tbp/api/v1/content not used"
    )
