"""Crawl benchmark: the whole pipeline against the bare crawl (the floor), in the same run.

A server process generates a TASS-like site of N article pages (default 10,000) listed in a
sitemap index with news sitemaps.  The TASS spider crawls it twice as child processes:

* full  - discovery, extraction, validation, dedup, SQLite storage, WARC capture, revisit lookups;
* floor - the same discovery and downloads with extraction, pipelines, WARC and revisit off;
* nostore - (with --breakdown) extraction and WARC on, pipelines and revisit off: attributes
  the full pipeline's cost to extraction versus storage.

Prints pages/s, articles/s (over the crawl, spider open to close), CPU seconds per page (the
crawl process only, from wait4, start-up included)
and the full/floor pages/s ratio (issue 5 asks for at least 0.5).

    .venv/bin/python benchmarks/crawl.py [--pages 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PER_SITEMAP = 1000
EPOCH0 = 1_790_000_000  # November 2026


def article(n: int) -> bytes:
    """Article page n in today's tass.com markup; the text varies with n (no duplicates)."""
    words = " ".join(f"w{(n * 7919 + i * 104729) % 99991}" for i in range(60))
    paras = "".join(f"<p>Paragraph {k} of story {n}: {words}.</p>" for k in range(6))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Story {n} - TASS</title><meta property="og:title" content="Story {n}"></head><body>
<header class="header"><nav class="menu"><a href="/politics">Politics</a>
<a href="/world">World</a></nav></header>
<main class="container"><div class="news"><div class="news-header">
<h1 class="news-header__title">Generated story number {n}</h1>
<div class="news-header__date"><dateformat time="{EPOCH0 + n * 60}" mode="abs"></dateformat></div>
<div class="news-header__lead">Lead of story {n}</div></div>
<div class="text-content"><div class="text-block"><p>MOSCOW, November 20. /TASS/. Story {n} opens here.</p>
{paras}</div><div class="text-include read-also"><a href="/politics/{max(1, n - 1)}">Previous</a></div></div>
<div class="tags"><a class="tags__item" href="/t/{n % 17}">Topic {n % 17}</a></div></div></main>
<footer class="footer"><a href="/contacts/">Contacts</a></footer></body></html>""".encode()


def sitemap(index: int, pages: int, base: str) -> bytes:
    first = index * PER_SITEMAP + 1
    last = min(pages, first + PER_SITEMAP - 1)
    urls = "".join(
        f"<url><loc>{base}/politics/{n}</loc><lastmod>2026-11-20T10:00:00+03:00</lastmod></url>"
        for n in range(first, last + 1)
    )
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
            "</urlset>").encode()


def site_server(port: int, pages: int, on_article: Callable[[], None] | None = None, *,
                on_request: Callable[[str], None] | None = None, pause: float = 0.0) -> ThreadingHTTPServer:
    """The generated site bound to a loopback port (0: any); ``on_article`` runs per article served,
    ``on_request`` with the path of every request; each article is answered after ``pause`` seconds."""
    base = ""
    count = (pages + PER_SITEMAP - 1) // PER_SITEMAP

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path
            if on_request is not None:
                on_request(path)
            if path == "/sitemap.xml":
                items = "".join(
                    f"<sitemap><loc>{base}/sitemap/news{i}.xml</loc></sitemap>" for i in range(count)
                )
                body = ('<?xml version="1.0"?><sitemapindex '
                        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>').encode()
                self._send(200, "application/xml", body)
            elif path.startswith("/sitemap/news") and path.endswith(".xml"):
                self._send(200, "application/xml", sitemap(int(path[13:-4]), pages, base))
            elif path.startswith("/politics/") and path[10:].isdigit() and 0 < int(path[10:]) <= pages:
                if pause:
                    time.sleep(pause)
                self._send(200, "text/html; charset=utf-8", article(int(path[10:])))
                if on_article is not None:
                    on_article()
            else:
                self._send(404, "text/html", b"<html><body>Not found</body></html>")

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def serve(port: int, pages: int) -> None:
    """Serve the generated site until killed (runs in its own process)."""
    server = site_server(port, pages)
    print(server.server_address[1], flush=True)
    server.serve_forever()


NO_STORE = ("NEWSARCHIVE_REVISIT_ENABLED=False", "NEWSARCHIVE_VALIDATE_ENABLED=False",
            "NEWSARCHIVE_DEDUP_ENABLED=False", "NEWSARCHIVE_STORE_ENABLED=False")
MODES: dict[str, tuple[str, ...]] = {
    "floor": ("NEWSARCHIVE_EXTRACT_ENABLED=False", "NEWSARCHIVE_WARC_ENABLED=False", *NO_STORE),
    "nostore": NO_STORE,
    "full": (),
}


def crawl(base: str, work: Path, mode: str) -> dict[str, float]:
    """One crawl child process; wall time, CPU time (from wait4), pages and articles."""
    import json

    summary = work / f"{mode}.json"
    argv = [sys.executable, "-m", "newsarchive.crawl", "tass", "--base-url", base,
            "--db", f"sqlite:///{work / 'bench.sqlite'}", "--summary-json", str(summary),
            "--log-level", "ERROR",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False",
            "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
            "-s", "HTTPPROXY_ENABLED=False", "-s", "TELNETCONSOLE_ENABLED=False"]
    for setting in MODES[mode]:
        argv += ["-s", setting]
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(work / "data"))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if not summary.exists():
        raise SystemExit(f"crawl failed (exit {proc.returncode}): {err.decode()[-800:]}")
    data = json.loads(summary.read_text())
    counts = data["counts"]
    # rates over the crawl itself (spider open to close); CPU includes start-up, so it is an upper bound
    return {"wall": data.get("crawl_seconds") or wall, "cpu": usage.ru_utime + usage.ru_stime,
            "pages": counts["pages"],
            "articles": counts["stored"] + counts["updated"] + counts["unchanged"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--breakdown", action="store_true", help="also crawl with storage off")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.pages)
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", "0", "--pages", str(args.pages)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory() as tmp:
            results = {}
            for name in ("floor", "nostore", "full") if args.breakdown else ("floor", "full"):
                work = Path(tmp) / name
                work.mkdir()
                results[name] = crawl(base, work, name)
    finally:
        server.terminate()
        server.wait()
    print(f"crawl benchmark: {args.pages} generated article pages on loopback, one run each")
    print(f"{'':7} {'pages':>7} {'articles':>8} {'crawl s':>7} {'pages/s':>8} {'articles/s':>10} "
          f"{'CPU s/page':>10}")
    for name, r in results.items():
        print(f"{name:7} {r['pages']:7.0f} {r['articles']:8.0f} {r['wall']:7.1f} "
              f"{r['pages'] / r['wall']:8.1f} {r['articles'] / r['wall']:10.1f} "
              f"{r['cpu'] / max(r['pages'], 1):10.5f}")
    full, floor = results["full"], results["floor"]
    ratio = (full["pages"] / full["wall"]) / (floor["pages"] / floor["wall"])
    print(f"full pipeline keeps {ratio:.2f} of the bare crawl's pages/s (target >= 0.5)")


if __name__ == "__main__":
    main()
