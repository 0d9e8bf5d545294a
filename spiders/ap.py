"""Associated Press (apnews.com): site profile for both page designs, and the spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Two designs: the React "titanium" pages (until mid-2023: body in div[data-key=article],
# photo captions and a "Related topics" list beside it) and the Brightspot pages since
# (h1.Page-headline, div.RichTextStoryBody, div.Page-authors, JSON-LD as an array in
# script#link-ld-json). Headline, dates (JSON-LD, "Z"), authors and topics (keywords) are
# right from the generic layer on both; the profile only points at the text and at the
# blocks inside it that are not the story.
PROFILE = SiteProfile(
    name="ap",
    domains=("apnews.com", "www.apnews.com"),
    language="en",
    # only for the odd naive timestamp; AP publishes from New York
    timezone="America/New_York",
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
        "astro-island",
        "bsp-jw-player",
        ".embed-caption",
        ".RelatedTopics",
        # "___" rules separate the story from trailing boilerplate ("Follow AP's coverage at ...")
        "xpath://h2[normalize-space(.)='___']/following-sibling::p[1]",
        "xpath://h2[normalize-space(.)='___']",
    ),
    # taken (as read_also links) before the .Enhancement blocks around them are dropped
    read_also=("[data-parsely-title='Related Stories']",),
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
