"""save_stream: a worker process prepares the next batches while this one writes (the WARC import's).

Preparing an article (``save.prepare``) needs no database, writing needs one connection in
order, so the save runs at the speed of the slower of the two. What is stored is exactly what
``save_batch`` on each batch in turn stores; if the worker fails, batches are prepared here.
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
    """One worker when this process may use two cores: the writer is one process, a second would idle."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no sched_getaffinity outside Linux
        cores = os.cpu_count() or 1
    return 1 if cores > 1 else 0


class PreparePool:
    """Worker processes that run ``save.prepared_parts``; this process prepares once they fail."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(0, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._broken = self.workers <= 0

    def submit(self, batch: list[Article]) -> _Parts | None:
        """Start preparing ``batch`` in a worker; None when only this process can do it."""
        if self._broken:
            return None
        try:
            if self._executor is None:
                # spawn: a forked child would inherit the parent's connections and threads
                spawn = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=spawn)
            return self._executor.submit(prepared_parts, batch)
        except (OSError, RuntimeError) as exc:
            self._give_up(exc)
            return None

    def start(self) -> None:
        """Start the workers and wait until they can work (~1 s of imports), e.g. before a timing."""
        for future in [self.submit([]) for _ in range(self.workers)]:
            self.result([], future)

    def result(self, batch: list[Article], future: _Parts | None) -> list[Prepared]:
        """The prepared batch: from the worker when it did the work, else prepared here."""
        if future is not None:
            try:
                parts = future.result()
            except Exception as exc:  # a dead worker or an unpicklable article
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
        return sorted(getattr(self._executor, "_processes", None) or {})

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def save_stream(save_batch: Callable[[list[Prepared], int | None], list[SaveResult]],
                batches: Iterable[Sequence[Article]], pool: PreparePool,
                run_id: int | None = None) -> Iterator[list[SaveResult]]:
    """``save_batch`` (one transaction) on each batch in order, the next ones prepared in ``pool``."""
    ahead: deque[tuple[list[Article], _Parts | None]] = deque()
    limit = max(1, pool.workers) * AHEAD_PER_WORKER
    for batch in batches:
        articles = list(batch)
        ahead.append((articles, pool.submit(articles) if articles else None))
        if len(ahead) > limit:  # the worker has the next batches before this one is written
            yield save_batch(pool.result(*ahead.popleft()), run_id)
    while ahead:
        yield save_batch(pool.result(*ahead.popleft()), run_id)
