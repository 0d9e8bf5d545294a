"""Pure extraction: HTML in, Article out. No Scrapy, no network.

The page is parsed once with lxml. The generic layer reads structured metadata
(``structured``), the publication time (``dates``), the main text (``text``) and the
dateline (``dateline``); a site profile then overrides single fields. A failure inside
one field is logged at debug level and leaves that field empty: only input that is not
HTML at all raises :class:`~newsarchive.errors.ExtractionError`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from newsarchive.article import Article
from newsarchive.errors import ExtractionError
from newsarchive.extract import dateline as _dateline
from newsarchive.extract import dates as _dates
from newsarchive.extract import pagedate as _pagedate
from newsarchive.extract import structured as _structured
from newsarchive.extract.bylines import clean_authors, dom_authors, signature_lines, split_agencies
from newsarchive.extract.decode import page_text
from newsarchive.extract.profile import (
    LIST_FIELDS,
    SiteProfile,
    profile_selector,
    select_elements,
    select_values,
)
from newsarchive.extract.registry import profile_for
from newsarchive.extract.text import clean_paragraphs, main_text, related_boxes
from newsarchive.urls import absolute_url, canonical_url

__all__ = ["ExtractionError", "SiteProfile", "extract"]

log = logging.getLogger(__name__)
T = TypeVar("T")
D = TypeVar("D")

# huge_tree lifts libxml2's nesting cap from 256 to 2048 levels: old pages with unclosed
# <font>/<b> tags nest one level per paragraph and would otherwise lose the rest of the story.
# Deeper input is still cut by libxml2, and the input size is capped (MAX_PAGE_CHARS).
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, encoding="utf-8", huge_tree=True)
_SPACE = re.compile(r"\s+")
#: pages are cut to this many characters before parsing (keeps a 50 MB page to a few seconds)
MAX_PAGE_CHARS = 10_000_000
_TITLE_SEPARATORS = re.compile(r"\s+(?:[-|–—·•»:]|::|\|\|)\s+")
# the last segment of a title after any separator, spaced or not ("标题-新华网", "제목 | 연합뉴스")
_LAST_SEGMENT = re.compile(r"\s*(?:[-_|｜–—·•»:：]|::|\|\|)\s*(?P<name>[^-_|｜–—·•»:：]{2,40})$")
# Agencies' and news sites' names as their titles end in them, when the page does not name itself
# in its metadata (og:site_name) in the same script.
_KNOWN_SITES = frozenset(
    re.sub(r"[\W_]+", "", name.casefold())
    for name in (
        "新华网", "新華網", "新华社", "人民网", "人民網", "央视网", "中国新闻网", "中新网", "环球网",
        "AFPBB News", "共同通信", "時事ドットコム", "연합뉴스", "Yonhap News Agency", "Yonhap", "Kyodo News",
        "Anadolu Ajansı", "Anadolu Agency", "ТАСС", "TASS", "РИА Новости", "Интерфакс", "Interfax",
        "Sputnik", "Sputnik International", "Спутник", "Reuters", "AP News", "Associated Press",
        "ANSA", "ANSA.it", "Ukrinform", "Укрінформ", "Укринформ", "Xinhua", "EFE", "Agencia EFE",
        "AFP", "dpa", "Bernama", "UNN", "BTA", "PAP", "ČTK", "Agerpres", "APA", "Belga",
    )
)


def extract(html: bytes | str, url: str | None = None, *, profile: SiteProfile | None = None) -> Article:
    """Turn one article page into an :class:`Article`."""
    doc = parse(html)
    if profile is None and url:
        profile = _guard("profile lookup", profile_for, None, url)
    meta = _guard("metadata", _structured.read_metadata, None, doc, url) or _structured.Metadata()
    language = (profile.language if profile else None) or meta.language
    zone = profile.timezone if profile else None

    # before a profile drops its related-links blocks from the tree
    boxes = _guard("read-also boxes", related_boxes, [], doc, url, (url, meta.canonical_url))
    overrides: dict[str, Any] = {}
    containers: list[HtmlElement] = []
    extra_read_also: list[dict[str, str]] = []
    if profile is not None:
        overrides, containers, extra_read_also = _guard(
            "site profile", _apply_profile, ({}, [], []), doc, url, profile
        )

    published, published_raw = _guard(
        "published", _pagedate.find_published, (None, None), doc, meta, url, timezone=zone, language=language
    )
    found = _guard("main text", main_text, None, doc, url, hint=meta.article_body, containers=containers)
    paragraphs = list(found.paragraphs) if found else []
    # a reporter's name alone in bold above or below the text is a signature, not body text
    paragraphs, signed = _guard("signature", signature_lines, (paragraphs, []), paragraphs,
                                list(found.owners) if found else [])
    read_also = (found.read_also if found else []) + extra_read_also
    if paragraphs:
        read_also += boxes

    headline = overrides.get("headline") or _guard("headline", choose_headline, None, doc, meta, url, profile)
    # the headline block repeated at the top of the text, in whichever version the page shows
    shown = (headline, meta.og_title, meta.ld_headline, meta.page_title)
    if paragraphs and any(h and _same_text(paragraphs[0], h) for h in shown):
        paragraphs.pop(0)
    description = overrides.get("description") or meta.description

    dateline = overrides.get("dateline")
    wires: list[str] = []
    byline_people: list[str] = []
    credited: list[str] = []
    # trailers and a wire byline above the dateline ("By JANE ROE, Associated Press") go first
    cleaned = _guard("trailers", clean_paragraphs, None, paragraphs)
    if cleaned is not None:
        paragraphs = cleaned.paragraphs
        credited = [w for w in map(_dateline.wire_name, cleaned.wires) if w]
        byline_people += cleaned.people
    if paragraphs:
        first = paragraphs[0]
        parsed = _guard("dateline", _dateline.parse_dateline, None, first)
        if parsed is not None:
            # the dateline as printed in the text beats a profile's place-only value
            dateline = parsed.text
            paragraphs[0] = first[parsed.prefix_length :].lstrip()
            if parsed.wire:
                wires.append(parsed.wire)
            if parsed.byline:
                byline_people.append(parsed.byline)
        elif dateline and first.startswith(dateline):
            # The profile found the dateline; the body still starts after it.
            paragraphs[0] = first[len(dateline) :].lstrip(" ,.-–—:/")
        if not paragraphs[0]:
            paragraphs.pop(0)
    authors, agencies = split_agencies(overrides.get("authors") or meta.authors)
    if not authors and agencies:
        # the page credits only an agency: a visible byline may still name the reporter
        authors = split_agencies(_guard("byline", dom_authors, [], doc))[0]
    if not authors and byline_people:
        authors = clean_authors(byline_people)
    if signed and not overrides.get("authors") and (not authors or meta.site_authors):
        authors = clean_authors(signed)
    wire = next(iter(wires + credited + agencies), None)

    article = Article(
        url=url or "",
        canonical_url=_guard("canonical_url", _canonical, None, url, overrides.get("canonical_url")
                             or meta.canonical_url),
        source=profile.name if profile else _host(url),
        section=overrides.get("section") or meta.section,
        headline=headline,
        dateline=dateline,
        wire=wire,
        published=published or meta.published,
        published_raw=published_raw if published else meta.published_raw,
        updated=_pagedate.zone_like(meta.updated, published or meta.published, zone),
        updated_raw=meta.updated_raw,
        description=description,
        body="\n\n".join(p for p in paragraphs if p),
        topics=overrides.get("topics") or list(meta.topics),
        read_also=_unique_links(read_also),
        authors=authors,
        language=overrides.get("language") or language,
        warnings=list(found.warnings) if found else ["empty_body: text extraction failed"],
    )
    # A profile's timestamp may lack the year ("January 19, 13:48 UTC+3" on 2017 TASS pages):
    # the page's own date, found by the generic layer, says which year.
    reference = article.published or _dates.url_date(url or "")
    for key in ("published", "updated"):
        raw = overrides.get(key)
        if raw:
            value = _guard(key, _dates.parse_timestamp, None, raw, language=language, timezone=zone,
                           reference=reference)
            if value is not None:
                setattr(article, key, value)
                setattr(article, key + "_raw", raw)
            elif getattr(article, key) is None:
                # kept as printed: a date without a year that nothing on the page or URL completes
                setattr(article, key + "_raw", raw)
    article.warnings.extend(_time_warnings(article))
    return article


def _time_warnings(article: Article) -> list[str]:
    """Timestamps the page and the site profile left without a zone, or with only a day, said out loud."""
    # "kind: detail", the kind counted per source by the validate pipeline
    out: list[str] = []
    day_only = article.published is not None and article.published_raw is None
    if day_only:
        out.append("published_day_only: only the day is known (from the URL or a date finder)")
    for key in ("published", "updated"):
        value, raw = getattr(article, key), getattr(article, key + "_raw")
        if value is not None and value.tzinfo is None and not (key == "published" and day_only):
            out.append(f"{key}_no_zone: no time zone on the page or in the site profile")
        elif value is None and raw:
            out.append(f"{key}_unread: {raw!r} cannot be read as a date (no year on the page or in the URL?)")
    return out


def parse(html: bytes | str) -> HtmlElement:
    """Decode and parse a page once; ExtractionError when it is not HTML."""
    text = page_text(html)
    if len(text) > MAX_PAGE_CHARS:
        # Articles sit in the first megabytes; the rest of a giant page would only cost time.
        log.debug("page of %d characters cut to %d", len(text), MAX_PAGE_CHARS)
        text = text[:MAX_PAGE_CHARS]
    data = text.encode("utf-8", "surrogatepass")
    if b"\x00" in data:
        # a stray NUL (kept by decode, which rejects only a binary share) would end <head> for the parser
        data = data.replace(b"\x00", b"")
    try:
        doc = lxml.html.document_fromstring(data, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"not an HTML page: {exc}") from None
    if doc is None:
        raise ExtractionError("not an HTML page: the parser found no document")
    return doc


def _guard(what: str, func: Callable[..., T], default: D, *args: Any, **kwargs: Any) -> T | D:
    """Run one field's extraction; a failure costs that field only."""
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # contained on purpose: one field must not sink the article
        log.debug("extracting %s failed: %s: %s", what, type(exc).__name__, exc, exc_info=True)
        return default


def _apply_profile(
    doc: HtmlElement, url: str | None, profile: SiteProfile
) -> tuple[dict[str, Any], list[HtmlElement], list[dict[str, str]]]:
    sel = profile_selector(doc, url)
    overrides: dict[str, Any] = {}
    for name, selectors in profile.fields.items():
        values = select_values(sel, tuple(selectors), many=name in LIST_FIELDS)
        if values:
            overrides[name] = values if name in LIST_FIELDS else values[0]
    read_also: list[dict[str, str]] = []
    for block in select_elements(sel, profile.read_also):
        for a in block.iter("a"):
            title = _SPACE.sub(" ", a.text_content()).strip()
            link = absolute_url(url, a.get("href") or "")
            if title and link:
                read_also.append({"title": title, "url": link})
        block.drop_tree()
    for el in select_elements(sel, profile.drop):
        if el.getparent() is not None:
            el.drop_tree()
    containers = select_elements(sel, profile.body, first_only=True)
    if "headline" in overrides:
        overrides["headline"] = strip_site_suffix(overrides["headline"], (), profile.title_suffixes)
    return overrides, containers, read_also


def choose_headline(doc: HtmlElement, meta: Any, url: str | None, profile: SiteProfile | None) -> str | None:
    """The article's headline: og:title, unless the page shows it is only the <title> copy.

    A CMS fills <title>, og:title and the JSON-LD headline from one title unless an editor
    sets a specific one; when og:title and the JSON-LD headline disagree, the one that merely
    repeats the <title> is the default, and the other was written for this article.
    """
    suffixes = profile.title_suffixes if profile else ()
    site_words = tuple(w for w in (meta.site_name, _host(url)) if w)
    headline = meta.headline
    og, ld, title = meta.og_title, meta.ld_headline, meta.page_title
    # punctuation-only variants (quotes, ":" for " - ") are one wording: og:title stays
    if og and ld and title and not _same_text(og, ld) and _same_headline(title, og):
        headline = ld
    # the visible <h1> is read when it decides: no headline yet, or one whose quotes it may print otherwise
    if not headline or _QUOTE_CHARS.search(headline):
        h1s = (_SPACE.sub(" ", h.text_content()).strip() for h in doc.iter("h1"))
        shown = next((h for h in h1s if 3 <= len(h) <= 400), None)
        if not headline:
            headline = shown or meta.title_tag
        elif shown and _typography_key(shown) == _typography_key(headline):
            # the same words as printed on the page: its own quotes, not the metadata's ASCII ones
            headline = shown
    return strip_site_suffix(headline, site_words, suffixes) if headline else None


def strip_site_suffix(title: str, site_words: tuple[str, ...], suffixes: tuple[str, ...] = ()) -> str:
    """Remove " - TASS", " | Reuters" style site names from the ends of a title."""
    title = _SPACE.sub(" ", title).strip()
    for suffix in suffixes:
        if title.endswith(suffix):
            title = title[: -len(suffix)].rstrip()
    last = _LAST_SEGMENT.search(title)
    if last and last.start() > 0:
        name = _key(last["name"])
        if name in _KNOWN_SITES or any(name == _key(w) for w in site_words):
            title = title[: last.start()].rstrip()
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    names = {_key(w) for w in site_words}
    hosts = {_key(w.split(".")[0]) for w in site_words if "." in w} | {
        _key(w.rsplit(".", 1)[0]) for w in site_words if "." in w
    }
    spans = list(_TITLE_SEPARATORS.finditer(title))

    def is_site(part: str) -> bool:
        key = _key(part)
        return bool(key) and (key in names or key in hosts or any(key == _key(n) for n in names))

    # Drop site-name parts at the end (most common) or the start.
    end = len(title)
    while spans and is_site(title[spans[-1].end() : end]):
        end = spans[-1].start()
        spans.pop()
    title = title[:end]
    spans = list(_TITLE_SEPARATORS.finditer(title))
    if spans and is_site(title[: spans[0].start()]):
        title = title[spans[0].end() :]
    return title.strip()


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold().removeprefix("www."))


def _same_text(a: str, b: str) -> bool:
    return _key(a) == _key(b)


_QUOTE_CHARS = re.compile("[\"'‘’‚‛′`´‹›“”„‟″«»]")
_QUOTES = str.maketrans({**dict.fromkeys("‘’‚‛′`´‹›", "'"), **dict.fromkeys("“”„‟″«»", '"')})


def _same_headline(a: str, b: str) -> bool:
    """Same wording, punctuation included: only case, space, quote style and Unicode forms may differ."""
    return _headline_key(a) == _headline_key(b)


def _typography_key(text: str) -> str:
    """A headline with quote styles and Unicode forms unified, case kept."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTES)).strip()


def _headline_key(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTES)).strip().casefold()


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def _canonical(url: str | None, rel_canonical: str | None) -> str | None:
    if not url:
        return rel_canonical
    return canonical_url(url, rel_canonical)


def _unique_links(links: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for link in links:
        if link["url"] not in seen:
            seen.add(link["url"])
            out.append(link)
    return out
