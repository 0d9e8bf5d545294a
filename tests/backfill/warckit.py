"""Helpers of the backfill tests: article pages, WARC files written with warcio, a CC-NEWS-like server."""

from __future__ import annotations

import contextlib
import gzip
import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

#: 2017-01-19 10:48 UTC
EPOCH = 1484822880


def page(num: int, *, headline: str | None = None, charset: str = "utf-8", extra: str = "") -> bytes:
    """A tass.com article page (today's markup) about story ``num``."""
    headline = headline or f"Story number {num} about the talks in Astana"
    text = f"""<!DOCTYPE html><html lang="en"><head><meta charset="{charset}">
<title>{headline} - TASS</title>
<meta property="article:published_time" content="2017-01-19T10:{num % 60:02d}:00+00:00">
</head><body><div class="news"><div class="news-header">
<h1 class="news-header__title">{headline}</h1>
<div class="news-header__date"><dateformat time="{EPOCH + num * 60}" mode="abs"></dateformat></div></div>
<div class="text-content"><div class="text-block">
<p>MOSCOW, January 19. /TASS/. Story number {num} begins here with enough words to be an article
body that the validation rule keeps, and it says what happened on the day {extra}.</p>
<p>A second paragraph of story {num} adds the reaction of the officials who were asked.</p>
</div></div></div></body></html>"""
    return text.encode(charset)


@dataclass
class Rec:
    """One record to write: a response (the default), a request, a revisit or a metadata record."""

    url: str
    body: bytes = b""
    kind: str = "response"
    status: int = 200
    headers: list[tuple[str, str]] = field(
        default_factory=lambda: [("Content-Type", "text/html; charset=utf-8")])
    date: str = "2017-01-19T12:00:00Z"
    chunked: bool = False
    gzip_body: bool = False


def _chunked(body: bytes, size: int = 100) -> bytes:
    out = io.BytesIO()
    for start in range(0, len(body), size):
        part = body[start:start + size]
        out.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    out.write(b"0\r\n\r\n")
    return out.getvalue()


def warc_bytes(records: Iterable[Rec], *, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for rec in records:
        date = {"WARC-Date": rec.date}
        if rec.kind == "request":
            http = StatusAndHeaders(f"GET {rec.url.split('/', 3)[-1]}", [("Host", "x")], protocol="HTTP/1.1",
                                    is_http_request=True)
            record = writer.create_warc_record(rec.url, "request", payload=io.BytesIO(b""), length=0,
                                               http_headers=http, warc_headers_dict=date)
        elif rec.kind == "metadata":
            record = writer.create_warc_record(rec.url, "metadata", payload=io.BytesIO(rec.body),
                                               length=len(rec.body), warc_content_type="text/plain",
                                               warc_headers_dict=date)
        elif rec.kind == "revisit":
            http = StatusAndHeaders("200 OK", list(rec.headers), protocol="HTTP/1.1")
            record = writer.create_revisit_record(rec.url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                                  refers_to_uri=rec.url, refers_to_date=rec.date,
                                                  http_headers=http, warc_headers_dict=date)
        else:
            body = gzip.compress(rec.body) if rec.gzip_body else rec.body
            headers = list(rec.headers)
            if rec.gzip_body:
                headers.append(("Content-Encoding", "gzip"))
            if rec.chunked:
                body = _chunked(body)
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(len(body))))
            http = StatusAndHeaders(f"{rec.status} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(rec.url, "response", payload=io.BytesIO(body),
                                               length=len(body), http_headers=http, warc_headers_dict=date)
        writer.write_record(record)
    return buf.getvalue()


def write_warc(path: Path, records: Iterable[Rec], *, gz: bool = True) -> Path:
    path.write_bytes(warc_bytes(records, gz=gz))
    return path


def tass(num: int, **kwargs: Any) -> Rec:
    return Rec(f"https://tass.com/politics/{num}", page(num), **kwargs)


#: (status, headers, body) or a callable (path, request headers) -> one
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A loopback HTTP server of fixed files, honouring Range, with injectable faults."""

    files: dict[str, bytes] = field(default_factory=dict)
    #: path -> callable(path, headers, attempt number) returning a Reply, or None to serve normally
    faults: dict[str, Callable[[str, dict[str, str], int], Reply | None]] = field(default_factory=dict)
    hits: list[tuple[str, str | None]] = field(default_factory=list)
    #: path -> seconds slept after each 16 KB of its body (a slow download)
    throttle: dict[str, float] = field(default_factory=dict)

    def start(self) -> Server:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                rng = self.headers.get("Range")
                server.hits.append((path, rng))
                self.slow = server.throttle.get(path, 0.0)
                fault = server.faults.get(path)
                if fault is not None:
                    attempt = sum(1 for p, _ in server.hits if p == path)
                    reply = fault(path, dict(self.headers.items()), attempt)
                    if reply is not None:
                        self._send(*reply)
                        return
                data = server.files.get(path)
                if data is None:
                    self._send(404, {}, b"not found")
                    return
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-", 1)[0])
                    if start >= len(data):
                        self._send(416, {"Content-Range": f"bytes */{len(data)}"}, b"")
                        return
                    self._send(206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}",
                                     "Accept-Ranges": "bytes"}, data[start:])
                    return
                self._send(200, {"Accept-Ranges": "bytes"}, data)

            def _send(self, status: int, headers: dict[str, str], body: bytes,
                      length: int | None = None) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.end_headers()
                slow = getattr(self, "slow", 0.0)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for start in range(0, len(body), 16384 if slow else max(1, len(body))):
                        self.wfile.write(body[start:start + 16384] if slow else body)
                        if slow:
                            time.sleep(slow)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def cc_news_layout(server: Server, month_files: dict[str, list[bytes]]) -> list[str]:
    """Put WARC files under ``crawl-data/CC-NEWS/YYYY/MM/`` with their ``warc.paths.gz``; their paths."""
    paths = []
    for month, files in month_files.items():
        listed = []
        for i, data in enumerate(files):
            path = f"crawl-data/CC-NEWS/{month}/CC-NEWS-{month.replace('/', '')}01{i:06d}-{i:05d}.warc.gz"
            server.files["/" + path] = data
            listed.append(path)
        server.files[f"/crawl-data/CC-NEWS/{month}/warc.paths.gz"] = gzip.compress(
            ("\n".join(listed) + "\n").encode())
        paths.extend(listed)
    return paths
