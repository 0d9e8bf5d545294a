"""Archive.save_stream: batches prepared by a worker process store exactly what save_batch stores."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_helpers import OTHER_STORY, STORY, make_article

from newsarchive.article import Article
from newsarchive.storage import Archive, SaveResult
from newsarchive.storage import engine as engines

Saved = tuple[list[list[tuple[object, ...]]], dict[str, list[tuple[object, ...]]]]

#: what the archive holds, without the columns that record when the save ran
CONTENT = {
    "articles": "SELECT id, canonical_url, current_version_id, cluster_id, simhash FROM articles ORDER BY 1",
    "article_versions": "SELECT id, article_id, content_hash, url, body FROM article_versions ORDER BY 1",
    "article_topics": "SELECT article_id, topic_id FROM article_topics ORDER BY 1, 2",
    "links": "SELECT from_article_id, to_url, to_article_id FROM links ORDER BY 1, 2",
    "url_state": "SELECT canonical_url, article_id, content_hash FROM url_state ORDER BY 1",
    "neardup_keys": "SELECT week, key, article_id FROM neardup_keys ORDER BY 1, 2, 3",
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
        # the edited copy is published a day after the story: lookups read the weeks around an article's
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
    results = list(archive.save_stream(batches(), workers=1))
    assert archive.stream_workers(1).pids(), "the batches were not prepared by a worker"
    assert outcomes(results) == reference[0]
    assert content(archive) == reference[1]
    assert [r.outcome for r in results[1]] == ["unchanged", "updated", "new", "duplicate"]
    assert results[3][0].cluster_id == results[0][0].article_id  # the edited copy joined the first story


def test_without_workers_it_prepares_in_this_process(archive: Archive, reference: Saved) -> None:
    results = list(archive.save_stream(batches(), workers=0))
    assert archive.stream_workers(0).pids() == []
    assert outcomes(results) == reference[0]


def test_an_article_the_worker_cannot_receive_is_prepared_here(
        sqlite_url: str, reference: Saved, caplog: pytest.LogCaptureFixture) -> None:
    stream = batches()
    stream[0][2].unpicklable = threading.Lock()  # type: ignore[attr-defined]
    with Archive(sqlite_url) as archive, caplog.at_level(logging.WARNING, "newsarchive.storage.stream"):
        results = list(archive.save_stream(stream, workers=1))
        assert outcomes(results) == reference[0]
        assert content(archive) == reference[1]
    assert "preparing articles in this process from now on" in caplog.text


def test_a_worker_killed_mid_stream_loses_nothing(sqlite_url: str, tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    reference = one_by_one(tmp_path / "reference.sqlite", long_batches())
    with Archive(sqlite_url) as archive, caplog.at_level(logging.WARNING, "newsarchive.storage.stream"):
        stream = archive.save_stream(long_batches(), workers=1)
        results = [next(stream)]
        for pid in archive.stream_workers(1).pids():
            os.kill(pid, signal.SIGKILL)
        results.extend(stream)
        assert outcomes(results) == reference[0]
        assert content(archive) == reference[1]
    assert "worker failed" in caplog.text


def test_closing_the_archive_stops_its_workers(sqlite_url: str) -> None:
    archive = Archive(sqlite_url)
    archive.stream_workers(1).start()
    pids = archive.stream_workers(1).pids()
    assert pids  # started before any batch
    list(archive.save_stream(batches(), workers=1))
    assert archive.stream_workers(1).pids() == pids
    archive.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _autocheckpoint(archive: Archive) -> int:
    """wal_autocheckpoint as the archive's writers see it inside a write transaction."""
    return int(archive.write(lambda conn: conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()))


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "newsarchive-checkpoint"]


def test_a_thread_checkpoints_while_the_stream_writes_and_stops_with_it(sqlite_url: str) -> None:
    with Archive(sqlite_url) as archive:
        assert _autocheckpoint(archive) == engines.WAL_AUTOCHECKPOINT
        stream = archive.save_stream(long_batches(), workers=0)
        next(stream)
        assert len(_checkpoint_threads()) == 1
        assert _autocheckpoint(archive) == 0  # commits leave the copying to that thread
        rest = list(stream)
        assert len(rest) == len(long_batches()) - 1
        assert _checkpoint_threads() == []
        assert _autocheckpoint(archive) == engines.WAL_AUTOCHECKPOINT


def test_the_wal_file_is_cut_when_the_stream_ends(sqlite_url: str) -> None:
    # every frame copied and the file truncated, not left at its largest size until the
    # archive closes; the archive stays open and usable
    with Archive(sqlite_url) as archive:
        wal = Path(str(archive.engine.url.database) + "-wal")
        stream = archive.save_stream(long_batches(), workers=0)
        next(stream)
        assert wal.stat().st_size > 0
        list(stream)
        assert wal.stat().st_size == 0
        assert archive.save_batch([make_article(99_999)])[0].outcome == "new"


_CONNECT = sqlite3.connect


class _SlowCheckpoints(sqlite3.Connection):
    #: seconds each checkpoint pass sleeps first
    pause = 0.0

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
        if "wal_checkpoint" in sql:
            time.sleep(self.pause)
        return super().execute(sql, *args)  # type: ignore[arg-type]


def _wal_sizes(url: str, frames: int, pause: float, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The WAL file's size after each batch of a stream whose checkpointer waits past ``frames``."""
    monkeypatch.setattr(engines.Checkpointer, "wal_frames", frames)
    monkeypatch.setattr(_SlowCheckpoints, "pause", pause)
    monkeypatch.setattr(engines.sqlite3, "connect",
                        lambda *args, **kwargs: _CONNECT(*args, factory=_SlowCheckpoints, **kwargs))
    stream = [[make_article(1000 + 10 * i + k, body=STORY + f" Item {i}-{k}.") for k in range(10)]
              for i in range(24)]
    with Archive(url) as archive:

        @sa.event.listens_for(archive.engine, "connect")
        def _truncate(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            # SQLite keeps the WAL file's size when it starts the WAL over; this makes it cut
            # the file, so that its size shows the frames written since
            dbapi_connection.execute("PRAGMA journal_size_limit = 0")

        archive.engine.dispose()
        wal = Path(str(archive.engine.url.database) + "-wal")
        return [wal.stat().st_size for _ in archive.save_stream(stream, workers=0)]


def test_the_wal_starts_over_during_a_long_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # past the limit the writer waits for a pass, so that its next transaction starts the WAL
    # over; with a limit it never reaches, the WAL only grows: writers do not checkpoint, and
    # passes slowed far beyond the time from one commit to the next BEGIN (a few ms, more on
    # a loaded machine: 20 ms was once too short) never finish between two transactions
    growing = _wal_sizes(f"sqlite:///{tmp_path / 'a.sqlite'}", 10**9, 0.5, monkeypatch)
    bounded = _wal_sizes(f"sqlite:///{tmp_path / 'b.sqlite'}", 4, 0.02, monkeypatch)
    assert growing == sorted(growing)
    assert growing[-1] > 3 * growing[0]
    assert max(bounded) < growing[-1] / 2


def test_a_checkpointer_that_cannot_start_leaves_commits_checkpointing(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    with Archive(sqlite_url) as archive, caplog.at_level(logging.WARNING, "newsarchive.storage.engine"):
        monkeypatch.setattr(engines.sqlite3, "connect", refuse)
        stream = archive.save_stream(batches(), workers=0)
        next(stream)
        for _ in range(100):
            if not _checkpoint_threads():
                break
            time.sleep(0.01)
        monkeypatch.undo()
        assert _autocheckpoint(archive) == engines.WAL_AUTOCHECKPOINT
        assert len(list(stream)) == len(batches()) - 1
    assert "background WAL checkpoints stopped" in caplog.text
