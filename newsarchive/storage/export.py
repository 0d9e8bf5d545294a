"""Streaming export of archive rows to CSV, JSON Lines or Parquet, with constant memory.

* CSV: RFC 4180 (CRLF, minimal quoting); lists (``topics``, ``authors``, ``read_also``) as JSON,
  read back with ``pd.read_csv(f, converters={c: json.loads for c in lists})``; times in ISO 8601
  with the page's own offset. A file starts with a UTF-8 BOM (Excel then reads Cyrillic right).
* JSON Lines: UTF-8, one object per line, values as ``Article.to_dict()``.
* Parquet (the ``parquet`` extra): list columns; times as ``timestamp[us, UTC]``, each page
  time's offset in minutes beside it (``published_offset``, NULL when the page gave no zone).

A file is written to ``<name>.part`` and renamed at the end: an interrupted export leaves none.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

from newsarchive.errors import NewsarchiveError
from newsarchive.storage.save import offset_minutes
from newsarchive.storage.search import (
    LIST_FIELDS,
    OFFSET_COLUMNS,
    ROW_INDEX,
    ROW_KEYS,
    TIME_COLUMNS,
    as_utc,
    iso,
    json_list,
)

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")

#: what iter_articles() yields but the version id: the Article fields plus the archive's own
COLUMNS: tuple[str, ...] = tuple(name for name in ROW_KEYS if name != "version_id")
INT_COLUMNS = frozenset({"article_id", "version_id", "version_count", "cluster_id", "copy_of"})
#: rows per Parquet row group: ~10k articles of a few KB each is a few tens of MB at most
PARQUET_BATCH_ROWS = 10_000


class ExportError(NewsarchiveError):
    """The export target cannot be written, or the format cannot be produced here."""


def check_writable(out: str | os.PathLike[str]) -> None:
    """Fail with one sentence, before any work, when ``out`` cannot be written ("-" is stdout)."""
    problem = None if str(out) == "-" else unwritable_reason(out)
    if problem:
        raise ExportError(f"cannot write the export to {Path(out)}: {problem}")


def unwritable_reason(out: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be created or appended to at ``out``, or None; leaves nothing behind."""
    path = Path(out)
    if path.is_dir():
        return "it is a directory"
    if not path.parent.is_dir():
        return f"folder {path.parent} does not exist"
    # try for real (permissions, read-only file systems, ACLs): os.access is wrong for root
    probe = path.parent / f".{path.name}.{os.getpid()}.probe"
    try:
        probe.open("xb").close()
        probe.unlink()
        if path.exists():
            path.open("ab").close()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        return exc.strerror or str(exc)
    return None


def _require_pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # registers pa.parquet
    except ImportError as exc:
        raise ExportError(
            "Parquet export needs pyarrow: pip install 'newsarchive[parquet]' (or use csv / jsonl)"
        ) from exc
    return pa


class _Progress:
    """A one-line counter on stderr, redrawn at most 5 times a second, only on a terminal."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled, self.total, self.count = enabled and sys.stderr.isatty(), total, 0
        self.start = self.last = time.monotonic()

    def step(self, n: int, end: str = "") -> None:
        self.count += n
        if self.enabled and ((now := time.monotonic()) - self.last >= 0.2 or end):
            self.last, done = now, f"{self.count:,}"
            if self.total:
                share = min(self.count / self.total, 1.0)
                done = f"[{'#' * int(share * 30):<30}] {share:6.1%} {done}/{self.total:,}"
            sys.stderr.write(f"\r{done} rows, {self.count / max(now - self.start, 1e-9):,.0f}/s{end}")
            sys.stderr.flush()


# -- CSV -----------------------------------------------------------------------------------------
def json_default(value: Any) -> Any:
    """json.dumps ``default=``: datetimes as ISO 8601, sets and tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def csv_value(value: Any) -> str:
    """One cell as the CSV writes it: lists and dicts as JSON text (``json.loads`` reads them
    back), datetimes as ISO 8601, None empty."""
    if value is None or value.__class__ is str:
        return value or ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | dict):
        return json.dumps(value if isinstance(value, dict) else list(value), ensure_ascii=False,
                          default=json_default)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _field(value: Any) -> bytes:
    # RFC 4180 / csv.QUOTE_MINIMAL on UTF-8, where the csv module walks each character; the byte
    # values of " , \n \r as ints: `in` is then one memchr (a bytes needle costs 10x)
    data = value if value.__class__ is bytes else b"" if value is None else str(value).encode()
    if 34 in data:
        return b'"' + data.replace(b'"', b'""') + b'"'
    if 44 in data or 10 in data or 13 in data:
        return b'"' + data + b'"'
    return data


def csv_line(cells: Sequence[Any]) -> bytes:
    """One CSV record in UTF-8, byte for byte what ``csv.writer(lineterminator="\\r\\n")`` writes."""
    if len(cells) == 1 and (cells[0] is None or cells[0] == ""):
        return b'""\r\n'  # as csv does: an empty line would read back as no row at all
    return b",".join([_field(v) for v in cells]) + b"\r\n"


def csv_page(rows: Sequence[Sequence[Any]]) -> bytes:
    """Archive.iter_row_pages() rows as CSV lines of COLUMNS: what write_rows() writes for their
    row_dict()s, one column at a time. SQLite text may come as undecoded bytes (``text_as_bytes``)."""
    if not rows:
        return b""
    values = list(zip(*rows, strict=True))
    cells = []
    for name in COLUMNS:
        column: Iterable[Any] = values[ROW_INDEX[name]]
        if name in INT_COLUMNS:
            column = [None if v is None else b"%d" % v if v.__class__ is int else str(v).encode()
                      for v in column]
        elif name in TIME_COLUMNS or name in LIST_FIELDS:
            column = [v.decode() if v.__class__ is bytes else v for v in column]
            offset = ROW_INDEX.get(OFFSET_COLUMNS.get(name, ""))
            column = (map(_json_text, column) if name in LIST_FIELDS else
                      map(iso, column, values[offset]) if offset is not None else map(iso, column))
            column = [None if v is None else v.encode() for v in column]
        # most cells need no quotes: tested here, without a call
        cells.append([b"" if v is None else v if v.__class__ is bytes and not (
            34 in v or 44 in v or 10 in v or 13 in v) else _field(v) for v in column])
    return b"".join([b",".join(line) + b"\r\n" for line in zip(*cells, strict=True)])


#: JSON text exactly as json.dumps() writes it, with no escapes: ensure_ascii=False writes it again
_CANONICAL_JSON = re.compile(r'\[(?:"[^"\\]*"|[\[\]{}]|, |: |null)*')


def _json_text(value: Any) -> str:
    # SQLite holds the json.dumps() text: nearly every list is kept as it is (5x faster than a re-dump)
    if value is None or (value.__class__ is str and _CANONICAL_JSON.fullmatch(value)):
        return value or "[]"
    return json.dumps(json_list(value), ensure_ascii=False)


# -- Parquet -------------------------------------------------------------------------------------
_TIME_OF = {offset: name for name, offset in OFFSET_COLUMNS.items()}


def parquet_columns(columns: Sequence[str]) -> list[str]:
    """The Parquet file's columns: ``columns`` with each offset column beside its timestamp."""
    pairs = ((c, OFFSET_COLUMNS.get(c)) for c in columns)
    return list(dict.fromkeys(x for pair in pairs for x in pair if x and (x == pair[0] or x not in columns)))


def _parquet_type(pa: Any, column: str) -> Any:
    if column in INT_COLUMNS or column in _TIME_OF:
        return pa.int64() if column in INT_COLUMNS else pa.int16()
    if column in TIME_COLUMNS:
        return pa.timestamp("us", tz="UTC")
    if column == "read_also":
        return pa.list_(pa.struct([("title", pa.string()), ("url", pa.string())]))
    return pa.list_(pa.string()) if column in LIST_FIELDS else pa.string()


def _parquet_cell(row: Mapping[str, Any], column: str) -> Any:
    value = row.get(column)
    if column in _TIME_OF and column not in row:  # the offset the page's ISO time carries
        moment = row.get(_TIME_OF[column])
        return offset_minutes(datetime.fromisoformat(moment) if isinstance(moment, str) else moment)
    if value is None or column in INT_COLUMNS:
        return value if value is None else int(value)
    if column in TIME_COLUMNS:
        return as_utc(value)
    if column == "read_also":
        return [{"title": link.get("title"), "url": link.get("url")} for link in value]
    if column in LIST_FIELDS:
        return [str(v) for v in value]
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    return value.isoformat() if isinstance(value, datetime | date) else str(value)


# -- writing -------------------------------------------------------------------------------------
def export_archive(archive: Any, fmt: str, out: str | os.PathLike[str], *, progress: bool = False,
                   total: int | None = None, **filters: Any) -> int:
    """Export an Archive's current articles (``filters``: since, until, source, topic, language,
    wire); CSV goes a page of rows at a time (csv_page), the others through write_rows."""
    if fmt != "csv":
        return write_rows(archive.iter_articles(**filters), fmt, out, progress=progress, total=total)
    pages = ((csv_page(rows), len(rows)) for rows in archive.iter_row_pages(**filters, text_as_bytes=True))
    return _write(pages, fmt, out, list(COLUMNS), progress, total)


def write_rows(rows: Iterable[Mapping[str, Any]], fmt: str, out: str | os.PathLike[str], *,
               columns: Sequence[str] | None = None, progress: bool = False, total: int | None = None) -> int:
    """Stream ``rows`` to ``out`` (a path, or "-" for stdout) as ``fmt``; returns the row count.

    ``columns`` fixes the columns and their order (default :data:`COLUMNS`); keys a row lacks
    are written empty, keys not listed are left out. ``total`` (e.g. from
    ``Archive.count_articles``) turns the progress counter into a bar.
    """
    cols = list(columns or COLUMNS)
    chunks: Iterator[tuple[Any, int]]
    if fmt == "csv":
        chunks = ((csv_line([csv_value(row.get(c)) for c in cols]), 1) for row in rows)
    elif fmt == "jsonl":
        # one encoder for the whole run: json.dumps() with options builds a new one per call
        encode = json.JSONEncoder(ensure_ascii=False, default=json_default).encode
        chunks = (((encode({c: row.get(c) for c in cols}) + "\n").encode(), 1) for row in rows)
    else:
        batches = iter(rows)
        chunks = ((b, len(b)) for b in iter(lambda: list(islice(batches, PARQUET_BATCH_ROWS)), []))
    return _write(chunks, fmt, out, cols, progress, total)


def _write(chunks: Iterable[tuple[Any, int]], fmt: str, out: str | os.PathLike[str], columns: list[str],
           progress: bool, total: int | None) -> int:
    """Write (UTF-8 bytes, rows) chunks, or (row dicts, rows) for Parquet, to ``out``; the row count."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _require_pyarrow()  # a clear message before any work
    check_writable(out)
    meter = _Progress(progress, total)
    try:
        if str(out) == "-":
            if fmt == "parquet" and sys.stdout.isatty():
                raise ExportError("refusing to write binary Parquet to a terminal: use -o FILE")
            sys.stdout.flush()
            try:
                _emit(chunks, fmt, sys.stdout.buffer, columns, meter, bom=False)
            except BrokenPipeError:
                # the reader went away (``| head``): stop quietly, and keep Python from
                # complaining again when it flushes stdout at exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        else:
            part = Path(out).with_name(Path(out).name + ".part")
            try:
                with part.open("wb", buffering=1 << 20) as sink:
                    _emit(chunks, fmt, sink, columns, meter, bom=True)
                os.replace(part, out)
            except BaseException:
                with contextlib.suppress(OSError):
                    part.unlink()
                raise
    finally:
        meter.step(0, "\n")
    return meter.count


def _emit(chunks: Iterable[tuple[Any, int]], fmt: str, sink: IO[bytes], columns: list[str], meter: _Progress,
          bom: bool) -> None:
    if fmt == "parquet":
        pa = _require_pyarrow()
        columns = parquet_columns(columns)
        schema = pa.schema([pa.field(c, _parquet_type(pa, c)) for c in columns])
        with pa.parquet.ParquetWriter(sink, schema, compression="zstd") as writer:
            for batch, n in chunks:
                rows = [{c: _parquet_cell(row, c) for c in columns} for row in batch]
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                meter.step(n)
        return
    if fmt == "csv":
        sink.write((b"\xef\xbb\xbf" if bom else b"") + csv_line(columns))
    for data, n in chunks:
        sink.write(data)
        meter.step(n)
    sink.flush()
