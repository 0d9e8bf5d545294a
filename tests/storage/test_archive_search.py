"""Full-text search: the query language, clear errors, and hostile input through every filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, make_article

from newsarchive.storage import Archive, SearchQueryError
from newsarchive.storage.search import fts5_expression, parse_query

HOSTILE = [
    "'", '"', "';", "'; DROP TABLE articles; --", "\"; DELETE FROM articles; --", "a OR 1=1",
    "NEAR(a b)", "headline:x", "body : *", "^start", "x*", "(", ")", "AND", "NOT x", "{a b}",
    "%", "_", "\\", "--", "/*", "$1", ":param", "?", "\x00", "москва' OR '1'='1",
]


@pytest.fixture
def filled(archive: Archive) -> Archive:
    archive.save_batch([
        make_article(1, headline="Lavrov meets Cavusoglu in Moscow", topics=["Foreign policy"]),
        make_article(2, headline="Snow closes Siberian airports", body=OTHER_STORY, topics=["Weather"],
                     source="ap"),
        make_article(3, headline="Лавров встретился с коллегой", language="ru",
                     body="Министр иностранных дел России провёл переговоры в Москве с турецким коллегой. "
                          "Стороны обсудили ситуацию в Сирии и торговлю.", topics=["Внешняя политика"]),
    ])
    return archive


def test_words_phrases_or_and_exclusion(filled: Archive) -> None:
    def heads(q: str) -> list[str]:
        return sorted(r["headline"] for r in filled.search(q))

    assert heads("moscow") == ["Lavrov meets Cavusoglu in Moscow"]
    assert heads("MOSCOW ministers") == ["Lavrov meets Cavusoglu in Moscow"]
    assert heads('"closed three airports"') == ["Snow closes Siberian airports"]
    assert heads('"three closed airports"') == []
    assert heads("moscow OR airports") == [
        "Lavrov meets Cavusoglu in Moscow", "Snow closes Siberian airports"]
    assert heads("ministers -ankara") == []
    assert heads("snow -ankara") == ["Snow closes Siberian airports"]
    assert heads("москве") == ["Лавров встретился с коллегой"]
    assert heads("Лавров") == ["Лавров встретился с коллегой"]


def test_results_carry_snippet_score_and_filters(filled: Archive) -> None:
    (hit,) = filled.search("airports", source="ap")
    assert "[airports]" in hit["snippet"]
    assert hit["score"] is not None
    assert filled.search("airports", source="tass") == []
    assert len(filled.search("airports", topic="weather")) == 1
    assert filled.search("airports", since=datetime(2030, 1, 1, tzinfo=UTC)) == []
    assert len(filled.search("ministers OR airports OR москве", limit=2)) == 2


@pytest.mark.parametrize("query", ['"unbalanced', "", "   ", "OR", "a OR", "OR a", "a OR OR b",
                                   "-only", '-"only this"', ";;;", "*"])
def test_broken_queries_raise_one_clear_error(filled: Archive, query: str) -> None:
    with pytest.raises(SearchQueryError, match="search query"):
        filled.search(query)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_through_every_filter(filled: Archive, text: str) -> None:
    before = _table_counts(filled)
    for kwargs in ({"source": text}, {"topic": text}, {"source": text, "topic": text}):
        assert filled.search("moscow", **kwargs) == []  # type: ignore[arg-type]
        assert list(filled.iter_articles(**kwargs)) == []  # type: ignore[arg-type]
        assert filled.count_articles(**kwargs) == 0  # type: ignore[arg-type]
    try:
        results = filled.search(text)
    except SearchQueryError:
        results = []
    # whatever matched, it matched as words: nothing was executed, nothing changed
    assert all("headline" in r for r in results)
    assert filled.stats(source=text)["days"] == []
    assert filled.url_states([f"https://tass.com/{text}"]) == {}
    assert _table_counts(filled) == before


def _table_counts(archive: Archive) -> dict[str, int]:
    with archive.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("articles", "article_versions", "topics", "sources", "url_state")}


def test_fts5_expression_quotes_every_word() -> None:
    expr = fts5_expression(parse_query('a "b c" OR d -e NEAR'))
    assert expr == '("a" AND "b c") OR ("d" AND "NEAR" NOT "e")'


def test_a_query_matching_more_than_the_cap_ranks_only_the_newest(
    filled: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsarchive.storage import search

    newest = filled.save_batch([make_article(4, headline="Moscow airports reopen", body=OTHER_STORY)])[0]
    both = filled.search("airports")
    assert len(both) == 2
    assert newest.article_id in {r["article_id"] for r in both}
    monkeypatch.setattr(search, "RANK_CAP", 1)
    assert [r["article_id"] for r in filled.search("airports")] == [newest.article_id]
    # the filters apply before the cap: the older match is still found within its source
    (older,) = filled.search("airports", source="ap")
    assert older["article_id"] != newest.article_id
    assert filled.search("ministers")
    assert not filled.search("ministers", since=datetime(2030, 1, 1, tzinfo=UTC))
