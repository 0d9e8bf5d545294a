"""Declarative site profiles: per-field selector tables that override the generic layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


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
