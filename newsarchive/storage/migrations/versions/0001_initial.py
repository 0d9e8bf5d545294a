"""Initial archive schema: sources, articles, versions, topics, links, runs, url state, FTS.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsarchive.storage.models import PG_FTS_DDL, SQLITE_FTS_DDL, SQLITE_FTS_DROP

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


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
    # articles <-> article_versions reference each other: SQLite accepts the forward
    # reference inline; PostgreSQL gets the constraint once both tables exist.
    current_fk = (
        [sa.ForeignKeyConstraint(["current_version_id"], ["article_versions.id"],
                                 name="fk_articles_current_version")]
        if sqlite else []
    )
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
    op.create_index("ix_articles_source_id", "articles", ["source_id"])
    op.create_index("ix_articles_cluster_id", "articles", ["cluster_id"])
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_table(
        "article_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  nullable=False),
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
    )
    op.create_index("ix_article_versions_article_id", "article_versions", ["article_id", "id"])
    op.create_index("ix_article_versions_content_hash", "article_versions", ["content_hash"])
    op.create_index("ix_article_versions_run_id", "article_versions", ["run_id"])
    if not sqlite:
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
    op.create_index("ix_links_to_url", "links", ["to_url"])
    op.create_index("ix_links_to_article_id", "links", ["to_article_id"])
    op.create_table(
        "neardup_bands",
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_neardup_bands_article_id", "neardup_bands", ["article_id"])
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
    )
    for statement in SQLITE_FTS_DDL if sqlite else PG_FTS_DDL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
        # the two tables point at each other; SQLite checks that on DROP TABLE
        op.execute("UPDATE articles SET current_version_id = NULL")
    else:
        op.drop_constraint("fk_articles_current_version", "articles", type_="foreignkey")
    for table in ("url_state", "neardup_bands", "links", "article_topics", "topics",
                  "article_versions", "articles", "crawl_runs", "sources"):
        op.drop_table(table)
