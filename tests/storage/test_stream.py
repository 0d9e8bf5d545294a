"""stream.save_stream: batches prepared by a worker process store exactly what save_batch stores."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, STORY, make_article

from newsarchive.article import Article
from newsarchive.storage import Archive, SaveResult
from newsarchive.stream import PreparePool, save_stream
from newsarchive.warcimport import Importer, ImportStats, Matcher, load_rules

Saved = tuple[list[list[tuple[object, ...]]], dict[str, list[tuple[object, ...]]]]

#: what the archive holds, without the columns that record when the save ran
CONTENT = {
    "articles": "SELECT id, canonical_url, current_version_id, cluster_id, simhash FROM articles ORDER BY 1",
    "article_versions": "SELECT id, article_id, content_hash, url, body FROM article_versions ORDER BY 1",
    "article_topics": "SELECT article_id, topic_id FROM article_topics ORDER BY 1, 2",
    "links": "SELECT from_article_id, to_url, to_article_id FROM links ORDER BY 1, 2",
    "url_state": "SELECT canonical_url, article_id, content_hash FROM url_state ORDER BY 1",
    "neardup_keys": "SELECT fortnight, key, article_id FROM neardup_keys ORDER BY 1, 2, 3",
}


def batches() -> list[list[Article]]:
    """New stories, repeats, an update, a copy under another URL and an edited near-duplicate,
    across and inside batches."""
    edited = STORY.replace("Thursday", "Friday") + "\n\nThe talks will resume in spring."
    link = {"title": "First", "url": "https://tass.com/politics/1001"}
    return [
        [make_article(n) for n in range(1, 6)],
        [make_article(2), make_article(3, headline="Updated"), make_article(9, body=OTHER_STORY),
         make_article(1, url="https://tass.com/world/copy-of-1001")],
        [],
        # the edited copy is published a day after the story: lookups read the fortnights around an article's
        [make_article(20, body=edited, read_also=[link], published=make_article(2).published),
         make_article(3, headline="Updated"),
         make_article(21, body=OTHER_STORY + "\n\nMore snow is expected.")],
    ]


def long_batches() -> list[list[Article]]:
    """batches() and then enough new stories that the stream outlasts what is submitted ahead."""
    return batches() + [[make_article(100 + 5 * i + k) for k in range(5)] for i in range(8)]


def one_by_one(path: Path, stream: list[list[Article]]) -> Saved:
    """Outcomes and content of saving ``stream`` with one save_batch per batch."""
    with Archive(f"sqlite:///{path}") as archive:
        return outcomes([archive.save_batch(batch) for batch in stream]), content(archive)


def content(archive: Archive) -> dict[str, list[tuple[object, ...]]]:
    with archive.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(sa.text(sql))] for name, sql in CONTENT.items()}


def outcomes(results: list[list[SaveResult]]) -> list[list[tuple[object, ...]]]:
    return [[(r.outcome, r.article_id, r.version_id, r.cluster_id) for r in batch] for batch in results]


@pytest.fixture
def reference(tmp_path: Path) -> Saved:
    return one_by_one(tmp_path / "reference.sqlite", batches())


def test_a_worker_prepares_and_the_archive_is_the_same_as_batch_by_batch(
        archive: Archive, reference: Saved) -> None:
    with contextlib.closing(PreparePool(1)) as pool:
        results = list(save_stream(archive.save_batch, batches(), pool))
        assert pool.pids(), "the batches were not prepared by a worker"
    assert outcomes(results) == reference[0]
    assert content(archive) == reference[1]
    assert [r.outcome for r in results[1]] == ["unchanged", "updated", "new", "duplicate"]
    assert results[3][0].cluster_id == results[0][0].article_id  # the edited copy joined the first story


def test_without_workers_it_prepares_in_this_process(archive: Archive, reference: Saved) -> None:
    with contextlib.closing(PreparePool(0)) as pool:
        results = list(save_stream(archive.save_batch, batches(), pool))
        assert pool.pids() == []
    assert outcomes(results) == reference[0]


def test_an_article_the_worker_cannot_receive_is_prepared_here(
        sqlite_url: str, reference: Saved, caplog: pytest.LogCaptureFixture) -> None:
    unpicklable = batches()
    unpicklable[0][2].unpicklable = threading.Lock()  # type: ignore[attr-defined]
    with Archive(sqlite_url) as archive, caplog.at_level(logging.WARNING, "newsarchive.stream"), \
            contextlib.closing(PreparePool(1)) as pool:
        results = list(save_stream(archive.save_batch, unpicklable, pool))
        assert outcomes(results) == reference[0]
        assert content(archive) == reference[1]
    assert "preparing articles in this process from now on" in caplog.text


def test_a_worker_killed_mid_stream_loses_nothing(sqlite_url: str, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    reference = one_by_one(tmp_path / "reference.sqlite", long_batches())
    pool = PreparePool(1)
    with Archive(sqlite_url) as archive, caplog.at_level(logging.WARNING, "newsarchive.stream"), \
            contextlib.closing(pool):
        saving = save_stream(archive.save_batch, long_batches(), pool)
        results = [next(saving)]
        for pid in pool.pids():
            os.kill(pid, signal.SIGKILL)
        results.extend(saving)
        assert outcomes(results) == reference[0]
        assert content(archive) == reference[1]
    assert "worker failed" in caplog.text


def test_closing_the_importer_stops_its_workers(archive: Archive) -> None:
    importer = Importer(archive, Matcher(load_rules(["tass"])), run_id=None, stats=ImportStats(),
                        save_workers=1)
    importer.pool.start()
    pids = importer.pool.pids()
    assert pids  # started before any batch
    list(save_stream(archive.save_batch, batches(), importer.pool))
    assert importer.pool.pids() == pids  # one pool serves every file of the import
    importer.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
