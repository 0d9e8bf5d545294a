"""The store spool: batches the archive refused, kept on disk (one pickle per batch) until it takes them.

Where: ``NEWSARCHIVE_SPOOL_DIR``, else beside an SQLite file (``archive.sqlite.spool/``), else
``<data dir>/spool/<host_port_database>/``. A batch is written to a temporary name, fsynced and
renamed, so a kill never leaves half a batch under a real name; a file naming another archive is
left alone.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from newsarchive.article import Article

log = logging.getLogger(__name__)
FORMAT = 1
SUFFIX = ".spool"
_counter = itertools.count()


@dataclass(frozen=True)
class SpooledBatch:
    """One spooled batch: its file, the run that fetched it and its articles."""

    path: Path
    run_id: int | None
    articles: list[Article]


class Spool:
    """The spool directory of one archive."""

    def __init__(self, db_url: str, directory: str | os.PathLike[str] | None = None) -> None:
        url = make_url(db_url)
        file = url.database if url.get_backend_name() == "sqlite" and url.database != ":memory:" else None
        # what names the archive in its files: the resolved SQLite path, else the URL without password
        path = Path(file).expanduser().resolve() if file else None
        self.identity = (f"sqlite:{path}" if path
                         else url.set(password=None).render_as_string(hide_password=True))
        chosen = directory or os.environ.get("NEWSARCHIVE_SPOOL_DIR")
        if chosen:
            self.directory = Path(chosen)
        elif path and not str(file).startswith("file:"):
            self.directory = path.with_name(path.name + ".spool")
        else:
            from newsarchive.config import DATA_DIR

            slug = f"{url.host or 'local'}_{url.port or ''}_{url.database or ''}"
            self.directory = DATA_DIR / "spool" / re.sub(r"[^A-Za-z0-9.-]+", "_", slug)

    def write(self, articles: Sequence[Article], run_id: int | None) -> Path:
        """Write one batch atomically; returns its file (raises OSError, e.g. on a full disk)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{next(_counter):06d}-{os.urandom(4).hex()}"
        final = self.directory / f"{time.time_ns():020d}-{name}{SUFFIX}"  # names sort by time
        temp = self.directory / f".{name}.tmp"
        payload = {"format": FORMAT, "archive": self.identity, "run_id": run_id, "articles": list(articles)}
        try:
            with open(temp, "wb") as handle:
                pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        # the rename itself must survive a power cut, not only the file's bytes
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return final

    def files(self) -> list[Path]:
        """Spooled batch files, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.name.endswith(SUFFIX))

    def count(self) -> int:
        return len(self.files())

    def batches(self) -> Iterator[SpooledBatch]:
        """This archive's spooled batches, oldest first (files of other archives skipped, logged)."""
        # a temp file is a write a kill interrupted; one whose writer still runs is left alone
        for temp in self.directory.glob(".*.tmp") if self.directory.is_dir() else ():
            pid = temp.name[1:].split("-", 1)[0]
            if not (pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid))):
                temp.unlink(missing_ok=True)
        for path in self.files():
            try:
                with open(path, "rb") as handle:
                    payload: dict[str, Any] = pickle.load(handle)  # our own files, beside the archive
            except FileNotFoundError:  # replayed meanwhile by a concurrent crawl
                continue
            if payload.get("archive") != self.identity:
                log.warning("spool file %s belongs to %s, not this archive: left alone",
                            path, payload.get("archive"))
                continue
            yield SpooledBatch(path, payload.get("run_id"), list(payload.get("articles", ())))

    @staticmethod
    def done(batch: SpooledBatch) -> None:
        """The batch is in the archive: remove its file."""
        batch.path.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a spool or claim's owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
