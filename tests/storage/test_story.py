"""The story view (issue 20.3): every copy of one story across outlets, its earliest copy, how
much of the longest copy each carries; copy_of in the exports; the canned queries' SQL; the
``newsarchive story`` command. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from archive_helpers import MSK, OTHER_STORY, STORY, body_of, make_article
from click.testing import CliRunner

from newsarchive.cli import main
from newsarchive.cli.browse_cmd import datasette_metadata
from newsarchive.storage import Archive
from newsarchive.storage.export import write_rows

PARAGRAPHS = (
    *STORY.split("\n\n"),  # the shared fixture story, then three more paragraphs
    "A spokeswoman for the Russian foreign ministry told reporters after the meeting that "
    "humanitarian convoys would be allowed to cross the border under the supervision of observers.",
    "Turkish officials said the agreement on monitoring was the most detailed so far and that it "
    "would be presented to the United Nations Security Council later this month.",
    "Analysts in both capitals cautioned that earlier ceasefires had collapsed within weeks and that "
    "much would depend on armed groups that did not take part in the talks.",
)
FULL = body_of(*PARAGRAPHS)
PUBLISHED = datetime(2017, 1, 19, 13, 48, tzinfo=MSK)


def story_articles() -> list[Any]:
    """One Reuters story run by three outlets, plus an unrelated article (saved in two batches)."""
    return [
        # the agency's own copy, published first but stored second
        make_article(1, url="https://www.reuters.com/world/syria-talks-idUS1", source="reuters",
                     wire="Reuters", headline="Russia, Turkey discuss Syria ceasefire",
                     body=FULL, published=PUBLISHED),
        # an outlet's republication: a few words added, so it is the longest copy
        make_article(2, url="https://news.example.org/world/syria-talks", source="news.example.org",
                     wire="Reuters", headline="Moscow talks on Syria",
                     body=FULL.replace("on Thursday", "on Thursday, January 19, said Reuters"),
                     published=PUBLISHED + timedelta(hours=2)),
        # a cut copy (the last paragraph dropped) credited to another agency, no time given
        make_article(3, url="https://tass.com/politics/3", source="tass", wire="TASS",
                     headline="Lavrov, Cavusoglu meet in Moscow", body=body_of(*PARAGRAPHS[:5]),
                     published=None, published_raw=None),
        make_article(4, url="https://tass.com/society/4", body=OTHER_STORY,
                     headline="Snow closes airports in Siberia"),
    ]


def fill(archive: Archive) -> dict[str, int]:
    """Save the story through the normal path (today's near-duplicate matching clusters it)."""
    articles = story_articles()
    first = archive.save_batch([articles[1]])
    rest = archive.save_batch([articles[0], articles[2], articles[3]])
    ids = {"outlet": first[0].article_id, "reuters": rest[0].article_id, "tass": rest[1].article_id,
           "other": rest[2].article_id}
    clusters = [r.cluster_id for r in [*first, *rest]]
    # the real clustering put the three copies together and the other story apart
    assert clusters[0] == clusters[1] == clusters[2] != clusters[3], clusters
    return ids


@pytest.fixture
def filled(archive: Archive) -> tuple[Archive, dict[str, int]]:
    return archive, fill(archive)


def test_case_and_punctuation_do_not_change_containment(archive: Archive) -> None:
    # words are compared as the near-duplicate fingerprint compares them (neardup.shingles)
    shouted = FULL.upper().replace(",", " -")
    saved = archive.save_batch([
        make_article(1, url="https://www.reuters.com/a", source="reuters", body=FULL),
        make_article(2, url="https://tass.com/politics/2", body=shouted),
    ])
    assert saved[1].cluster_id == saved[0].cluster_id
    first, second = archive.story(saved[0].article_id)
    assert (first.contains, second.contains) == (100.0, 100.0)
    assert first.words == second.words == len(FULL.split())
    assert (first.longest, second.longest) == (True, False)  # of equal lengths the earliest


def test_story_lists_every_copy_earliest_first(filled: tuple[Archive, dict[str, int]]) -> None:
    archive, ids = filled
    copies = archive.story(ids["tass"])
    assert [c.article_id for c in copies] == [ids["reuters"], ids["outlet"], ids["tass"]]
    reuters, outlet, tass = copies
    assert [(c.source, c.host, c.wire) for c in copies] == [
        ("reuters", "www.reuters.com", "Reuters"),
        ("news.example.org", "news.example.org", "Reuters"),
        ("tass", "tass.com", "TASS"),
    ]
    # earliest by published time, although stored after the outlet's copy
    assert [c.earliest for c in copies] == [True, False, False]
    assert [c.copy_of for c in copies] == [None, ids["reuters"], ids["reuters"]]
    assert reuters.published is not None
    assert reuters.published.utcoffset() == timedelta(hours=3)
    assert reuters.published.astimezone(UTC) == PUBLISHED.astimezone(UTC)
    assert tass.published is None
    # the outlet's copy is the longest: it carries all of itself, the others most of it
    assert outlet.longest
    assert outlet.contains == 100.0
    assert 90.0 < reuters.contains < 100.0
    # five of six paragraphs of similar length
    assert 78.0 < tass.contains < 86.0
    assert len({c.cluster_id for c in copies}) == 1
    # any copy's id, or its URL, gives the same story; the unrelated article is a story of one
    assert archive.story(ids["reuters"]) == copies
    assert archive.story("https://news.example.org/world/syria-talks") == copies
    alone = archive.story(ids["other"])
    assert [(c.article_id, c.earliest, c.copy_of, c.contains) for c in alone] == [
        (ids["other"], True, None, 100.0)]
    assert archive.story(10_000) == archive.story(1 << 40) == archive.story(1 << 70) == archive.story(0) == []
    assert archive.story("https://nowhere.example.org/x") == []


def test_a_half_copy_reads_about_half(archive: Archive) -> None:
    words = FULL.split()
    saved = archive.save_batch([
        make_article(1, url="https://www.reuters.com/a", source="reuters", body=FULL),
        make_article(2, url="https://tass.com/politics/2", body=" ".join(words[: len(words) // 2])),
    ])
    # the first half is wholly contained in the full text: containment-aware clustering joins it
    assert saved[1].cluster_id == saved[0].cluster_id
    full, half = archive.story(saved[1].article_id)
    assert (full.article_id, full.contains) == (saved[0].article_id, 100.0)
    assert half.article_id == saved[1].article_id
    assert 48.0 <= half.contains <= 50.0


def test_earliest_ties_are_broken_by_first_seen_then_id(archive: Archive) -> None:
    same = PUBLISHED
    later = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    saved = archive.save_batch([
        make_article(1, url="https://a.example.org/1", body=FULL, published=same, fetched_at=later),
        make_article(2, url="https://b.example.org/2", body=FULL + "\n\nEnd.", published=same),
        make_article(3, url="https://c.example.org/3", body=FULL + "\n\nThe end.", published=same),
    ])
    assert len({r.cluster_id for r in saved}) == 1
    copies = archive.story(saved[0].article_id)
    # b and c were first seen before a; of those two, the lower id
    assert [c.article_id for c in copies] == [saved[1].article_id, saved[2].article_id, saved[0].article_id]
    exported = {r["article_id"]: r["copy_of"] for r in archive.iter_articles()}
    assert exported == {saved[0].article_id: saved[1].article_id, saved[1].article_id: None,
                        saved[2].article_id: saved[1].article_id}
    # pages of one row rank each cluster once per page; search reads copy_of row by row
    assert {r["article_id"]: r["copy_of"] for r in archive.iter_articles(batch_size=1)} == exported
    assert {r["article_id"]: r["copy_of"] for r in archive.search("ministers", limit=10)} == exported


def test_exports_carry_cluster_id_and_copy_of(filled: tuple[Archive, dict[str, int]], tmp_path: Path) -> None:
    from newsarchive.storage.export import export_archive

    archive, ids = filled
    want = {ids["reuters"]: None, ids["outlet"]: ids["reuters"], ids["tass"]: ids["reuters"],
            ids["other"]: None}
    cluster = archive.story(ids["reuters"])[0].cluster_id

    # a filtered export still points at the earliest copy it leaves out
    tass_only = {r["article_id"]: r["copy_of"] for r in archive.iter_articles(source="tass")}
    assert tass_only == {ids["tass"]: ids["reuters"], ids["other"]: None}

    export_archive(archive, "csv", tmp_path / "a.csv")  # the fast path on SQLite
    with (tmp_path / "a.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {int(r["article_id"]): (int(r["copy_of"]) if r["copy_of"] else None) for r in rows} == want
    assert {r["cluster_id"] for r in rows if int(r["article_id"]) != ids["other"]} == {str(cluster)}

    # the general CSV writer gives the same cells
    write_rows(archive.iter_articles(), "csv", tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()

    export_archive(archive, "jsonl", tmp_path / "a.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["article_id"]: r["copy_of"] for r in lines} == want
    assert {r["cluster_id"] for r in lines if r["article_id"] != ids["other"]} == {cluster}

    pq = pytest.importorskip("pyarrow.parquet")
    export_archive(archive, "parquet", tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    assert str(table.schema.field("copy_of").type) == "int64"
    got = table.select(["article_id", "copy_of"]).to_pylist()
    assert {r["article_id"]: r["copy_of"] for r in got} == want


def canned_sql(name: str) -> str:
    return str(datasette_metadata()["databases"]["archive"]["queries"][name]["sql"])


def test_canned_story_queries_run_on_this_database(filled: tuple[Archive, dict[str, int]]) -> None:
    archive, ids = filled
    # a second story carried by one outlet only: not listed among stories by outlets
    snow = make_article(9, url="https://tass.com/society/9", body=OTHER_STORY + "\n\nSnow.")
    again = archive.save_batch([snow])
    assert again[0].cluster_id == ids["other"]
    with archive.engine.connect() as conn:
        stories = conn.execute(sa.text(canned_sql("stories_by_outlets"))).mappings().all()
        assert [(r["outlets"], r["copies"], r["earliest_id"], r["earliest_source"]) for r in stories] == [
            (3, 3, ids["reuters"], "reuters")]
        assert stories[0]["headline"] == "Russia, Turkey discuss Syria ceasefire"
        assert str(stories[0]["earliest_published"]).startswith("2017-01-19 10:48")

        copies_sql = sa.text(canned_sql("story_copies"))
        by_id = conn.execute(copies_sql, {"story": str(ids["tass"])}).mappings().all()
        assert [(r["article_id"], r["earliest"], r["copy_of"], r["source"], r["wire"]) for r in by_id] == [
            (ids["reuters"], "*", None, "reuters", "Reuters"),
            (ids["outlet"], "", ids["reuters"], "news.example.org", "Reuters"),
            (ids["tass"], "", ids["reuters"], "tass", "TASS"),
        ]
        assert by_id[2]["body_chars"] < by_id[0]["body_chars"] < by_id[1]["body_chars"]
        by_url = conn.execute(copies_sql, {"story": "https://tass.com/politics/3"}).mappings().all()
        assert by_url == by_id
        # the same order as the Python listing and the exports
        assert [r["article_id"] for r in by_id] == [c.article_id for c in archive.story(ids["tass"])]
        assert conn.execute(copies_sql, {"story": "12345"}).all() == []


def test_story_command(filled: tuple[Archive, dict[str, int]], db_url: str) -> None:
    _, ids = filled
    runner = CliRunner()
    table = runner.invoke(main, ["story", str(ids["outlet"]), "--db", db_url])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[1].split()[:2] == [str(ids["reuters"]), "*"]
    assert "reuters (www.reuters.com)" in lines[1]
    assert "3 copy(ies) from 3 outlet(s)" in table.stderr

    as_json = runner.invoke(main, ["story", "https://tass.com/politics/3", "--db", db_url, "--format=json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [(r["article_id"], r["earliest"], r["copy_of"], r["wire"]) for r in rows] == [
        (ids["reuters"], True, None, "Reuters"), (ids["outlet"], False, ids["reuters"], "Reuters"),
        (ids["tass"], False, ids["reuters"], "TASS")]
    assert rows[1]["contains"] == 100.0
    assert 78.0 < rows[2]["contains"] < 86.0
    assert rows[0]["published"] == "2017-01-19T13:48:00+03:00"

    as_csv = runner.invoke(main, ["story", str(ids["reuters"]), "--db", db_url, "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["source"], r["host"], r["copy_of"]) for r in parsed] == [
        ("reuters", "www.reuters.com", ""), ("news.example.org", "news.example.org", str(ids["reuters"])),
        ("tass", "tass.com", str(ids["reuters"]))]

    unknown = runner.invoke(main, ["story", "99999", "--db", db_url])
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "Error: no article id 99999 in this archive"
    not_archived = runner.invoke(main, ["story", "https://nowhere.example.org/x", "--db", db_url])
    assert not_archived.exit_code == 1
    assert "no article at https://nowhere.example.org/x" in not_archived.output
    for huge in ("9999999999", "99999999999999999999999"):  # past PostgreSQL's integer, past 64 bits
        result = runner.invoke(main, ["story", huge, "--db", db_url])
        assert result.exit_code == 1
        assert result.output.strip() == f"Error: no article id {huge} in this archive"
    bad = runner.invoke(main, ["story", "syria", "--db", db_url])
    assert bad.exit_code == 2
    assert "neither an article id nor a URL" in bad.output
    broken = runner.invoke(main, ["story", "http://[broken", "--db", db_url])
    assert broken.exit_code == 2
    assert "is not a URL we can read" in broken.output
    assert "Traceback" not in broken.output


def test_story_command_refuses_a_missing_archive(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = CliRunner().invoke(main, ["story", "1", "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 1
    assert "no archive at" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not missing.exists()


def test_a_verbatim_copy_at_another_outlet_is_listed_after_the_text_it_carries(archive: Archive) -> None:
    first = archive.save_batch([make_article(1, url="https://www.reuters.com/world/a", source="reuters",
                                             wire="Reuters", body=FULL, published=PUBLISHED)])
    # the same page text at another outlet: archived once, its URL kept in url_state
    again = archive.save_batch([make_article(1, url="https://www.outlet.example/syria", source="outlet",
                                             wire="Reuters", body=FULL,
                                             published=PUBLISHED + timedelta(hours=1))])
    assert again[0].article_id == first[0].article_id
    original, copy = archive.story(first[0].article_id)
    assert (original.verbatim, original.earliest, original.canonical_url) == (
        False, True, "https://www.reuters.com/world/a")
    assert (copy.verbatim, copy.earliest, copy.copy_of, copy.article_id) == (
        True, False, first[0].article_id, first[0].article_id)
    assert (copy.source, copy.host, copy.canonical_url) == ("outlet.example", "www.outlet.example",
                                                            "https://www.outlet.example/syria")
    assert copy.published is not None
    assert copy.published.utcoffset() == original.published.utcoffset()
    result = CliRunner().invoke(main, ["story", str(first[0].article_id), "--db", archive.url])
    assert result.exit_code == 0, result.output
    assert " =  " in result.output
    assert "https://www.outlet.example/syria" in result.output
