"""Associated Press (apnews.com): site profile for both page designs, and the spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Two designs: the React "titanium" pages (until mid-2023: body in div[data-key=article],
# topics as a.related-topic-link, caption blocks beside the lead photo) and the
# Brightspot pages since (h1.Page-headline, div.RichTextStoryBody, div.Page-authors,
# JSON-LD as an array in script#link-ld-json). JSON-LD dates carry "Z" on both.
PROFILE = SiteProfile(
    name="ap",
    domains=("apnews.com", "www.apnews.com"),
    language="en",
    # only for the odd naive timestamp; AP publishes from New York
    timezone="America/New_York",
    fields={
        "headline": (
            "h1.Page-headline::text",
            "div[data-key=card-headline] h1::text",
        ),
        "topics": (
            # titanium: "Related topics" tag list; Brightspot keeps them in JSON-LD keywords
            "a.related-topic-link::text",
        ),
    },
    body=(
        "div.RichTextStoryBody",
        "div[data-key=article]",
        "div.Article",
    ),
    drop=(
        ".Enhancement",
        ".HTMLModuleEnhancement",
        ".AudioEnhancement",
        ".Advertisement",
        "[data-parsely-title='Related Stories']",
        "astro-island",
        "bsp-jw-player",
        ".embed-caption",
        ".RelatedTopics",
        # "___" rules separate the story from trailing boilerplate ("Follow AP's coverage at ...")
        "xpath://h2[normalize-space(.)='___']/following-sibling::p[1]",
        "xpath://h2[normalize-space(.)='___']",
    ),
    title_suffixes=(" | AP News",),
)


class ApSpider(NewsSpider):
    """apnews.com: the Google News sitemap, the full sitemap, RSS and hub pages."""

    name = "ap"
    profile = PROFILE
    base_url = "https://apnews.com"
    start_pages: ClassVar[tuple[str, ...]] = ("/",)
    feeds: ClassVar[tuple[str, ...]] = ("/index.rss",)
    sitemaps: ClassVar[tuple[str, ...]] = ("/news-sitemap-content.xml", "/sitemap.xml")
    sections: ClassVar[tuple[str, ...]] = ("/hub/ap-top-news", "/hub/world-news", "/hub/us-news")
    # /article/<slug>-<32 hex> since 2020; bare /<32 hex> in 2016-2020
    article_pattern = r"^/(?:article/(?:[a-z0-9][a-z0-9\-]*-)?)?[0-9a-f]{32}/?$"
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/(?:hub|video|live|gallery)/",)
    extra_discovery = "per-section RSS /<section>.rss; Google News sitemap /ap-sitemap-latest.xml"
