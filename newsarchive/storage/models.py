"""The archive's tables as SQLAlchemy 2.0 typed models (one module; see docs/schema.md).

The Alembic migrations in ``newsarchive/storage/migrations/versions`` create exactly these
tables on SQLite and PostgreSQL; ``tests/storage/test_schema_baseline.py`` checks they agree.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from newsarchive.article import Article, FetchInfo

#: PostgreSQL text-search configuration: "simple" (lower-casing, no stemming) because the
#: archive mixes English and Russian and stemming one language would garble the other.
PG_TS_CONFIG = "simple"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every dialect (SQLite keeps no zone itself)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        # A naive value has no known zone: it is taken as UTC (callers keep offsets separately).
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every archive table."""

    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


class Source(Base):
    """A wire service (site key such as ``tass``) or, for unprofiled pages, a host name."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime]


class ArticleRow(Base):
    """One story, keyed by its canonical URL; its text lives in :class:`ArticleVersion`."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(sa.Text, unique=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("article_versions.id", use_alter=True, name="fk_articles_current_version"),
        index=True,  # the duplicate check joins on it for every save
    )
    #: the id of the first article of its near-duplicate cluster (its own id when alone)
    cluster_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    #: SimHash of the current text (signed 64-bit; see newsarchive.neardup)
    simhash: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: published of the current version in UTC, plus the page's offset in minutes (NULL: unknown)
    published: Mapped[datetime | None] = mapped_column(index=True)
    published_offset: Mapped[int | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]


class ArticleVersion(Base):
    """One distinct text seen for an article: every extracted field plus its provenance."""

    __tablename__ = "article_versions"
    __table_args__ = (sa.Index("ix_article_versions_article_id", "article_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    url: Mapped[str] = mapped_column(sa.Text)
    section: Mapped[str | None] = mapped_column(sa.Text)
    headline: Mapped[str | None] = mapped_column(sa.Text)
    dateline: Mapped[str | None] = mapped_column(sa.Text)
    #: the agency the dateline credits (Reuters, AP, TASS...), also on an outlet's copy
    wire: Mapped[str | None] = mapped_column(sa.Text)
    published: Mapped[datetime | None]
    published_offset: Mapped[int | None]
    published_raw: Mapped[str | None] = mapped_column(sa.Text)
    updated: Mapped[datetime | None]
    updated_offset: Mapped[int | None]
    updated_raw: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    topics: Mapped[list[Any]]
    read_also: Mapped[list[Any]]
    authors: Mapped[list[Any]]
    language: Mapped[str | None] = mapped_column(sa.String(35))
    fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("crawl_runs.id"), index=True)
    #: where the raw response behind this version is archived (newsarchive.capture)
    warc_file: Mapped[str | None] = mapped_column(sa.Text)
    warc_offset: Mapped[int | None] = mapped_column(sa.BigInteger)
    warc_length: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: how the version came to be: "crawl" or "reextract"
    origin: Mapped[str] = mapped_column(sa.String(20), default="crawl")


class Topic(Base):
    """A topic label; ``key`` is the normalised form that makes "Syria" and "syria " one topic."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(500), unique=True)
    name: Mapped[str] = mapped_column(sa.String(500))


class ArticleTopic(Base):
    """Topics of an article's current version (many-to-many)."""

    __tablename__ = "article_topics"

    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id"), primary_key=True, index=True)


class Link(Base):
    """A "read also" edge: from an article to a canonical URL, resolved once that URL is archived."""

    __tablename__ = "links"
    __table_args__ = (
        sa.UniqueConstraint("from_article_id", "to_url", name="uq_links_from_to"),
        # only links still waiting for their target are looked up by URL
        sa.Index("ix_links_unresolved_to_url", "to_url", sqlite_where=sa.text("to_article_id IS NULL"),
                 postgresql_where=sa.text("to_article_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    to_url: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    to_article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )


class NeardupKey(Base):
    """Near-duplicate lookup keys of each article's current text (migrations 0015, 0016).

    ``neardup.BANDS`` MinHash-LSH band keys (whole-text copies) and content-defined sample keys
    (partial copies), under the article's publication fortnight: keys are random, so the primary
    key starts with the fortnight, and a crawl's inserts land in the recent fortnights' pages,
    which stay cached. A lookup reads two fortnights (``save.fortnights_read``).
    """

    __tablename__ = "neardup_keys"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it: rows live in the PK

    #: days since Monday 1970-01-05 of published (first_seen when unknown), divided by 14 (save.day_of)
    fortnight: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    #: no foreign key: checking it made every key row 3-4x dearer, and a key of a
    #: deleted article only yields a candidate that is then not found
    article_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)


class CrawlRun(Base):
    """One crawl of one source: when, how it ended, counts by outcome, errors, field fill rates."""

    __tablename__ = "crawl_runs"
    __table_args__ = (sa.Index("ix_crawl_runs_source_started", "source", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: "running", "finished", "failed", "interrupted", "crashed"
    status: Mapped[str] = mapped_column(sa.String(20))
    exit_status: Mapped[int | None]
    args: Mapped[dict[str, Any]]
    counts: Mapped[dict[str, Any]]
    errors: Mapped[list[Any]]
    fill_rates: Mapped[dict[str, Any]]
    pid: Mapped[int | None]
    host: Mapped[str | None] = mapped_column(sa.String(255))


class BackfillFile(Base):
    """One WARC file of a backfill job: who claimed it, whether it finished (newsarchive/backfill.py)."""

    __tablename__ = "backfill_files"
    __table_args__ = (sa.UniqueConstraint("job", "path", name="uq_backfill_files_job_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what is kept from the files, e.g. "cc-news:tass,tass_ru" (a file done for one job is not for another)
    job: Mapped[str] = mapped_column(sa.String(500))
    #: the file's path below the collection's base URL
    path: Mapped[str] = mapped_column(sa.Text)
    #: "pending", "claimed", "done", "failed"
    status: Mapped[str] = mapped_column(sa.String(20))
    #: "host:pid" of the worker holding the claim
    claimed_by: Mapped[str | None] = mapped_column(sa.String(300))
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    records: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    articles: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)


class UrlState(Base):
    """Durable per-URL crawl state for incremental recrawls."""

    __tablename__ = "url_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(sa.Text, unique=True)
    #: the article this URL's text is stored under (another article's id for a duplicate)
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("articles.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime]
    last_fetched: Mapped[datetime | None]
    last_status: Mapped[int | None]
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    etag: Mapped[str | None] = mapped_column(sa.Text)
    last_modified: Mapped[str | None] = mapped_column(sa.Text)
    published: Mapped[datetime | None]
    #: {listing path: ISO time} the modification time each feed/sitemap gave when the URL was
    #: last fetched (or, for a listing not consulted then, when first seen not due); a listing
    #: giving another value now means an edit, whatever the two clocks say
    listed_modified: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


# -- which Article fields are stored where ------------------------------------------------
#: the Article's fields that article_versions stores, in the Article's order: the models are the
#: declaration (a new Article field needs its column and a migration, nothing here)
ARTICLE_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Article)
                                        if f.name in ArticleVersion.__table__.c)
#: a timestamp field's UTC offset in minutes, kept beside it (``published`` -> ``published_offset``)
OFFSET_COLUMNS: dict[str, str] = {name: f"{name}_offset" for name in ARTICLE_FIELDS
                                  if f"{name}_offset" in ArticleVersion.__table__.c}
#: crawl provenance (Article.fetch) that article_versions stores
FETCH_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(FetchInfo)
                                      if f.name in ArticleVersion.__table__.c)
#: article_versions columns whose values come from the Article alone
VERSION_COLUMNS: tuple[str, ...] = ("content_hash", *ARTICLE_FIELDS, *OFFSET_COLUMNS.values(), *FETCH_FIELDS)
#: the stored fields an extractor decides: a difference in any of them is a new revision
REVISION_COLUMNS: tuple[str, ...] = tuple(
    c for c in VERSION_COLUMNS if c not in ("content_hash", "url", "fetched_at", *FETCH_FIELDS))


def current_articles_view(version_columns: tuple[str, ...]) -> str:
    """``CREATE VIEW current_articles``: each article with its current version's ``version_columns``.

    A migration passes the columns of its own time, so the view it creates stays as it was.
    """
    picked = ", ".join(f"v.{name}" for name in version_columns)
    return (
        "CREATE VIEW current_articles AS SELECT a.id AS article_id, v.id AS version_id, a.canonical_url, "
        f"s.key AS source, {picked}, a.cluster_id, "
        "(SELECT count(*) FROM article_versions c WHERE c.article_id = a.id) AS version_count, "
        "a.first_seen, a.last_seen FROM articles a "
        "JOIN article_versions v ON v.id = a.current_version_id JOIN sources s ON s.id = a.source_id"
    )


#: PostgreSQL: a generated tsvector on every version with a GIN index; search joins the
#: current version, so the index is always in step with the pointer.
PG_FTS_DDL = (
    "ALTER TABLE article_versions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('{PG_TS_CONFIG}', coalesce(headline, '') || ' ' || body)) STORED",
    "CREATE INDEX ix_article_versions_search ON article_versions USING gin (search_vector)",
)
