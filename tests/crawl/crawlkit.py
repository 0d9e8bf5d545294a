"""Helpers of the crawl tests: a real loopback HTTP server, page builders, crawl subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]

#: (status, headers, body) or a callable taking the request path and headers returning one
Reply = tuple[int, dict[str, str], bytes]
Route = Reply | Callable[[str, dict[str, str]], Reply]


@dataclass
class Hit:
    """One request the server saw."""

    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Site:
    """A loopback HTTP server answering from ``routes`` (path incl. query -> reply); 404 otherwise."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    delay: float = 0.0

    def start(self) -> Site:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k: v for k, v in self.headers.items()}
                site.hits.append(Hit(self.path, headers, time.monotonic()))
                route = site.routes.get(self.path)
                if route is None:
                    status, extra, body = 404, HTML, b"<html><body>Not found</body></html>"
                elif callable(route):
                    status, extra, body = route(self.path, headers)
                else:
                    status, extra, body = route
                if site.delay:
                    time.sleep(site.delay)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


HTML = {"Content-Type": "text/html; charset=utf-8"}
XML = {"Content-Type": "application/xml"}


def article_html(num: int, headline: str, paragraphs: list[str], *, epoch: int = 1795158900,
                 read_also: tuple[str, ...] = ()) -> bytes:
    """A page in today's tass.com markup (news-header, dateformat epoch, text-block)."""
    paras = "".join(f"<p>{p}</p>" for p in paragraphs)
    links = "".join(f'<a class="read-also__item" href="{u}">Related {i}</a>' for i, u in enumerate(read_also))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{headline} - TASS</title></head><body><div class="news"><div class="news-header">
<h1 class="news-header__title">{headline}</h1>
<div class="news-header__date"><dateformat time="{epoch}" mode="abs"></dateformat></div></div>
<div class="text-content"><div class="text-block">
<p>MOSCOW, November 20. /TASS/. Story number {num} begins here with enough words
to be an article body for the validation pipeline to keep it.</p>{paras}</div>
<div class="text-include read-also">{links}</div></div></div></body></html>""".encode()


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    """RSS 2.0 with (path, RFC 822 pubDate) items."""
    body = "".join(
        f"<item><title>t</title><link>{base}{p}</link><pubDate>{d}</pubDate></item>" for p, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{body}</channel></rss>'.encode()


@dataclass
class CrawlRun:
    """The outcome of one crawl subprocess."""

    returncode: int
    summary: dict[str, Any]
    stderr: str


def crawl_command(tmp: Path, base_url: str, *args: str, db: str | None = None, source: str = "tass",
                  summary: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """argv and environment of ``python -m newsarchive.crawl`` against ``base_url``, data under ``tmp``."""
    db = db or f"sqlite:///{tmp / 'archive.sqlite'}"
    argv = [sys.executable, "-m", "newsarchive.crawl", source, "--base-url", base_url, "--db", db,
            "--log-level", "INFO",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "TELNETCONSOLE_ENABLED=False",
            "-s", "HTTPPROXY_ENABLED=False",
            *(["--summary-json", str(summary)] if summary else []), *args]
    env = dict(os.environ, NEWSARCHIVE_DATA_DIR=str(tmp / "data"))
    return argv, env


def run_crawl(tmp: Path, base_url: str, *args: str, db: str | None = None, source: str = "tass",
              timeout: float = 120, extra_env: dict[str, str] | None = None) -> CrawlRun:
    """Run one crawl subprocess to its end; its exit code, JSON summary and stderr."""
    summary = tmp / f"summary-{time.monotonic_ns()}.json"
    argv, env = crawl_command(tmp, base_url, *args, db=db, source=source, summary=summary)
    env.update(extra_env or {})
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, cwd=tmp, env=env, check=False
    )
    data = json.loads(summary.read_text()) if summary.exists() else {}
    return CrawlRun(proc.returncode, data, proc.stderr)


def archived(db_url: str) -> dict[str, dict[str, Any]]:
    """The archive's current articles keyed by canonical URL (through the public storage API)."""
    from newsarchive.storage import Archive

    with Archive(db_url) as archive:
        return {row["canonical_url"]: row for row in archive.iter_articles()}


def now_rfc822() -> str:
    return datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def url_path(url: str) -> str:
    """Path and query of ``url`` (how the test server saw it)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
