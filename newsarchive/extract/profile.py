"""Declarative site profiles: per-field selector tables that override the generic layer."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml.html import HtmlElement
from parsel import Selector

log = logging.getLogger(__name__)

#: fields a profile may name in ``fields``; list fields take every match, the others the first
PROFILE_FIELDS = frozenset(
    {"headline", "section", "description", "dateline", "published", "updated", "authors", "topics",
     "language", "canonical_url"}
)
LIST_FIELDS = frozenset({"authors", "topics"})


@dataclass(frozen=True)
class SiteProfile:
    """What one site's pages need beyond the generic extractor.

    Selectors are CSS (parsel, ``::text`` and ``::attr(x)`` allowed) unless they
    start with ``xpath:``.  Every field not named in ``fields`` (or whose
    selectors all miss) falls back to the generic layer.
    """

    name: str
    domains: tuple[str, ...]
    language: str | None = None
    #: IANA zone for timestamps the page gives without an offset
    timezone: str | None = None
    #: field -> ordered selectors; first non-empty result wins
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: containers holding the article text, tried in order
    body: tuple[str, ...] = ()
    #: elements removed before any text is taken (ads, widgets, template leftovers)
    drop: tuple[str, ...] = ()
    #: blocks whose links become ``read_also`` entries rather than body text
    read_also: tuple[str, ...] = ()
    #: suffixes stripped from og:title/<title> fallbacks, e.g. " - TASS"
    title_suffixes: tuple[str, ...] = ()


def _select(sel: Selector, query: str) -> list[Selector]:
    if query.startswith("xpath:"):
        return list(sel.xpath(query[6:]))
    return list(sel.css(query))


def _as_text(item: Selector) -> str:
    root = item.root
    # ::text / ::attr() results are plain strings
    text = root.text_content() if isinstance(root, HtmlElement) else str(root)
    return " ".join(text.split())


def select_values(sel: Selector, selectors: tuple[str, ...], *, many: bool = False) -> list[str]:
    """Text of the first selector that finds something non-empty (every match when ``many``)."""
    for query in selectors:
        try:
            found = [t for t in (_as_text(item) for item in _select(sel, query)) if t]
        except Exception as exc:  # a bad selector in a profile costs that field only
            log.debug("profile selector %r failed: %s", query, exc)
            continue
        if found:
            return list(dict.fromkeys(found)) if many else found[:1]
    return []


def select_elements(
    sel: Selector, selectors: tuple[str, ...], *, first_only: bool = False
) -> list[HtmlElement]:
    """Elements matched by the selectors (all of them, or those of the first that matches)."""
    out: list[HtmlElement] = []
    for query in selectors:
        try:
            found = [item.root for item in _select(sel, query) if isinstance(item.root, HtmlElement)]
        except Exception as exc:
            log.debug("profile selector %r failed: %s", query, exc)
            continue
        if found and first_only:
            return found
        out.extend(found)
    return out


def profile_selector(doc: HtmlElement, base_url: str | None) -> Selector:
    """A parsel Selector over the already parsed tree (no second parse)."""
    return Selector(root=doc, type="html", base_url=base_url)
