"""db check: an archive damaged in each way is reported, and repaired where it can be rebuilt."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, make_article
from click.testing import CliRunner

from newsarchive.article import FetchInfo
from newsarchive.capture import WarcWriter
from newsarchive.cli import main
from newsarchive.storage import Archive
from newsarchive.storage.check import CheckResult, check_archive

Damage = Callable[[sa.Connection], None]


@pytest.fixture
def filled(archive: Archive, tmp_path: Path) -> Archive:
    """Four articles: raw responses in tmp_path/warc, read-also links between them, a near-duplicate
    pair (1 and 3), an edited one (two versions) and one without a WARC pointer."""
    articles = []
    with WarcWriter(tmp_path / "warc") as writer:
        for n, body in ((1, None), (2, OTHER_STORY), (3, None)):
            article = make_article(n, read_also=[{"title": "Earlier", "url": "https://tass.com/politics/1001"},
                                                 {"title": "Not archived", "url": "https://tass.com/x/9"}])
            if body:
                article.body = body
            ref = writer.write_response(article.url, status=200, headers=[("Content-Type", "text/html")],
                                        body=f"<html>{n}</html>".encode())
            article.fetch = FetchInfo(status=200, warc_file=ref.file, warc_offset=ref.offset,
                                      warc_length=ref.length)
            articles.append(article)
    archive.save_batch(articles)
    archive.save_batch([make_article(4, body="An early text of the fourth story, later edited. " * 5)])
    archive.save_batch([make_article(4, body="The edited text of the fourth story, as it stands. " * 5)])
    return archive


def check(archive: Archive, tmp_path: Path, repair: bool = False) -> CheckResult:
    return check_archive(archive.engine, warc_directory=tmp_path / "warc", repair=repair)


def kinds(result: CheckResult) -> list[str]:
    return sorted(p.kind for p in result.problems)


def damage(archive: Archive, *statements: str) -> None:
    with archive.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_a_whole_archive_checks_clean_with_counts(filled: Archive, tmp_path: Path) -> None:
    result = check(filled, tmp_path)
    assert result.problems == []
    assert result.counts["articles"] == 4
    assert result.counts["article_versions"] == 5
    assert result.counts["links"] == 6
    assert result.counts["neardup_keys"] > 0
    if filled.dialect == "sqlite":
        assert result.counts["articles_fts (indexed)"] == 4
    with filled.engine.connect() as conn:  # the near-duplicate pair shares a cluster
        clusters = dict(conn.exec_driver_sql("SELECT id, cluster_id FROM articles").all())
    assert clusters[1] == clusters[3] == 1


def test_missing_current_version_is_reported_and_repaired(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "UPDATE articles SET current_version_id = NULL WHERE id = 4")
    result = check(filled, tmp_path)
    # SQLite's full-text index still holds the version the pointer named
    expected = ["current_version", "fts"] if filled.dialect == "sqlite" else ["current_version"]
    assert kinds(result) == expected
    assert result.problems[0].examples == ["https://tass.com/politics/1004"]
    repaired = check(filled, tmp_path, repair=True)
    assert repaired.problems == []
    assert repaired.repaired[0].startswith("current_version: 1 article(s)")
    fourth = next(r for r in filled.iter_articles() if r["article_id"] == 4)
    assert fourth["body"].startswith("The edited text")


def test_current_version_of_another_article_is_reported(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "UPDATE articles SET current_version_id = (SELECT current_version_id FROM articles "
                   "WHERE id = 2) WHERE id = 1")
    result = check(filled, tmp_path)
    assert "current_version" in kinds(result)
    assert "belongs to another article" in " ".join(p.message for p in result.problems)
    assert check(filled, tmp_path, repair=True).problems == []


def test_full_text_index_out_of_step_is_reported_and_rebuilt(filled: Archive, tmp_path: Path) -> None:
    if filled.dialect == "sqlite":
        damage(filled,
               # a current version taken out, the old text of the edited article put back in
               "INSERT INTO articles_fts(articles_fts, rowid, headline, body) SELECT 'delete', v.id, "
               "coalesce(v.headline, ''), v.body FROM article_versions v JOIN articles a "
               "ON a.current_version_id = v.id WHERE a.id = 2",
               "INSERT INTO articles_fts(rowid, headline, body) "
               "SELECT v.id, coalesce(v.headline, ''), v.body FROM article_versions v "
               "WHERE v.article_id = 4 AND v.id NOT IN (SELECT current_version_id FROM articles)")
        messages = [p.message for p in check(filled, tmp_path).problems]
        assert messages == ["current version(s) not in the full-text index",
                            "version(s) in the full-text index that are not current"]
        assert filled.search("snowfall") == []
    else:
        damage(filled, "DROP INDEX ix_article_versions_search")
        assert kinds(check(filled, tmp_path)) == ["fts"]
    repaired = check(filled, tmp_path, repair=True)
    assert repaired.problems == []
    assert [r["article_id"] for r in filled.search("snowfall")] == [2]
    assert filled.search('"early text"') == []


def test_a_broken_full_text_structure_is_reported_and_rebuilt(sqlite_url: str, tmp_path: Path) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch([make_article(n) for n in range(1, 30)])
        damage(archive, "DELETE FROM articles_fts_data WHERE id = (SELECT max(id) FROM articles_fts_data)")
        result = check_archive(archive.engine, check_warc=False)
        assert [p.message for p in result.problems] == [
            "the full-text index's structure is damaged (database disk image is malformed)"]
        assert check_archive(archive.engine, check_warc=False, repair=True).problems == []
        assert len(archive.search("ministers")) == 20


def test_a_crawl_writing_meanwhile_leaves_a_note_not_a_problem(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch([make_article(1)])
    with Archive(sqlite_url, busy_timeout=0.1) as archive:
        writer = sqlite3.connect(archive.engine.url.database or "", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            result = check_archive(archive.engine, check_warc=False)
        finally:
            writer.rollback()
            writer.close()
    assert result.problems == []
    assert result.notes == ["the full-text index's structure was not checked: the archive was being written"]


def test_links_lost_or_unresolved_are_reported_and_rebuilt(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "DELETE FROM links WHERE from_article_id = 1",
           "UPDATE links SET to_article_id = NULL WHERE from_article_id = 2")
    result = check(filled, tmp_path)
    assert kinds(result) == ["links"]
    assert result.problems[0].count == 2
    before = check(filled, tmp_path, repair=True)
    assert before.problems == []
    assert before.repaired == ["links: 4 link(s) of 2 article(s) rebuilt"]
    with filled.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT from_article_id, to_url, to_article_id FROM links "
                                    "WHERE from_article_id IN (1, 2) ORDER BY 1, 2").all()
    first, missing = "https://tass.com/politics/1001", "https://tass.com/x/9"
    assert [tuple(r) for r in rows] == [(1, first, 1), (1, missing, None), (2, first, 1), (2, missing, None)]


def test_topics_out_of_step_are_reported_and_rebuilt(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "DELETE FROM article_topics WHERE article_id = 3")
    assert kinds(check(filled, tmp_path)) == ["topics"]
    assert check(filled, tmp_path, repair=True).problems == []
    assert [r["headline"] for r in filled.iter_articles(topic="syrian conflict")] == [
        f"Ministers meet in Moscow, round {n}" for n in (1, 2, 3, 4)]


def test_near_duplicate_tables_out_of_step_are_reported_and_rebuilt(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "UPDATE articles SET simhash = 12345 WHERE id = 2",
           "DELETE FROM neardup_keys WHERE article_id = 3",
           "UPDATE articles SET cluster_id = 999 WHERE id = 4")
    result = check(filled, tmp_path)
    assert [(p.kind, p.count) for p in result.problems] == [("neardup", 1)] * 3
    assert check(filled, tmp_path, repair=True).problems == []
    # the restored keys find the near-duplicate again: a new copy of story 1 joins its cluster
    (saved,) = filled.save_batch([make_article(1, url="https://tass.com/world/77",
                                               body=make_article(3).body + " One more sentence here.")])
    assert saved.cluster_id == 1


def test_unreadable_warc_pointers_are_reported_not_repaired(filled: Archive, tmp_path: Path) -> None:
    (warc_file,) = (tmp_path / "warc").glob("*.warc.gz")
    damage(filled, "UPDATE article_versions SET warc_offset = warc_offset + 7 WHERE article_id = 1",
           "UPDATE article_versions SET warc_file = 'gone.warc.gz' WHERE article_id = 2",
           # the record of article 2 at article 3's pointer: opens, but it is another page
           "UPDATE article_versions SET warc_offset = (SELECT warc_offset FROM article_versions "
           "WHERE article_id = 1) - 7 WHERE article_id = 3")
    result = check(filled, tmp_path, repair=True)
    assert [(p.kind, p.count, p.repairable) for p in result.problems] == [("warc", 3, False)]
    text = " ".join(result.problems[0].examples)
    assert "gone.warc.gz" in text
    assert "is https://tass.com/politics/1001, not https://tass.com/politics/1003" in text
    assert warc_file.exists()


def test_orphan_rows_are_reported(filled: Archive, tmp_path: Path) -> None:
    if filled.dialect == "sqlite":
        # another program, writing without SQLite's foreign-key enforcement
        raw = sqlite3.connect(filled.engine.url.database or "")
        raw.execute("DELETE FROM topics WHERE key = 'syrian conflict'")
        raw.commit()
        raw.close()
    else:
        with filled.engine.begin() as conn:
            name = conn.execute(sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'article_topics'::regclass "
                "AND contype = 'f' AND pg_get_constraintdef(oid) LIKE '%topics(id)%'")).scalar_one()
            conn.exec_driver_sql(f'ALTER TABLE article_topics DROP CONSTRAINT "{name}"')
            conn.exec_driver_sql("DELETE FROM topics WHERE key = 'syrian conflict'")
    result = check(filled, tmp_path)
    fk = [p for p in result.problems if p.kind == "foreign_keys"]
    assert [(p.message, p.count) for p in fk] == [("article_topics.topic_id names a missing topics.id", 4)]


def test_sqlite_integrity_check_failure_is_reported(sqlite_url: str, tmp_path: Path) -> None:
    with Archive(sqlite_url) as archive:
        archive.save_batch([make_article(n) for n in range(1, 30)])
        with archive.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA writable_schema = ON")
            # two indexes of one table swap their pages: each now disagrees with the table
            pages = dict(conn.exec_driver_sql(
                "SELECT name, rootpage FROM sqlite_master WHERE name IN "
                "('ix_articles_published', 'ix_articles_cluster_id')").all())
            for name, other in (("ix_articles_published", "ix_articles_cluster_id"),
                                ("ix_articles_cluster_id", "ix_articles_published")):
                conn.exec_driver_sql("UPDATE sqlite_master SET rootpage = ? WHERE name = ?",
                                     (pages[other], name))
            conn.commit()
    with Archive(sqlite_url) as archive:
        result = check_archive(archive.engine, check_warc=False)
    integrity = [p for p in result.problems if p.kind == "integrity"]
    assert integrity
    assert not integrity[0].repairable
    assert any("ix_articles_" in e for e in integrity[0].examples)


@pytest.mark.postgres
def test_postgres_invalid_index_is_reported(pg_url: str, tmp_path: Path) -> None:
    with Archive(pg_url) as archive:
        archive.save_batch([make_article(n) for n in (1, 2)])
        autocommit = archive.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # a unique index built concurrently over duplicate values fails and stays, invalid
        with autocommit as conn, pytest.raises(sa.exc.IntegrityError):
            conn.exec_driver_sql("CREATE UNIQUE INDEX CONCURRENTLY ix_bad ON articles (source_id)")
        result = check_archive(archive.engine, check_warc=False)
    assert [(p.kind, p.examples) for p in result.problems] == [("integrity", ["ix_bad"])]


def test_the_command_lists_problems_exits_1_and_repairs(filled: Archive, tmp_path: Path) -> None:
    damage(filled, "DELETE FROM article_topics WHERE article_id = 3",
           "UPDATE article_versions SET warc_file = 'gone.warc.gz' WHERE article_id = 2")
    runner = CliRunner()
    env = {"NEWSARCHIVE_WARC_DIR": str(tmp_path / "warc")}
    result = runner.invoke(main, ["db", "check", "--db", filled.url], env=env, catch_exceptions=False)
    assert result.exit_code == 1
    assert "articles " in result.stdout
    assert "article_versions" in result.stdout
    problems = [line for line in result.stderr.splitlines() if line.startswith("PROBLEM")]
    assert problems[0].startswith("PROBLEM 1 topics: article(s) whose topics differ")
    assert problems[1].startswith("PROBLEM 1 warc:")
    assert problems[1].endswith("[not repairable]")
    assert result.stderr.rstrip().endswith("Error: 2 problem(s) found (try --repair)")
    assert "db check: 4/4 articles" in result.stderr
    assert "db check: 3/3 WARC records" in result.stderr
    result = runner.invoke(main, ["db", "check", "--repair", "--db", filled.url], env=env)
    assert result.exit_code == 1  # the WARC pointer stays broken
    assert "repaired topics:" in result.stderr
    assert "topics:" not in "".join(line for line in result.stderr.splitlines() if line.startswith("PROBLEM"))
    result = runner.invoke(main, ["db", "check", "--skip-warc", "--db", filled.url], env=env)
    assert result.exit_code == 0, result.stderr
    assert "no problems found" in result.stderr
    quiet = runner.invoke(main, ["db", "check", "--skip-warc", "--no-progress", "--db", filled.url], env=env)
    assert "db check:" not in quiet.stderr
