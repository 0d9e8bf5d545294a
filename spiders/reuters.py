"""Reuters (reuters.com): site profile for the Arc XP pages, and the spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Arc XP pages (2021 on) carry hashed CSS-module classes ("article-body__content__17Yit"),
# so selectors use data-testid hooks or class prefixes. meta keywords / article:tag hold
# Reuters subject codes ("AER,AERO,AIRL,...") that are not topics; the readable topics are
# article:section ("Aerospace & Defense") and analyticsAttributes.topicChannel ("Business").
PROFILE = SiteProfile(
    name="reuters",
    domains=("reuters.com", "www.reuters.com"),
    language="en",
    timezone="UTC",
    fields={
        "topics": (
            "xpath://meta[@name='article:section']/@content"
            " | //meta[@name='analyticsAttributes.topicChannel']/@content",
        ),
    },
    body=(
        "div[class*='article-body__content']",
        # 2017-2020 pages
        "article[itemtype='http://schema.org/NewsArticle']",
    ),
    drop=(
        "[data-testid=ResponsiveAdSlot]",
        "[data-testid=toolbar-container]",
        "[data-testid=Toolbar]",
        "[data-testid=AuthorBio]",
        "[data-testid*=promo-box]",
        "[data-testid^='Read Next']",
        "[data-testid*=read-next]",
        "[data-testid^=social_media]",
        "[data-testid=primary-image]",
        "[class*='article-toolbar']",
        # "Reporting by ...; Editing by ..." credits and the trust-principles footer
        "[class*='sign-off']",
        "[data-testid=Body]",
        "figcaption",
        # screen-reader suffix inside links since 2024: "... rates, opens new tab"
        "xpath://span[normalize-space(.)=', opens new tab' or normalize-space(.)='opens new tab']",
    ),
    title_suffixes=(" | Reuters",),
)


class ReutersSpider(NewsSpider):
    """reuters.com: the news and full Arc sitemap indexes, and section pages."""

    name = "reuters"
    profile = PROFILE
    base_url = "https://www.reuters.com"
    sitemaps: ClassVar[tuple[str, ...]] = (
        "/arc/outboundfeeds/news-sitemap-index/?outputType=xml",
        "/arc/outboundfeeds/sitemap-index/?outputType=xml",
    )
    sections: ClassVar[tuple[str, ...]] = ("/world/", "/business/")
    # /<section>/[<subsection>/]<slug>-YYYY-MM-DD/ (Arc, 2020 on) or /article/<slug>-id<CODE> (older)
    article_pattern = (
        r"^/(?:(?:[a-z0-9\-]+/){1,3}[a-z0-9\-]+-\d{4}-\d{2}-\d{2}/?"
        r"|article/(?:[\w\-]+/)*[\w\-]+-id[A-Z0-9]{8,}/?)$"
    )
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/(?:authors|video|pictures|graphics)/",)
    extra_discovery = (
        "expect blocks: DataDome answers plain clients with HTTP 401 since 2024 (sitemaps and "
        "the pf/api JSON endpoints too); no RSS since 2020"
    )
