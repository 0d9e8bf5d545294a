"""Helpers of the distributed-crawl tests: a private redis-server, the generated site, process helpers.

Each test starts its own ``redis-server`` (Debian's package: /usr/bin/redis-server) on a free
loopback port in a temp dir, so it may stop and restart it mid-crawl. Without the binary the
tests are skipped, loudly; under ``NEWSARCHIVE_REQUIRE_REDIS=1`` or ``NEWSARCHIVE_REQUIRE_PG=1``
(``.ci/run`` sets both) they fail instead.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "crawl"))  # crawlkit: Site, article pages
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
NEWSARCHIVE = str(Path(sys.executable).parent / "newsarchive")
#: crawl settings of every process: loopback speed, no proxy, the frontier's timers short
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "HTTPPROXY_ENABLED=False",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "--log-level", "INFO")


def _load_bench_crawl() -> Any:
    spec = importlib.util.spec_from_file_location("newsarchive_bench_crawl", ROOT / "benchmarks" / "crawl.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _load_bench_crawl()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """redis-server of our own: a temp dir, a free loopback port, no persistence unless asked."""

    def __init__(self, *, persist: bool = False, password: str | None = None) -> None:
        if not Path(REDIS_SERVER).exists():
            message = f"distributed tests SKIPPED: no {REDIS_SERVER} (apt install redis-server)"
            if os.environ.get("NEWSARCHIVE_REQUIRE_REDIS") or os.environ.get("NEWSARCHIVE_REQUIRE_PG"):
                pytest.fail(message.replace("SKIPPED", "cannot run"))
            pytest.skip(message)
        self.dir = Path(tempfile.mkdtemp(prefix="newsarchive-redis-"))
        self.port = free_port()
        self.persist = persist
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                # persistence as deploy/redis-newsarchive.conf has it: the append-only file
                "--appendonly", "yes" if self.persist else "no", "--appendfsync", "everysec", "--save", "",
                "--protected-mode", "yes",
                "--logfile", str(self.dir / "log")]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return self
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start: {(self.dir / 'log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class GeneratedSite:
    """The crawl benchmark's generated TASS-like site, counting requests per path with their times."""

    pages: int
    pause: float = 0.0
    hits: collections.Counter[str] = field(default_factory=collections.Counter)
    times: list[float] = field(default_factory=list)

    def start(self) -> GeneratedSite:
        lock = threading.Lock()

        def seen(path: str) -> None:
            with lock:
                self.hits[path] += 1
                self.times.append(time.monotonic())

        self.server = BENCH.site_server(0, self.pages, on_request=seen, pause=self.pause)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def article_hits(self) -> dict[str, int]:
        return {p: n for p, n in self.hits.items() if p.startswith("/politics/")}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Proc:
    """A coordinator or worker child process; its stderr goes to a file (no pipe to fill up)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def wait(self, timeout: float = 120) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} did not finish in {timeout} s:\n{self.output()[-3000:]}") \
                from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)


class Cluster:
    """Starts coordinators and workers against one Redis and one archive (URLs in the environment)."""

    def __init__(self, tmp: Path, redis_url: str, db: str, base_url: str,
                 extra: tuple[str, ...] = ()) -> None:
        self.tmp, self.base_url, self.extra = tmp, base_url, extra
        # the archive's and Redis's URLs go to children in the environment, never in argv
        self.env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp / "data"), NEWSARCHIVE_DB=db,
                        NEWSARCHIVE_REDIS=redis_url)
        self.procs: list[Proc] = []
        self.count = 0

    def _start(self, name: str, argv: list[str]) -> Proc:
        self.count += 1
        log = self.tmp / f"{self.count:02d}-{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp, env=self.env)
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def workers(self, *names: str) -> list[Proc]:
        """Worker processes, started together and waiting for a crawl before this returns."""
        procs = [self._start(name, [NEWSARCHIVE, "worker", *FAST, *self.extra]) for name in names]
        # joined before the coordinator starts, so the work is shared from the first request
        deadline = time.monotonic() + 60
        for proc in procs:
            while "waiting for a crawl" not in proc.output():
                assert proc.popen.poll() is None, f"{proc.name} exited early:\n{proc.output()[-2000:]}"
                assert time.monotonic() < deadline, f"{proc.name} never got ready:\n{proc.output()[-2000:]}"
                time.sleep(0.05)
        return procs

    def coordinator(self, *extra: str) -> Proc:
        summary = self.tmp / f"summary-{self.count + 1}.json"
        return self._start("coordinator", [NEWSARCHIVE, "crawl", "tass", "--base-url", self.base_url,
                                           "--summary-json", str(summary), *FAST, *self.extra, *extra])

    def cleanup(self) -> None:
        for proc in self.procs:
            proc.kill()
            with contextlib.suppress(Exception):
                proc.popen.wait(10)
