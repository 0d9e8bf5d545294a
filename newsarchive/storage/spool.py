"""The store spool: batches the archive refused, kept on disk until it takes them.

Where (``spool_dir``): ``NEWSARCHIVE_SPOOL_DIR`` when set; otherwise beside an SQLite
archive file (``archive.sqlite`` -> ``archive.sqlite.spool/``), and for any other database
under ``<data dir>/spool/<host_port_database>/``. Each file is one batch, written to a
temporary name, flushed to disk and renamed, so a kill never leaves a half-written batch
under a real name. Each names the archive it belongs to; a file for another archive is left
alone. Pure (no Scrapy): the store pipeline writes and replays it.
"""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import re
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


def archive_identity(db_url: str) -> str:
    """What names an archive in its spool files: the resolved SQLite path, else the URL without password."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:{Path(url.database).expanduser().resolve()}"
    return url.set(password=None).render_as_string(hide_password=True)


def spool_dir(db_url: str, override: str | os.PathLike[str] | None = None) -> Path:
    """The spool directory of the archive at ``db_url`` (see the module docstring)."""
    chosen = override or os.environ.get("NEWSARCHIVE_SPOOL_DIR")
    if chosen:
        return Path(chosen)
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
            and not url.database.startswith("file:"):
        path = Path(url.database).expanduser().resolve()
        return path.with_name(path.name + ".spool")
    from newsarchive.config import DATA_DIR

    slug = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{url.host or 'local'}_{url.port or ''}_{url.database or ''}")
    return DATA_DIR / "spool" / slug


@dataclass(frozen=True)
class SpooledBatch:
    """One spooled batch: its file, the run that fetched it and its articles."""

    path: Path
    run_id: int | None
    articles: list[Article]


class Spool:
    """The spool directory of one archive."""

    def __init__(self, db_url: str, directory: str | os.PathLike[str] | None = None) -> None:
        self.identity = archive_identity(db_url)
        self.directory = spool_dir(db_url, directory)

    def write(self, articles: Sequence[Article], run_id: int | None) -> Path:
        """Write one batch atomically; returns its file (raises OSError, e.g. on a full disk)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{os.getpid()}-{next(_counter):06d}-{os.urandom(4).hex()}"
        final = self.directory / f"{_sortable_now()}-{name}{SUFFIX}"
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
        _fsync_dir(self.directory)
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
        self._remove_dead_temps()
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

    def _remove_dead_temps(self) -> None:
        # a temp file is a write a kill interrupted; one whose writer still runs is left alone
        if not self.directory.is_dir():
            return
        for path in self.directory.glob(".*.tmp"):
            pid = path.name[1:].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid)):
                continue
            path.unlink(missing_ok=True)


def _sortable_now() -> str:
    import time

    return f"{time.time_ns():020d}"


def _fsync_dir(directory: Path) -> None:
    # the rename itself must survive a power cut, not only the file's bytes
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a spool or claim's owner)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
