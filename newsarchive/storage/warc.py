"""Raw responses archived as WARC, so any stored version can be re-extracted without refetching.

Each fetched article response is written as a ``response`` record followed by its
``request`` record (``WARC-Concurrent-To`` points at the response), each record one gzip
member, both in one ``write()`` so a rotation never separates them. Files rotate by size
and are named ``<prefix>-<UTC time to the microsecond>-<pid>-<serial>.warc.gz``, so names
sort by the time the file was started.

Crash safety: a file is appended to only after a check that it ends exactly at the end of a
complete gzip member; a file left with a half-written member (a process killed mid-write)
is never appended to, a new file is started instead, and its complete records stay readable.
A record's pointer (:class:`WarcRef`) is returned only after the bytes were flushed.

Stored pointers hold the file *name*; :func:`read_response` resolves a bare name against
``newsarchive.config.warc_dir()`` (or the ``directory`` given), so the data folder can move.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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

try:  # advisory locks keep two live writers out of one file; absent on Windows
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

#: 1 GB is the customary WARC file size (Heritrix, wget); small enough to copy and check
DEFAULT_MAX_BYTES = 1_000_000_000
_SUFFIX = ".warc.gz"

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
    record_id: str = field(default="", compare=False)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), None if absent."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    def content(self) -> bytes:
        """The body with its Content-Encoding (gzip, deflate) undone when it is still applied.

        A capture taken after Scrapy's decompression middleware has a decoded body under a
        ``Content-Encoding: gzip`` header; such a body is returned as it is.
        """
        encoding = (self.header("Content-Encoding") or "").strip().lower()
        try:
            if encoding in ("gzip", "x-gzip") and self.body[:2] == b"\x1f\x8b":
                return gzip.decompress(self.body)
            if encoding == "deflate":
                with contextlib.suppress(zlib.error):
                    return zlib.decompress(self.body)
                return zlib.decompress(self.body, -zlib.MAX_WBITS)
        except (OSError, EOFError, zlib.error):
            return self.body
        return self.body


def _text(value: str | bytes) -> str:
    # HTTP header bytes are ISO-8859-1 by definition (RFC 9110); this round-trips any byte
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _header_pairs(headers: HeaderInput | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    pairs: list[tuple[str, str]] = []
    items = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in items:
        values = value if isinstance(value, list) else [value]
        pairs.extend((_text(name), _text(v)) for v in values)
    return pairs


def _complete_gzip_length(path: Path) -> int:
    """Length of the prefix of ``path`` made of complete gzip members (the whole file if sound)."""
    good = 0
    with path.open("rb") as f:
        pending = b""
        while True:
            decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
            consumed = 0
            data = pending
            pending = b""
            while not decomp.eof:
                if not data:
                    data = f.read(1 << 20)
                    if not data:
                        return good  # ended inside a member
                try:
                    decomp.decompress(data)
                except zlib.error:
                    return good
                consumed += len(data) - len(decomp.unused_data)
                data = b""
            good += consumed
            pending = decomp.unused_data
            if not pending:
                pending = f.read(1 << 20)
                if not pending:
                    return good


#: how much of a file's end is examined to find its last gzip member before falling back to a
#: full scan (a member is one record: larger only for a response body bigger than this)
_TAIL_BYTES = 8 << 20
_GZIP_MAGIC = b"\x1f\x8b\x08"


def _members_end_at_eof(data: bytes) -> bool | None:
    """True if ``data`` is whole gzip members, False if the last one is cut off, None if not gzip."""
    while data:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            decomp.decompress(data)
        except zlib.error:
            return None
        if not decomp.eof:
            return False
        data = decomp.unused_data
    return True


def ends_cleanly(path: Path) -> bool:
    """Whether ``path`` ends exactly at the end of a complete gzip member.

    Appends only ever damage the end of a file, so it is enough to find the last member: try
    member starts (gzip magic) in the last ``_TAIL_BYTES``, nearest the end first. A false
    start inside compressed data fails to decompress and the search moves on; if nothing in
    the tail decides, the whole file is scanned.
    """
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as f:
        start = max(0, size - _TAIL_BYTES)
        f.seek(start)
        tail = f.read()
    pos = len(tail)
    while (pos := tail.rfind(_GZIP_MAGIC, 0, pos)) >= 0:
        verdict = _members_end_at_eof(tail[pos:])
        if verdict is not None:
            return verdict
    return _complete_gzip_length(path) == size


def _warc_date(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


class WarcWriter:
    """Appends request/response pairs to size-rotated ``.warc.gz`` files in ``directory``."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        prefix: str = "newsarchive",
    ) -> None:
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

    # -- public ----------------------------------------------------------------------------
    def write_response(
        self,
        url: str,
        *,
        status: int,
        headers: HeaderInput | None,
        body: bytes,
        fetched_at: datetime | None = None,
        request_headers: HeaderInput | None = None,
        method: str = "GET",
        reason: str | None = None,
    ) -> WarcRef:
        """Archive one response with its request; returns where the response record starts."""
        fetched_at = fetched_at or datetime.now(UTC)
        date = _warc_date(fetched_at)
        record_buf = io.BytesIO()
        writer = WARCWriter(record_buf, gzip=True, warc_version="1.1")
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = ""
        http_headers = StatusAndHeaders(
            f"{status} {reason}".strip(), _header_pairs(headers), protocol="HTTP/1.1"
        )
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": date},
        )
        writer.write_record(response)
        response_length = record_buf.tell()

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_pairs = _header_pairs(request_headers)
        if parts.netloc and not any(k.lower() == "host" for k, _ in req_pairs):
            req_pairs.insert(0, ("Host", parts.netloc))
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=StatusAndHeaders(
                f"{method} {target}", req_pairs, protocol="HTTP/1.1", is_http_request=True
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        writer.write_record(request)
        data = record_buf.getvalue()

        f = self._writable(len(data))
        offset = f.tell()
        try:
            f.write(data)
            f.flush()
        except OSError as exc:
            # the file may now end in a partial member: never append to it again
            self._close_file()
            raise StorageError(f"cannot write WARC file {self._path}: {exc.strerror}") from exc
        assert self._path is not None
        return WarcRef(self._path.name, offset, response_length)

    def close(self) -> None:
        """Flush and close the current file (a later write opens or starts one again)."""
        self._close_file()

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- files -----------------------------------------------------------------------------
    def _writable(self, size: int) -> IO[bytes]:
        if self._file is not None and self._file.tell() + size > self.max_bytes and self._file.tell() > 0:
            self._close_file()
        if self._file is None:
            self._open_file(size)
        assert self._file is not None
        return self._file

    def _open_file(self, size: int) -> None:
        latest = max(self.directory.glob(f"{self.prefix}-*{_SUFFIX}"), default=None)
        if latest is not None and latest.stat().st_size + size <= self.max_bytes:
            f = self._try_append(latest)
            if f is not None:
                self._file, self._path = f, latest
                return
        self._file, self._path = self._new_file()

    def _try_append(self, path: Path) -> IO[bytes] | None:
        try:
            f = path.open("r+b")
        except OSError:
            return None
        if not self._lock(f):
            f.close()
            return None  # another live writer owns it
        if not ends_cleanly(path):
            f.close()
            return None  # ends in a half-written member (a crash): start a new file
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
        if fcntl is None:  # pragma: no cover
            return True
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _close_file(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        self._file = None


def resolve(path: str | os.PathLike[str], directory: str | os.PathLike[str] | None = None) -> Path:
    """The file a stored pointer names: absolute paths as they are, bare names under the WARC dir."""
    p = Path(path)
    if p.is_absolute():
        return p
    return Path(directory) / p if directory is not None else warc_dir() / p


def read_response(
    path: str | os.PathLike[str], offset: int, *, directory: str | os.PathLike[str] | None = None
) -> WarcResponse:
    """Read the response record starting at ``offset`` of a WARC file.

    Raises StorageError with one sentence when the file is missing or the record is not a
    complete response record (e.g. the tail of a file cut short by a crash).
    """
    file = resolve(path, directory)
    try:
        with file.open("rb") as f:
            f.seek(offset)
            record = next(iter(ArchiveIterator(f, check_digests=False)), None)
            if record is None:
                raise StorageError(f"no WARC record at offset {offset} of {file}")
            if record.rec_type != "response" or record.http_headers is None:
                raise StorageError(
                    f"the WARC record at offset {offset} of {file} is a {record.rec_type}, not a response"
                )
            # raw_stream: the payload exactly as written, no de-chunking or decompression
            body = record.raw_stream.read()
            expected = record.payload_length if record.payload_length is not None else -1
            if expected >= 0 and len(body) != expected:
                raise StorageError(f"the WARC record at offset {offset} of {file} is truncated")
            rec = record.rec_headers
            date = rec.get_header("WARC-Date") or ""
            fetched_at = (
                iso_date_to_datetime(date, tz_aware=True) if date else datetime.min.replace(tzinfo=UTC)
            )
            status_line = record.http_headers.get_statuscode() or "0"
            return WarcResponse(
                url=rec.get_header("WARC-Target-URI") or "",
                status=int(status_line) if status_line.isdigit() else 0,
                headers=list(record.http_headers.headers),
                body=body,
                fetched_at=fetched_at,
                record_id=rec.get_header("WARC-Record-ID") or "",
            )
    except FileNotFoundError as exc:
        raise StorageError(f"WARC file not found: {file}") from exc
    except (ArchiveLoadFailed, EOFError, zlib.error, ValueError, OSError) as exc:
        raise StorageError(f"cannot read the WARC record at offset {offset} of {file}: {exc}") from exc
