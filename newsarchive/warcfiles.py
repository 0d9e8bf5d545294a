"""Reading WARC files record by record, from a local path or over HTTP(S), streamed.

* :class:`HttpStream` reads one URL as a file: an HTTP error (5xx, 429, 408) or a connection
  that ends before the announced length is retried with backoff, resuming with ``Range`` where
  the server allows it (else the file is read again from the start and the bytes already
  read are skipped). What cannot be read after the retries raises :class:`FetchError`.
* :func:`iter_captures` walks the records with warcio. The filter looks at the WARC headers
  only (record type, ``WARC-Target-URI``): a record it does not want is read through without
  parsing its HTTP headers or HTML. A record that cannot be read (a damaged gzip member, bad
  headers, cut short) is counted in ``corrupt`` and skipped; reading resumes at the next
  record start found after it.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.statusandheaders import StatusAndHeadersParser
from warcio.timeutils import iso_date_to_datetime

from newsarchive import __version__
from newsarchive.errors import NewsarchiveError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: a page larger than this is not an article page (and would cost memory): skipped, counted
MAX_PAYLOAD = 20 * 1024 * 1024
USER_AGENT = f"newsarchive/{__version__} (WARC import)"
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_START = b"\nWARC/1."
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(NewsarchiveError):
    """A WARC file (or listing) that could not be read, after the retries."""


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def shown(location: str) -> str:
    """A location as messages and run records show it: a URL without user info or query
    (either may hold a secret, e.g. a pre-signed URL's signature)."""
    if not is_url(location):
        return location
    parts = urlsplit(location)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "…" if parts.query else "", ""))


class HttpStream(io.RawIOBase):
    """A URL read as a forward-only binary stream, retried and resumed (see module docstring)."""

    def __init__(self, url: str, *, start: int = 0, attempts: int = 5, backoff: float = 0.5,
                 timeout: float = 60.0) -> None:
        super().__init__()
        self.url = url
        self.start = start
        self.pos = start
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.retries = 0
        self._failures = 0
        self._resp: http.client.HTTPResponse | None = None
        self._end: int | None = None

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        # relative to where this stream started: warcio's offsets are then relative too
        return self.pos - self.start

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while True:
            if self._end is not None and self.pos >= self._end:
                return 0
            try:
                if self._resp is None:
                    self._open()
                    if self._resp is None:
                        continue  # retried, or past the end (checked at the top)
                n = self._resp.readinto(buffer)
            except FetchError:
                raise
            except (OSError, http.client.HTTPException) as exc:
                self._retry(f"{type(exc).__name__}: {exc}")
                continue
            if n:
                self.pos += n
                self._failures = 0
                return n
            if self._end is None:
                return 0  # no announced length: the server's end is the end
            self._retry(f"connection closed at byte {self.pos} of {self._end}")

    def _open(self) -> None:
        headers = {"User-Agent": USER_AGENT}
        if self.pos:
            headers["Range"] = f"bytes={self.pos}-"
        request = urllib.request.Request(self.url, headers=headers)
        try:
            resp = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and self.pos:
                self._end = self.pos  # asked past the end: nothing is left
                return
            if exc.code in _RETRY_STATUSES:
                self._retry(f"HTTP {exc.code}", retry_after=exc.headers.get("Retry-After"))
                return
            raise FetchError(f"{shown(self.url)}: HTTP {exc.code} {exc.reason}") from None
        length = resp.headers.get("Content-Length")
        if resp.status == 206:
            total = (resp.headers.get("Content-Range") or "").rpartition("/")[2]
            self._end = int(total) if total.isdigit() else (
                self.pos + int(length) if length and length.isdigit() else None)
        else:
            self._end = int(length) if length and length.isdigit() else None
            skip = self.pos
            # the server ignored Range: read again from the start and drop what we had
            while skip:
                chunk = resp.read(min(skip, 1 << 20))
                if not chunk:
                    resp.close()
                    self._retry(f"connection closed while skipping to byte {self.pos}")
                    return
                skip -= len(chunk)
        self._resp = resp

    def _retry(self, reason: str, retry_after: str | None = None) -> None:
        self._drop()
        self._failures += 1
        self.retries += 1
        if self._failures >= self.attempts:
            raise FetchError(f"{shown(self.url)}: {reason} (gave up after {self._failures} attempts)")
        delay = self.backoff * 2 ** (self._failures - 1)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 60.0))
        log.info("retrying %s at byte %d in %.1f s: %s", shown(self.url), self.pos, delay, reason)
        time.sleep(delay)

    def _drop(self) -> None:
        if self._resp is not None:
            with contextlib.suppress(OSError):
                self._resp.close()
            self._resp = None

    def close(self) -> None:
        self._drop()
        super().close()


class _FileWindow(io.RawIOBase):
    """A local file read from ``start``, with ``tell()`` relative to it (as HttpStream's)."""

    def __init__(self, path: Path, start: int) -> None:
        super().__init__()
        self._f = path.open("rb")
        self._f.seek(start)
        self.start = start

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._f.tell() - self.start

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._f.readinto(buffer)

    def read(self, size: int = -1) -> bytes:
        return self._f.read(size)

    def close(self) -> None:
        self._f.close()
        super().close()


@dataclass
class WarcLocation:
    """A WARC file by local path or URL; opens streams at any byte position."""

    location: str
    attempts: int = 5
    backoff: float = 0.5
    retries: int = 0

    @property
    def remote(self) -> bool:
        return is_url(self.location)

    @property
    def name(self) -> str:
        """What a stored pointer names: the absolute path of a local file."""
        return self.location if self.remote else str(Path(self.location).resolve())

    def open_at(self, pos: int) -> io.RawIOBase:
        if self.remote:
            return HttpStream(self.location, start=pos, attempts=self.attempts, backoff=self.backoff)
        try:
            return _FileWindow(Path(self.location), pos)
        except OSError as exc:
            raise FetchError(f"cannot read {self.location}: {exc.strerror or exc}") from None

    def next_record_start(self, after: int, gzipped: bool) -> int | None:
        """Where the next record may start after byte ``after`` (None: nowhere before the end)."""
        marker = _GZIP_MAGIC if gzipped else _WARC_START
        skip = 0 if gzipped else 1  # the line break before "WARC/1." belongs to the record before
        stream = self.open_at(after)
        try:
            pos, tail = after, b""
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    return None
                data = tail + chunk
                found = data.find(marker)
                if found >= 0:
                    return pos - len(tail) + found + skip
                tail = data[-(len(marker) - 1):]
                pos += len(chunk)
        finally:
            stream.close()
            self.retries += getattr(stream, "retries", 0)


@dataclass
class Capture(Generic[T]):
    """One wanted response record: its HTML payload (transfer and content codings undone)."""

    target: T
    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    offset: int
    length: int
    #: the record's stored payload is the page as it is (no chunking, gzip/deflate at most):
    #: newsarchive.capture.read_response can give it back for re-extraction
    plain: bool = True


@dataclass
class ReadCounts:
    """What reading a file saw, record by record."""

    records: int = 0
    responses: int = 0
    wanted: int = 0
    corrupt: int = 0
    not_html: int = 0
    not_ok: int = 0
    too_large: int = 0
    revisits: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def _host_of(uri: str) -> str:
    # cheaper than urlsplit for the one part every record is filtered on
    rest = uri.partition("://")[2]
    host = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    if host.startswith("["):
        return host
    return host.split(":", 1)[0].lower().rstrip(".")


def iter_captures(where: WarcLocation, want: Callable[[str, str], T | None],
                  counts: ReadCounts) -> Iterator[Capture[T]]:
    """The response records ``want(uri, host)`` accepts, in file order, as HTML captures."""
    pos = 0
    gzipped: bool | None = None
    recovering = False
    while True:
        stream = where.open_at(pos)
        it = ArchiveIterator(stream, no_record_parse=True, check_digests=False)
        start = pos
        try:
            for record in it:
                here = start = pos + it.offset
                recovering = False  # headers parsed: a real record, not a false resync point
                counts.records += 1
                capture = _take(it, record, want, counts)
                # damage found while parsing the next headers lies after this record, so that
                # the resync does not come back to a damaged member and count it twice
                start = here + it.get_record_length()
                if capture is not None:
                    capture.offset = here
                    capture.length = it.get_record_length()
                    yield capture
            return
        except FetchError:
            raise
        except Exception as exc:  # one damaged record: counted, and reading resumes after it
            if not recovering:
                counts.corrupt += 1
                message = (f"{shown(where.location)}: damaged record at byte {start}: "
                           f"{type(exc).__name__}: {exc}")
                log.warning("%s", message)
                if len(counts.errors) < 20:
                    counts.errors.append(message[:500])
            recovering = True
            if gzipped is None:
                gzipped = _peek(where).startswith(b"\x1f\x8b")
            found = where.next_record_start(start + 1, gzipped)
            if found is None:
                return
            pos = found
        finally:
            stream.close()
            counts.retries += getattr(stream, "retries", 0)


def _peek(where: WarcLocation) -> bytes:
    stream = where.open_at(0)
    try:
        return stream.read(2) or b""
    finally:
        stream.close()


def _take(it: ArchiveIterator, record: Any, want: Callable[[str, str], T | None],
          counts: ReadCounts) -> Capture[T] | None:
    """Read one record to its end: the capture when it is a wanted response, else None."""
    kind = record.rec_type
    if kind != "response":
        if kind == "revisit":
            counts.revisits += 1
        _finish(it, record, counts)
        return None
    counts.responses += 1
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    target = want(uri, _host_of(uri)) if uri else None
    if target is None:
        _finish(it, record, counts)
        return None
    counts.wanted += 1
    capture = _read_capture(record, target, uri, counts)
    _finish(it, record, counts)
    return capture


def _finish(it: ArchiveIterator, record: object, counts: ReadCounts) -> None:
    it.read_to_end(record)
    if getattr(getattr(record, "raw_stream", None), "limit", 0) > 0:
        raise EOFError("the record ends before its Content-Length")


def _read_capture(record: object, target: T, uri: str, counts: ReadCounts) -> Capture[T] | None:
    raw = record.raw_stream  # type: ignore[attr-defined]
    http = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0"], verify=False).parse(raw)
    code = (http.get_statuscode() or "").strip()
    status = int(code) if code.isdigit() else 0
    if status != 200:
        counts.not_ok += 1
        return None
    ctype = (http.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    payload = raw.read(MAX_PAYLOAD + 1)
    if len(payload) > MAX_PAYLOAD:
        counts.too_large += 1
        return None
    if getattr(raw, "limit", 0) > 0:
        raise EOFError("the record ends before its Content-Length")
    if ctype and ctype not in _HTML_TYPES:
        counts.not_html += 1
        return None
    transfer = (http.get_header("Transfer-Encoding") or "").strip().lower()
    encoding = (http.get_header("Content-Encoding") or "").strip().lower()
    body, plain = payload, transfer in ("", "identity") and encoding in ("", "identity", "gzip",
                                                                           "x-gzip", "deflate")
    if transfer == "chunked" or encoding in ("gzip", "x-gzip", "deflate", "br"):
        decomp = {"x-gzip": "gzip"}.get(encoding, encoding) or None
        try:
            reader = ChunkedDataReader(io.BytesIO(payload), decomp_type=decomp)
            body = reader.read()
        except Exception:  # a payload that claims a coding it does not have is taken as it is
            body = payload
    if not ctype and body.lstrip()[:1] != b"<":
        counts.not_html += 1
        return None
    date = record.rec_headers.get_header("WARC-Date") or ""  # type: ignore[attr-defined]
    try:
        fetched_at = iso_date_to_datetime(date, tz_aware=True) if date else datetime.now(UTC)
    except ValueError:
        fetched_at = datetime.now(UTC)
    return Capture(target=target, url=uri, status=status, headers=list(http.headers), body=body,
                   fetched_at=fetched_at, offset=0, length=0, plain=plain)


def file_size(location: str) -> int | None:
    """Bytes of a local file (None for a URL or a missing file)."""
    if is_url(location):
        return None
    try:
        return os.path.getsize(location)
    except OSError:
        return None
