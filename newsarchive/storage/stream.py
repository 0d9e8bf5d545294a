"""Saving a stream of batches while another core prepares the next ones (Archive.save_stream).

A batched save is two kinds of work. Preparing an article (archive key, content hash,
near-duplicate fingerprint, on SQLite its version row; ``save.prepare``) needs nothing from
the database; the rest is the database work, which one connection must do in order. So a
worker process prepares the batches ahead while this process writes the current one, and the
save runs at the speed of the slower of the two.

What is stored, and every outcome, is exactly what ``save_batch`` on each batch in turn gives
(one transaction per batch, in order). If the worker cannot be used (one core, a pool that
fails to start or dies, an article that cannot be pickled), the batch is prepared here
instead, with a warning: slower, never different.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from newsarchive.article import Article
from newsarchive.storage.save import Parts, Prepared, SaveResult, prepare, prepared_parts

log = logging.getLogger(__name__)

_Parts = Future[list[Parts]]
#: batches submitted ahead per worker, so neither side waits on the other's slow batch (a few MB)
AHEAD_PER_WORKER = 8


def default_workers() -> int:
    """Worker processes for preparation: the cores this process may use, less the writer's own."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    # one: the writer is one process however many cores there are, and the two shares of the
    # work are about even (the writer's the larger in a big archive), so a second worker idles
    return 1 if cores > 1 else 0


class PreparePool:
    """Worker processes that run ``save.prepared_parts``; falls back to this process if they fail."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._broken = workers <= 0

    def submit(self, batch: list[Article]) -> _Parts | None:
        """Start preparing ``batch`` in a worker; None when only this process can do it."""
        if self._broken:
            return None
        try:
            if self._executor is None:
                # spawn, not fork: the parent may hold database connections and threads
                # (Scrapy's reactor, SQLAlchemy's pool) that a forked child must not inherit
                spawn = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=spawn)
            return self._executor.submit(prepared_parts, batch)
        except (OSError, RuntimeError) as exc:
            self._give_up(exc)
            return None

    def start(self) -> None:
        """Start the workers now and wait until they can work (about a second: each imports
        newsarchive), e.g. to keep that out of a timing."""
        futures = [self.submit([]) for _ in range(self.workers)]
        for future in futures:
            if future is not None:
                self.result([], future)

    def result(self, batch: list[Article], future: _Parts | None) -> list[Prepared]:
        """The prepared batch: from the worker when it did the work, else prepared here."""
        if future is not None:
            try:
                parts = future.result()
            except Exception as exc:  # a dead worker or an unpicklable article: prepare it here
                self._give_up(exc)
            else:
                return [Prepared(article, *part) for article, part in zip(batch, parts, strict=True)]
        return prepare(batch)

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("preparing articles in this process from now on (worker failed: %s: %s)",
                        type(exc).__name__, exc)
        self._broken = True
        self.close()

    def pids(self) -> list[int]:
        """Process ids of the live workers (benchmarks read their CPU time)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def save_stream(save_batch: Callable[[list[Prepared], int | None], list[SaveResult]],
                batches: Iterable[Sequence[Article]], pool: PreparePool,
                run_id: int | None = None) -> Iterator[list[SaveResult]]:
    """Save each batch with ``save_batch`` (Archive.save_batch: one transaction each), in order,
    preparing the next ones in ``pool``."""
    source = iter(batches)
    ahead: deque[tuple[list[Article], _Parts | None]] = deque()
    limit = max(1, pool.workers) * AHEAD_PER_WORKER

    def fill() -> None:
        while len(ahead) < limit:
            batch = next(source, None)
            if batch is None:
                return
            articles = list(batch)
            ahead.append((articles, pool.submit(articles) if articles else None))

    fill()
    while ahead:
        articles, future = ahead.popleft()
        prepared = pool.result(articles, future) if articles else []
        fill()  # the worker starts on the next batch before this one is written
        yield save_batch(prepared, run_id)
