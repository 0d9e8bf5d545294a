"""Writing Articles into the archive: one BatchWriter per transaction (used by Archive.save_batch)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsarchive import neardup
from newsarchive.article import Article, normalise_text
from newsarchive.storage.models import (
    ARTICLE_FIELDS,
    FETCH_FIELDS,
    OFFSET_COLUMNS,
    ArticleRow,
    ArticleTopic,
    ArticleVersion,
    Link,
    NeardupKey,
    Source,
    Topic,
    UrlState,
    UTCDateTime,
)
from newsarchive.urls import canonical_url

Outcome = Literal["new", "updated", "unchanged", "duplicate"]
#: how many near-duplicate candidates one lookup may return (bounded cost per article)
MAX_CANDIDATES = 50
#: a key already held by this many articles within a new article's fortnights is not stored for
#: it (the article still joins them): boilerplate cannot make a lookup read ever more rows
KEY_CAP = 50
_DAY0 = date(1970, 1, 5).toordinal()  # a Monday


def day_of(moment: datetime) -> int:
    """Days (UTC) since Monday 1970-01-05 (``fortnight`` gives the article's ``neardup_keys.fortnight``)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.toordinal() - _DAY0


def fortnight(day: int) -> int:
    """The ``neardup_keys.fortnight`` of a ``day_of`` day."""
    return day // 14


def fortnights_read(day: int) -> tuple[int, int]:
    """The two fortnights a lookup reads: the day's own and the nearer neighbour, so a copy
    published up to 7 days before or after is always found, in two seeks per key."""
    own = fortnight(day)
    return (own - 1, own) if day % 14 < 7 else (own, own + 1)


class Probe(NamedTuple):
    """What a near-duplicate lookup matches: a text's fingerprint, its day (``day_of``), and the text."""

    fp: neardup.Fingerprint
    day: int
    body: str
    headline: str | None


@dataclass(frozen=True)
class SaveResult:
    """What save_batch did with one Article."""

    outcome: Outcome
    article_id: int | None
    version_id: int | None
    cluster_id: int | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def listed_json(listing: str | None, moment: datetime | None) -> dict[str, str] | None:
    """The url_state.listed_modified value for a fetch made from ``listing`` giving ``moment``."""
    if not listing or moment is None:
        return None
    return {listing: moment.isoformat()}


def offset_minutes(value: datetime | None) -> int | None:
    """The value's UTC offset in minutes, None for a naive (zone unknown) datetime."""
    if value is None or value.utcoffset() is None:
        return None
    offset = value.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def article_key(article: Article) -> str:
    """The archive key of an Article: its canonical URL."""
    return _clean(article.canonical_url or canonical_url(article.url))


@lru_cache(maxsize=1 << 12)
def _canonical_link(url: str) -> str:
    # w3lib's canonical form is the costliest step of a save; popular read-also targets repeat
    # within a few batches, so a small cache keeps them without growing through a long crawl
    return str(_clean(canonical_url(url)))


@lru_cache(maxsize=1 << 12)
def _topic_names(name: str) -> tuple[str, str]:
    # (display name, normalised key) of a topic label: a few hundred labels repeat across
    # every article of a source, so most saves find them here
    clean = " ".join(_clean(name).split())
    return clean, normalise_text(clean)


def fingerprint(article: Article) -> neardup.Fingerprint:
    """SimHash and LSH band keys of an article's text (see newsarchive.neardup)."""
    return neardup.fingerprint(article.body, article.headline)


@dataclass(frozen=True, eq=False)
class Prepared:
    """An Article with what saving it needs that does not depend on the archive.

    Computed before the write transaction opens (``prepare``), so the database lock is held
    only for the database work, a retried batch does not redo it, and a caller may prepare
    the next batch while the previous one is being written.
    """

    article: Article
    key: str
    digest: str
    fp: neardup.Fingerprint
    #: ``topic_names(article)`` and ``link_targets(article)``: canonicalising read-also URLs is costly
    topics: tuple[tuple[str, str], ...]
    links: tuple[tuple[str, str | None], ...]


Parts = tuple[str, str, neardup.Fingerprint, tuple[tuple[str, str], ...], tuple[tuple[str, str | None], ...]]


def prepare(articles: Iterable[Article | Prepared]) -> list[Prepared]:
    """Archive key, content hash, near-duplicate fingerprint, topics and links of each article
    (pure CPU work)."""
    return [a if isinstance(a, Prepared) else Prepared(a, *_parts(a)) for a in articles]


def prepared_parts(articles: Sequence[Article]) -> list[Parts]:
    """What ``prepare`` adds to each article, without the article (what a worker process sends back)."""
    return [_parts(a) for a in articles]


def _parts(article: Article) -> Parts:
    return (article_key(article), article.content_hash, fingerprint(article),
            topic_names(article), link_targets(article))


def topic_names(article: Article) -> tuple[tuple[str, str], ...]:
    """(display name, normalised key) of each of the article's topics, first spelling of a key kept."""
    out: dict[str, str] = {}
    for name in article.topics:
        clean, key = _topic_names(str(name))
        if key:
            out.setdefault(key, clean)
    return tuple((clean, key) for key, clean in out.items())


def link_targets(article: Article) -> tuple[tuple[str, str | None], ...]:
    """(canonical URL, title) of each read-also link, first title of a URL kept; unparsable URLs left out."""
    out: dict[str, str | None] = {}
    for link in article.read_also:
        raw = (link or {}).get("url")
        if not raw:
            continue
        try:
            target = _canonical_link(raw)
        except ValueError:
            continue
        out.setdefault(target, _clean(link.get("title")))
    return tuple(out.items())


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; a stray one in a hostile page must not sink the batch
    if value.__class__ is str:
        return value.replace("\x00", "") if "\x00" in value else value
    if value is None or isinstance(value, int | datetime):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def version_values(article: Article, digest: str | None = None) -> dict[str, Any]:
    """The article_versions columns that come from the extracted Article (VERSION_COLUMNS but
    the crawl provenance)."""
    values: dict[str, Any] = {"content_hash": digest or article.content_hash}
    for name in ARTICLE_FIELDS:
        value = getattr(article, name)
        if isinstance(value, list):
            value = [dict(v) if isinstance(v, dict) else v for v in value]
        values[name] = _clean(value)
    for name, offset in OFFSET_COLUMNS.items():
        values[offset] = offset_minutes(getattr(article, name))
    return values


def _article_version_values(article: Article, digest: str) -> dict[str, Any]:
    """The article_versions columns (VERSION_COLUMNS) that come from the Article alone."""
    values = version_values(article, digest)
    fetch = article.fetch
    for name in FETCH_FIELDS:
        values[name] = getattr(fetch, name) if fetch else None
    return values


@dataclass(eq=False)
class _Story:
    """One articles row the batch touches, with the versions it adds (ids filled in when written)."""

    key: str
    article_id: int | None = None
    is_new: bool = False
    source: str | None = None
    cluster_id: int | None = None
    #: an earlier new story of the same batch this one is a near-duplicate of
    cluster_of: _Story | None = None
    current_hash: str | None = None
    current_version_id: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    seen: datetime | None = None
    versions: list[Article] = field(default_factory=list)
    version_ids: list[int] = field(default_factory=list)
    fp: neardup.Fingerprint | None = None
    #: keys not stored for it: held by KEY_CAP articles already (see KEY_CAP)
    common_keys: frozenset[int] = frozenset()

    def probe(self, now: datetime) -> Probe:
        assert self.fp is not None
        final = self.versions[-1]
        return Probe(self.fp, day_of(final.published or self.first_seen or now), final.body, final.headline)

    def version_id(self, index: int | None) -> int | None:
        return self.current_version_id if index is None else self.version_ids[index]

    def root(self) -> _Story:
        story = self
        while story.cluster_of is not None:
            story = story.cluster_of
        return story

    def final_cluster(self) -> int | None:
        root = self.root()
        return root.cluster_id if root.cluster_id is not None else root.article_id


class BatchWriter:
    """Saves a batch of Articles on one open write transaction with set-based statements.

    The batch is first classified in Python against one prefetch of the keys and content
    hashes it mentions (so repeats inside a batch behave as if saved one by one), then
    written with one executemany per table: the cost per article stays a few index lookups
    and row writes, never a scan, and no per-article statement compilation.
    """

    def __init__(self, conn: sa.Connection, run_id: int | None = None) -> None:
        self.conn = conn
        self.run_id = run_id
        self.now = utcnow()
        self.postgres = conn.dialect.name == "postgresql"
        self._prepared: dict[int, Prepared] = {}

    # -- entry points ---------------------------------------------------------------------
    def save_all(self, batch: Sequence[Article | Prepared]) -> list[SaveResult]:
        """Store the batch and return one outcome per article, in order."""
        prepared = prepare(batch)
        self._prepared.update((id(p.article), p) for p in prepared)
        articles = [p.article for p in prepared]
        keys = [p.key for p in prepared]
        stories = self._known_by_key(keys)
        digests = [p.digest for p in prepared]
        by_hash = self._current_by_hash(digests)
        # PostgreSQL reads each statement at its own moment: an article another writer committed
        # between the two lookups is found by its text only. It is still this batch's key, so it
        # is that story (unchanged), not a duplicate of itself.
        wanted = set(keys)
        for known, _ in list(by_hash.values()):
            if known.key in wanted and known.key not in stories:
                stories[known.key] = known
        plan: list[tuple[Outcome, _Story, int | None]] = []
        states: list[tuple[str, Article, _Story]] = []
        duplicate_keys: list[tuple[str, _Story]] = []
        for key, article, digest in zip(keys, articles, digests, strict=True):
            seen = article.fetched_at or self.now
            story = stories.get(key)
            if story is not None:
                story.seen = max(story.seen or seen, seen)
                latest = len(story.versions) - 1 if story.versions else None
                if story.current_hash == digest:
                    plan.append(("unchanged", story, latest))
                else:
                    if story.current_hash and by_hash.get(story.current_hash, (None,))[0] is story:
                        del by_hash[story.current_hash]
                    story.versions.append(article)
                    story.current_hash = digest
                    by_hash.setdefault(digest, (story, len(story.versions) - 1))
                    plan.append(("updated", story, len(story.versions) - 1))
                states.append((key, article, story))
                continue
            twin = by_hash.get(digest)
            if twin is not None:
                plan.append(("duplicate", twin[0], twin[1]))
                states.append((key, article, twin[0]))
                duplicate_keys.append((key, twin[0]))
                continue
            source = _clean(article.source or urlsplit(key).hostname or "unknown")
            story = _Story(key, is_new=True, source=source,
                           current_hash=digest, first_seen=seen, seen=seen, versions=[article])
            stories[key] = story
            by_hash[digest] = (story, 0)
            plan.append(("new", story, 0))
            states.append((key, article, story))
        self._write(list(stories.values()), origin="crawl")
        self._url_states(states)
        self._resolve_incoming([(s.key, s) for s in stories.values() if s.is_new] + duplicate_keys)
        return [SaveResult(outcome, story.article_id, story.version_id(index), story.final_cluster())
                for outcome, story, index in plan]

    def add_versions(self, items: Sequence[tuple[int, Article]], *, origin: str = "reextract") -> list[int]:
        """Make each Article the new current version of the known article id given with it."""
        by_id: dict[int, _Story] = {}
        ids = sorted({article_id for article_id, _ in items})
        for chunk in _chunks(ids, 500):
            for row in self._known(ArticleRow.id, chunk):
                by_id[row.id] = self._story(row)
        for article_id, article in items:
            by_id[article_id].versions.append(article)
        self._write(list(by_id.values()), origin=origin)
        counters: dict[int, int] = {}
        out = []
        for article_id, _ in items:
            index = counters.get(article_id, 0)
            counters[article_id] = index + 1
            out.append(by_id[article_id].version_ids[index])
        return out

    def find_clusters(self, probes: Sequence[Probe]) -> list[int | None]:
        """For each probe, the cluster of an archived copy of it (None when there is none).

        What a batched save runs for its new stories (benchmarks/storage.py measures the
        near-duplicate cost through this): one key lookup per fortnight pair of the batch, then the
        candidates' SimHashes (whole-text copies) and, for those sharing sample keys, their
        texts (partial copies: ``neardup.is_copy``).
        """
        return [cluster for cluster, _ in self._find(probes)]

    def _find(self, probes: Sequence[Probe]) -> list[tuple[int | None, frozenset[int]]]:
        """find_clusters, with each probe's keys that KEY_CAP articles of its fortnights hold already."""
        by_pair: dict[tuple[int, int], set[int]] = {}
        for p in probes:
            by_pair.setdefault(fortnights_read(p.day), set()).update(p.fp.keys)
        found = {pair: lookup_keys(self.conn, pair, keys) for pair, keys in by_pair.items()}
        hits: list[dict[int, list[int]]] = []
        for p in probes:
            held = found[fortnights_read(p.day)]
            hits.append({k: [a for _, a in held[k]] for k in p.fp.keys if k in held})
        shared = [self._shared(p, hit) for p, hit in zip(probes, hits, strict=True)]
        details = self._details({a for bands, samples in shared for a in bands | samples})
        candidates = [self._candidates(p, bands, samples, details)
                      for p, (bands, samples) in zip(probes, shared, strict=True)]
        texts = self._texts({a for ids in candidates for a in ids})
        clusters: list[int | None] = []
        for p, ids in zip(probes, candidates, strict=True):
            mine = neardup.shingle_set(p.body, p.headline) if ids else neardup.NO_SHINGLES
            # the oldest cluster first: a story joins the oldest one it matches, deterministically
            clusters.append(next((details[a][1] for a in ids if a in texts and neardup.is_copy(
                p.fp, mine, details[a][0], texts[a], root=details[a][1] == a)), None))
        return [(cluster, frozenset(k for k, ids in hit.items() if len(ids) >= KEY_CAP))
                for cluster, hit in zip(clusters, hits, strict=True)]

    @staticmethod
    def _shared(probe: Probe, hit: dict[int, list[int]]) -> tuple[set[int], set[int]]:
        """Archived articles sharing a band key with ``probe``, and those sharing MIN_SHARED_SAMPLES
        sample keys (one sample key in common, e.g. a boilerplate line, makes no candidate)."""
        bands = {a for k in probe.fp.band_keys for a in hit.get(k, ())}
        counts = Counter(a for k in probe.fp.sample_keys for a in hit.get(k, ()))
        return bands, {a for a, n in counts.items() if n >= neardup.MIN_SHARED_SAMPLES}

    @staticmethod
    def _candidates(probe: Probe, bands: set[int], samples: set[int],
                    details: dict[int, tuple[neardup.Fingerprint, int]]) -> list[int]:
        """The archived articles whose text is worth reading for ``probe``, oldest cluster first: those
        sharing a band key and near in SimHash, and those sharing sample keys."""
        near = {a for a in bands if a in details and neardup.is_near_duplicate(probe.fp.simhash,
                                                                               details[a][0].simhash)}
        ids = near.union(a for a in samples if a in details)
        return sorted(ids, key=lambda a: details[a][1])[:MAX_CANDIDATES]

    def _details(self, ids: set[int]) -> dict[int, tuple[neardup.Fingerprint, int]]:
        """Archived article id -> (its stored SimHash, as a fingerprint without keys; cluster_id)."""
        out: dict[int, tuple[neardup.Fingerprint, int]] = {}
        for chunk in _chunks(sorted(ids), 500):
            for row in self.conn.execute(sa.select(ArticleRow.id, ArticleRow.simhash, ArticleRow.cluster_id)
                                         .where(ArticleRow.id.in_(chunk))):
                if row.simhash is not None and row.cluster_id is not None:
                    out[row.id] = (neardup.Fingerprint(row.simhash, ()), row.cluster_id)
        return out

    def _texts(self, ids: set[int]) -> dict[int, Any]:
        """Archived article id -> the shingle set of its current text (neardup.shingle_set)."""
        out: dict[int, Any] = {}
        for chunk in _chunks(sorted(ids), 500):
            for row in self.conn.execute(
                sa.select(ArticleRow.id, ArticleVersion.headline, ArticleVersion.body)
                .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
                .where(ArticleRow.id.in_(chunk))
            ):
                out[row.id] = neardup.shingle_set(row.body, row.headline)
        return out

    # -- classification helpers --------------------------------------------------------
    def _story(self, row: Any) -> _Story:
        return _Story(row.canonical_url, article_id=row.id, cluster_id=row.cluster_id,
                      current_hash=row.content_hash, current_version_id=row.current_version_id,
                      first_seen=row.first_seen, last_seen=row.last_seen)

    def _known_by_key(self, keys: list[str]) -> dict[str, _Story]:
        out: dict[str, _Story] = {}
        for chunk in _chunks(sorted(set(keys)), 500):
            for row in self._known(ArticleRow.canonical_url, chunk):
                out[row.canonical_url] = self._story(row)
        return out

    def _known(self, column: Any, values: Sequence[Any]) -> Iterable[Any]:
        """The _KNOWN rows whose ``column`` is one of ``values``, by ascending article id."""
        return self.conn.execute(_KNOWN.where(column.in_(values)).order_by(ArticleRow.id))

    def _ready(self, article: Article) -> Prepared:
        """What ``prepare`` computed for ``article`` (re-extraction's versions come unprepared)."""
        ready = self._prepared.get(id(article))
        if ready is None:
            ready = self._prepared[id(article)] = prepare([article])[0]
        return ready

    def _current_by_hash(self, hashes: list[str]) -> dict[str, tuple[_Story, int | None]]:
        out: dict[str, tuple[_Story, int | None]] = {}
        for chunk in _chunks(sorted(set(hashes)), 500):
            for row in self._known(ArticleVersion.content_hash, chunk):
                if row.content_hash not in out:
                    out[row.content_hash] = (self._story(row), None)
        return out

    # -- writing -----------------------------------------------------------------------
    def _write(self, stories: list[_Story], *, origin: str) -> None:
        changed = [s for s in stories if s.versions]
        for story in changed:
            story.fp = self._ready(story.versions[-1]).fp
        new = [s for s in changed if s.is_new]
        self._cluster(new)
        replaced = [s.current_version_id for s in changed]
        self._insert_articles(new)
        self._insert_versions(changed, origin)
        self._update_articles(changed, origin)
        if not self.postgres:
            sync_fts(self.conn, replaced, [s.current_version_id for s in changed])
        self._touch([s for s in stories if not s.versions and s.seen is not None])
        old = [s.article_id for s in changed if not s.is_new]
        # the keys to drop come from the text each updated article had until now
        earlier = {s.article_id: v for s, v in zip(changed, replaced, strict=True)
                   if not s.is_new and s.article_id is not None and v is not None}
        remove_keys(self.conn, earlier)
        add_keys(self.conn, [(bucket, k, s.article_id) for s in changed if s.fp and s.article_id
                             for bucket in (fortnight(s.probe(self.now).day),) for k in s.fp.keys
                             if k not in s.common_keys])
        self._replace_topics(changed, old)
        self._replace_links(changed, old)

    def _cluster(self, new: list[_Story]) -> None:
        """Find each new story's cluster: archived near-duplicates first, then earlier ones in the batch."""
        if not new:
            return
        probes = [s.probe(self.now) for s in new]
        earlier: dict[int, list[_Story]] = {}
        shingles: dict[int, Any] = {}
        for story, probe, (archived, common) in zip(new, probes, self._find(probes), strict=True):
            story.cluster_id, story.common_keys = archived, common
            if story.cluster_id is None and not earlier.keys().isdisjoint(probe.fp.keys):
                story.cluster_of = self._earlier_match(story, earlier, shingles)
            for key in probe.fp.keys:
                earlier.setdefault(key, []).append(story)

    @staticmethod
    def _earlier_match(story: _Story, earlier: dict[int, list[_Story]],
                       shingles: dict[int, Any]) -> _Story | None:
        """An earlier new story of the batch that this one is a copy of (neardup.is_copy)."""
        fp = story.fp
        assert fp is not None
        others = {id(o): o for k in fp.keys for o in earlier.get(k, ())}
        for other in others.values():
            if other.fp is None or not (
                    neardup.is_near_duplicate(fp.simhash, other.fp.simhash)
                    or neardup.shared_samples(fp, other.fp) >= neardup.MIN_SHARED_SAMPLES):
                continue
            for s in (story, other):
                if id(s) not in shingles:
                    shingles[id(s)] = neardup.shingle_set(s.versions[-1].body, s.versions[-1].headline)
            root = other.root() is other and other.cluster_id is None
            if neardup.is_copy(fp, shingles[id(story)], other.fp, shingles[id(other)], root=root):
                return other.root()
        return None

    def _insert_articles(self, new: list[_Story]) -> None:
        if not new:
            return
        sources = self._source_ids({s.source or "unknown" for s in new})
        rows = [{"canonical_url": s.key, "source_id": sources[s.source or "unknown"],
                 "first_seen": s.first_seen, "last_seen": s.seen} for s in new]
        for story, article_id in zip(new, self._insert_ids(ArticleRow, rows), strict=True):
            story.article_id = article_id

    def _insert_versions(self, changed: list[_Story], origin: str) -> None:
        owners = [story for story in changed for _ in story.versions]
        rows = [self._version_row(story, article, origin) for story in changed for article in story.versions]
        for story, version_id in zip(owners, self._insert_ids(ArticleVersion, rows), strict=True):
            story.version_ids.append(version_id)

    def _version_row(self, story: _Story, article: Article, origin: str) -> dict[str, Any]:
        return {"article_id": story.article_id, "created_at": self.now, "run_id": self.run_id,
                "origin": origin, **_article_version_values(article, self._ready(article).digest)}

    def _insert_ids(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows`` into ``model``'s table; their new ids, in order."""
        if not rows:
            return []
        if self.postgres:
            stmt = sa.insert(model).returning(model.id, sort_by_parameter_order=True)
            return list(self.conn.execute(stmt, rows).scalars().all())
        # SQLite: the batch holds the write lock (BEGIN IMMEDIATE), so the ids after the current
        # maximum are ours to give (RETURNING in parameter order runs one INSERT per row)
        first = int(self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(model.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        self.conn.execute(sa.insert(model), [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids

    def _update_articles(self, changed: list[_Story], origin: str) -> None:
        rows = []
        for story in changed:
            final = story.versions[-1]
            last_seen = story.last_seen
            if origin == "crawl" and story.seen is not None:
                last_seen = max(last_seen or story.seen, story.seen)
            story.current_version_id = story.version_ids[-1]
            rows.append({"b_id": story.article_id, "b_version": story.version_ids[-1],
                         "b_cluster": story.final_cluster(), "b_published": final.published,
                         "b_offset": offset_minutes(final.published),
                         "b_simhash": story.fp.simhash if story.fp else None, "b_seen": last_seen})
        if rows:
            self.conn.execute(_UPDATE_ARTICLE, rows)

    def _touch(self, stories: list[_Story]) -> None:
        rows = [{"b_id": s.article_id, "b_seen": s.seen} for s in stories if s.article_id is not None]
        if rows:
            self.conn.execute(_TOUCH_ARTICLE, rows)

    def _delete_for(self, column: Any, article_ids: list[int | None]) -> None:
        for chunk in _chunks(sorted(i for i in article_ids if i is not None), 500):
            self.conn.execute(sa.delete(column.table).where(column.in_(chunk)))

    def _source_ids(self, keys: set[str]) -> dict[str, int]:
        insert_ignore(self.conn, Source.__table__,  # type: ignore[arg-type]
                      [{"key": k, "created_at": self.now} for k in sorted(keys)])
        return {row.key: row.id for row in self.conn.execute(sa.select(Source.id, Source.key)
                                                              .where(Source.key.in_(sorted(keys))))}

    def _replace_topics(self, changed: list[_Story], old: list[int | None]) -> None:
        replace_topics(self.conn, {s.article_id: self._ready(s.versions[-1]).topics
                                   for s in changed if s.article_id is not None}, old)

    def _replace_links(self, changed: list[_Story], old: list[int | None]) -> None:
        self._delete_for(Link.__table__.c.from_article_id, old)  # type: ignore[attr-defined]
        edges: dict[tuple[int, str], str | None] = {}
        for story in changed:
            assert story.article_id is not None
            for target, title in self._ready(story.versions[-1]).links:
                edges.setdefault((story.article_id, target), title)
        if not edges:
            return
        resolved = self.resolve_urls({url for _, url in edges})
        insert_ignore(self.conn, Link.__table__,  # type: ignore[arg-type]
                      [{"from_article_id": a, "to_url": u, "title": t, "to_article_id": resolved.get(u)}
                       for (a, u), t in edges.items()])

    def resolve_urls(self, urls: Iterable[str]) -> dict[str, int]:
        """Canonical URL -> article id, for archived articles and URLs known as duplicates."""
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(set(urls)), 500):
            for row in self.conn.execute(
                sa.select(UrlState.canonical_url, UrlState.article_id)
                .where(UrlState.canonical_url.in_(chunk), UrlState.article_id.is_not(None))
            ):
                found[row.canonical_url] = row.article_id
            for row in self.conn.execute(
                sa.select(ArticleRow.canonical_url, ArticleRow.id).where(ArticleRow.canonical_url.in_(chunk))
            ):
                found[row.canonical_url] = row.id
        return found

    def _resolve_incoming(self, pairs: list[tuple[str, _Story]]) -> None:
        # The other direction of arrival: links stored before their target was archived.
        rows = [{"b_url": key, "b_id": story.article_id} for key, story in pairs]
        if rows:
            self.conn.execute(_RESOLVE_LINKS, rows)

    def _url_states(self, states: list[tuple[str, Article, _Story]]) -> None:
        rows = []
        for key, article, story in states:
            fetch = article.fetch
            rows.append({
                "canonical_url": key, "first_seen": self.now, "article_id": story.article_id,
                "last_fetched": article.fetched_at or self.now,
                "last_status": fetch.status if fetch else None,
                "content_hash": self._ready(article).digest,
                "etag": _clean(fetch.etag) if fetch else None,
                "last_modified": _clean(fetch.last_modified) if fetch else None,
                "published": article.published,
                # None (fetched from a page that lists no times) keeps the listings' last values
                "listed_modified": listed_json(fetch.listing, fetch.listed_modified) if fetch else None,
            })
        upsert_url_states(self.conn, rows)


def upsert_url_states(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or update url_state rows that share their columns (canonical_url, first_seen among them)."""
    if rows:
        conn.execute(_url_state_upsert(conn.dialect.name == "postgresql", tuple(rows[0])), rows)


@lru_cache(maxsize=16)  # the batch writer's columns and mark_fetched's eight optional-column sets
def _url_state_upsert(postgres: bool, columns: tuple[str, ...]) -> Any:
    stmt = (postgresql if postgres else sqlite).insert(UrlState.__table__)  # type: ignore[arg-type]
    # first_seen is kept from the first insert; everything else follows the latest fetch
    updated = {c: stmt.excluded[c] for c in columns if c not in ("canonical_url", "first_seen")}
    if "listed_modified" in updated:
        table = UrlState.__table__
        updated["listed_modified"] = sa.func.coalesce(stmt.excluded.listed_modified,
                                                      table.c.listed_modified)  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=updated)


_KNOWN = (
    sa.select(ArticleRow.id, ArticleRow.canonical_url, ArticleRow.current_version_id, ArticleRow.cluster_id,
              ArticleRow.first_seen, ArticleRow.last_seen, ArticleVersion.content_hash)
    .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
)
_UPDATE_ARTICLE = (
    sa.update(ArticleRow)
    .where(ArticleRow.id == sa.bindparam("b_id"))
    .values(current_version_id=sa.bindparam("b_version"), cluster_id=sa.bindparam("b_cluster"),
            published=sa.bindparam("b_published", type_=UTCDateTime()),
            published_offset=sa.bindparam("b_offset"), simhash=sa.bindparam("b_simhash"),
            last_seen=sa.bindparam("b_seen", type_=UTCDateTime()))
)
_TOUCH_ARTICLE = (
    sa.update(ArticleRow)
    .where(ArticleRow.id == sa.bindparam("b_id"),
           ArticleRow.last_seen < sa.bindparam("b_seen", type_=UTCDateTime()))
    .values(last_seen=sa.bindparam("b_seen", type_=UTCDateTime()))
)
_RESOLVE_LINKS = (
    sa.update(Link)
    .where(Link.to_url == sa.bindparam("b_url"), Link.to_article_id.is_(None))
    .values(to_article_id=sa.bindparam("b_id"))
)


_FTS_DELETE = (
    "INSERT INTO articles_fts(articles_fts, rowid, headline, body) "
    "SELECT 'delete', v.id, coalesce(v.headline, ''), v.body FROM article_versions v WHERE v.id IN ({})"
)
_FTS_INSERT = (
    "INSERT INTO articles_fts(rowid, headline, body) "
    "SELECT v.id, coalesce(v.headline, ''), v.body FROM article_versions v WHERE v.id IN ({})"
)


def sync_fts(conn: sa.Connection, removed: Iterable[int | None], added: Iterable[int | None]) -> None:
    """SQLite: take versions that stopped being current out of articles_fts and put the new ones in.

    Set-based, one statement per 500 ids: a per-row trigger cost more per article. The
    'delete' must be given the text that was indexed: versions are never edited, so it is the
    stored row. A version both removed and added (no change) is left alone.
    """
    gone, new = {i for i in removed if i is not None}, {i for i in added if i is not None}
    gone, new = gone - new, new - gone
    for template, ids in ((_FTS_DELETE, gone), (_FTS_INSERT, new)):
        for chunk in _chunks(sorted(ids), 500):
            conn.exec_driver_sql(template.format(",".join("?" * len(chunk))), tuple(chunk))


# -- the near-duplicate key table (models.NeardupKey) ---------------------------------------
_KEYS: sa.Table = NeardupKey.__table__  # type: ignore[assignment]
#: keys per lookup statement (SQLite allows 32,766 bound values)
_KEY_CHUNK = 4_096


def _placeholder(conn: sa.Connection) -> str:
    # the driver's own parameter mark (these statements bypass SQLAlchemy's per-row handling)
    return "?" if conn.dialect.name == "sqlite" else "%s"


def lookup_keys(conn: sa.Connection, fortnights: Sequence[int],
                keys: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """Key -> (fortnight, article id) of the rows holding it in ``fortnights``, for every key in ``keys``."""
    wanted = sorted(set(keys))
    found: dict[int, list[tuple[int, int]]] = {}
    mark = _placeholder(conn)
    for chunk in _chunks(wanted, _KEY_CHUNK):
        # the key list padded to a power of two so the statement's text repeats and its compiled
        # form is reused (a new text per batch and fortnight was a third of the lookup at 1M)
        size = max(16, 1 << (len(chunk) - 1).bit_length())
        rows = conn.exec_driver_sql(
            f"SELECT fortnight, key, article_id FROM neardup_keys WHERE fortnight IN "
            f"({', '.join([mark] * len(fortnights))}) AND key IN ({', '.join([mark] * size)})",
            (*fortnights, *chunk, *[chunk[-1]] * (size - len(chunk))))
        for fortnight, key, article_id in rows:
            found.setdefault(key, []).append((fortnight, article_id))
    return found


def add_keys(conn: sa.Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Store (fortnight, key, article id) rows; rows already there are left alone."""
    if rows:
        # plain tuples to the driver: ~25 rows per article, where SQLAlchemy's parameter
        # handling per row cost more than inserting it
        mark = _placeholder(conn)
        conn.exec_driver_sql("INSERT INTO neardup_keys (fortnight, key, article_id) "
                             f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT DO NOTHING", list(rows))


_DELETE_KEY = sa.delete(NeardupKey).where(
    NeardupKey.fortnight == sa.bindparam("b_fortnight"), NeardupKey.key == sa.bindparam("b_key"),
    NeardupKey.article_id == sa.bindparam("b_article"))


def remove_keys(conn: sa.Connection, versions: Mapping[int, int]) -> None:
    """Drop the keys articles got from an earlier text: article id -> the version they came from.

    The keys and their fortnight are recomputed from that version's stored text and date rather than
    found through an index on article_id, which would be a second B-tree to update for every key
    added; only updates of existing articles, which are rare, need this.
    """
    ids = sorted(set(versions.values()))
    rows = []
    for chunk in _chunks(ids, 500):
        for row in conn.execute(
            sa.select(ArticleVersion.article_id, ArticleVersion.headline, ArticleVersion.body,
                      ArticleVersion.published, ArticleRow.first_seen)
            .join(ArticleRow, ArticleRow.id == ArticleVersion.article_id).where(ArticleVersion.id.in_(chunk))
        ):
            bucket = fortnight(day_of(row.published or row.first_seen))
            rows += [{"b_fortnight": bucket, "b_key": k, "b_article": row.article_id}
                     for k in set(neardup.fingerprint(row.body, row.headline).keys)]
    if rows:
        conn.execute(_DELETE_KEY, rows)


def replace_topics(conn: sa.Connection, topics: Mapping[int, Sequence[tuple[str, str]]],
                   replaced: Iterable[int | None]) -> int:
    """Store each article's (name, key) topics (``topic_names``), first dropping those of the
    ``replaced`` article ids; a new topic takes its first spelling. Returns the pairs stored."""
    for chunk in _chunks(sorted(i for i in replaced if i is not None), 500):
        conn.execute(sa.delete(ArticleTopic).where(ArticleTopic.article_id.in_(chunk)))
    names: dict[str, str] = {}
    for pairs in topics.values():
        for clean, key in pairs:
            names.setdefault(key, clean)
    if not names:
        return 0
    insert_ignore(conn, Topic.__table__,  # type: ignore[arg-type]
                  [{"key": k, "name": v} for k, v in sorted(names.items())])
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(names), 500):
        ids.update(conn.execute(sa.select(Topic.key, Topic.id).where(Topic.key.in_(chunk))).all())
    rows = [{"article_id": a, "topic_id": ids[k]} for a, pairs in topics.items() for _, k in pairs]
    insert_ignore(conn, ArticleTopic.__table__, rows)  # type: ignore[arg-type]
    return len(rows)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
