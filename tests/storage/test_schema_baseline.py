"""The squashed baseline migration: the models' schema, and archives made at 0014 open unchanged."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from archive_helpers import make_article
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.errors import StorageError
from newsarchive.storage import Archive
from newsarchive.storage import engine as engines
from newsarchive.storage.models import ARTICLE_FIELDS, OFFSET_COLUMNS, Base

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: row counts of the fixture archives (tests/storage/fixtures/make_schema_0014.py)
FIXTURE_ROWS = {"articles": 12, "article_versions": 13, "links": 9, "url_state": 12, "crawl_runs": 1,
                "backfill_files": 1, "sources": 6, "alembic_version": 1}


def _not_fts(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # the full-text objects are dialect-specific DDL outside the models, checked below
    return not (name or "").startswith("articles_fts") and name not in (
        "search_vector", "ix_article_versions_search")


def test_baseline_creates_exactly_the_models(db_url: str) -> None:
    with Archive(db_url) as archive, archive.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_fts, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert engines.current_revision(archive.engine) == engines.head_revision()
        view = {c["name"] for c in sa.inspect(conn).get_columns("current_articles")}
        # every stored Article field is in the analysts' view (a new field's migration recreates it)
        assert view >= {*ARTICLE_FIELDS, *OFFSET_COLUMNS.values(), "article_id", "version_count", "source"}
        if archive.dialect == "sqlite":
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").scalar()
            assert 'content="article_versions"' in sql  # the spelling Datasette detects
            config = dict(conn.exec_driver_sql("SELECT k, v FROM articles_fts_config").all())
            assert (config["automerge"], config["hashsize"]) == (16, 8 * 1024 * 1024)
            triggers = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
            assert list(triggers) == ["articles_fts_delete"]
        else:
            index = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_article_versions_search'").scalar()
            assert "gin (search_vector)" in (index or "")


def _rows(engine: sa.Engine, tables: dict[str, list[str]]) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(f"SELECT {', '.join(cols)} FROM {t} ORDER BY 1"))]
                for t, cols in tables.items()}


def _keeps_every_row_and_works(url: str) -> None:
    engine = sa.create_engine(url)
    # the fixture's own tables and columns (a later migration may add others), but not the
    # full-text and near-duplicate indexes: derived data that a migration may rebuild
    inspector = sa.inspect(engine)
    derived = ("search_vector", "simhash")
    tables = {t: [c["name"] for c in inspector.get_columns(t) if c["name"] not in derived]
              for t in inspector.get_table_names() if not t.startswith(("articles_fts", "neardup_"))}
    before = _rows(engine, tables)
    engine.dispose()
    assert {t: len(before[t]) for t in FIXTURE_ROWS} == FIXTURE_ROWS
    with Archive(url) as archive:
        assert engines.current_revision(archive.engine) == engines.head_revision()
        after = _rows(archive.engine, {t: cols for t, cols in tables.items() if t != "alembic_version"})
        assert after == {t: rows for t, rows in before.items() if t != "alembic_version"}
        with archive.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM current_articles")).scalar_one() == 12
        assert [r["headline"] for r in archive.search("anchovy")]
        assert archive.save_batch([make_article(1)])[0].outcome == "new"
        assert len(list(archive.iter_articles())) == 13


def test_archive_made_at_0014_on_sqlite_opens_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    with gzip.open(FIXTURES / "schema_0014.sqlite.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    _keeps_every_row_and_works(f"sqlite:///{path}")


@pytest.mark.postgres
def test_archive_made_at_0014_on_postgresql_opens_and_keeps_every_row(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        # pg_dump's plain output, into this test's schema (psql meta-commands left out)
        dump = (FIXTURES / "schema_0014_pg.sql").read_text()
        statements = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
        # through psycopg itself: SQLAlchemy would pass parameters, and the data holds "%"
        conn.connection.driver_connection.execute(statements.replace("public.", f'"{schema}".'))
    engine.dispose()
    _keeps_every_row_and_works(pg_url)


def test_archive_at_a_squashed_revision_is_refused_in_one_line_and_left_alone(sqlite_url: str) -> None:
    Archive(sqlite_url).close()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0007'")
    conn.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError, match=r"revision 0007, older than .* with newsarchive 0\.1 first"):
        Archive(sqlite_url)
    result = CliRunner().invoke(main, ["db", "upgrade", "--db", sqlite_url])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert "newsarchive 0.1 first" in result.output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_archive_at_an_unknown_newer_revision_is_refused(db_url: str) -> None:
    with Archive(db_url) as archive, archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(StorageError, match="schema revision 0099, newer than this version"):
        Archive(db_url)


def test_downgrade_to_nothing_and_upgrade_again(db_url: str) -> None:
    with Archive(db_url) as archive:
        archive.save_batch([make_article(1)])
        engines.downgrade(archive.engine, "base")
        assert set(sa.inspect(archive.engine).get_table_names()) <= {"alembic_version"}
        engines.upgrade(archive.engine)
        assert archive.save_batch([make_article(1)])[0].outcome == "new"
