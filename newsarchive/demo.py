"""``newsarchive demo``: crawl the bundled TASS-like sample site offline, twice, and export CSV.

The sample site in ``data/samples/site`` is served on a loopback port from a thread.
The first crawl sees edition 1; the server then switches to edition 2
(``data/samples/edition2`` overlays the edited article and its sitemap, whose
``%%EDITION_TIME%%`` lastmod becomes the switch time) and a second crawl picks up the
edit as an update.  Each crawl runs as a child process because Twisted's reactor
cannot be restarted.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from newsarchive.config import DATA_DIR, SAMPLES_DIR, default_db_url
from newsarchive.errors import NewsarchiveError
from newsarchive.redact import mask_url

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
}
DEMO_PORT = 8765


class SampleSite:
    """A static copy of a site served from ``roots`` (first match wins) on 127.0.0.1.

    ``/politics?page=2`` is served from ``politics/page-2.html``; ``/a/b`` from ``a/b``,
    ``a/b.html`` or ``a/b/index.html``.  ETag/Last-Modified are sent and honoured (304).
    """

    def __init__(self, root: Path = SAMPLES_DIR, port: int = 0) -> None:
        self.root = root
        self.edition = 1
        self.edition_time = datetime.now(UTC)
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                found = site.resolve(self.path)
                if found is None:
                    self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
                    return
                body, ctype = found
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", ctype, etag)
                    return
                self._send(200, body, ctype, etag)

            def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", formatdate(site.edition_time.timestamp(), usegmt=True))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError:
            self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The loopback URL the sample site is served at."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def roots(self) -> list[Path]:
        """Directories searched for a path, the edited edition first."""
        site = [self.root / "site"]
        return ([self.root / "edition2"] if self.edition >= 2 else []) + site

    def set_edition(self, edition: int) -> None:
        """Switch the served edition; the switch time becomes the edited pages' lastmod."""
        self.edition = edition
        self.edition_time = datetime.now(UTC)

    def resolve(self, raw_path: str) -> tuple[bytes, str] | None:
        """A request path as (body, content type), None when not found."""
        parts = urlsplit(raw_path)
        path = parts.path.strip("/")
        if ".." in path.split("/"):
            return None
        page = parse_qs(parts.query).get("page", ["1"])[0]
        if page.isdigit() and int(page) > 1:
            names = [f"{path}/page-{int(page)}.html"]
        elif not path:
            names = ["index.html"]
        else:
            names = [path, f"{path}.html", f"{path}/index.html"]
        for root in self.roots():
            for name in names:
                candidate = root / name
                if candidate.is_file():
                    body = candidate.read_bytes()
                    if candidate.suffix == ".xml":
                        stamp = self.edition_time.isoformat()
                        body = body.replace(b"%%EDITION_TIME%%", stamp.encode())
                    return body, CONTENT_TYPES.get(candidate.suffix, "application/octet-stream")
        return None

    def __enter__(self) -> SampleSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def crawl_child(source: str, base_url: str, db: str, *extra: str, timeout: float = 600) -> dict[str, Any]:
    """Run ``python -m newsarchive.crawl`` in a child process; its JSON summary (exit code included)."""
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        argv = [
            sys.executable, "-m", "newsarchive.crawl", source, "--base-url", base_url,
            "--summary-json", str(summary), "--log-level", "ERROR",
            # loopback: no need to be polite to ourselves, and an http_proxy set in the
            # environment must not capture requests to 127.0.0.1
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "HTTPPROXY_ENABLED=False",
            *extra,
        ]
        # the URL (and any password in it) in the environment: argv is visible to every user
        env = {**os.environ, "NEWSARCHIVE_DB": db}
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        if not summary.exists():
            tail = (proc.stderr or "").strip().splitlines()[-5:]
            raise NewsarchiveError(f"the {source} crawl failed (exit {proc.returncode}): " + " | ".join(tail))
        result: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
        result["exit_code"] = proc.returncode
        return result


def archive_summary(db: str, csv_path: Path) -> tuple[int, list[str]]:
    """Write the archive as CSV; return its row count and lines on revisions and clusters."""
    from newsarchive.storage import Archive
    from newsarchive.storage.export import write_rows

    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with Archive(db) as archive:
        rows = int(write_rows(archive.iter_articles(), "csv", str(csv_path), progress=False))
        articles = list(archive.iter_articles())
    path = lambda row: urlsplit(row["url"]).path  # noqa: E731
    revised = [f"{path(r)} ({r['version_count']} versions)" for r in articles if r["version_count"] > 1]
    clusters: dict[int, list[str]] = {}
    for row in articles:
        if row["cluster_id"] is not None:
            clusters.setdefault(row["cluster_id"], []).append(path(row))
    shared = [" ~ ".join(members) for members in clusters.values() if len(members) > 1]
    return rows, [
        f"  revisions {len(revised)} article(s) with earlier text kept: {', '.join(revised) or '-'}",
        f"  clusters  {len(shared)} near-duplicate cluster(s), one story under several URLs: "
        f"{'; '.join(shared) or '-'}",
    ]


def run_demo(db: str | None = None, csv_path: str | None = None, out: Any = None) -> int:
    """Serve the samples, crawl edition 1 then edition 2, print a summary, write CSV; exit code."""
    from newsarchive.storage import Archive

    out = out or sys.stderr
    db = db or default_db_url()
    Archive(db).close()  # an unwritable archive fails here, with one clear line, before any crawl
    csv_file = Path(csv_path) if csv_path else DATA_DIR / "demo.csv"
    started = time.monotonic()
    with SampleSite(port=int(os.environ.get("NEWSARCHIVE_DEMO_PORT", DEMO_PORT))) as site:
        print(f"serving the sample site at {site.base_url}", file=out)
        first = crawl_child("tass", site.base_url, db)
        site.set_edition(2)
        second = crawl_child("tass", site.base_url, db)
    rows, archive_lines = archive_summary(db, csv_file)
    elapsed = time.monotonic() - started
    runs = [first, second]

    skipped: dict[str, int] = {}
    for r in runs:
        for reason, n in r.get("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + int(n)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items()))
    table = [("pages fetched", "pages"), ("articles stored", "stored"), ("updates", "updated"),
             ("unchanged", "unchanged"), ("duplicates dropped", "duplicates"), ("skipped", "skipped"),
             ("robots.txt disallowed", "robots_disallowed"), ("errors", "errors")]
    lines = [
        "newsarchive demo: the bundled TASS-like site, crawled twice",
        "(edition 1, then edition 2 where one article was edited)",
        f"  {'':22} {'crawl 1':>8} {'crawl 2':>8}",
    ]
    for label, key in table:
        note = f"   ({reasons})" if key == "skipped" and reasons else ""
        lines.append(f"  {label:22} {first['counts'].get(key, 0):>8} {second['counts'].get(key, 0):>8}{note}")
    lines += [
        *archive_lines,
        f"  archive   {mask_url(db)}",
        f"  CSV       {csv_file} ({rows} rows)",
        f"  elapsed   {elapsed:.1f} s",
    ]
    if not first["counts"].get("stored") and first.get("stats", {}).get("newsarchive/revisit/not_due"):
        lines.append("  note      the archive already held the sample articles (an earlier demo run):")
        lines.append("            known pages were not fetched again; use a fresh --db to see a first crawl")
    print("\n".join(lines), file=out)
    for message in [m for r in runs for m in r.get("errors", [])][:5]:
        print(f"  error: {message}", file=out)
    return max(int(first["exit_code"]), int(second["exit_code"]))
