"""Xinhua in English (english.news.cn, formerly xinhuanet.com/english): profile and spider."""

from __future__ import annotations

from typing import ClassVar

from newsarchive.extract.profile import SiteProfile
from spiders.base import NewsSpider

# Current pages: headline in .conBox/.conTop h1, "2023-03-13 10:23:45" in .time, text in
# #detailContent, an "Editor: ..." line (.editor) under it; 2016 pages give
# meta[name=pubdate] or span#pubtime. The generic layer finds all of these; what it cannot
# know is that the times are Beijing time (no offset on the page), hence the timezone.
# Titles end in "-Xinhua". The text opens with "BEIJING, March 31 (Xinhua) -- ".
PROFILE = SiteProfile(
    name="xinhua",
    # the old hosts serve the English pages under /english/ beside Chinese ones, so the
    # language is left to the page's metadata; Beijing time holds for both
    domains=("english.news.cn", "xinhuanet.com"),
    language=None,
    timezone="Asia/Shanghai",
    body=(
        "#detailContent",
        "#detail",
    ),
    drop=(".editor",),
    title_suffixes=("-Xinhua", " - Xinhua"),
)


class XinhuaSpider(NewsSpider):
    """english.news.cn: home and section pages (no confirmed feed or sitemap)."""

    name = "xinhua"
    profile = PROFILE
    base_url = "https://english.news.cn"
    start_pages: ClassVar[tuple[str, ...]] = ("/",)
    sections: ClassVar[tuple[str, ...]] = ("/world/index.htm", "/china/index.htm", "/business/index.htm")
    # /YYYYMMDD/<32 hex>/c.html (2022 on); /english/YYYY-MM/DD/c_<id>.htm (2016-2021)
    article_pattern = r"^/(?:\d{8}/[0-9a-f]{32}/c\.html|english/\d{4}-\d{2}/\d{2}/c_\d+\.htm)$"
    extra_discovery = "RSS /english/rss/worldrss.xml on xinhuanet.com is listed in old configs only"
