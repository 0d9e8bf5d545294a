"""Writing Articles into the archive: one BatchWriter per transaction (used by Archive.save_batch)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from newsarchive.article import Article, normalise_text
from newsarchive.storage import neardup
from newsarchive.storage.models import (
    ArticleRow,
    ArticleTopic,
    ArticleVersion,
    Link,
    NeardupBand,
    Source,
    Topic,
    UrlState,
)
from newsarchive.urls import canonical_url

Outcome = Literal["new", "updated", "unchanged", "duplicate"]
#: how many near-duplicate candidates one lookup may return (bounded cost per article)
MAX_CANDIDATES = 50
_U64 = 1 << 64


@dataclass(frozen=True)
class SaveResult:
    """What save_batch did with one Article."""

    outcome: Outcome
    article_id: int | None
    version_id: int | None
    cluster_id: int | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_i64(value: int) -> int:
    """An unsigned 64-bit value (SimHash, band key) as the signed BIGINT both databases store."""
    value %= _U64
    return value - _U64 if value >= 1 << 63 else value


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


def fingerprint(article: Article) -> neardup.Fingerprint:
    """SimHash and LSH band keys of an article's text (see newsarchive.storage.neardup)."""
    return neardup.fingerprint(article.body, article.headline)


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; a stray one in a hostile page must not sink the batch
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def version_values(article: Article) -> dict[str, Any]:
    """The article_versions columns that come from the extracted Article."""
    values = {
        "content_hash": article.content_hash,
        "url": article.url,
        "section": article.section,
        "headline": article.headline,
        "dateline": article.dateline,
        "published": article.published,
        "published_offset": offset_minutes(article.published),
        "published_raw": article.published_raw,
        "updated": article.updated,
        "updated_offset": offset_minutes(article.updated),
        "updated_raw": article.updated_raw,
        "description": article.description,
        "body": article.body,
        "topics": list(article.topics),
        "read_also": [dict(link) for link in article.read_also],
        "authors": list(article.authors),
        "language": article.language,
    }
    return {key: _clean(value) for key, value in values.items()}


class BatchWriter:
    """Saves Articles on one open write transaction; caches are per transaction only."""

    def __init__(self, conn: sa.Connection, run_id: int | None = None) -> None:
        self.conn = conn
        self.run_id = run_id
        self.now = utcnow()
        self._sources: dict[str, int] = {}
        self._topics: dict[str, int] = {}

    # -- entry points ---------------------------------------------------------------------
    def save(self, article: Article) -> SaveResult:
        """Store one Article and say whether it was new, updated, unchanged or a duplicate."""
        key = article_key(article)
        seen = article.fetched_at or self.now
        known = self.conn.execute(
            sa.select(ArticleRow.id, ArticleRow.current_version_id, ArticleRow.cluster_id,
                      ArticleVersion.content_hash)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .where(ArticleRow.canonical_url == key)
        ).first()
        if known is not None:
            if known.content_hash == article.content_hash:
                self._touch(known.id, seen)
                self._url_state(key, article, known.id)
                return SaveResult("unchanged", known.id, known.current_version_id, known.cluster_id)
            version_id = self.add_version(known.id, article)
            self._url_state(key, article, known.id)
            return SaveResult("updated", known.id, version_id, known.cluster_id)
        twin = self.conn.execute(
            sa.select(ArticleRow.id, ArticleRow.current_version_id, ArticleRow.cluster_id)
            .join(ArticleVersion, ArticleVersion.id == ArticleRow.current_version_id)
            .where(ArticleVersion.content_hash == article.content_hash)
            .order_by(ArticleRow.id)
            .limit(1)
        ).first()
        if twin is not None:
            # The same text under another URL: not a second story. The URL is remembered
            # (url_state -> the original) so revisits and read-also links still resolve.
            self._url_state(key, article, twin.id)
            self._resolve_incoming(key, twin.id)
            return SaveResult("duplicate", twin.id, twin.current_version_id, twin.cluster_id)
        return self._add_article(key, article, seen)

    def add_version(self, article_id: int, article: Article, *, origin: str = "crawl") -> int:
        """Make ``article`` the new current version of a known story (the old one is kept)."""
        version_id = self._insert_version(article_id, article, origin)
        fp = fingerprint(article)
        values: dict[str, Any] = {
            "current_version_id": version_id,
            "published": article.published,
            "published_offset": offset_minutes(article.published),
            "simhash": fp.simhash,
        }
        if origin == "crawl":
            values["last_seen"] = article.fetched_at or self.now
        self.conn.execute(sa.update(ArticleRow).where(ArticleRow.id == article_id).values(**values))
        self._replace_bands(article_id, fp)
        self._replace_topics(article_id, article.topics)
        self.conn.execute(sa.delete(Link).where(Link.from_article_id == article_id))
        self._add_links(article_id, article.read_also)
        return version_id

    # -- pieces -------------------------------------------------------------------------
    def _add_article(self, key: str, article: Article, seen: datetime) -> SaveResult:
        fp = fingerprint(article)
        cluster_id = self._find_cluster(fp)
        article_id = self.conn.execute(
            sa.insert(ArticleRow)
            .values(
                canonical_url=key,
                source_id=self._source_id(_clean(article.source or urlsplit(key).hostname or "unknown")),
                published=article.published,
                published_offset=offset_minutes(article.published),
                simhash=fp.simhash,
                first_seen=seen,
                last_seen=seen,
            )
            .returning(ArticleRow.id)
        ).scalar_one()
        cluster_id = cluster_id or article_id
        version_id = self._insert_version(article_id, article, "crawl")
        self.conn.execute(
            sa.update(ArticleRow)
            .where(ArticleRow.id == article_id)
            .values(current_version_id=version_id, cluster_id=cluster_id)
        )
        self._replace_bands(article_id, fp, fresh=True)
        self._replace_topics(article_id, article.topics, fresh=True)
        self._add_links(article_id, article.read_also)
        self._resolve_incoming(key, article_id)
        self._url_state(key, article, article_id)
        return SaveResult("new", article_id, version_id, cluster_id)

    def _insert_version(self, article_id: int, article: Article, origin: str) -> int:
        fetch = article.fetch
        return self.conn.execute(
            sa.insert(ArticleVersion)
            .values(
                article_id=article_id,
                fetched_at=article.fetched_at,
                created_at=self.now,
                run_id=self.run_id,
                warc_file=fetch.warc_file if fetch else None,
                warc_offset=fetch.warc_offset if fetch else None,
                warc_length=fetch.warc_length if fetch else None,
                origin=origin,
                **version_values(article),
            )
            .returning(ArticleVersion.id)
        ).scalar_one()

    def _touch(self, article_id: int, seen: datetime) -> None:
        self.conn.execute(
            sa.update(ArticleRow)
            .where(ArticleRow.id == article_id, ArticleRow.last_seen < seen)
            .values(last_seen=seen)
        )

    def _find_cluster(self, fp: neardup.Fingerprint) -> int | None:
        keys = sorted({to_i64(k) for k in fp.band_keys})
        if not keys:
            return None
        candidate_ids = (
            sa.select(NeardupBand.article_id)
            .where(NeardupBand.band_key.in_(keys))
            .distinct()
            .limit(MAX_CANDIDATES)
            .scalar_subquery()
        )
        rows = self.conn.execute(
            sa.select(ArticleRow.simhash, ArticleRow.cluster_id)
            .where(ArticleRow.id.in_(candidate_ids))
            .order_by(ArticleRow.cluster_id)
        ).all()
        for row in rows:
            if row.simhash is not None and neardup.is_near_duplicate(fp.simhash, row.simhash):
                return int(row.cluster_id) if row.cluster_id is not None else None
        return None

    def _replace_bands(self, article_id: int, fp: neardup.Fingerprint, *, fresh: bool = False) -> None:
        if not fresh:
            self.conn.execute(sa.delete(NeardupBand).where(NeardupBand.article_id == article_id))
        rows = [{"band_key": to_i64(k), "article_id": article_id} for k in set(fp.band_keys)]
        insert_ignore(self.conn, NeardupBand.__table__, rows)  # type: ignore[arg-type]

    def _source_id(self, key: str) -> int:
        if key not in self._sources:
            insert_ignore(self.conn, Source.__table__, [{"key": key, "created_at": self.now}])  # type: ignore[arg-type]
            self._sources[key] = self.conn.execute(
                sa.select(Source.id).where(Source.key == key)
            ).scalar_one()
        return self._sources[key]

    def _topic_ids(self, names: Iterable[str]) -> list[int]:
        wanted: dict[str, str] = {}
        for name in names:
            clean = " ".join(_clean(str(name)).split())
            key = normalise_text(clean)
            if key and key not in wanted:
                wanted[key] = clean
        missing = [k for k in wanted if k not in self._topics]
        if missing:
            insert_ignore(self.conn, Topic.__table__,  # type: ignore[arg-type]
                          [{"key": k, "name": wanted[k]} for k in missing])
            for row in self.conn.execute(sa.select(Topic.id, Topic.key).where(Topic.key.in_(missing))):
                self._topics[row.key] = row.id
        return [self._topics[k] for k in wanted]

    def _replace_topics(self, article_id: int, names: Iterable[str], *, fresh: bool = False) -> None:
        if not fresh:
            self.conn.execute(sa.delete(ArticleTopic).where(ArticleTopic.article_id == article_id))
        rows = [{"article_id": article_id, "topic_id": t} for t in self._topic_ids(names)]
        insert_ignore(self.conn, ArticleTopic.__table__, rows)  # type: ignore[arg-type]

    def _add_links(self, article_id: int, read_also: Iterable[dict[str, str]]) -> None:
        targets: dict[str, str | None] = {}
        for link in read_also:
            raw = (link or {}).get("url")
            if not raw:
                continue
            try:
                target = canonical_url(raw)
            except ValueError:
                continue
            targets.setdefault(target, _clean(link.get("title")))
        if not targets:
            return
        resolved = self.resolve_urls(targets)
        insert_ignore(
            self.conn,
            Link.__table__,  # type: ignore[arg-type]
            [{"from_article_id": article_id, "to_url": url, "title": title,
              "to_article_id": resolved.get(url)} for url, title in targets.items()],
        )

    def resolve_urls(self, urls: Iterable[str]) -> dict[str, int]:
        """Canonical URL -> article id, for archived articles and URLs known as duplicates."""
        urls = list(urls)
        found: dict[str, int] = {}
        for chunk in _chunks(urls, 500):
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

    def _resolve_incoming(self, key: str, article_id: int) -> None:
        # The other direction of arrival: links stored before this URL was archived.
        self.conn.execute(
            sa.update(Link)
            .where(Link.to_url == key, Link.to_article_id.is_(None))
            .values(to_article_id=article_id)
        )

    def _url_state(self, key: str, article: Article, article_id: int | None) -> None:
        fetch = article.fetch
        values = {
            "article_id": article_id,
            "last_fetched": article.fetched_at or self.now,
            "last_status": fetch.status if fetch else None,
            "content_hash": article.content_hash,
            "etag": _clean(fetch.etag) if fetch else None,
            "last_modified": _clean(fetch.last_modified) if fetch else None,
            "published": article.published,
        }
        upsert_url_state(self.conn, key, self.now, values)


def upsert_url_state(conn: sa.Connection, key: str, now: datetime, values: dict[str, Any]) -> None:
    """Insert or update one url_state row (first_seen is set only once)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    table: sa.Table = UrlState.__table__  # type: ignore[assignment]
    stmt = dialect.insert(table).values(canonical_url=key, first_seen=now, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.canonical_url], set_=values))


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
