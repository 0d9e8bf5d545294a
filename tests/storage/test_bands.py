"""The levelled near-duplicate band index: compaction keeps every key findable, on both databases."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import sqlalchemy as sa
from archive_helpers import make_article

from newsarchive.article import Article
from newsarchive.storage import Archive, bands
from newsarchive.storage import engine as engines
from newsarchive.storage.save import SaveResult

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _story(seed: int, words: int = 120) -> str:
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices(SYLLABLES, k=3)) for _ in range(3000)]
    sentences = [" ".join(rng.choices(vocabulary, k=12)).capitalize() + "." for _ in range(words // 12)]
    return "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))


def _article(n: int) -> Article:
    return make_article(n, url=f"https://tass.com/world/{5000 + n}", body=_story(n), topics=[])


def _levels(archive: Archive) -> dict[int, int]:
    with archive.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT level, count(*) FROM neardup_bands GROUP BY level")).all())


def _fill_until_three_levels(archive: Archive) -> list[SaveResult]:
    """Save two articles at a time until three levels hold keys (bounded: compaction must get there)."""
    saved: list[SaveResult] = []
    for start in range(0, 200, 2):
        saved += archive.save_batch([_article(n) for n in range(start, start + 2)])
        if len(_levels(archive)) >= 3:
            return saved
    raise AssertionError(f"200 articles never filled three levels: {_levels(archive)}")


@pytest.fixture
def small_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    # capacities of 40, 80, 160 ... rows (4, 8, 16 articles) so a few dozen articles use 3+ levels
    monkeypatch.setattr(bands, "LEVEL0_ROWS", 40)
    monkeypatch.setattr(bands, "LEVEL_GROWTH", 2)


@pytest.mark.usefixtures("small_levels")
def test_compaction_moves_keys_down_and_loses_none(archive: Archive) -> None:
    saved = _fill_until_three_levels(archive)
    levels = _levels(archive)
    assert all(rows <= bands.capacity(level) for level, rows in levels.items())
    assert sum(levels.values()) == len(saved) * 10  # ten distinct keys per article, none lost or doubled
    with archive.engine.connect() as conn:
        assert bands.levels(conn) == sorted(levels)  # lookups read exactly the levels holding keys


@pytest.mark.usefixtures("small_levels")
def test_copies_of_articles_in_every_level_are_found(archive: Archive) -> None:
    saved = _fill_until_three_levels(archive)
    with archive.engine.connect() as conn:
        level_of = dict(conn.execute(sa.text(
            "SELECT article_id, max(level) FROM neardup_bands GROUP BY article_id")).all())
    # one copy of an article from each level, republished elsewhere with a sentence added
    firsts = {}
    for result in saved:
        firsts.setdefault(level_of[result.article_id], result)
    assert len(firsts) >= 3
    copies = []
    for i, original in enumerate(firsts.values()):
        n = original.article_id
        source = _article([r.article_id for r in saved].index(n))
        copies.append(replace(source, url=f"https://outlet.example/copy/{i}", source="outlet",
                              headline="Republished", body=source.body + "\n\nThe outlet added this line."))
    results = archive.save_batch(copies)
    assert [r.outcome for r in results] == ["new"] * len(copies)
    assert [r.cluster_id for r in results] == [r.cluster_id for r in firsts.values()]


@pytest.mark.usefixtures("small_levels")
def test_an_updated_article_leaves_no_stale_keys_in_any_level(archive: Archive) -> None:
    for start in range(0, 30, 5):
        archive.save_batch([_article(n) for n in range(start, start + 5)])
    first = _article(0)
    [result] = archive.save_batch([replace(first, body=_story(999))])
    assert result.outcome == "updated"
    with archive.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT level, band_key FROM neardup_bands WHERE article_id = :a"),
                            {"a": result.article_id}).all()
    assert len(keys) == 10
    assert {level for level, _ in keys} == {0}  # the old text's keys went, wherever they were


def test_upgrade_puts_existing_keys_in_a_level_that_holds_them(db_url: str) -> None:
    with Archive(db_url) as archive:
        archive.save_batch([_article(n) for n in range(8)])
        engines.downgrade(archive.engine, "0004")
        with archive.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM neardup_bands")).scalar_one() == 80
        engines.upgrade(archive.engine)
        assert _levels(archive) == {0: 80}
        # and the index still finds a copy of an archived story
        copy = replace(_article(3), url="https://outlet.example/copy", headline="Copy",
                       body=_story(3) + "\n\nAdded.")
        [result] = archive.save_batch([copy])
        original = archive.save_batch([_article(3)])[0]
        assert result.cluster_id == original.cluster_id


def test_lookups_seek_the_primary_key_never_scan(sqlite_url: str) -> None:
    # the levelled table is keyed (level, band_key, article_id): a lookup that forgot the
    # levels would scan every key of a million-article archive for each batch
    with Archive(sqlite_url) as archive:
        archive.save_batch([_article(n) for n in range(3)])
        plans: list[str] = []
        with archive.engine.connect() as conn:
            real = conn.exec_driver_sql

            def explain(sql: str, params: object = None) -> object:
                if sql.lstrip().upper().startswith("SELECT BAND_KEY"):
                    plans.extend(str(row[-1]) for row in real("EXPLAIN QUERY PLAN " + sql, params).all())
                return real(sql, params)

            conn.exec_driver_sql = explain  # type: ignore[method-assign]
            found = bands.lookup(conn, [1, 2, 3])
        assert found == {}
        assert plans
        assert all("USING PRIMARY KEY" in plan for plan in plans), plans
