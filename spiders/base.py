"""NewsSpider: the base every wire-service spider specialises with a short declarative description.

A wire service's module declares *what* to crawl; this class does the walking::

    class TassSpider(NewsSpider):
        name = "tass"                         # site key == spider name == Article.source
        profile = PROFILE                     # newsarchive.extract.SiteProfile (domains, timezone)
        base_url = "https://tass.com"
        feeds = ("/rss/v2.xml",)
        sitemaps = ("/sitemap.xml",)
        sections = ("/politics", "/world")
        pagination = ("a.pagination__next::attr(href)",)
        article_pattern = r"^/[a-z][a-z\\-]*/\\d+/?$"

Declarative attributes (class level; all optional except ``name`` and ``base_url``):

``profile``            SiteProfile passed to ``newsarchive.extract``; its ``timezone`` reads
                       feed/sitemap dates given without an offset.
``base_url``           site root.  Paths below are joined to it.  ``-a base_url=`` (CLI
                       ``--base-url``) points the spider at any copy of the site: every link
                       whose host is the declared host (or one of ``profile.domains``) is
                       rewritten to the copy, and ``allowed_domains`` follows.
``start_pages``        pages (e.g. the home page) whose links matching ``article_pattern`` are
                       followed; no pagination.
``feeds``              RSS/Atom feeds; each entry's pubDate/updated/guid/categories are kept.
``sitemaps``           sitemaps or sitemap indexes (gzip and Google News sitemaps included).
``sitemap_follow``     regexes; an index's child sitemaps are followed only if one matches
                       (empty: follow all on-site children).
``sections``           section listing pages; their article links are followed, and
                       ``pagination`` selectors (CSS/XPath giving the next page's href) are
                       followed up to ``max_section_pages`` pages per section (loops stopped).
``article_pattern``    regex searched in the URL path (plus ``?query``) of article pages.
``deny_patterns``      regexes of paths that are never articles even if they match.
``follow_read_also``   follow the extracted article's ``read_also`` links (same site, pattern).
``extra_discovery``    free text shown by ``newsarchive sources`` (e.g. "JSON list API").

Spider arguments (``-a name=value``; the runner passes them): ``base_url``, ``since`` and
``until`` (ISO dates; backfill: listings' dates skip out-of-range URLs before fetching, and
fetched articles outside the range are dropped as ``skipped/out_of_range``),
``max_articles`` (article requests scheduled at most), ``refetch`` (ignore the revisit policy).

Settings read: ``NEWSARCHIVE_DB`` (revisit state), ``NEWSARCHIVE_REVISIT_ENABLED``,
``NEWSARCHIVE_REVISIT_YOUNG_HOURS`` (48), ``NEWSARCHIVE_REVISIT_INTERVAL_HOURS`` (6),
``NEWSARCHIVE_EXTRACT_ENABLED`` (False: fetch only, for the benchmark floor),
``NEWSARCHIVE_FEED_MAX_BYTES``.  Counters go to stats under ``newsarchive/discovery/...``,
``newsarchive/revisit/...``, ``newsarchive/not_modified`` and ``newsarchive/skipped/...``.

Subclasses may override :meth:`article_links` (listing page -> URLs) or
:meth:`build_article` (response -> Article) when a site needs code, not a table.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.response import get_base_url

from newsarchive.article import Article, FetchInfo
from newsarchive.crawl.middlewares import META_ARTICLE, META_WARC
from newsarchive.crawl.revisit import RevisitPolicy, listed_before
from newsarchive.errors import NewsarchiveError
from newsarchive.extract.profile import SiteProfile
from newsarchive.feeds import DEFAULT_MAX_BYTES, FeedError, parse_feed
from newsarchive.urls import absolute_url, canonical_url

if TYPE_CHECKING:  # storage (SQLAlchemy) loads only when a crawl opens the archive
    from newsarchive.capture import WarcRef

#: request.meta keys of the spiders (the middlewares' own, META_ARTICLE and META_WARC, are imported)
META_VIA = "newsarchive_via"
META_LISTED = "newsarchive_listed_modified"
META_LISTING = "newsarchive_listing"


@dataclass(frozen=True)
class Candidate:
    """An article URL found by discovery, with the dates its listing gave."""

    url: str
    via: str
    modified: datetime | None = None
    published: datetime | None = None
    #: path (and query) of the feed or sitemap that listed it, None for pages without dates
    listing: str | None = None


def parse_bound(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """``--since``/``--until`` value -> aware datetime (a bare date covers its whole day)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        day = value
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise NewsarchiveError(f"not an ISO date: {text!r}") from exc
        if "T" in text or " " in text:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        day = parsed.date()
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return moment


class NewsSpider(scrapy.Spider):
    """Base spider: discovery from a declarative description, extraction via newsarchive.extract."""

    # empty: the base itself is not a crawlable source (Scrapy lists only named spiders)
    name = ""
    profile: ClassVar[SiteProfile | None] = None
    base_url: str = ""
    start_pages: ClassVar[tuple[str, ...]] = ()
    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    sitemap_follow: ClassVar[tuple[str, ...]] = ()
    sections: ClassVar[tuple[str, ...]] = ()
    pagination: ClassVar[tuple[str, ...]] = ()
    max_section_pages: ClassVar[int] = 20
    article_pattern: ClassVar[str] = r"."
    deny_patterns: ClassVar[tuple[str, ...]] = ()
    follow_read_also: ClassVar[bool] = True
    extra_discovery: ClassVar[str] = ""

    def __init__(
        self,
        base_url: str | None = None,
        since: str | None = None,
        until: str | None = None,
        max_articles: str | int | None = None,
        refetch: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        declared = type(self).base_url.rstrip("/")
        self.declared_base = declared
        self.base_url = (base_url or declared).rstrip("/")
        base_host = urlsplit(self.base_url).hostname or ""
        self.allowed_domains = [base_host] if base_url else self._declared_hosts()
        self.since = parse_bound(since)
        self.until = parse_bound(until, end=True)
        self.max_articles = int(max_articles) if max_articles not in (None, "", "0", 0) else None
        self.refetch = str(refetch).lower() in ("1", "true", "yes")
        self._article_re = re.compile(self.article_pattern)
        self._deny_re = [re.compile(p) for p in self.deny_patterns]
        self._follow_re = [re.compile(p) for p in self.sitemap_follow]
        self._seen_articles: set[str] = set()
        self._seen_raw: set[str] = set()
        #: known URLs found not due, with the (listing, time) pairs seen; another pair is decided again
        self._not_due: dict[str, set[tuple[str | None, datetime]]] = {}
        self._seen_listings: set[str] = set()
        #: times other listings gave for URLs fetched in this crawl, recorded once they are stored
        self._also_listed: dict[str, dict[str, datetime]] = {}
        hosts = [h.lower() for h in self._declared_hosts()]
        self._declared_set = frozenset(hosts + ["www." + h for h in hosts])
        self._scheduled = 0
        self._archive: Any = None
        self._policy = RevisitPolicy(refetch=self.refetch)
        self.distributed_role: str | None = None
        tz_name = self.profile.timezone if self.profile else None
        self.tz: tzinfo = ZoneInfo(tz_name) if tz_name else UTC

    # ---- declarations, read by `newsarchive sources` -------------------------------------

    @classmethod
    def discovery(cls) -> dict[str, Any]:
        """The declared discovery methods (for listings and docs)."""
        return {
            "base_url": cls.base_url,
            "start_pages": list(cls.start_pages),
            "feeds": list(cls.feeds),
            "sitemaps": list(cls.sitemaps),
            "sections": list(cls.sections),
            "pagination": bool(cls.pagination),
            "read_also": cls.follow_read_also,
            "article_pattern": cls.article_pattern,
            "extra": cls.extra_discovery,
        }

    def _declared_hosts(self) -> list[str]:
        hosts = {urlsplit(self.declared_base).hostname or ""}
        if self.profile:
            hosts.update(self.profile.domains)
        return sorted(h for h in hosts if h)

    # ---- crawl setup --------------------------------------------------------------------

    def _setup(self) -> None:
        settings = self.crawler.settings
        self._policy = RevisitPolicy(
            young_age=timedelta(hours=settings.getfloat("NEWSARCHIVE_REVISIT_YOUNG_HOURS", 48.0)),
            min_interval=timedelta(hours=settings.getfloat("NEWSARCHIVE_REVISIT_INTERVAL_HOURS", 6.0)),
            refetch=self.refetch,
        )
        self.extract_enabled = settings.getbool("NEWSARCHIVE_EXTRACT_ENABLED", True)
        self.feed_max_bytes = settings.getint("NEWSARCHIVE_FEED_MAX_BYTES", DEFAULT_MAX_BYTES)
        # a distributed crawl (newsarchive.crawl.distributed): its coordinator pushes the seeds,
        # and the crawl-wide dupefilter in Redis, not this process's seen-set, dedups articles
        distributed = bool(settings.get("NEWSARCHIVE_REDIS_URL"))
        self.distributed_role = settings.get("NEWSARCHIVE_REDIS_ROLE") if distributed else None
        if settings.getbool("NEWSARCHIVE_REVISIT_ENABLED", True) and not self.refetch:
            from newsarchive.storage import Archive

            self._archive = Archive(settings.get("NEWSARCHIVE_DB") or None)

    def closed(self, reason: str) -> None:
        if self._archive is not None:
            # the pipelines have stored this crawl's articles by now (Scrapy closes them first)
            self._adopt(self._also_listed)
            self._also_listed = {}
            self._archive.close()
            self._archive = None

    def _adopt(self, values: dict[str, dict[str, datetime]]) -> None:
        if not values or self._archive is None:
            return
        try:
            self._archive.adopt_listed(values)
        except Exception as exc:  # a baseline only: missing it costs at most one refetch later
            self.crawler.stats.inc_value("newsarchive/revisit/state_unavailable")
            self.logger.warning("could not record listing times of %d URLs: %s", len(values), exc)
        else:
            self.crawler.stats.inc_value("newsarchive/revisit/listed_baseline", len(values))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._setup()
        if self.distributed_role == "worker":
            return
        # With JOBDIR, Scrapy pickles self.state on a clean stop and restores it on --resume:
        # URLs scheduled before the stop are then in the resumed queue, not scheduled twice.
        state = getattr(self, "state", None)
        if isinstance(state, dict):
            self._seen_articles |= set(state.get("seen_articles", ()))
            state["seen_articles"] = self._seen_articles
        for path in self.feeds:
            yield self._listing_request(path, self.parse_listing, "rss")
        for path in self.sitemaps:
            yield self._listing_request(path, self.parse_listing, "sitemap")
        for path in self.sections:
            yield self._listing_request(path, self.parse_section, "section")
        for path in self.start_pages:
            yield self._listing_request(path, self.parse_section, "start", paginate=False)

    def _listing_request(
        self, path: str, callback: Any, via: str, *, paginate: bool = True
    ) -> scrapy.Request:
        url = self.localise(urljoin(self.base_url + "/", path))
        self._seen_listings.add(url)
        # Listings are always fetched (dont_filter), even on a resumed crawl that saw them.
        return scrapy.Request(
            url, callback=callback, dont_filter=True, priority=10,
            meta={META_VIA: via, "newsarchive_page": 1, "newsarchive_paginate": paginate},
        )

    # ---- URLs ---------------------------------------------------------------------------

    def localise(self, url: str) -> str:
        """Rewrite a link to the declared site onto ``base_url`` (a local copy or mirror)."""
        if self.base_url == self.declared_base:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in self._declared_set:
            base = urlsplit(self.base_url)
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        return url

    def claim_listing(self, url: str) -> bool:
        """True the first time a listing URL is seen in this crawl (then it is recorded): stops loops."""
        if url in self._seen_listings:
            return False
        self._seen_listings.add(url)
        return True

    def link(self, response: Response, href: str) -> str | None:
        """``href`` on a listing page as a localised absolute http(s) URL (None for a bad link)."""
        base = get_base_url(response) if isinstance(response, TextResponse) else response.url
        url = absolute_url(base, href)
        return self.localise(url) if url else None

    def on_site(self, url: str) -> bool:
        """The URL's host is one of ``allowed_domains`` or below one."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def is_article_url(self, url: str) -> bool:
        """On-site, matching ``article_pattern`` and none of ``deny_patterns``."""
        return self._article_key(url) is not None

    def _article_key(self, url: str) -> str | None:
        # the canonical URL is both the rule's input and the dedup key: computed once per link
        if not self.on_site(url):
            return None
        # tracking parameters never make a URL a different page
        key = canonical_url(url)
        parts = urlsplit(key)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(r.search(target) for r in self._deny_re) or not self._article_re.search(target):
            return None
        return key

    def in_range(self, moment: datetime | None) -> bool:
        """Within --since/--until (an unknown moment always is)."""
        if moment is None:
            return True
        if self.since and moment < self.since:
            return False
        return not (self.until and moment > self.until)

    # ---- listings -----------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        """A feed, sitemap or sitemap index: schedule its children and articles."""
        via = response.meta.get(META_VIA, "sitemap")
        stats = self.crawler.stats
        try:
            doc = parse_feed(response.body, response.url, max_bytes=self.feed_max_bytes, default_tz=self.tz)
        except FeedError as exc:
            stats.inc_value(f"newsarchive/discovery/skipped/{exc.reason}")
            ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            self.logger.warning("skipped %s %s (content-type %r): %s", via, response.url, ctype, exc)
            return
        stats.inc_value(f"newsarchive/discovery/{doc.kind}")
        if doc.skipped:
            stats.inc_value("newsarchive/discovery/skipped/bad_entry", doc.skipped)
        for ref in doc.sitemaps:
            url = self.localise(ref.url)
            if not self.on_site(url):
                stats.inc_value("newsarchive/discovery/skipped/offsite")
                continue
            if self._follow_re and not any(r.search(url) for r in self._follow_re):
                continue
            # a child sitemap last changed before --since can only list older pages
            if self.since and ref.lastmod and ref.lastmod < self.since:
                stats.inc_value("newsarchive/discovery/out_of_range_sitemaps")
                continue
            if not self.claim_listing(url):
                stats.inc_value("newsarchive/discovery/skipped/loop")
                continue
            yield scrapy.Request(url, callback=self.parse_listing, dont_filter=True, priority=10,
                                 meta={META_VIA: "sitemap"})
        parts = urlsplit(response.url)
        # the path names the listing on the site and on any --base-url copy of it alike
        listing = parts.path + (f"?{parts.query}" if parts.query else "")
        candidates = [
            Candidate(url=self.localise(e.url), via=via, modified=e.modified, published=e.published,
                      listing=listing)
            for e in doc.entries
        ]
        yield from self.schedule(candidates)

    def article_links(self, response: Response) -> list[str]:
        """Article URLs linked from a listing page (override for JS-driven lists)."""
        links = []
        for href in response.css("a::attr(href)").getall():
            url = self.link(response, href)
            if url and self.is_article_url(url):
                links.append(url)
        return links

    def parse_section(self, response: Response) -> Iterator[scrapy.Request]:
        """A section or start page: article links, then the next page (bounded, loop-safe)."""
        via = response.meta.get(META_VIA, "section")
        if not hasattr(response, "css"):
            self.crawler.stats.inc_value("newsarchive/discovery/skipped/not_html")
            return
        yield from self.schedule([Candidate(url=u, via=via) for u in self.article_links(response)])
        if not response.meta.get("newsarchive_paginate", True):
            return
        page = int(response.meta.get("newsarchive_page", 1))
        for selector in self.pagination:
            sel = response.xpath(selector[6:]) if selector.startswith("xpath:") else response.css(selector)
            href = sel.get()
            if not href:
                continue
            url = self.link(response, href)
            if not url or not self.on_site(url):
                self.crawler.stats.inc_value("newsarchive/discovery/skipped/offsite")
            elif url in self._seen_listings:
                self.crawler.stats.inc_value("newsarchive/discovery/skipped/loop")
            elif page >= self.max_section_pages:
                self.crawler.stats.inc_value("newsarchive/discovery/skipped/page_limit")
            elif self.claim_listing(url):
                yield scrapy.Request(url, callback=self.parse_section, dont_filter=True, priority=5,
                                     meta={META_VIA: via, "newsarchive_page": page + 1})
            break

    # ---- scheduling with the revisit policy ---------------------------------------------

    def schedule(self, candidates: Iterable[Candidate]) -> Iterator[scrapy.Request]:
        """Requests for the candidates worth fetching: on-site, in range, new or due for a revisit."""
        stats = self.crawler.stats
        fresh: dict[str, Candidate] = {}
        for cand in candidates:
            key = self._article_key(cand.url)
            if key is None:
                stats.inc_value("newsarchive/discovery/skipped/not_article")
                continue
            if key in self._not_due and (cand.modified is None
                                         or (cand.listing, cand.modified) in self._not_due[key]):
                continue
            if key in self._seen_articles or key in fresh:
                if cand.modified is not None and cand.listing:
                    self._also_listed.setdefault(key, {}).setdefault(cand.listing, cand.modified)
                if cand.url not in self._seen_raw:
                    # same article under another URL (tracking parameters, AMP...): never fetched twice
                    stats.inc_value("newsarchive/discovery/duplicate_url")
                    self._seen_raw.add(cand.url)
                continue
            self._seen_raw.add(cand.url)
            listed = cand.published or cand.modified
            if (self.since or self.until) and not self.in_range(listed):
                stats.inc_value("newsarchive/discovery/out_of_range")
                self._seen_articles.add(key)
                continue
            fresh[key] = cand
        if not fresh:
            return
        states = self._url_states(list(fresh))
        now = datetime.now(UTC)
        adopt: dict[str, dict[str, datetime]] = {}
        for key, cand in fresh.items():
            if self.max_articles is not None and self._scheduled >= self.max_articles:
                stats.inc_value("newsarchive/discovery/over_limit")
                continue
            self._seen_articles.add(key)
            state = states.get(key)
            reason = self._policy.decide(state, cand.modified, now, cand.listing)
            if reason is None:
                if key not in self._not_due:
                    stats.inc_value("newsarchive/revisit/not_due")
                if cand.modified is not None:
                    self._not_due.setdefault(key, set()).add((cand.listing, cand.modified))
                    if cand.listing and listed_before(state, cand.listing) is None:
                        adopt.setdefault(key, {})[cand.listing] = cand.modified
                else:
                    self._not_due.setdefault(key, set())
                self._seen_articles.discard(key)
                continue
            self._not_due.pop(key, None)
            stats.inc_value(f"newsarchive/revisit/{reason}")
            self._scheduled += 1
            # dont_filter: our own seen-set dedups; Scrapy's persisted one could hide URLs
            # whose queued request was lost when a crawl was killed (resume rediscovers them).
            # Distributed, the crawl's Redis dupefilter dedups across processes (leases lose nothing).
            yield scrapy.Request(
                cand.url,
                callback=self.parse_article,
                errback=self.article_failed,
                dont_filter=self.distributed_role is None,
                headers=self._policy.conditional_headers(state, reason),
                meta={
                    META_ARTICLE: True,
                    META_VIA: cand.via,
                    META_LISTED: cand.modified,
                    META_LISTING: cand.listing if cand.modified is not None else None,
                    "handle_httpstatus_list": [304],
                },
            )
        if len(self._also_listed) >= 5000:
            # bounded memory on long crawls: most of these are stored by now; a URL whose row
            # is not yet written gets its baseline on the next crawl instead
            for key, times in adopt.items():
                self._also_listed.setdefault(key, {}).update(times)
            adopt, self._also_listed = self._also_listed, {}
        self._adopt(adopt)

    def _url_states(self, keys: list[str]) -> dict[str, Any]:
        """The archive's state of ``keys``; when the archive cannot answer, none (all are fetched)."""
        if self._archive is None:
            return {}
        try:
            states: dict[str, Any] = self._archive.url_states(keys)
        except Exception as exc:  # e.g. PostgreSQL restarting: fetching again loses nothing, skipping might
            self.crawler.stats.inc_value("newsarchive/revisit/state_unavailable")
            self.logger.warning("archive state unavailable for %d URLs, fetching them: %s", len(keys), exc)
            return {}
        return states

    # ---- articles -----------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[Article | scrapy.Request]:
        """One article page -> Article (and its read-also links), or a 304 recorded as fetched."""
        stats = self.crawler.stats
        fetched_at = datetime.now(UTC)
        if response.status == 304:
            stats.inc_value("newsarchive/not_modified")
            if self._archive is not None:
                try:
                    self._archive.mark_fetched(
                        canonical_url(response.url), fetched_at=fetched_at, status=304,
                        etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
                        listing=response.meta.get(META_LISTING),
                        listed_modified=response.meta.get(META_LISTED),
                    )
                except Exception as exc:  # crawl state only: the next crawl asks again
                    stats.inc_value("newsarchive/revisit/state_unavailable")
                    self.logger.warning("could not record the 304 for %s: %s", response.url, exc)
            return
        if not self.extract_enabled:
            stats.inc_value("newsarchive/fetched_only")
            return
        try:
            article = self.build_article(response)
        except Exception as exc:  # one bad page must never stop the crawl; counted and logged
            stats.inc_value("newsarchive/skipped/extract_error")
            self.logger.warning("extraction failed for %s: %s: %s", response.url, type(exc).__name__, exc)
            return
        article.fetched_at = article.fetched_at or fetched_at
        if (self.since or self.until) and article.published and not self.in_range(article.published):
            stats.inc_value("newsarchive/skipped/out_of_range")
            return
        yield article
        if self.follow_read_also:
            links = [self.localise(link.get("url", "")) for link in article.read_also if link.get("url")]
            yield from self.schedule([Candidate(url=u, via="read_also") for u in links])

    def build_article(self, response: Response) -> Article:
        """Extract the page with the site profile and attach crawl provenance."""
        from newsarchive.extract import extract

        article = extract(response.body, response.url, profile=self.profile)
        article.source = self.name
        ref: WarcRef | None = response.meta.get(META_WARC)
        article.fetch = FetchInfo(
            status=response.status,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            warc_file=ref.file if ref else None,
            warc_offset=ref.offset if ref else None,
            warc_length=ref.length if ref else None,
            discovered_via=response.meta.get(META_VIA),
            listed_modified=response.meta.get(META_LISTED),
            listing=response.meta.get(META_LISTING),
        )
        return article

    def article_failed(self, failure: Any) -> None:
        """Errback: count failed article fetches by type (HTTP status or exception)."""
        from scrapy.exceptions import IgnoreRequest

        if failure.check(IgnoreRequest) and not hasattr(failure.value, "response"):
            return  # robots.txt or offsite: counted by those middlewares, not a failure
        response = getattr(failure.value, "response", None)
        kind = f"http_{response.status}" if response is not None else type(failure.value).__name__
        if response is not None and response.status in (404, 410):
            # a listed page that is gone is a counted skip, not a crawl error
            self.crawler.stats.inc_value(f"newsarchive/skipped/{kind}")
            return
        self.crawler.stats.inc_value(f"newsarchive/fetch_failed/{kind}")
        self.logger.info("article fetch failed: %s (%s)", failure.request.url, kind)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
