"""Opening, migrating, locking and crash safety of the archive database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, make_article, run_writers

from newsarchive.errors import StorageError
from newsarchive.storage import Archive
from newsarchive.storage import engine as engines

TABLES = {"sources", "articles", "article_versions", "topics", "article_topics", "links",
          "neardup_keys", "crawl_runs", "url_state", "alembic_version"}


def test_fresh_database_is_migrated_on_first_use(db_url: str) -> None:
    with Archive(db_url) as archive:
        names = set(sa.inspect(archive.engine).get_table_names())
        assert names >= TABLES
        assert engines.current_revision(archive.engine) == engines.head_revision()
        if archive.dialect == "sqlite":
            assert "articles_fts" in names
            with archive.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384  # new file
                config = dict(conn.exec_driver_sql("SELECT k, v FROM articles_fts_config").all())
                assert config["automerge"] == 16
        else:
            columns = {c["name"] for c in sa.inspect(archive.engine).get_columns("article_versions")}
            assert "search_vector" in columns
            with archive.engine.connect() as conn:
                index = conn.execute(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_article_versions_search'"
                )).scalar()
            assert index is not None
            assert "gin" in index.lower()


def test_unwritable_path_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match=r"^cannot write the archive at .*a-file/sub/x\.sqlite: "):
        Archive(f"sqlite:///{blocker}/sub/x.sqlite")


@pytest.mark.parametrize("url", ["nosuchdb://x/y", "postgresql+psycopg://u:secret@127.0.0.1:9/none", "::"])
def test_bad_or_unreachable_url_is_one_clear_error(url: str) -> None:
    with pytest.raises(StorageError, match="cannot") as info:
        Archive(url)
    assert "secret" not in str(info.value)


def test_locked_database_is_retried_then_fails_loudly(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    Archive(sqlite_url).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Archive(sqlite_url, busy_timeout=0.05, lock_attempts=3) as archive:
            with pytest.raises(StorageError, match="stayed locked by another process after 3 attempts"):
                archive.save_batch([make_article(1)])
            # released while the archive backs off: the same call then succeeds
            threading.Timer(0.3, holder.execute, ["ROLLBACK"]).start()
            archive.lock_attempts = 6
            assert archive.save_batch([make_article(1)])[0].outcome == "new"
    finally:
        holder.close()


def test_process_killed_mid_batch_leaves_no_partial_rows(sqlite_url: str, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from archive_helpers import make_article, OTHER_STORY
        from newsarchive.storage import Archive
        from newsarchive.storage import save

        original = save.BatchWriter._replace_links
        def write_links_then_die(self, *args):
            # articles, versions, bands and topics of the batch are written by now
            original(self, *args)
            os.kill(os.getpid(), signal.SIGKILL)
        save.BatchWriter._replace_links = write_links_then_die
        archive = Archive({sqlite_url!r})
        archive.save_batch([make_article(n, body=OTHER_STORY + str(n)) for n in range(1, 6)])
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120, check=False)
    assert done.returncode == -9, done.stderr.decode()
    with Archive(sqlite_url) as archive:
        with archive.engine.connect() as conn:
            for table in ("articles", "article_versions", "topics", "url_state", "neardup_keys", "links"):
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # the next run completes the work
        results = archive.save_batch([make_article(n, body=OTHER_STORY + str(n)) for n in range(1, 6)])
        assert [r.outcome for r in results] == ["new"] * 5


def test_a_failing_article_rolls_back_its_whole_batch(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsarchive.storage import save

    def fail_late(self: save.BatchWriter, *args: object) -> None:
        raise RuntimeError("simulated failure after the rows were written")

    monkeypatch.setattr(save.BatchWriter, "_url_states", fail_late)
    with pytest.raises(RuntimeError):
        archive.save_batch([make_article(n, body=f"{OTHER_STORY} {n}") for n in (1, 2, 3)])
    assert list(archive.iter_articles()) == []
    assert archive.search("snowfall") == []
    elapsed = time.monotonic()
    monkeypatch.undo()
    assert [r.outcome for r in archive.save_batch([make_article(n, body=f"{OTHER_STORY} {n}")
                                                   for n in (1, 2, 3)])] == ["new"] * 3
    assert time.monotonic() - elapsed < 60


def test_concurrent_writers_lose_nothing(db_url: str) -> None:
    """Two writers (own engines, like two crawl processes) saving overlapping batches at once."""
    Archive(db_url).close()
    outcomes: list[str] = []

    def writer(offset: int) -> None:
        with Archive(db_url, lock_attempts=8) as archive:
            for start in range(0, 40, 8):
                # both writers save articles 10..29: the same new keys race each other
                batch = [make_article(n, body=f"{OTHER_STORY} story {n}")
                         for n in range(offset + start, offset + start + 8)]
                outcomes.extend(r.outcome for r in archive.save_batch(batch))

    assert run_writers(writer, (0, 10)) == []
    with Archive(db_url) as archive:
        assert archive.count_articles() == 50
    assert outcomes.count("new") == 50
    assert outcomes.count("unchanged") == 30


def test_archive_from_a_newer_newsarchive_is_refused_clearly(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive, archive.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(StorageError, match="schema revision 9999_future, newer than this version"):
        Archive(sqlite_url)


def test_an_existing_database_keeps_its_page_size(tmp_path: Path) -> None:
    # the 16 KB page size is for new files only: an archive made with 4 KB pages opens as it is
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA page_size = 4096")
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("CREATE TABLE unrelated (x INTEGER)")
    with Archive(f"sqlite:///{path}") as archive:
        assert archive.save_batch([make_article(1)])[0].outcome == "new"
        with archive.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096


def test_a_writing_connection_gets_the_large_page_cache_and_readers_keep_the_default(
        sqlite_url: str) -> None:
    Archive(sqlite_url).close()  # created and migrated: opening it again writes nothing
    with Archive(sqlite_url) as archive:
        def cache_size(conn: sa.Connection) -> int:
            return int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

        with archive.engine.connect() as reader:
            assert cache_size(reader) == -2000  # SQLite's default, 2 MB
            assert archive.write(cache_size) == -engines.WRITE_CACHE_KIB
            # set once per connection (the pool's other one: the reader is still checked out)
            assert archive.write(cache_size) == -engines.WRITE_CACHE_KIB
            assert cache_size(reader) == -2000
