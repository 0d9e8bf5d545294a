"""The `wire` field, a `current_articles` view, and an FTS table that Datasette detects.

* ``article_versions.wire``: the agency a dateline credits (Reuters, AP, TASS...), stored with
  each version so wire copy can be traced across outlets.
* ``current_articles``: one row per article with its current version's fields, its source and
  its timestamps in UTC beside the page's offset in minutes, on SQLite and PostgreSQL, so an
  analyst's query does not start with a three-table join.
* SQLite: ``articles_fts`` declared again with ``content="article_versions"``. Datasette and
  sqlite-utils find a table's FTS index by that spelling (double quotes or brackets); migration
  0001 wrote it in single quotes, so ``?_search=`` was ignored. FTS5 cannot change a table's
  options in place: the index is rebuilt from the current versions, with the merge settings of
  migrations 0004 and 0011.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsarchive.storage.models import current_articles_view

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: the article_versions columns the view shows, as of this migration
VIEW_COLUMNS = (
    "url", "section", "headline", "dateline", "wire", "published", "published_offset", "published_raw",
    "updated", "updated_offset", "updated_raw", "description", "body", "topics", "read_also", "authors",
    "language", "fetched_at", "content_hash",
)
_FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 2'"
_FILL = ("INSERT INTO articles_fts(rowid, headline, body) SELECT v.id, coalesce(v.headline, ''), v.body "
         "FROM articles a JOIN article_versions v ON v.id = a.current_version_id")
# the settings migrations 0004 (automerge) and 0011 (hashsize) stored in the old table
_SETTINGS = ("INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16)",
             "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608)")


def _fts(content: str) -> None:
    op.execute("DROP TABLE IF EXISTS articles_fts")
    op.execute(f"CREATE VIRTUAL TABLE articles_fts USING fts5(headline, body, content={content}, "
               f"content_rowid='id', {_FTS_OPTIONS})")
    for statement in _SETTINGS:
        op.execute(statement)
    op.execute(_FILL)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("article_versions", sa.Column("wire", sa.Text))
    if sqlite:
        _fts('"article_versions"')
    op.execute(current_articles_view(VIEW_COLUMNS))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP VIEW IF EXISTS current_articles")
    if sqlite:
        _fts("'article_versions'")
    if sqlite:
        # SQLite drops a column in place since 3.35; a batch copy of the table would break the
        # foreign keys that point at it
        op.execute("ALTER TABLE article_versions DROP COLUMN wire")
    else:
        op.drop_column("article_versions", "wire")
