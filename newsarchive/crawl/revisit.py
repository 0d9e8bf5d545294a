"""The incremental revisit policy: which already-archived URLs are worth fetching again.

Pure (no Scrapy): the spider asks :meth:`RevisitPolicy.decide` for each candidate
URL with the archive's :class:`~newsarchive.storage.UrlState` (or None when unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol


class _State(Protocol):
    first_seen: datetime | None
    last_fetched: datetime | None
    etag: str | None
    last_modified: str | None
    published: datetime | None


#: decision values; None from decide() means "do not fetch"
NEW, UNFETCHED, MODIFIED, YOUNG, REFETCH = "new", "unfetched", "modified", "young", "refetch"


@dataclass(frozen=True)
class RevisitPolicy:
    """Fetch unknown URLs; refetch known ones only when listed as modified, young and stale, or forced."""

    #: articles younger than this are still expected to change (corrections, updates)
    young_age: timedelta = timedelta(hours=48)
    #: ...but are not fetched again sooner than this after the last fetch
    min_interval: timedelta = timedelta(hours=6)
    refetch: bool = False

    def decide(self, state: _State | None, listed_modified: datetime | None, now: datetime,
               listing: str | None = None) -> str | None:
        """Why to fetch the URL (``new``, ``modified``, ``young``, ``refetch``...) or None to skip it.

        ``listed_modified`` is the time the listing ``listing`` (a feed or sitemap path) gives
        for the URL now. It means an edit when it is later than our last fetch, or when it
        differs from what the same listing gave at that fetch: a listing's clock may run
        behind ours, so "later" alone misses edits stamped before our fetch.
        """
        if state is None:
            return NEW
        if self.refetch:
            return REFETCH
        last = state.last_fetched
        if last is None:
            return UNFETCHED
        if listed_modified is not None:
            if listed_modified > last:
                return MODIFIED
            before = listed_before(state, listing)
            if before is not None and before != listed_modified:
                return MODIFIED
        born = state.published or state.first_seen
        if born is not None and now - born < self.young_age and now - last >= self.min_interval:
            return YOUNG
        return None

    @staticmethod
    def conditional_headers(state: Any, reason: str | None) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a revisit, so an unchanged page costs a 304."""
        if state is None or reason in (None, NEW, REFETCH):
            return {}
        headers: dict[str, str] = {}
        if getattr(state, "etag", None):
            headers["If-None-Match"] = state.etag
        if getattr(state, "last_modified", None):
            headers["If-Modified-Since"] = state.last_modified
        return headers


def listed_before(state: Any, listing: str | None) -> datetime | None:
    """The time ``listing`` gave for the URL when we last fetched it (None: not recorded)."""
    values = getattr(state, "listed_modified", None)
    if not listing or not values:
        return None
    value: datetime | None = values.get(listing)
    return value
