"""Soak benchmark: one long local crawl, with the crawl process's memory and descriptors sampled.

The site is benchmarks/crawl.py's generated TASS-like site (sitemap index, news sitemaps of
1,000 URLs, N article pages), served from a thread of this process, which counts the article
pages it has answered. One ``python -m newsarchive.crawl tass`` child crawls the whole site into
SQLite with everything on (extraction, pipelines, WARC, revisit lookups). Every ``--every``
article pages (default 10,000) the child's RSS (VmRSS) and open descriptors (/proc/PID/fd,
sockets counted apart) are sampled.

Floors (issue 14): RSS at the last sample within 20% of the first (10k pages), and no growth
of the non-socket descriptors (sockets come and go with the HTTP connections, at most
CONCURRENT_REQUESTS of them).

    .venv/bin/python benchmarks/soak.py [--pages 100000] [--every 10000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crawl import site_server  # the same generated site


class Counter:
    """Article pages served so far (the server's threads add, the sampler reads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.articles = 0

    def add(self) -> None:
        with self.lock:
            self.articles += 1


def start_server(pages: int, counter: Counter) -> ThreadingHTTPServer:
    """The generated site on a loopback port, served from daemon threads of this process."""
    server = site_server(0, pages, counter.add)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sample(pid: int) -> dict[str, int]:
    """RSS (KiB) and open descriptors of process ``pid``, sockets and pipes counted apart."""
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    files = sockets = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:  # closed between listing and reading
            continue
        if target.startswith(("socket:", "pipe:", "anon_inode:")):
            sockets += 1
        else:
            files += 1
    return {"rss_kib": rss, "fds_files": files, "fds_sockets": sockets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000, help="article pages between samples")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--work", help="directory for the archive, WARC and job state (default: a temp dir)")
    args = parser.parse_args()

    counter = Counter()
    server = start_server(args.pages, counter)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = None if args.work else tempfile.TemporaryDirectory()
    work = Path(args.work or (tmp.name if tmp else "."))
    work.mkdir(parents=True, exist_ok=True)
    summary = work / "soak.json"
    argv = [sys.executable, "-m", "newsarchive.crawl", "tass", "--base-url", base,
            "--db", f"sqlite:///{work / 'soak.sqlite'}", "--summary-json", str(summary),
            "--log-level", "ERROR",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False",
            "-s", f"CONCURRENT_REQUESTS={args.concurrency}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
            "-s", "HTTPPROXY_ENABLED=False", "-s", "TELNETCONSOLE_ENABLED=False"]
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(work / "data"))
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[dict[str, Any]] = []
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""),
                              daemon=True)
    reader.start()
    marks = list(range(args.every, args.pages + 1, args.every))
    while proc.poll() is None and marks:
        if counter.articles >= marks[0]:
            try:
                row = {"pages": marks[0], "seconds": round(time.monotonic() - started, 1), **sample(proc.pid)}
            except FileNotFoundError:
                break
            samples.append(row)
            print(json.dumps(row), flush=True)
            marks.pop(0)
        time.sleep(0.05)
    code = proc.wait()
    reader.join()
    server.shutdown()
    if code != 0 or not summary.exists():
        raise SystemExit(f"crawl failed (exit {code}): {b''.join(err).decode(errors='replace')[-800:]}")
    counts = json.loads(summary.read_text())["counts"]
    print(f"\nsoak: {args.pages} generated article pages, concurrency {args.concurrency}; "
          f"crawl exit {code}, stored {counts['stored']}, errors {counts['errors']}, "
          f"{time.monotonic() - started:.0f} s")
    print(f"{'pages':>7} {'seconds':>8} {'RSS MB':>7} {'file fds':>8} {'socket/pipe fds':>15}")
    for row in samples:
        print(f"{row['pages']:7} {row['seconds']:8.1f} {row['rss_kib'] / 1024:7.1f} "
              f"{row['fds_files']:8} {row['fds_sockets']:15}")
    if len(samples) < 2:
        raise SystemExit("fewer than two samples: use more --pages or a smaller --every")
    first, last = samples[0], samples[-1]
    growth = last["rss_kib"] / first["rss_kib"]
    rss_ok = growth <= 1.2
    fds_ok = max(r["fds_files"] for r in samples) <= first["fds_files"] \
        and max(r["fds_sockets"] for r in samples) <= args.concurrency + first["fds_sockets"]
    print(f"RSS at {last['pages']} pages / at {first['pages']}: {growth:.2f} (floor <= 1.20): "
          f"{'PASS' if rss_ok else 'FAIL'}")
    print(f"file descriptors {first['fds_files']} -> max {max(r['fds_files'] for r in samples)}, "
          f"sockets/pipes max {max(r['fds_sockets'] for r in samples)}: {'PASS' if fds_ok else 'FAIL'}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
