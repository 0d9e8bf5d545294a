"""Archive statistics: counts per source per UTC day, and the layout-drift alarm.

``articles`` (by first_seen) and ``updates`` (later crawled versions) come from the archive itself,
so they cover writes outside a recorded run; ``duplicates``, ``skipped``, ``errors`` and ``runs``
from the crawl runs started that day. A source's latest ended run raises an alarm against the
median of the ended runs before it when a field's fill rate fell by FILL_DROP or the share of
pages blocked or failed rose by FAILED_RISE.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsarchive.article import FILL_FIELDS
from newsarchive.storage.models import ArticleRow, ArticleVersion, CrawlRun, Source, UTCDateTime

FILL_DROP = 0.3
FAILED_RISE = 0.25
MIN_BASELINE_RUNS = 2
ENDED = ("finished", "failed", "interrupted", "crashed")
DAY_KEYS = ("articles", "updates", "duplicates", "skipped", "errors", "runs")


def _count(counts: Mapping[str, Any], name: str) -> int:
    value = counts.get(name)
    return int(value) if isinstance(value, int | float) else 0


def failed_share(run: Mapping[str, Any]) -> float:
    """Share of a run's fetched pages that were blocked or failed (1 for a failed run that fetched none)."""
    counts = run.get("counts") or {}
    pages = _count(counts, "pages")
    if pages <= 0:
        return 1.0 if run.get("status") in ("failed", "crashed") else 0.0
    return min(1.0, (_count(counts, "blocked") + _count(counts, "errors")) / pages)


def drift_alarms(runs: Sequence[Mapping[str, Any]], recent_runs: int = 5) -> list[dict[str, Any]]:
    """Alarms for one source's ended runs, given newest first."""
    if len(runs) < 1 + MIN_BASELINE_RUNS:
        return []
    latest, baseline = runs[0], runs[1 : 1 + recent_runs]
    source, run_id = latest["source"], latest["id"]
    alarms: list[dict[str, Any]] = []

    def alarm(kind: str, name: str | None, now: float, usual: float, what: str, why: str) -> None:
        alarms.append({"source": source, "kind": kind, "field": name, "run_id": run_id,
                       "latest": round(now, 4), "baseline": round(usual, 4),
                       "message": f"{source}: {what} in run {run_id}, against {usual:.0%} in its recent "
                                  f"runs ({why})"})

    latest_fill = latest.get("fill_rates") or {}
    for name in FILL_FIELDS:
        before = [float(r["fill_rates"][name]) for r in baseline if name in (r.get("fill_rates") or {})]
        if len(before) < MIN_BASELINE_RUNS or name not in latest_fill:
            continue
        usual, now = statistics.median(before), float(latest_fill[name])
        if usual - now >= FILL_DROP:
            alarm("fill", name, now, usual, f"{name} present in {now:.0%} of articles",
                  "site layout changed?")
    usual, now = statistics.median(failed_share(r) for r in baseline), failed_share(latest)
    if now - usual >= FAILED_RISE:
        alarm("blocked", None, now, usual, f"{now:.0%} of pages blocked or failed", "blocked or site down?")
    return alarms


def archive_stats(conn: sa.Connection, *, source: str | None = None, since: datetime | None = None,
                  recent_runs: int = 5) -> dict[str, Any]:
    """``{"days": [{source, day, articles, updates, ...}], "alarms": [...]}`` (see module docstring)."""
    if source is not None and "\x00" in source:
        return {"days": [], "alarms": []}  # no stored key holds NUL (PostgreSQL cannot store one)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    days: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAY_KEYS, 0))

    earlier = aliased(ArticleVersion)
    first_version = (sa.select(sa.func.min(earlier.id))
                     .where(earlier.article_id == ArticleVersion.article_id).scalar_subquery())
    fetched = sa.func.coalesce(ArticleVersion.fetched_at, ArticleVersion.created_at, type_=UTCDateTime())
    new_day, update_day = sa.func.date(ArticleRow.first_seen), sa.func.date(fetched)
    new = (sa.select(Source.key, new_day, sa.func.count()).join(ArticleRow, ArticleRow.source_id == Source.id)
           .group_by(Source.key, new_day), ArticleRow.first_seen)
    updates = (sa.select(Source.key, update_day, sa.func.count()).select_from(ArticleVersion)
               .join(ArticleRow, ArticleRow.id == ArticleVersion.article_id)
               .join(Source, Source.id == ArticleRow.source_id)
               .where(ArticleVersion.id != first_version, ArticleVersion.origin == "crawl")
               .group_by(Source.key, update_day), fetched)
    for name, (stmt, when) in (("articles", new), ("updates", updates)):
        if source:
            stmt = stmt.where(Source.key == source)
        if since:
            stmt = stmt.where(when >= since)
        for key, day, n in conn.execute(stmt):
            days[(key, str(day))][name] += int(n)  # a date, or SQLite's ISO string

    run_stmt = sa.select(CrawlRun).order_by(CrawlRun.source, CrawlRun.started_at.desc(), CrawlRun.id.desc())
    if source:
        run_stmt = run_stmt.where(CrawlRun.source == source)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(run_stmt).mappings():
        run = dict(row)
        if since is None or run["started_at"] >= since:
            counts = run["counts"] or {}
            bucket = days[(run["source"], run["started_at"].date().isoformat())]
            bucket["runs"] += 1
            for name in ("duplicates", "skipped", "errors"):
                bucket[name] += _count(counts, name)
        if run["status"] in ENDED:
            by_source[run["source"]].append(run)

    alarms = [a for runs in by_source.values() for a in drift_alarms(runs, recent_runs)]
    rows = [{"source": s, "day": d, **values} for (s, d), values in sorted(days.items())]
    return {"days": rows, "alarms": alarms}
