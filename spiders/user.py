"""Spiders for the user's sources (newsarchive.sources): NewsSpider subclasses built from a TOML table."""

from __future__ import annotations

from newsarchive.sources import UserSource
from spiders.base import NewsSpider


class UserSpider(NewsSpider):
    """Base of the spiders built from a sources file (nameless: never listed itself)."""

    #: the source came from the user's file, not from code (``newsarchive sources`` shows it)
    user_source = True


def user_spider(source: UserSource) -> type[NewsSpider]:
    """A NewsSpider subclass declaring ``source``: the generic extractor plus the file's hints."""
    attrs = {
        "name": source.name,
        "profile": source.profile,
        "base_url": source.base_url,
        "article_pattern": source.article_pattern,
        "follow_read_also": source.follow_read_also,
        "__module__": __name__,
        "__doc__": f"User source {source.name!r} (from a sources file).",
        **{key: getattr(source, key) for key in ("feeds", "sitemaps", "sitemap_follow", "sections",
                                                  "start_pages", "pagination", "deny_patterns")},
    }
    return type(f"UserSpider_{source.name}", (UserSpider,), attrs)
