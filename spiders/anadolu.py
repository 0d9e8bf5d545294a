"""Anadolu Agency (aa.com.tr, English edition): site profile and spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# aa.com.tr pages (the "detay" design, all editions) have no JSON-LD: headline and lead
# sit in div.detay-spot-category (h1, h4), the author in an unclassed span ending in
# "|", and the date only as "05.04.2025 - Güncelleme : 05.04.2025" (day first, no time)
# in span.tarih. The article body opens with an <h6> holding the place ("Ankara"),
# AA's dateline. A 2026 redesign adds JSON-LD NewsArticle and body paragraphs in div[dir].
PROFILE = SiteProfile(
    name="anadolu",
    domains=("aa.com.tr", "www.aa.com.tr"),
    # all editions share this markup (/en/, /tr/, ...): the page's own language metadata decides
    language=None,
    timezone="Europe/Istanbul",
    fields={
        "description": (
            "div.detay-spot-category > h4::text",
            "span[class*=text-descriptionColor]::text",
        ),
        "dateline": ("div.detay-icerik > h6::text",),
        # the first date is publication; after " - " comes "Güncelleme : <date>" (updated)
        "published": (
            "xpath:substring-before(//span[contains(@class,'tarih')], ' - ')",
            "span.tarih::text",
        ),
        "updated": ("xpath:substring-after(//span[contains(@class,'tarih')], ': ')",),
        "authors": (
            "xpath:normalize-space(substring-before("
            "//div[contains(@class,'detay-spot-category')]/div/span[not(@class)], '|'))",
        ),
        # tag links; meta keywords repeat them plus the agency's own name
        "topics": ("div.detay-paylas a[href*='tag=1']::text",),
        "section": ("span.detay-news-category a::text",),
    },
    body=(
        "div.detay-icerik",
        "xpath://div[@dir][p]",
    ),
    drop=(
        "div.detay-icerik > h6",
        ".detay-foto-editor",
        ".detay-paylas",
        ".social-left",
        ".detay-benzerHaberler",
        ".detay-gundemdekiler",
    ),
)


class AnadoluSpider(NewsSpider):
    """aa.com.tr/en: the per-category RSS feeds and section pages."""

    name = "anadolu"
    profile = PROFILE
    base_url = "https://www.aa.com.tr"
    feeds: ClassVar[tuple[str, ...]] = (
        "/en/rss/default?cat=world",
        "/en/rss/default?cat=turkey",
        "/en/rss/default?cat=economy",
        "/en/rss/default?cat=general",
    )
    sections: ClassVar[tuple[str, ...]] = ("/en/world", "/en/turkey", "/en/economy")
    # /en/<section>/<slug>/<numeric id>
    article_pattern = r"^/en/[a-z0-9\-]+/[a-z0-9\-]+/\d{5,}/?$"
    deny_patterns: ClassVar[tuple[str, ...]] = (r"^/en/(?:search|p|rss|info|photo|video)/",)
