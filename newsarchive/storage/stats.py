"""Archive statistics: per source per day counts, and the layout-drift alarm.

Counts per source per UTC day:

* ``articles`` - new stories archived (by articles.first_seen, the first fetch), and
  ``updates`` - later versions fetched by crawls (by their fetched_at; re-extractions are not
  updates): both from the archive itself, so they also cover writes outside a recorded run;
* ``duplicates``, ``skipped``, ``errors``, ``runs`` - from the crawl runs started that day
  (the archive keeps no row for what it dropped).

Drift alarm, per source, comparing its latest ended run with the median of
the up to ``recent_runs`` ended runs before it (at least MIN_BASELINE_RUNS needed):

* ``fill``: a field's fill rate (share of kept articles having it) fell by FILL_DROP or more,
  e.g. dateline 0.95 -> 0.10 after a site redesign;
* ``blocked``: the share of fetched pages that were blocked or failed rose by FAILED_RISE or
  more (a run that fetched nothing and failed counts as share 1).
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


def _count(counts: Mapping[str, Any], *names: str) -> int:
    for name in names:
        value = counts.get(name)
        if isinstance(value, int | float):
            return int(value)
    return 0


def _skipped(counts: Mapping[str, Any]) -> int:
    if isinstance(counts.get("skipped"), int | float):
        return int(counts["skipped"])
    return sum(int(v) for k, v in counts.items() if k.startswith("skipped/") and isinstance(v, int | float))


def failed_share(run: Mapping[str, Any]) -> float:
    """Share of a run's fetched pages that were blocked or failed."""
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
    source = latest["source"]
    alarms: list[dict[str, Any]] = []
    latest_fill = latest.get("fill_rates") or {}
    for name in FILL_FIELDS:
        before = [float(r["fill_rates"][name]) for r in baseline if name in (r.get("fill_rates") or {})]
        if len(before) < MIN_BASELINE_RUNS or name not in latest_fill:
            continue
        usual, now = statistics.median(before), float(latest_fill[name])
        if usual - now >= FILL_DROP:
            alarms.append({
                "source": source, "kind": "fill", "field": name, "run_id": latest["id"],
                "latest": round(now, 4), "baseline": round(usual, 4),
                "message": f"{source}: {name} present in {now:.0%} of articles in run {latest['id']}, "
                           f"against {usual:.0%} in its recent runs (site layout changed?)",
            })
    usual = statistics.median(failed_share(r) for r in baseline)
    now = failed_share(latest)
    if now - usual >= FAILED_RISE:
        alarms.append({
            "source": source, "kind": "blocked", "field": None, "run_id": latest["id"],
            "latest": round(now, 4), "baseline": round(usual, 4),
            "message": f"{source}: {now:.0%} of pages blocked or failed in run {latest['id']}, "
                       f"against {usual:.0%} in its recent runs (blocked or site down?)",
        })
    return alarms


def _day(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


def archive_stats(conn: sa.Connection, *, source: str | None = None, since: datetime | None = None,
                  recent_runs: int = 5) -> dict[str, Any]:
    """``{"days": [{source, day, articles, updates, ...}], "alarms": [...]}`` (see module docstring)."""
    if source is not None and "\x00" in source:
        return {"days": [], "alarms": []}  # no stored key holds NUL (PostgreSQL cannot store one)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    days: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAY_KEYS, 0))

    first_day = sa.func.date(ArticleRow.first_seen)
    stmt = (
        sa.select(Source.key, first_day, sa.func.count())
        .join(ArticleRow, ArticleRow.source_id == Source.id)
        .group_by(Source.key, first_day)
    )
    if source:
        stmt = stmt.where(Source.key == source)
    if since:
        stmt = stmt.where(ArticleRow.first_seen >= since)
    for key, day, n in conn.execute(stmt):
        days[(key, _day(day))]["articles"] += int(n)

    earlier = aliased(ArticleVersion)
    first_version = (
        sa.select(sa.func.min(earlier.id))
        .where(earlier.article_id == ArticleVersion.article_id)
        .scalar_subquery()
    )
    when = sa.func.coalesce(ArticleVersion.fetched_at, ArticleVersion.created_at, type_=UTCDateTime())
    created_day = sa.func.date(when)
    stmt = (
        sa.select(Source.key, created_day, sa.func.count())
        .select_from(ArticleVersion)
        .join(ArticleRow, ArticleRow.id == ArticleVersion.article_id)
        .join(Source, Source.id == ArticleRow.source_id)
        .where(ArticleVersion.id != first_version, ArticleVersion.origin == "crawl")
        .group_by(Source.key, created_day)
    )
    if source:
        stmt = stmt.where(Source.key == source)
    if since:
        stmt = stmt.where(when >= since)
    for key, day, n in conn.execute(stmt):
        days[(key, _day(day))]["updates"] += int(n)

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
            bucket["duplicates"] += _count(counts, "duplicates", "duplicate")
            bucket["skipped"] += _skipped(counts)
            bucket["errors"] += _count(counts, "errors")
        if run["status"] in ENDED:
            by_source[run["source"]].append(run)

    alarms = [a for runs in by_source.values() for a in drift_alarms(runs, recent_runs)]
    rows = [{"source": s, "day": d, **values} for (s, d), values in sorted(days.items())]
    return {"days": rows, "alarms": alarms}
