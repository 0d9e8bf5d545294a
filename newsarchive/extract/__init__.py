"""Pure extraction: HTML in, Article out. No Scrapy, no network.

PLACEHOLDER: the extraction owner replaces this with the real generic layer.
"""

from __future__ import annotations

from newsarchive.article import Article
from newsarchive.extract.profile import SiteProfile

__all__ = ["SiteProfile", "extract"]


def extract(html: bytes | str, url: str | None = None, *, profile: SiteProfile | None = None) -> Article:
    """Turn one article page into an :class:`Article`."""
    raise NotImplementedError
