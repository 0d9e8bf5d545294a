"""Pure parsing of RSS, Atom, sitemaps, sitemap indexes and Google News sitemaps (no Scrapy).

Hostile input is expected: documents are size-capped (also after gzip), DTDs and
entity declarations are refused, entities are never resolved and the network is
never touched.  Anything unreadable raises :class:`FeedError` whose ``reason`` is a
short counter key (``malformed``, ``too_large``, ``entities``, ``not_a_feed``,
``bad_gzip``, ``empty``) so callers can count and log the skip.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime

from lxml import etree

from newsarchive.errors import NewsarchiveError
from newsarchive.urls import absolute_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FeedDocument",
    "FeedEntry",
    "FeedError",
    "SitemapRef",
    "decompress",
    "parse_date",
    "parse_feed",
]

#: decompressed size above which a feed or sitemap is refused (the sitemap protocol caps at 50 MB)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


class FeedError(NewsarchiveError):
    """A feed or sitemap that cannot be used; ``reason`` is a short counter key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FeedEntry:
    """One article URL announced by a feed or sitemap, with whatever dates it gave."""

    url: str
    title: str | None = None
    published: datetime | None = None
    #: ``atom:updated`` or sitemap ``lastmod``: when the listed page last changed
    updated: datetime | None = None
    guid: str | None = None
    keywords: tuple[str, ...] = ()

    @property
    def modified(self) -> datetime | None:
        """The newest date the listing reports for this URL."""
        dates = [d for d in (self.updated, self.published) if d is not None]
        return max(dates) if dates else None


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by a sitemap index."""

    url: str
    lastmod: datetime | None = None


@dataclass
class FeedDocument:
    """What one document announced: ``kind`` is rss, atom, urlset or sitemapindex."""

    kind: str
    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[SitemapRef] = field(default_factory=list)
    #: entries dropped for missing or unusable URLs
    skipped: int = 0


def decompress(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Gunzip ``data`` if it is gzip, never producing more than ``max_bytes`` (gzip bombs)."""
    if not data.startswith(_GZIP_MAGIC):
        if len(data) > max_bytes:
            raise FeedError("too_large", f"document is {len(data)} bytes, over the {max_bytes} byte cap")
        return data
    # wbits=47: gzip or zlib header; decompress in bounded steps so a bomb stops at the cap
    inflater = zlib.decompressobj(wbits=47)
    out = bytearray()
    pending = data
    try:
        while pending:
            out += inflater.decompress(pending, _CHUNK)
            if len(out) > max_bytes:
                raise FeedError("too_large", f"gzip expands past the {max_bytes} byte cap")
            pending = inflater.unconsumed_tail
            if inflater.eof:
                # a gzip file may hold several members back to back
                pending = inflater.unused_data
                if not pending.startswith(_GZIP_MAGIC):
                    break
                inflater = zlib.decompressobj(wbits=47)
        out += inflater.flush(_CHUNK)
    except zlib.error as exc:
        raise FeedError("bad_gzip", f"broken gzip data: {exc}") from exc
    if len(out) > max_bytes:
        raise FeedError("too_large", f"gzip expands past the {max_bytes} byte cap")
    return bytes(out)


def parse_date(value: str | None, default_tz: tzinfo = UTC) -> datetime | None:
    """RFC 822 (RSS) or W3C/ISO 8601 (Atom, sitemaps) text -> aware datetime, else None."""
    if not value or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=True,
    )


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _child_text(node: etree._Element, *names: str) -> str | None:
    for child in node:
        if _local(child.tag) in names:
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in node if _local(child.tag) == name]


def parse_feed(
    data: bytes,
    base_url: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    default_tz: tzinfo = UTC,
) -> FeedDocument:
    """Parse an RSS/Atom feed, sitemap, sitemap index or news sitemap (gzip accepted)."""
    data = decompress(data, max_bytes)
    if not data.strip():
        raise FeedError("empty", "empty document")
    if _ENTITY_DECL.search(data):
        # Feeds and sitemaps never need entity declarations; they only serve expansion attacks.
        raise FeedError("entities", "document declares XML entities; refused")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise FeedError("malformed", f"malformed XML: {exc}") from exc
    if root is None:
        raise FeedError("malformed", "no root element")
    kind = _local(root.tag)
    if kind == "rss" or kind == "rdf":
        return _parse_rss(root, base_url, default_tz)
    if kind == "feed":
        return _parse_atom(root, base_url, default_tz)
    if kind == "urlset":
        return _parse_urlset(root, base_url, default_tz)
    if kind == "sitemapindex":
        return _parse_index(root, base_url, default_tz)
    raise FeedError("not_a_feed", f"root element <{kind}> is not a feed or sitemap")


def _keywords(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _parse_rss(root: etree._Element, base_url: str | None, tz: tzinfo) -> FeedDocument:
    doc = FeedDocument(kind="rss")
    # RSS 2.0 nests items in <channel>; RSS 1.0 (RDF) puts them beside it
    items = [el for el in root.iter() if _local(el.tag) == "item"]
    for item in items:
        guid = _child_text(item, "guid")
        link = _child_text(item, "link")
        if not link and guid and guid.startswith(("http://", "https://")):
            link = guid
        url = absolute_url(base_url, link or "")
        if url is None:
            doc.skipped += 1
            continue
        texts = ("".join(c.itertext()).strip() for c in _children(item, "category"))
        categories = tuple(t for t in texts if t)
        doc.entries.append(
            FeedEntry(
                url=url,
                title=_child_text(item, "title"),
                published=parse_date(_child_text(item, "pubdate", "date"), tz),
                updated=parse_date(_child_text(item, "updated", "modified"), tz),
                guid=guid,
                keywords=categories,
            )
        )
    return doc


def _parse_atom(root: etree._Element, base_url: str | None, tz: tzinfo) -> FeedDocument:
    doc = FeedDocument(kind="atom")
    for entry in _children(root, "entry"):
        href = None
        for link in _children(entry, "link"):
            rel = link.get("rel", "alternate")
            if rel == "alternate" and link.get("href"):
                href = link.get("href")
                break
        url = absolute_url(base_url, href or "")
        if url is None:
            doc.skipped += 1
            continue
        terms = tuple(c.get("term", "").strip() for c in _children(entry, "category") if c.get("term"))
        doc.entries.append(
            FeedEntry(
                url=url,
                title=_child_text(entry, "title"),
                published=parse_date(_child_text(entry, "published", "issued"), tz),
                updated=parse_date(_child_text(entry, "updated", "modified"), tz),
                guid=_child_text(entry, "id"),
                keywords=terms,
            )
        )
    return doc


def _parse_urlset(root: etree._Element, base_url: str | None, tz: tzinfo) -> FeedDocument:
    doc = FeedDocument(kind="urlset")
    for node in _children(root, "url"):
        url = absolute_url(base_url, _child_text(node, "loc") or "")
        if url is None:
            doc.skipped += 1
            continue
        title = published = None
        keywords: tuple[str, ...] = ()
        # Google News sitemap: <news:news><news:publication_date/><news:title/><news:keywords/>
        for news in _children(node, "news"):
            title = _child_text(news, "title")
            published = parse_date(_child_text(news, "publication_date"), tz)
            keywords = _keywords(_child_text(news, "keywords"))
        doc.entries.append(
            FeedEntry(
                url=url,
                title=title,
                published=published,
                updated=parse_date(_child_text(node, "lastmod"), tz),
                keywords=keywords,
            )
        )
    return doc


def _parse_index(root: etree._Element, base_url: str | None, tz: tzinfo) -> FeedDocument:
    doc = FeedDocument(kind="sitemapindex")
    for node in _children(root, "sitemap"):
        url = absolute_url(base_url, _child_text(node, "loc") or "")
        if url is None:
            doc.skipped += 1
            continue
        doc.sitemaps.append(SitemapRef(url=url, lastmod=parse_date(_child_text(node, "lastmod"), tz)))
    return doc
