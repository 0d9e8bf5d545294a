"""The archive schema as of revision 0014, in one step (revisions 0001-0014 squashed, issue 16).

An archive made by newsarchive 0.1.0 at revision 0014 already has exactly this schema; one at
an older revision is refused by ``engine.upgrade`` with a one-line message. Each table, index and
setting is explained in docs/schema.md; the measurements behind them in benchmarks/README.md.

Revision ID: 0014
Revises:
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from newsarchive.storage.models import PG_TS_CONFIG, current_articles_view

revision = "0014"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

#: the article_versions columns the current_articles view shows (a new field's migration adds it)
VIEW_COLUMNS = (
    "url", "section", "headline", "dateline", "wire", "published", "published_offset", "published_raw",
    "updated", "updated_offset", "updated_raw", "description", "body", "topics", "read_also", "authors",
    "language", "fetched_at", "content_hash",
)
#: SQLite: FTS5 over each article's current version; save.sync_fts keeps it in step per batch.
#: content="article_versions" in double quotes is the spelling Datasette detects.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5(headline, body, content=\"article_versions\", "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    # merge segments 16 at a time and hold 8 MB of postings: one segment per batch
    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16)",
    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608)",
    "CREATE TRIGGER articles_fts_delete BEFORE DELETE ON articles "
    "WHEN old.current_version_id IS NOT NULL BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, headline, body) "
    "SELECT 'delete', v.id, coalesce(v.headline, ''), v.body FROM article_versions v "
    "WHERE v.id = old.current_version_id; END",
)
TABLES = ("backfill_files", "neardup_filter_log", "neardup_filter", "url_state", "neardup_bands", "links",
          "article_topics", "topics", "article_versions", "articles", "crawl_runs", "sources")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("exit_status", sa.Integer),
        sa.Column("args", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("errors", sa.JSON, nullable=False),
        sa.Column("fill_rates", sa.JSON, nullable=False),
        sa.Column("pid", sa.Integer),
        sa.Column("host", sa.String(255)),
    )
    op.create_index("ix_crawl_runs_source_started", "crawl_runs", ["source", "started_at"])
    # articles and article_versions point at each other: SQLite takes the forward reference
    # inline, PostgreSQL once both tables exist
    current_fk = [sa.ForeignKeyConstraint(["current_version_id"], ["article_versions.id"],
                                          name="fk_articles_current_version")] if sqlite else []
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("canonical_url", sa.Text, nullable=False, unique=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
        sa.Column("current_version_id", sa.Integer),
        sa.Column("cluster_id", sa.BigInteger),
        sa.Column("simhash", sa.BigInteger),
        sa.Column("published", TS),
        sa.Column("published_offset", sa.Integer),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        *current_fk,
    )
    for column in ("source_id", "cluster_id", "published", "current_version_id"):
        op.create_index(f"ix_articles_{column}", "articles", [column])
    # PostgreSQL: a generated tsvector on every version; search joins the current one
    search_vector = [] if sqlite else [sa.Column(
        "search_vector", postgresql.TSVECTOR,
        sa.Computed(f"to_tsvector('{PG_TS_CONFIG}', coalesce(headline, '') || ' ' || body)", persisted=True))]
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("section", sa.Text),
        sa.Column("headline", sa.Text),
        sa.Column("dateline", sa.Text),
        sa.Column("published", TS),
        sa.Column("published_offset", sa.Integer),
        sa.Column("published_raw", sa.Text),
        sa.Column("updated", TS),
        sa.Column("updated_offset", sa.Integer),
        sa.Column("updated_raw", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("read_also", sa.JSON, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("language", sa.String(35)),
        sa.Column("fetched_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("crawl_runs.id")),
        sa.Column("warc_file", sa.Text),
        sa.Column("warc_offset", sa.BigInteger),
        sa.Column("warc_length", sa.BigInteger),
        sa.Column("origin", sa.String(20), nullable=False),
        # the column order archives upgraded through 0001-0014 have
        *search_vector,
        sa.Column("wire", sa.Text),
    )
    op.create_index("ix_article_versions_article_id", "article_versions", ["article_id", "id"])
    op.create_index("ix_article_versions_content_hash", "article_versions", ["content_hash"])
    op.create_index("ix_article_versions_run_id", "article_versions", ["run_id"])
    if not sqlite:
        op.create_index("ix_article_versions_search", "article_versions", ["search_vector"],
                        postgresql_using="gin")
        op.create_foreign_key("fk_articles_current_version", "articles", "article_versions",
                              ["current_version_id"], ["id"])
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(500), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=False),
    )
    op.create_table(
        "article_topics",
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id"), primary_key=True),
    )
    op.create_index("ix_article_topics_topic_id", "article_topics", ["topic_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("from_article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("to_url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("to_article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")),
        sa.UniqueConstraint("from_article_id", "to_url", name="uq_links_from_to"),
    )
    op.create_index("ix_links_to_article_id", "links", ["to_article_id"])
    unresolved = sa.text("to_article_id IS NULL")
    op.create_index("ix_links_unresolved_to_url", "links", ["to_url"],
                    sqlite_where=unresolved, postgresql_where=unresolved)
    op.create_table(
        "neardup_bands",
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, primary_key=True),
        # the name upgraded PostgreSQL archives have (the table was rebuilt under another name)
        sa.PrimaryKeyConstraint("level", "band_key", "article_id",
                                name=None if sqlite else "neardup_bands_new_pkey"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "url_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("canonical_url", sa.Text, nullable=False, unique=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="SET NULL")),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_fetched", TS),
        sa.Column("last_status", sa.Integer),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("published", TS),
        sa.Column("listed_modified", sa.JSON(none_as_null=True)),
    )
    op.create_table(
        "neardup_filter",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("capacity", sa.BigInteger, nullable=False),
        sa.Column("key_count", sa.BigInteger, nullable=False),
        sa.Column("bits", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "neardup_filter_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("band_keys", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "backfill_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job", sa.String(500), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(300)),
        sa.Column("heartbeat_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("records", sa.BigInteger, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("job", "path", name="uq_backfill_files_job_path"),
    )
    if sqlite:
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        # random bits do not compress: skip TOAST's attempt at every rewrite
        op.execute("ALTER TABLE neardup_filter ALTER COLUMN bits SET STORAGE EXTERNAL")
        op.execute("ALTER TABLE neardup_filter_log ALTER COLUMN band_keys SET STORAGE EXTERNAL")
    op.execute(current_articles_view(VIEW_COLUMNS))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS current_articles")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS articles_fts_delete")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        # the two tables point at each other; SQLite checks that on DROP TABLE
        op.execute("UPDATE articles SET current_version_id = NULL")
    else:
        op.drop_constraint("fk_articles_current_version", "articles", type_="foreignkey")
    for table in TABLES:
        op.drop_table(table)
