"""Helpers of the fault suite: a slow local site, archive snapshots, a consistency check,
a private PostgreSQL server and a small filesystem."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from crawlkit import HTML, XML, Site, archived, article_html, rss, url_path

from newsarchive.storage import Archive
from newsarchive.storage.check import check_archive

#: one article at a time, small batches: a fault lands mid-crawl with some articles stored
SLOW = ("-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "DOWNLOAD_DELAY=0.05",
        "-s", "NEWSARCHIVE_STORE_BATCH=2")
Reply = tuple[int, dict[str, str], bytes]


def slow_site(site: Site, count: int, *, pause: float = 0.15, padding: int = 0) -> list[str]:
    """``count`` article pages listed in the RSS feed, each answered after ``pause`` seconds;
    ``padding`` bytes of random text in an HTML comment (WARC grows, the archive does not)."""
    paths = [f"/politics/{n}" for n in range(1, count + 1)]
    for n, path in enumerate(paths, start=1):
        page = article_html(n, f"Fault story {n}", [f"Only in fault story {n}."])
        if padding:
            blob = os.urandom(padding).hex()[:padding].encode()
            page = page.replace(b"</body>", b"<!-- " + blob + b" --></body>")

        def slow(_path: str, _headers: dict[str, str], page: bytes = page) -> Reply:
            time.sleep(pause)
            return 200, HTML, page

        site.routes[path] = slow
    site.routes["/rss/v2.xml"] = (200, XML, rss(site.base_url, [(p, "Fri, 20 Nov 2026 10:00:00 +0300")
                                                                for p in paths]))
    return paths


def snapshot(db: str) -> dict[str, str]:
    """Path -> content hash of every current article."""
    return {url_path(url): row["content_hash"] for url, row in archived(db).items()}


def stored_count(db: str) -> int:
    """Articles in the archive now (0 while it does not exist yet or is locked)."""
    try:
        with Archive(db, migrate=False, busy_timeout=0.5) as archive:
            return archive.count_articles()
    except Exception:
        return 0


def wait_until(check: Callable[[], bool], timeout: float = 60.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False


def assert_consistent(db: str, warc_dir: Path | None = None) -> None:
    """The archive's own promises hold after a fault: ``newsarchive db check`` finds nothing."""
    with Archive(db) as archive:
        result = check_archive(archive.engine, warc_directory=warc_dir)
        assert result.ok, "\n".join(str(p) for p in result.problems)
        with archive.engine.connect() as conn:
            # db check does not ask this: a stored article without its crawl state would be
            # fetched again as new by the next run
            assert conn.execute(sa.text(
                "SELECT count(*) FROM articles a LEFT JOIN url_state u ON u.canonical_url = a.canonical_url "
                "WHERE u.id IS NULL")).scalar() == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()


def _unavailable(why: str) -> None:
    # CI sets NEWSARCHIVE_REQUIRE_PG: there a missing server is a failure, never a quiet skip
    message = f"PostgreSQL fault test SKIPPED: {why}"
    if os.environ.get("NEWSARCHIVE_REQUIRE_PG"):
        pytest.fail(message.replace("SKIPPED", "cannot run"))
    pytest.skip(message)


class PrivatePostgres:
    """A PostgreSQL server of our own (initdb in a temp dir, its own port), never the shared one."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists():
            _unavailable(f"no {PG_BIN / 'initdb'} (apt install postgresql)")
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            runuser = shutil.which("runuser")
            if runuser is None:
                _unavailable("running as root without runuser")
            self.run_as = [runuser, "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="newsarchive-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if self.run_as:
            shutil.chown(self.root, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        proc = subprocess.run([*self.run_as, *argv], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, f"{argv[0]} failed: {proc.stdout[-1000:]} {proc.stderr[-1000:]}"

    def init(self) -> PrivatePostgres:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        return self.start()

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                  "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def small_filesystem(path: Path, size_kib: int, *, mount: bool = True) -> Iterator[str]:
    """``path`` as a tmpfs of ``size_kib`` KiB; yields "tmpfs", or "rlimit" when mounting is not
    possible here or not wanted (the caller then limits the crawl process's file size instead)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = mount and os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(path)],
        capture_output=True, check=False).returncode == 0
    try:
        yield "tmpfs" if mounted else "rlimit"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
