"""The levelled near-duplicate band index: compaction keeps every key findable, on both databases."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import sqlalchemy as sa
from archive_helpers import make_article, run_writers

from newsarchive.article import Article
from newsarchive.storage import Archive, bands
from newsarchive.storage.save import BatchWriter, SaveResult

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
    # and a filter that fills up after a few merges, so it is rebuilt larger along the way
    monkeypatch.setattr(bands, "FILTER_MIN_KEYS", 60)


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


def _random_keys(seed: int, count: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(64) - (1 << 63) for _ in range(count)]


def test_bloom_filter_keeps_every_key_and_passes_few_others() -> None:
    keys = _random_keys(1, 20_000)
    bloom = bands.BloomFilter.sized_for(len(keys))
    bloom.add(keys)
    assert all(k in bloom for k in keys)
    others = _random_keys(2, 50_000)
    passed = sum(k in bloom for k in others) / len(others)
    assert passed < 0.035  # ~2.4% expected at capacity (12 bits per key, see BloomFilter)
    empty = bands.BloomFilter.sized_for(10)
    assert empty.keys == 0
    assert not empty.filter(keys[:100])


def _upper_keys(archive: Archive) -> list[int]:
    with archive.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT band_key FROM neardup_bands WHERE level > 0")).scalars())


@pytest.mark.usefixtures("small_levels")
def test_the_filter_holds_every_key_of_the_upper_levels_through_merges_and_rebuilds(archive: Archive) -> None:
    capacities = set()
    for start in range(0, 120, 4):
        archive.save_batch([_article(n) for n in range(start, start + 4)])
        with archive.engine.connect() as conn:
            bloom = bands.current_filter(conn)[1]
        if bloom is not None:
            capacities.add(bloom.capacity)
            assert all(k in bloom for k in _upper_keys(archive))
    assert len(capacities) >= 3  # built, then rebuilt larger at least twice
    assert len(_levels(archive)) >= 3


@pytest.mark.usefixtures("small_levels")
def test_upper_levels_are_sought_only_for_keys_the_filter_may_hold(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill_until_three_levels(archive)
    sought: dict[tuple[int, ...], int] = {}
    real = bands._rows

    def spy(conn: sa.Connection, in_use: list[int], chunk: list[int]) -> object:
        sought[tuple(in_use)] = sought.get(tuple(in_use), 0) + len(chunk)
        return real(conn, in_use, chunk)

    monkeypatch.setattr(bands, "_rows", spy)
    absent = _random_keys(3, 2_000)
    present = _upper_keys(archive)[:50]
    with archive.engine.connect() as conn:
        found = bands.lookup(conn, absent + present)
    assert set(found) == set(present)
    upper = sum(n for levels, n in sought.items() if 0 not in levels)
    assert sought[(0,)] == len(absent) + len(present)  # level 0 is sought for every key
    assert len(present) <= upper < len(present) + 0.1 * len(absent)


@pytest.mark.usefixtures("small_levels")
@pytest.mark.parametrize(("log_rows", "min_keys"), [(1000, 100_000), (1, 60)],
                         ids=["from-the-log", "reloaded"])
def test_a_process_holding_an_older_filter_reads_the_new_one(
        archive: Archive, monkeypatch: pytest.MonkeyPatch, log_rows: int, min_keys: int) -> None:
    # from-the-log: merges only append to the log, so the older copy is brought up to date from
    # it; reloaded: every merge rewrites the filter row, so the older copy is replaced
    monkeypatch.setattr(bands, "FILTER_LOG_ROWS", log_rows)
    monkeypatch.setattr(bands, "FILTER_MIN_KEYS", min_keys)
    saved = _fill_until_three_levels(archive)
    with archive.engine.connect() as conn:
        read, bloom = bands.current_filter(conn)
    assert bloom is not None
    snapshot = bands.BloomFilter.from_bytes(bloom.to_bytes(), bloom.capacity, bloom.keys)
    stale = bands._Copy(read[0], list(read[1]), snapshot)  # type: ignore[arg-type]
    more = archive.save_batch([_article(n) for n in range(len(saved), len(saved) + 40)])
    with archive.engine.connect() as conn:
        now = bands.signature(conn)
    assert now != read  # later merges changed the filter
    assert (now[0] == read[0]) == (log_rows > 1)
    # an article those merges moved up, none of whose keys the older filter holds
    with archive.engine.connect() as conn:
        keys_of: dict[int | None, list[tuple[int, int]]] = {r.article_id: [] for r in more}
        rows = conn.execute(sa.text("SELECT article_id, level, band_key FROM neardup_bands"))
        for article_id, level, key in rows:
            if article_id in keys_of:
                keys_of[article_id].append((level, key))
    moved = [i for i, r in enumerate(more)
             if all(level > 0 and key not in stale.bloom for level, key in keys_of[r.article_id])]
    assert moved
    # as if another process had done those merges: this one still holds the filter it read
    bands._filters[archive.engine.url.render_as_string()] = stale
    source = _article(len(saved) + moved[0])
    copy = replace(source, url="https://outlet.example/late-copy", source="outlet", headline="Republished",
                   body=source.body + "\n\nThe outlet added this line.")
    [result] = archive.save_batch([copy])
    assert result.cluster_id == more[moved[0]].cluster_id
    with archive.engine.connect() as conn:  # and its copy now matches what is stored
        held = bands._filters[archive.engine.url.render_as_string()]
        assert (held.token, tuple(held.log)) == bands.signature(conn)
        assert held.bloom.filter(_upper_keys(archive)) == _upper_keys(archive)


@pytest.mark.usefixtures("small_levels")
def test_merges_append_to_the_log_and_every_few_rewrite_the_filter(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bands, "FILTER_LOG_ROWS", 3)
    monkeypatch.setattr(bands, "FILTER_MIN_KEYS", 100_000)  # no rebuild: only the log's doing
    lengths, tokens = [], set()
    for start in range(0, 80, 2):
        archive.save_batch([_article(n) for n in range(start, start + 2)])
        bands._filters.clear()  # what another process would read
        with archive.engine.connect() as conn:
            (token, log), bloom = bands.current_filter(conn)
        if bloom is None:
            continue
        lengths.append(len(log))
        tokens.add(token)
        assert bloom.filter(_upper_keys(archive)) == _upper_keys(archive)
    assert max(lengths) == 3
    assert 0 in lengths[1:]  # the log was folded into the filter row
    assert len(tokens) >= 3  # which was rewritten only then


@pytest.mark.usefixtures("small_levels")
def test_a_merge_rolled_back_is_not_trusted_by_the_process_that_made_it(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # this process's merge rolls back after its copy took the keys of log row n; another
    # process then commits a merge under the same row number, with other keys: the copy must
    # not take that row for the one it holds
    monkeypatch.setattr(bands, "FILTER_MIN_KEYS", 100_000)
    with Archive(sqlite_url) as archive:
        _fill_until_three_levels(archive)
        database = archive.engine.url.render_as_string()
        with archive.engine.connect() as conn:
            before = bands.signature(conn)

        def merge_then_fail(conn: sa.Connection) -> None:
            BatchWriter(conn).save_all([_article(n) for n in range(500, 520)])
            assert len(bands.signature(conn)[1]) > len(before[1])  # the merge logged its keys
            raise RuntimeError("the batch fails after its merge")

        with pytest.raises(RuntimeError):
            archive.write(merge_then_fail)
        mistaken = bands._filters.pop(database)
        archive.save_batch([_article(n) for n in range(600, 620)])  # the other process
        with archive.engine.connect() as conn:
            after = bands.signature(conn)
        assert after[0] == before[0]
        assert [seq for seq, _ in after[1]][: len(mistaken.log)] == [seq for seq, _ in mistaken.log]
        bands._filters[database] = mistaken
        with archive.engine.connect() as conn:
            bloom = bands.current_filter(conn)[1]
        assert bloom is not None
        assert bloom.filter(_upper_keys(archive)) == _upper_keys(archive)


def test_an_archive_upgraded_without_a_filter_still_finds_copies_in_upper_levels(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Archive(db_url) as archive:
        archive.save_batch([_article(n) for n in range(8)])
        with archive.engine.begin() as conn:
            conn.execute(sa.text("UPDATE neardup_bands SET level = 2"))  # as 0005 may leave a big index
            conn.execute(sa.text("DELETE FROM neardup_filter"))
        copy = replace(_article(5), url="https://outlet.example/copy", headline="Copy",
                       body=_story(5) + "\n\nAdded.")
        [result] = archive.save_batch([copy])
        assert result.cluster_id == archive.save_batch([_article(5)])[0].cluster_id
        # the next merge builds the filter from the upper levels' keys
        monkeypatch.setattr(bands, "LEVEL0_ROWS", 5)
        archive.save_batch([_article(n) for n in range(20, 22)])
        with archive.engine.connect() as conn:
            bloom = bands.current_filter(conn)[1]
        assert bloom is not None
        assert all(k in bloom for k in _upper_keys(archive))


@pytest.mark.usefixtures("small_levels")
def test_concurrent_writers_merging_levels_keep_the_filter_whole(db_url: str) -> None:
    # two writers (own engines, like two crawl processes) both merge level 0 into the filter;
    # PostgreSQL serialises them on the filter's row lock, SQLite on its write lock
    Archive(db_url).close()

    def writer(offset: int) -> None:
        with Archive(db_url, lock_attempts=8) as archive:
            for start in range(offset, offset + 40, 4):
                archive.save_batch([_article(n) for n in range(start, start + 4)])

    assert run_writers(writer, (0, 100)) == []
    with Archive(db_url) as archive:
        levels = _levels(archive)
        assert sum(levels.values()) == 80 * 10  # every key of every article, once
        assert max(levels) >= 2  # merges went past level 1
        bands._filters.clear()  # read the stored filter, not this process's copy
        with archive.engine.connect() as conn:
            bloom = bands.current_filter(conn)[1]
        assert bloom is not None
        assert bloom.filter(_upper_keys(archive)) == _upper_keys(archive)
