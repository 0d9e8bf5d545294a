"""The archive in Datasette (its Python test client, no network): search on the view and the
table, facets, the canned queries; and `newsarchive browse` failing clearly."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from archive_helpers import OTHER_STORY, make_article
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.cli.browse_cmd import datasette_metadata
from newsarchive.storage import Archive

datasette_app = pytest.importorskip("datasette.app", reason="datasette (the dev extra) not installed")


@pytest.fixture
def archived(tmp_path: Path) -> Path:
    path = tmp_path / "news.sqlite"
    with Archive(f"sqlite:///{path}") as archive:
        archive.save_batch([
            make_article(1, wire="Reuters"),
            make_article(2, wire="AP", source="ap", url="https://apnews.com/article/2",
                         topics=["Energy"]),
            make_article(3, body=OTHER_STORY, headline="Snow closes airports in Siberia"),
        ])
        # a second text of the first story: search must find the current one only
        archive.save_batch([make_article(1, wire="Reuters", body="Ceasefire talks resumed in Geneva.")])
    return path


def get(path: Path, url: str) -> Any:
    async def fetch() -> Any:
        ds = datasette_app.Datasette([str(path)], metadata=datasette_metadata(path.stem))
        response = await ds.client.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(fetch())


def test_search_on_the_view_finds_current_texts(archived: Path) -> None:
    found = get(archived, "/news/current_articles.json?_search=airports&_shape=objects")
    assert [r["headline"] for r in found["rows"]] == ["Snow closes airports in Siberia"]
    # article 1's first text spoke of refugees too; its current one does not
    found = get(archived, "/news/current_articles.json?_search=refugees&_shape=objects")
    assert [(r["article_id"], r["wire"]) for r in found["rows"]] == [(2, "AP")]
    found = get(archived, "/news/current_articles.json?_search=geneva&_shape=objects")
    assert [r["body"] for r in found["rows"]] == ["Ceasefire talks resumed in Geneva."]


def test_search_on_the_versions_table_is_detected(archived: Path) -> None:
    from datasette.utils import detect_fts

    with sqlite3.connect(archived) as conn:
        assert detect_fts(conn, "article_versions") == "articles_fts"
    found = get(archived, "/news/article_versions.json?_search=geneva&_shape=objects")
    assert [r["article_id"] for r in found["rows"]] == [1]
    # the index holds current versions only: article 1's first text is not found
    found = get(archived, "/news/article_versions.json?_search=refugees&_shape=objects")
    assert [r["article_id"] for r in found["rows"]] == [2]


def test_sqlite_utils_detects_the_index_too(archived: Path) -> None:
    sqlite_utils = pytest.importorskip("sqlite_utils")
    assert sqlite_utils.Database(archived)["article_versions"].detect_fts() == "articles_fts"


def test_facets_on_source_wire_language_and_topics(archived: Path) -> None:
    data = get(archived, "/news/current_articles.json?_shape=objects")
    facets = data["facet_results"]
    facets = facets.get("results", facets)  # Datasette 1.0 nests them
    counts = {name: {v["value"]: v["count"] for v in facet["results"]} for name, facet in facets.items()}
    assert counts["source"] == {"tass": 2, "ap": 1}
    assert counts["wire"] == {"Reuters": 1, "AP": 1}
    assert counts["topics"]["Foreign policy"] == 2
    assert counts["topics"]["Energy"] == 1


def test_canned_queries_run(archived: Path) -> None:
    per_day = get(archived, "/news/articles_per_day.json?_shape=objects")["rows"]
    # the chart link's extra parameter (it makes the browser load the page, so datasette-vega
    # reads its state from the fragment) does not change the query
    assert get(archived, "/news/articles_per_day.json?_shape=objects&_chart=line")["rows"] == per_day
    assert sum(r["articles"] for r in per_day) == 3
    assert {r["source"] for r in per_day} == {"tass", "ap"}
    assert all(len(r["day"]) == 10 for r in per_day)
    story = get(archived, "/news/story_versions.json?_shape=objects&story=https://tass.com/politics/1001")
    assert [r["origin"] for r in story["rows"]] == ["crawl", "crawl"]
    assert story["rows"][-1]["body"] == "Ceasefire talks resumed in Geneva."
    by_id = get(archived, "/news/story_versions.json?_shape=objects&story=1")
    assert by_id["rows"] == story["rows"]
    wires = get(archived, "/news/wire_copy.json?_shape=objects")["rows"]
    assert {(r["wire"], r["source"], r["articles"]) for r in wires} == {
        ("Reuters", "tass", 1), ("AP", "ap", 1)}
    get(archived, "/news/largest_clusters.json?_shape=objects")
    # the story queries (their results are checked on both databases in test_story.py)
    # (articles 1 and 2 were near-duplicates when saved: one story, at tass and ap)
    stories = get(archived, "/news/stories_by_outlets.json?_shape=objects")["rows"]
    assert [(r["outlets"], r["copies"], r["earliest_id"]) for r in stories] == [(2, 2, 1)]
    copies = get(archived, "/news/story_copies.json?_shape=objects&story=2")["rows"]
    assert [(r["article_id"], r["earliest"], r["copy_of"]) for r in copies] == [(1, "*", None), (2, "", 1)]


def test_browse_fails_clearly_without_an_archive_or_on_postgresql(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["browse", "--db", f"sqlite:///{tmp_path}/none.sqlite"])
    assert missing.exit_code == 1
    assert "no archive at" in missing.output
    assert not (tmp_path / "none.sqlite").exists()
    pg = runner.invoke(main, ["browse", "--db", "postgresql+psycopg://u:secret@localhost/x"])
    assert pg.exit_code == 1
    assert "SQLite files only" in pg.output
    assert "secret" not in pg.output


def test_browse_metadata_is_named_for_the_archive_file(archived: Path) -> None:
    result = CliRunner().invoke(main, ["browse", "--db", f"sqlite:///{archived}", "--metadata-only"])
    assert result.exit_code == 0, result.output
    assert '"news": {' in result.output
    assert "articles_per_day" in result.output


def test_browse_settings_are_accepted_by_datasette_serve(archived: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from datasette.cli import serve

    from newsarchive.cli.browse_cmd import LIMITS

    meta = tmp_path / "metadata.json"
    meta.write_text(json.dumps(datasette_metadata(archived.stem)), encoding="utf-8")
    # --get answers one request without starting a server: the command line browse runs
    with pytest.raises(SystemExit) as done:
        serve.main([str(archived), "--metadata", str(meta), *LIMITS, "--get", "/-/settings.json"],
                   standalone_mode=False)
    assert done.value.code == 0
    settings = json.loads(capsys.readouterr().out)
    assert settings["sql_time_limit_ms"] == 30000
    assert settings["facet_time_limit_ms"] == 1000
