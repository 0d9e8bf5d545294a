"""Structured metadata: JSON-LD, OpenGraph/``article:*``/named meta tags and microdata.

Everything a publisher states about its article in machine-readable form, gathered into
one :class:`Metadata`. JSON-LD wins over meta tags, which win over microdata; each field
falls back independently. Broken JSON-LD (trailing commas, raw control characters,
HTML-escaped quotes, several objects in one script) is repaired rather than dropped.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from newsarchive.extract.dates import parse_timestamp

log = logging.getLogger(__name__)

__all__ = ["Metadata", "clean_authors", "clean_topics", "read_metadata"]

ARTICLE_TYPES = frozenset(
    {
        "newsarticle", "reportagenewsarticle", "article", "blogposting", "liveblogposting",
        "analysisnewsarticle", "opinionnewsarticle", "reviewnewsarticle", "backgroundnewsarticle",
        "askpublicnewsarticle", "scholarlyarticle", "socialmediaposting", "report", "techarticle",
        "satiricalarticle", "advertisercontentarticle", "posting", "videoobject", "creativework",
    }
)
_PAGE_TYPES = frozenset({"webpage", "itempage", "collectionpage", "medicalwebpage"})


@dataclass
class Metadata:
    """What a page's structured data says about its article."""

    headline: str | None = None
    published: datetime | None = None
    published_raw: str | None = None
    updated: datetime | None = None
    updated_raw: str | None = None
    authors: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    section: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    article_body: str | None = None
    #: og:title / <title> / first <h1>, kept apart so the caller can choose
    og_title: str | None = None
    title_tag: str | None = None
    #: raw published strings from every structured source, best first (for dates.find_published)
    published_candidates: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- JSON-LD

_TRAILING_COMMA = re.compile(r",\s*(?=[}\]])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_COMMENT_WRAP = re.compile(
    r"^\s*(?:<!--|//\s*<!\[CDATA\[|/\*\s*<!\[CDATA\[\s*\*/)|(?:-->|//\s*\]\]>|/\*\s*\]\]>\s*\*/)\s*$"
)


def _json_values(text: str) -> list[Any]:
    """Every JSON value in one script's text, repairing the usual breakage."""
    text = _COMMENT_WRAP.sub("", text.strip()).strip().rstrip(";")
    if not text:
        return []
    attempts = (text,)
    for candidate in attempts:
        values = _decode_all(candidate)
        if values:
            return values
    repaired = _TRAILING_COMMA.sub("", _CONTROL.sub(" ", text))
    if "&quot;" in repaired or "&#34;" in repaired or "&#x22;" in repaired:
        repaired = html.unescape(repaired)
    values = _decode_all(repaired)
    if not values:
        # newlines inside strings are the other common breakage
        values = _decode_all(repaired.replace("\n", " ").replace("\r", " "))
    if not values:
        log.debug("unparseable JSON-LD skipped (%d chars)", len(text))
    return values


def _decode_all(text: str) -> list[Any]:
    decoder = json.JSONDecoder(strict=False)
    out: list[Any] = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n;,":
            pos += 1
        if pos >= end:
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return out
        out.append(value)
    return out


def _walk(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD node: top level, arrays, @graph and mainEntity contents."""
    if depth > 6:
        return
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)
    elif isinstance(value, dict):
        yield value
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"):
            inner = value.get(key)
            if isinstance(inner, (list, dict)):
                yield from _walk(inner, depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    if isinstance(t, str):
        return {t.rsplit("/", 1)[-1].lower()}
    if isinstance(t, list):
        return {x.rsplit("/", 1)[-1].lower() for x in t if isinstance(x, str)}
    return set()


def _jsonld_nodes(doc: HtmlElement) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in doc.xpath("//script[contains(translate(@type,'LDJSON','ldjson'),'ld+json')]"):
        text = script.text or ""
        if len(text) > 2_000_000:
            continue
        for value in _json_values(text):
            nodes.extend(_walk(value))
    return nodes


def _pick_article(nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The node describing this page's article: an Article type with a headline, else a WebPage."""
    best: dict[str, Any] | None = None
    best_score = -1
    for node in nodes:
        types = _types(node)
        if types & ARTICLE_TYPES or any(t.endswith("article") for t in types):
            score = 10
        elif types & _PAGE_TYPES:
            score = 2
        else:
            continue
        if node.get("headline") or node.get("name"):
            score += 3
        if node.get("datePublished"):
            score += 2
        if node.get("articleBody"):
            score += 1
        if "videoobject" in types or "creativework" in types:
            score -= 5
        if score > best_score:
            best, best_score = node, score
    return best


def _text(value: Any) -> str | None:
    """A plain string from a JSON-LD value (string, number, {"name": ...} or first of a list)."""
    if isinstance(value, list):
        for item in value:
            text = _text(item)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = " ".join(html.unescape(str(value)).split())
        return text or None
    return None


def _names(value: Any) -> list[str]:
    """Names of people/organisations in an author-like value."""
    out: list[str] = []
    if isinstance(value, list):
        for item in value:
            out.extend(_names(item))
    elif isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, (str, list, dict)):
            out.extend(_names(name))
        elif value.get("givenName") or value.get("familyName"):
            out.append(f"{value.get('givenName', '')} {value.get('familyName', '')}".strip())
    elif isinstance(value, str):
        out.append(html.unescape(value))
    return out


# ------------------------------------------------------------------------------ meta tags


def _meta_map(doc: HtmlElement) -> dict[str, list[str]]:
    """meta name/property/itemprop (lowercased) -> contents in document order."""
    out: dict[str, list[str]] = {}
    for el in doc.iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        content = content.strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = el.get(attr)
            if key:
                out.setdefault(key.strip().lower(), []).append(content)
    return out


def _first(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        values = meta.get(key)
        if values:
            return " ".join(html.unescape(values[0]).split()) or None
    return None


def _all(meta: dict[str, list[str]], *keys: str) -> list[str]:
    out: list[str] = []
    for key in keys:
        out.extend(html.unescape(v) for v in meta.get(key, ()))
    return out


def _itemprop(doc: HtmlElement, name: str) -> list[str]:
    """Microdata values for one itemprop (content/datetime attribute, else text)."""
    out: list[str] = []
    path = f"//*[@itemprop][contains(concat(' ', normalize-space(@itemprop), ' '), ' {name} ')]"
    for el in doc.xpath(path):
        if el.tag == "meta":
            continue  # already in the meta map
        value = el.get("content") or el.get("datetime")
        if value is None:
            inner = el.xpath(".//*[@itemprop='name']")
            value = (inner[0] if inner else el).text_content()
        value = " ".join(value.split())
        if value:
            out.append(value)
        if len(out) > 20:
            break
    return out


# ---------------------------------------------------------------------------- cleaning

_BY = re.compile(r"^\s*(?:by|von|par|por|di|da|de|door|av|af|od|autor(?:in)?|author|written by|"
                 r"text|texto|reporting by|от|автор)\s*[:\-]?\s+", re.IGNORECASE)
_SPLIT_AUTHORS = re.compile(r"\s*(?:[,;|/&]|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bi\b|\bен\b|\bи\b)\s*",
                            re.IGNORECASE)
_ROLE = re.compile(
    r"\s*(?:[,|–—-]\s*|\s+)\(?(?:staff writer|staff reporter|correspondent|reporter|editor|"
    r"redakteur(?:in)?|redaktion|journalist(?:in|e)?|senior writer|contributor|columnist|"
    r"for [A-Z][\w ]+|in [A-Z][a-z]+)\)?\s*$",
    re.IGNORECASE,
)
_URLISH = re.compile(r"^(?:https?:|www\.|/)|\.(?:com|org|net|html?)\b", re.IGNORECASE)
_EMAIL = re.compile(r"\S+@\S+")


def clean_authors(raw: Iterable[str], *, site_name: str | None = None) -> list[str]:
    """People's (or organisations') names: "By " and roles removed, URLs skipped, deduped in order."""
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value:
            continue
        value = _EMAIL.sub("", " ".join(html.unescape(value).split()))
        if _URLISH.search(value):
            continue
        value = _BY.sub("", value)
        parts = _SPLIT_AUTHORS.split(value) if _looks_like_list(value) else [value]
        for part in parts:
            name = _ROLE.sub("", part).strip(" .,;:-–—|·")
            name = _BY.sub("", name).strip()
            if not name or len(name) > 80 or not any(c.isalpha() for c in name):
                continue
            key = name.casefold()
            if key in seen:
                continue
            seen.add(key)
            out.append(name)
    return out


def _looks_like_list(value: str) -> bool:
    """A value holding several names ("A, B and C"), as opposed to "Smith, John" or an org."""
    if " and " in value or " und " in value or ";" in value or " & " in value or "|" in value:
        return True
    if "," in value:
        parts = [p.strip() for p in value.split(",")]
        # "Surname, Given" has two one-word parts; a list has multi-word parts
        return not (len(parts) == 2 and all(len(p.split()) == 1 for p in parts))
    return False


_TOPIC_SPLIT = re.compile(r"\s*[,;|]\s*")


def clean_topics(raw: Iterable[str], *, junk: Iterable[str | None] = ()) -> list[str]:
    """Publisher keywords: comma lists split, case-insensitively deduped, site names dropped."""
    drop = {j.casefold() for j in junk if j}
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        if not value:
            continue
        for part in _TOPIC_SPLIT.split(html.unescape(value)):
            topic = " ".join(part.split()).strip(" .#\"'")
            if not topic or len(topic) > 80 or _URLISH.search(topic):
                continue
            key = topic.casefold()
            if key in seen or key in drop:
                continue
            seen.add(key)
            out.append(topic)
    return out


# ----------------------------------------------------------------------------- reading


def _ld_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for v in value if (t := _text(v))]
    text = _text(value)
    return [text] if text else []


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def read_metadata(doc: HtmlElement, url: str | None) -> Metadata:
    """Gather headline, dates, authors, topics, section, language... from structured data."""
    meta = _meta_map(doc)
    nodes = _jsonld_nodes(doc)
    art = _pick_article(nodes) or {}
    org = next((n for n in nodes if _types(n) & {"newsmediaorganization", "organization", "website"}), {})
    md = Metadata()

    md.site_name = _first(meta, "og:site_name", "application-name", "twitter:site") or _text(
        art.get("publisher")) or _text(org.get("name"))
    md.og_title = _first(meta, "og:title", "twitter:title")
    title = doc.find(".//title")
    if title is not None:
        md.title_tag = " ".join(title.text_content().split()) or None
    md.headline = _text(art.get("headline")) or _text(art.get("name")) or md.og_title or _first(
        meta, "dc.title", "headline", "title", "parsely-title", "sailthru.title") or next(
        iter(_itemprop(doc, "headline")), None)

    md.description = _text(art.get("description")) or _first(
        meta, "og:description", "description", "twitter:description", "dc.description")
    body = art.get("articleBody")
    md.article_body = body.strip() if isinstance(body, str) and body.strip() else None
    md.section = _text(art.get("articleSection")) or _first(
        meta, "article:section", "section", "parsely-section", "sailthru.section", "cxenseparse:section")

    md.language = _language(doc, meta, art)
    md.canonical_url = _canonical(doc, meta, url)

    published = [
        _text(art.get("datePublished")), _first(meta, "article:published_time"),
        *_itemprop(doc, "datePublished")[:1],
        _first(meta, "datepublished", "og:published_time", "published_time", "article:published",
               "publish-date", "publish_date", "pubdate", "publishdate", "parsely-pub-date",
               "sailthru.date", "dc.date.issued", "dc.date", "dcterms.date", "dcterms.created",
               "date", "article.published", "cxenseparse:recs:publishtime", "dc.date.created",
               "datecreated", "creation_date"),
        _text(art.get("dateCreated")),
    ]
    md.published_candidates = list(dict.fromkeys(p for p in published if p))
    updated = [_text(art.get("dateModified")), _first(meta, "article:modified_time", "og:updated_time",
                                                        "datemodified", "last-modified", "dcterms.modified"),
               *_itemprop(doc, "dateModified")[:1]]
    md.updated_raw = next((u for u in updated if u), None)
    if md.updated_raw:
        md.updated = parse_timestamp(md.updated_raw, language=md.language)
    for raw in md.published_candidates:
        value = parse_timestamp(raw, language=md.language, reference=md.updated)
        if value is not None:
            md.published, md.published_raw = value, raw
            break

    authors = _names(art.get("author")) or _names(art.get("creator"))
    if not authors:
        authors = _all(meta, "author", "article:author", "parsely-author", "sailthru.author",
                       "dc.creator", "dcterms.creator", "byl", "twitter:creator") or _itemprop(doc, "author")
    md.authors = clean_authors(authors, site_name=md.site_name)

    topics = _ld_list(art.get("keywords"))
    if not topics:
        topics = _all(meta, "news_keywords", "article:tag", "keywords", "parsely-tags", "sailthru.tags")
    md.topics = clean_topics(topics, junk=(md.site_name, _host(url)))
    return md


_LANG = re.compile(r"^[a-zA-Z]{2,3}(?:[-_][a-zA-Z0-9]{2,8})*$")


def _language(doc: HtmlElement, meta: dict[str, list[str]], art: dict[str, Any]) -> str | None:
    candidates = [
        _text(art.get("inLanguage")),
        doc.get("lang") or doc.get("xml:lang"),
        _first(meta, "content-language", "language", "dc.language", "og:locale"),
    ]
    for value in candidates:
        if value:
            value = value.strip().split(",")[0].strip()
            if _LANG.match(value):
                return value.replace("_", "-")
    return None


def _canonical(doc: HtmlElement, meta: dict[str, list[str]], url: str | None) -> str | None:
    for el in doc.iter("link"):
        if (el.get("rel") or "").strip().lower() == "canonical" and el.get("href"):
            href = el.get("href", "").strip()
            return urljoin(url, href) if url else href
    og = _first(meta, "og:url")
    if og:
        return urljoin(url, og) if url else og
    return None
