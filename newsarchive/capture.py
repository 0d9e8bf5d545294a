"""Raw responses archived as WARC, so any stored version can be re-extracted without refetching.

Each response record is followed by its request record, each one gzip member, both in one
``write()``. Files rotate by size, named ``<prefix>-<UTC time>-<pid>-<serial>.warc.gz`` so names
sort by time; a file is appended to only if it ends at a complete member (a crash mid-write starts
a new file). Stored pointers hold the file *name*, resolved against ``config.warc_dir()``.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import io
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_datetime
from warcio.warcwriter import WARCWriter

from newsarchive.config import warc_dir
from newsarchive.errors import StorageError

#: 1 GB is the customary WARC file size (Heritrix, wget); small enough to copy and check
DEFAULT_MAX_BYTES = 1_000_000_000
_SUFFIX = ".warc.gz"
#: the end of a file searched for its last gzip member before a full scan (see ends_cleanly)
_TAIL_BYTES = 8 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"

#: headers as a mapping (values may be lists, as in Scrapy's Headers) or as (name, value) pairs
HeaderInput = (
    Mapping[str | bytes, str | bytes | list[str] | list[bytes]] | Iterable[tuple[str | bytes, str | bytes]]
)


@dataclass(frozen=True)
class WarcRef:
    """Where a response record lives: file name, byte offset of its gzip member, member length."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class WarcResponse:
    """A response read back from a WARC file, body byte for byte as it was written."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), None if absent."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def content(self) -> bytes:
        """The body with a Content-Encoding (gzip, deflate) undone if still applied (a capture taken
        after Scrapy's decompression keeps the header over a decoded body)."""
        encoding = (self.header("Content-Encoding") or "").strip().lower()
        try:
            if encoding in ("gzip", "x-gzip") and self.body[:2] == b"\x1f\x8b":
                return gzip.decompress(self.body)
            if encoding == "deflate":
                with contextlib.suppress(zlib.error):
                    return zlib.decompress(self.body)
                return zlib.decompress(self.body, -zlib.MAX_WBITS)
        except (OSError, EOFError, zlib.error):
            pass
        return self.body


def _header_pairs(headers: HeaderInput | None) -> list[tuple[str, str]]:
    def text(value: str | bytes) -> str:  # header bytes are ISO-8859-1 (RFC 9110): any byte round-trips
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)

    items = headers.items() if isinstance(headers, Mapping) else headers or ()
    return [(text(k), text(v)) for k, value in items for v in (value if isinstance(value, list) else [value])]


def _whole_members(chunks: Iterable[bytes]) -> bool | None:
    """True if the bytes are whole gzip members, False if the last is cut off, None if not gzip."""
    member = None
    for data in chunks:
        while data:
            member = member or zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                member.decompress(data)
            except zlib.error:
                return None
            if not member.eof:
                break
            data, member = member.unused_data, None
    return member is None


def ends_cleanly(path: Path) -> bool:
    """Whether ``path`` ends exactly at the end of a complete gzip member.

    Appends only damage a file's end, so member starts (gzip magic) in its tail are tried, nearest
    the end first: a false start inside compressed data fails to decompress. Undecided, the whole
    file is scanned.
    """
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - _TAIL_BYTES))
        tail = f.read()
        pos = len(tail)
        while (pos := tail.rfind(_GZIP_MAGIC, 0, pos)) >= 0:
            verdict = _whole_members([tail[pos:]])
            if verdict is not None:
                return verdict
        f.seek(0)
        return _whole_members(iter(lambda: f.read(1 << 20), b"")) is True


class WarcWriter:
    """Appends request/response pairs to size-rotated ``.warc.gz`` files in ``directory``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, prefix: str = "newsarchive") -> None:
        self.directory = Path(directory) if directory is not None else warc_dir()
        self.max_bytes = max_bytes
        self.prefix = prefix
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._serial = 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot write WARC files in {self.directory}: {exc.strerror}") from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise StorageError(f"cannot write WARC files in {self.directory}: permission denied")

    def write_response(self, url: str, *, status: int, headers: HeaderInput | None, body: bytes,
                       fetched_at: datetime | None = None, request_headers: HeaderInput | None = None,
                       method: str = "GET") -> WarcRef:
        """Archive one response with its request; returns where the response record starts."""
        fetched_at = fetched_at or datetime.now(UTC)
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware")
        date = fetched_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
        buf = io.BytesIO()
        writer = WARCWriter(buf, gzip=True, warc_version="1.1")
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        response = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders(f"{status} {reason}".strip(), _header_pairs(headers),
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": date})
        writer.write_record(response)
        response_length = buf.tell()

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_pairs = _header_pairs(request_headers)
        if parts.netloc and not any(k.lower() == "host" for k, _ in req_pairs):
            req_pairs.insert(0, ("Host", parts.netloc))
        writer.write_record(writer.create_warc_record(
            url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"{method} {target}", req_pairs, protocol="HTTP/1.1",
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date,
                               "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")}))
        data = buf.getvalue()

        f = self._writable(len(data))
        offset = f.tell()
        try:
            f.write(data)
            f.flush()
        except OSError as exc:
            self.close()  # the file may now end in a partial member: never append to it again
            raise StorageError(f"cannot write WARC file {self._path}: {exc.strerror}") from exc
        assert self._path is not None
        return WarcRef(self._path.name, offset, response_length)

    def close(self) -> None:
        """Close the current file (a later write opens or starts one again)."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _writable(self, size: int) -> IO[bytes]:
        if self._file is not None and self._file.tell() > 0 and self._file.tell() + size > self.max_bytes:
            self.close()
        if self._file is None:
            latest = max(self.directory.glob(f"{self.prefix}-*{_SUFFIX}"), default=None)
            if latest is not None and latest.stat().st_size + size <= self.max_bytes:
                self._file, self._path = self._try_append(latest), latest
            if self._file is None:
                self._file, self._path = self._new_file()
        return self._file

    def _try_append(self, path: Path) -> IO[bytes] | None:
        """``path`` opened at its end, or None if another live writer owns it or it ends in a
        half-written member (a crash)."""
        try:
            f = path.open("r+b")
        except OSError:
            return None
        if not self._lock(f) or not ends_cleanly(path):
            f.close()
            return None
        f.seek(0, os.SEEK_END)
        return f

    def _new_file(self) -> tuple[IO[bytes], Path]:
        while True:
            self._serial += 1
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
            path = self.directory / f"{self.prefix}-{stamp}-{os.getpid()}-{self._serial:05d}{_SUFFIX}"
            try:
                f = path.open("xb")
            except FileExistsError:
                continue
            except OSError as exc:
                raise StorageError(f"cannot create WARC file {path}: {exc.strerror}") from exc
            self._lock(f)
            return f, path

    @staticmethod
    def _lock(f: IO[bytes]) -> bool:
        """An advisory lock: two live writers never share a file."""
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


def read_response(path: str | os.PathLike[str], offset: int, *,
                  directory: str | os.PathLike[str] | None = None) -> WarcResponse:
    """The response record at ``offset`` of a WARC file (a bare name is looked up under ``directory``,
    else the WARC dir); StorageError in one sentence when it is missing or not a complete response."""
    file = Path(path)
    if not file.is_absolute():
        file = (Path(directory) if directory is not None else warc_dir()) / file
    try:
        with file.open("rb") as f:
            f.seek(offset)
            record = next(iter(ArchiveIterator(f, check_digests=False)), None)
            if record is None:
                raise StorageError(f"no WARC record at offset {offset} of {file}")
            if record.rec_type != "response" or record.http_headers is None:
                raise StorageError(
                    f"the WARC record at offset {offset} of {file} is a {record.rec_type}, not a response")
            body = record.raw_stream.read()  # the payload as written: no de-chunking or decompression
            if record.payload_length is not None and 0 <= record.payload_length != len(body):
                raise StorageError(f"the WARC record at offset {offset} of {file} is truncated")
            date = record.rec_headers.get_header("WARC-Date")
            when = iso_date_to_datetime(date, tz_aware=True) if date else datetime.min.replace(tzinfo=UTC)
            status = record.http_headers.get_statuscode() or "0"
            return WarcResponse(
                url=record.rec_headers.get_header("WARC-Target-URI") or "",
                status=int(status) if status.isdigit() else 0,
                headers=list(record.http_headers.headers),
                body=body,
                fetched_at=when,
            )
    except FileNotFoundError as exc:
        raise StorageError(f"WARC file not found: {file}") from exc
    except (ArchiveLoadFailed, EOFError, zlib.error, ValueError, OSError) as exc:
        raise StorageError(f"cannot read the WARC record at offset {offset} of {file}: {exc}") from exc
