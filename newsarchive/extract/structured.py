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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from newsarchive.extract.bylines import (
    clean_authors,
    clean_topics,
    dom_authors,
    dom_topics,
    drop_site_names,
    norm_name,
    only_site_names,
)
from newsarchive.extract.dates import parse_timestamp

log = logging.getLogger(__name__)

__all__ = ["Metadata", "read_metadata"]

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
    #: the authors named are only the site itself ("VnExpress"): a signed line may name the person
    site_authors: bool = False
    topics: list[str] = field(default_factory=list)
    section: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    site_name: str | None = None
    article_body: str | None = None
    #: og:title and JSON-LD headline (site name stripped), the raw <title> and the <title> with
    #: site and section names stripped, kept apart so the caller can choose between them
    og_title: str | None = None
    title_tag: str | None = None
    ld_headline: str | None = None
    page_title: str | None = None
    #: raw published strings from every structured source, best first (for dates.find_published)
    published_candidates: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- JSON-LD

_TRAILING_COMMA = re.compile(r",\s*(?=[}\]])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# anchored at the ends of a stripped script text, so only its first/last bytes are ever scanned
_WRAP_START = re.compile(r"(?:<!--|//\s*<!\[CDATA\[|/\*\s*<!\[CDATA\[\s*\*/)\s*")
_WRAP_END = re.compile(r"\s*(?:-->|//\s*\]\]>|/\*\s*\]\]>\s*\*/)")


def _json_values(text: str) -> list[Any]:
    """Every JSON value in one script's text, repairing the usual breakage step by step."""
    text = text.strip()
    start = _WRAP_START.match(text)
    if start:
        text = text[start.end() :]
    tail = text[-40:]
    end = _WRAP_END.search(tail)
    if end and end.end() == len(tail):
        text = text[: len(text) - len(tail) + end.start()]
    text = text.strip().rstrip(";")
    if not text:
        return []
    values = _decode_all(text)
    if values:
        return values
    # trailing commas and raw control characters (json's strict=False already allows raw
    # newlines inside strings)
    text = _TRAILING_COMMA.sub("", _CONTROL.sub(" ", text))
    values = _decode_all(text)
    if not values and ("&quot;" in text or "&#34;" in text or "&#x22;" in text):
        # the whole script HTML-escaped by a template
        values = _decode_all(html.unescape(text))
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
    for script in doc.xpath("//script[contains(@type,'ld+json') or contains(@type,'LD+JSON')]"):
        text = script.text or ""
        if len(text) > 2_000_000:
            continue
        for value in _json_values(text):
            nodes.extend(_walk(value))
    return nodes


def _url_key(value: Any) -> str | None:
    """A URL without scheme, query, fragment and trailing slash, for "is this the same page"."""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    if not isinstance(value, str) or "//" not in value:
        return None
    return value.split("//", 1)[1].split("#", 1)[0].split("?", 1)[0].rstrip("/").removeprefix("www.")


def _pick_article(nodes: list[dict[str, Any]], page_urls: set[str]) -> dict[str, Any] | None:
    """The node describing this page's article: an Article type with a headline, else a WebPage.

    A page can also describe other articles (related lists as ItemList of NewsArticle): the
    node whose url/@id/mainEntityOfPage is this page wins among equals.
    """
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
        if page_urls and {_url_key(node.get(k)) for k in ("url", "@id", "mainEntityOfPage")} & page_urls:
            score += 4
        if score > best_score:
            best, best_score = node, score
    return best


def _text(value: Any, depth: int = 0) -> str | None:
    """A plain string from a JSON-LD value (string, number, {"name": ...} or first of a list)."""
    if depth > 5:
        return None
    if isinstance(value, list):
        for item in value[:50]:
            text = _text(item, depth + 1)
            if text:
                return text
        return None
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"), depth + 1)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = " ".join(html.unescape(str(value)).split())
        return text or None
    return None


def _names(value: Any, ids: dict[str, dict[str, Any]] | None = None, depth: int = 0) -> list[str]:
    """Names of people/organisations in an author-like value ({"@id": ...} looked up in ``ids``)."""
    out: list[str] = []
    if depth > 5:
        return out
    if isinstance(value, list):
        for item in value[:50]:
            out.extend(_names(item, ids, depth + 1))
    elif isinstance(value, dict):
        name = value.get("name")
        ref = value.get("@id")
        if name is None and ids and isinstance(ref, str) and ids.get(ref) is not value:
            # Yoast-style graphs: "author": {"@id": ".../#/schema/person/abc"} and the Person elsewhere
            out.extend(_names(ids.get(ref), None, depth + 1))
        elif isinstance(name, (str, list, dict)):
            out.extend(_names(name, ids, depth + 1))
        elif value.get("givenName") or value.get("familyName"):
            out.append(f"{value.get('givenName', '')} {value.get('familyName', '')}".strip())
    elif isinstance(value, str):
        out.append(html.unescape(value))
    return out


# ------------------------------------------------------------------------------ meta tags


def _meta_map(doc: HtmlElement, cut: set[str] | None = None) -> dict[str, list[str]]:
    """meta name/property/itemprop (lowercased) -> contents in document order.

    Keys whose content an unescaped quote cut short (content="Sieger und "royaler Besuch""
    parses as content="Sieger und " plus stray attributes named royaler, besuch"") go into ``cut``.
    """
    out: dict[str, list[str]] = {}
    for el in doc.iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        content = content.strip()
        if not content:
            continue
        broken = cut is not None and any('"' in name for name in el.attrib)
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = el.get(attr)
            if key:
                key = key.strip().lower()
                out.setdefault(key, []).append(content)
                if broken and cut is not None:
                    cut.add(key)
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


class _Microdata:
    """Microdata elements (other than <meta>, already read) by itemprop, looked up only when needed."""

    def __init__(self, doc: HtmlElement) -> None:
        self._doc = doc
        self._props: dict[str, list[HtmlElement]] | None = None

    def get(self, name: str) -> list[HtmlElement]:
        if self._props is None:
            # one walk over the whole page (~1 ms): skipped when JSON-LD and meta tags suffice
            self._props = {}
            for el in self._doc.xpath("//*[@itemprop][not(self::meta)]"):
                for prop in el.get("itemprop", "").split():
                    self._props.setdefault(prop, []).append(el)
        return self._props.get(name, [])


def _itemprop(props: _Microdata, name: str, limit: int = 20) -> list[str]:
    """Values of one itemprop: its content/datetime attribute, else its (name's) text."""
    out: list[str] = []
    for el in props.get(name):
        value = el.get("content") or el.get("datetime")
        if value is None:
            inner = el.xpath(".//*[@itemprop='name']")
            value = (inner[0] if inner else el).text_content()
        value = " ".join(value.split())
        if value:
            out.append(value)
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------- headline

_TITLE_SEP = re.compile(r"\s+[|–—\-·•:/]+\s+|\s*[|｜:：ᅵㅣ]\s*|\s*[-–—]\s*(?=\S+$)")


def _site_names(*values: str | None) -> list[str]:
    """Normalised forms of the site's names and its host's main label, to spot title suffixes."""
    out: list[str] = []
    for value in values:
        if not value:
            continue
        if "://" in value:
            host = (urlsplit(value).hostname or "").removeprefix("www.")
            labels = [lab for lab in host.split(".") if len(lab) >= 4]
            out.extend(norm_name(lab) for lab in labels[:2])
            out.append(norm_name(host))
        else:
            out.append(norm_name(value.lstrip("@")))
    return [n for n in dict.fromkeys(out) if len(n) >= 2]


_BY_SEGMENT = re.compile(r"^\s*(?:by|von|par|por|di)\s", re.IGNORECASE)
_DATE_SEGMENT = re.compile(r"^[\d.\-/ ]{6,12}$")


def _is_site_segment(
    segment: str, names: list[str], *, loose: bool = True, sections: Iterable[str] = ()
) -> bool:
    """Whether a title segment is the site's name (or a date, byline or section) rather than headline text."""
    seg = norm_name(segment)
    if not seg:
        return True
    if seg in sections:
        return True
    if not loose:
        return seg in names
    if _DATE_SEGMENT.match(segment.strip()) or (_BY_SEGMENT.match(segment) and len(segment) < 50):
        return True
    # site names may be part of a longer segment ("NDR.de - Nachrichten"); section names may
    # not, since they are ordinary words ("Sports" in "More than a sports venue")
    return len(segment) < 50 and any(
        n == seg or (len(n) >= 4 and n in seg) or (len(seg) >= 4 and seg in n) for n in names
    )


def _strip_site(
    title: str | None, names: list[str], others: Iterable[str | None], sections: Iterable[str] = ()
) -> str | None:
    """A title without a trailing " | Site", " - Site.com", " | 28.04.2023" or a leading "Site: "."""
    if not title:
        return title
    for other in others:
        # "<headline> - Site" where another source gives "<headline>" alone
        if other and len(other) < len(title) and title.startswith(other):
            rest = title[len(other) :]
            if _TITLE_SEP.match(rest) and len(rest) < 60:
                return other
    for _ in range(3):
        parts = list(_TITLE_SEP.finditer(title))
        if not parts:
            break
        last = parts[-1]
        if _is_site_segment(title[last.end() :], names, sections=sections) and last.start() > 0:
            title = title[: last.start()].rstrip()
            continue
        first = parts[0]
        if _is_site_segment(title[: first.start()], names, loose=False) and first.end() < len(title):
            title = title[first.end() :].lstrip()
            continue
        break
    return title or None


# ----------------------------------------------------------------------------- reading


def _ld_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [t for v in value if (t := _text(v))]
    text = _text(value)
    return [text] if text else []


def read_metadata(doc: HtmlElement, url: str | None) -> Metadata:
    """Gather headline, dates, authors, topics, section, language... from structured data."""
    cut: set[str] = set()
    meta = _meta_map(doc, cut)
    props = _Microdata(doc)
    nodes = _jsonld_nodes(doc)
    page_urls = {k for k in (_url_key(url), _url_key(_canonical(doc, meta, url))) if k}
    art = _pick_article(nodes, page_urls) or {}
    org = next((n for n in nodes if _types(n) & {"newsmediaorganization", "organization", "website"}), {})
    md = Metadata()

    md.site_name = _first(meta, "og:site_name", "application-name") or _text(
        art.get("publisher")) or _text(org.get("name"))
    title = doc.find(".//title")
    if title is not None:
        md.title_tag = " ".join(title.text_content().split()) or None
    h1 = next(iter(doc.iter("h1")), None)
    h1_text = " ".join(h1.text_content().split()) if h1 is not None else None
    site = _site_names(md.site_name, _text(art.get("publisher")), _text(org.get("name")),
                       _first(meta, "twitter:site"), url)
    # a title may also end in its section or category: "Headline - Politics - Site"
    categories = [v for k, vs in meta.items() if k.endswith("category") for v in vs[:3]]
    sections = _site_names(_text(art.get("articleSection")), _first(meta, "article:section"), *categories[:6])
    ld_title = md.ld_headline = _strip_site(_text(art.get("headline")), site, (), sections)
    # a social title cut short by an unescaped quote is no headline
    social = _first(meta, *(k for k in ("og:title", "twitter:title") if k not in cut))
    md.og_title = _strip_site(social, site, (ld_title, h1_text), sections)
    md.page_title = _strip_site(md.title_tag, site, (md.og_title, ld_title, h1_text), sections)
    # og:title is what the publisher chose to show for the article (ld headlines are more
    # often SEO variants); a JSON-LD or <title>/h1 value only when there is no og:title
    ld_name = _strip_site(_text(art.get("name")), site, (), sections)
    md.headline = md.og_title or ld_title or ld_name or _first(
        meta, "dc.title", "headline", "parsely-title", "sailthru.title") or next(
        iter(_itemprop(props, "headline", 1)), None) or h1_text or md.page_title

    md.description = _text(art.get("description")) or _first(
        meta, "og:description", "description", "twitter:description", "dc.description")
    body = art.get("articleBody")
    md.article_body = body.strip() if isinstance(body, str) and body.strip() else None
    md.section = _text(art.get("articleSection")) or _first(
        meta, "article:section", "section", "parsely-section", "sailthru.section", "cxenseparse:section")

    md.language = _language(doc, meta, art)
    md.canonical_url = _canonical(doc, meta, url)

    published = [_text(art.get("datePublished")),
                 _first(meta, "article:published_time", "article:published:time")]
    published += [
        *(_itemprop(props, "datePublished", 1) if not any(published) else ()),
        _first(meta, "datepublished", "og:published_time", "published_time", "article:published",
               "publish-date", "publish_date", "pubdate", "publishdate", "parsely-pub-date",
               "sailthru.date", "dc.date.issued", "dc.date", "dcterms.date", "dcterms.created",
               "date", "article.published", "cxenseparse:recs:publishtime", "dc.date.created",
               "datecreated", "creation_date"),
        _text(art.get("dateCreated")),
    ]
    md.published_candidates = list(dict.fromkeys(p for p in published if p))
    md.updated_raw = _text(art.get("dateModified")) or _first(
        meta, "article:modified_time", "article:modified:time", "og:updated_time", "datemodified",
        "last-modified", "dcterms.modified") or next(iter(_itemprop(props, "dateModified", 1)), None)
    if md.updated_raw:
        md.updated = parse_timestamp(md.updated_raw, language=md.language)
    for raw in md.published_candidates:
        value = parse_timestamp(raw, language=md.language, reference=md.updated)
        if value is not None and 1990 <= value.year <= datetime.now(UTC).year + 1:
            md.published, md.published_raw = value, raw
            break

    ids = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    authors = clean_authors(_names(art.get("author"), ids) or _names(art.get("creator"), ids))
    if not authors:
        authors = clean_authors(_all(meta, *_AUTHOR_KEYS) + [v for k, vs in meta.items() if k.endswith(
            "author") and k not in _AUTHOR_KEYS for v in vs] + _yoast_author(meta))
    if not authors or only_site_names(authors, site):
        # the page names only itself (or nobody): a visible byline names the person
        authors = dom_authors(doc) or authors
    md.authors = drop_site_names(authors, site)
    md.site_authors = only_site_names(md.authors, site)
    md.topics = _topics(doc, meta, art, site)
    return md


def _topics(doc: HtmlElement, meta: dict[str, list[str]], art: dict[str, Any], junk: list[str]) -> list[str]:
    """Keywords from the first source that has a real list; the visible tag list when it says more."""
    extra = [v for k, vs in meta.items() if k.endswith(("keywords", "tags")) and k not in _TOPIC_KEYS
             for v in vs]
    sources = [_ld_list(art.get("keywords")), *(_all(meta, key) for key in _TOPIC_KEYS), extra]
    topics: list[str] = []
    for raw in sources:
        topics = clean_topics(raw, junk=junk)
        # one space-joined blob ("Boxen Russland Frank Warren") is not a list: try the next source
        if topics and not (len(topics) == 1 and len(topics[0].split()) > 6):
            break
        topics = []
    if len(topics) <= 1:
        shown = clean_topics(dom_topics(doc), junk=junk)
        if len(shown) > len(topics) and (not topics or topics[0].casefold() in {t.casefold() for t in shown}):
            topics = shown
    if not topics:
        categories = [v for k, vs in meta.items() if k.endswith(("category", "categories")) for v in vs]
        topics = clean_topics(categories + _ld_list(art.get("about")), junk=junk)
    return topics


_TOPIC_KEYS = ("news_keywords", "article:tag", "keywords", "parsely-tags", "sailthru.tags", "dc.subject")
_AUTHOR_KEYS = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator",
                "dcterms.creator", "byl", "authors", "twitter:creator")
def _yoast_author(meta: dict[str, list[str]]) -> list[str]:
    """The "Written by" pair WordPress SEO plugins put in twitter:label1/twitter:data1 (or misc)."""
    out = _all(meta, "twitter:misc:written by")
    for n in "12345":
        if _first(meta, f"twitter:label{n}") in ("Written by", "Verfasst von", "Écrit par", "Escrito por"):
            out.extend(_all(meta, f"twitter:data{n}"))
    return out


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
