"""User sources: outlets declared in a TOML file, crawled by the generic spider without new code.

The file is named by ``--sources FILE`` (``newsarchive crawl``, ``newsarchive sources``) or
the ``NEWSARCHIVE_SOURCES`` environment variable (also read under ``scrapy crawl``/scrapyd).
One table per outlet (see docs/sources.example.toml)::

    [sources.kyodo]
    hosts = ["english.kyodonews.net"]
    feeds = ["/rss/news.xml"]
    article_pattern = '^/news/\\d{4}/\\d{2}/[0-9a-f-]+\\.html$'
    language = "en"
    timezone = "Asia/Tokyo"

    [sources.kyodo.selectors]
    headline = "h1.article-title::text"

Every mistake is a ConfigError with one line naming the file, the source and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsarchive.errors import ConfigError
from newsarchive.extract.profile import PROFILE_FIELDS, SiteProfile

#: list-of-strings keys of a source table (paths below base_url, or regexes / selectors)
LIST_KEYS = ("feeds", "sitemaps", "sections", "start_pages", "pagination", "deny_patterns", "sitemap_follow",
             "title_suffixes")
DISCOVERY_KEYS = ("feeds", "sitemaps", "sections", "start_pages")
SOURCE_KEYS = frozenset({"hosts", "base_url", "article_pattern", "language", "timezone", "selectors",
                         "follow_read_also", *LIST_KEYS})
#: selector keys beyond the profile's fields: the body containers, removed and read-also blocks
SELECTOR_KEYS = frozenset(PROFILE_FIELDS | {"body", "drop", "read_also"})
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_HOST_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


@dataclass(frozen=True)
class UserSource:
    """One outlet of the user's file, checked; ``spiders.user`` turns it into a NewsSpider."""

    name: str
    base_url: str
    profile: SiteProfile
    article_pattern: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sitemap_follow: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ()
    pagination: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    follow_read_also: bool = True


def load_sources(path: str | Path, *, builtin: Collection[str] = ()) -> list[UserSource]:
    """The sources of ``path``, checked; ConfigError (one line) on the first mistake."""
    where = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{where}: sources file not found") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the sources file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"sources"})
    if extra:
        raise ConfigError(f"{where}: unknown top-level key {extra[0]!r} "
                          "(outlets go in [sources.NAME] tables)")
    table = data.get("sources", {})
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: no [sources.NAME] table")
    return [_source(where, name, spec, builtin) for name, spec in table.items()]


def _source(where: str, name: str, spec: Any, builtin: Collection[str]) -> UserSource:
    here = f"{where}: [sources.{name}]"
    if not _NAME_RE.match(name):
        raise ConfigError(f"{here}: a source name is lower-case letters, digits and '_', "
                          "starting with a letter")
    if name in builtin:
        raise ConfigError(f"{here}: {name!r} is a built-in source; choose another name")
    if not isinstance(spec, dict):
        raise ConfigError(f"{here}: expected a table of settings")
    unknown = sorted(set(spec) - SOURCE_KEYS)
    if unknown:
        raise ConfigError(f"{here}: unknown key {unknown[0]!r} (known: {', '.join(sorted(SOURCE_KEYS))})")
    lists = {key: _strings(here, key, spec.get(key, [])) for key in LIST_KEYS}
    hosts = _strings(here, "hosts", spec.get("hosts", []))
    if not hosts:
        raise ConfigError(f"{here}: 'hosts' is missing: the site's host names, "
                          'e.g. hosts = ["example.com"]')
    for host in hosts:
        if not _HOST_RE.match(host):
            raise ConfigError(f"{here}: hosts: {host!r} is not a host name (no scheme or path)")
    base_url = spec.get("base_url", f"https://{hosts[0]}")
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{here}: base_url: {base_url!r} is not an http(s) URL")
    if not any(lists[key] for key in DISCOVERY_KEYS):
        raise ConfigError(f"{here}: no discovery: give at least one of {', '.join(DISCOVERY_KEYS)}")
    pattern = spec.get("article_pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{here}: 'article_pattern' is missing: a regex searched in article URLs' paths")
    for key, patterns in (("article_pattern", (pattern,)), ("deny_patterns", lists["deny_patterns"]),
                          ("sitemap_follow", lists["sitemap_follow"])):
        for regex in patterns:
            try:
                re.compile(regex)
            except re.error as exc:
                raise ConfigError(f"{here}: {key}: bad regex {regex!r}: {exc}") from None
    zone = spec.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigError(f"{here}: timezone: {zone!r} is not an IANA time zone "
                              "(e.g. Europe/Berlin)") from None
    language = spec.get("language")
    if language is not None and not (isinstance(language, str) and re.match(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$",
                                                                             language)):
        raise ConfigError(f"{here}: language: {language!r} is not a language code (e.g. en, pt-BR)")
    follow = spec.get("follow_read_also", True)
    if not isinstance(follow, bool):
        raise ConfigError(f"{here}: follow_read_also: expected true or false")
    selectors = _selectors(here, spec.get("selectors", {}))
    for sel in lists["pagination"]:
        _check_selector(f"{here}: pagination", sel)
    profile = SiteProfile(
        name=name, domains=tuple(hosts), language=language, timezone=zone,
        fields={k: v for k, v in selectors.items() if k in PROFILE_FIELDS},
        body=selectors.get("body", ()), drop=selectors.get("drop", ()),
        read_also=selectors.get("read_also", ()), title_suffixes=lists["title_suffixes"],
    )
    return UserSource(
        name=name, base_url=base_url.rstrip("/"), profile=profile, article_pattern=pattern,
        **{k: lists[k] for k in ("feeds", "sitemaps", "sitemap_follow", "sections", "start_pages",
                                 "pagination", "deny_patterns")},
        follow_read_also=follow,
    )


def _strings(here: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{here}: {key}: expected a string or a list of non-empty strings")
    return tuple(value)


def _selectors(here: str, table: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{here}: selectors: expected a table, e.g. [sources.NAME.selectors]")
    unknown = sorted(set(table) - SELECTOR_KEYS)
    if unknown:
        raise ConfigError(f"{here}: selectors: unknown field {unknown[0]!r} "
                          f"(known: {', '.join(sorted(SELECTOR_KEYS))})")
    out: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        out[key] = _strings(f"{here}: selectors", key, value)
        for sel in out[key]:
            _check_selector(f"{here}: selectors.{key}", sel)
    return out


def _check_selector(here: str, query: str) -> None:
    from parsel import Selector

    probe = Selector(text="<html><body></body></html>")
    try:
        probe.xpath(query[6:]) if query.startswith("xpath:") else probe.css(query)
    except Exception as exc:  # parsel raises several types (SelectorSyntaxError, ValueError, XPathError)
        raise ConfigError(f"{here}: bad selector {query!r}: {' '.join(str(exc).split())}") from None
