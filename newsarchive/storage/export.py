"""Streaming export of archive rows to CSV, JSON Lines or Parquet, with constant memory.

    from newsarchive.storage.export import check_writable, write_rows
    check_writable(out)                      # before any work: fails on an unwritable target
    write_rows(archive.iter_articles(), "csv", out, progress=True)

Choices, each for the analyst opening the file:

* CSV is UTF-8 **with a BOM** when written to a file: Excel (the spreadsheet most analysts
  double-click) reads a BOM-less CSV in the local ANSI code page and shows Cyrillic as
  mojibake, while pandas, LibreOffice and Python's ``utf-8-sig`` strip the BOM. On stdout
  there is no BOM, because a pipe feeds other tools (``head``, ``csvkit``) where it is noise.
  Rows end in CRLF and every field with a comma, quote or newline is quoted (RFC 4180), every
  row has the same columns, and list columns (``topics``, ``authors``, ``read_also``) are JSON
  arrays, so any value survives the trip back::

      df = pd.read_csv("a.csv", converters={c: json.loads for c in ("topics", "authors", "read_also")})

  Datetimes are ISO 8601 with the page's own offset (``+03:00`` for Moscow).
* JSON Lines is UTF-8 without BOM, one object per line, values as ``Article.to_dict()``.
* Parquet keeps lists as list columns and ``read_also`` as a list of structs. Timestamps are
  typed (``timestamp[us, UTC]``), each page timestamp with its offset in minutes beside it
  (``published_offset``: NULL when the page gave no zone), since Parquet's type keeps no offset.
  It is written in row groups of ``PARQUET_BATCH_ROWS`` rows so memory stays flat, and needs
  pyarrow (the ``parquet`` extra).

A file target is written to ``<name>.part`` beside it and renamed at the end, so an
interrupted export never leaves a half-written file under the real name.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from newsarchive.article import Article
from newsarchive.errors import NewsarchiveError
from newsarchive.storage.csv_lines import csv_line, csv_page, json_default, row_csv_line
from newsarchive.storage.save import offset_minutes
from newsarchive.storage.search import LIST_FIELDS, OFFSET_COLUMNS, TIME_FIELDS, as_utc

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")

#: what iter_articles() yields: the Article fields plus the archive's own
COLUMNS: tuple[str, ...] = (
    *Article(url="").to_dict().keys(),
    "article_id",
    "version_count",
    "cluster_id",
    "copy_of",
    "first_seen",
    "last_seen",
)
INT_COLUMNS = frozenset({"article_id", "version_id", "version_count", "cluster_id", "copy_of"})
#: columns that hold an instant (ISO text in CSV/JSONL, typed UTC in Parquet)
TIME_COLUMNS = frozenset({*TIME_FIELDS, "first_seen", "last_seen"})
#: rows per Parquet row group: ~10k articles of a few KB each is a few tens of MB at most
PARQUET_BATCH_ROWS = 10_000


class ExportError(NewsarchiveError):
    """The export target cannot be written, or the format cannot be produced here."""


# -- target checks ---------------------------------------------------------------------------
def check_writable(out: str | os.PathLike[str]) -> None:
    """Fail with one sentence, before any work, when ``out`` cannot be written ("-" is stdout)."""
    if str(out) == "-":
        return
    problem = unwritable_reason(out)
    if problem:
        raise ExportError(f"cannot write the export to {Path(out)}: {problem}")


def unwritable_reason(out: str | os.PathLike[str]) -> str | None:
    """Why a file cannot be created or appended to at ``out``, or None; leaves nothing behind."""
    path = Path(out)
    if path.is_dir():
        return "it is a directory"
    parent = path.parent
    if not parent.is_dir():
        return f"folder {parent} does not exist"
    # try for real (permissions, read-only file systems, ACLs): os.access is wrong for root
    probe = parent / f".{path.name}.{os.getpid()}.probe"
    try:
        with probe.open("xb"):
            pass
        probe.unlink()
        if path.exists():
            with path.open("ab"):
                pass
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


# -- progress ------------------------------------------------------------------------------------
class _Progress:
    """A one-line counter on stderr, redrawn at most 5 times a second, only on a terminal."""

    def __init__(self, enabled: bool, total: int | None) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total
        self.count = 0
        self.start = self.last = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.count += n
        if self.enabled and (now := time.monotonic()) - self.last >= 0.2:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-9)
        if self.total:
            share = min(self.count / self.total, 1.0)
            bar = "#" * int(share * 30)
            line = f"[{bar:<30}] {share:6.1%} {self.count:,}/{self.total:,} rows, {rate:,.0f}/s"
        else:
            line = f"{self.count:,} rows, {rate:,.0f}/s"
        sys.stderr.write("\r" + line)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- writers ---------------------------------------------------------------------------------
def _counted(rows: Iterable[Any], progress: _Progress) -> Iterable[Any]:
    if isinstance(rows, _Chunks):
        return _Chunks(_counting_chunks(rows, progress))
    return _counting(rows, progress)


def _counting_chunks(chunks: Iterable[tuple[bytes, int]], progress: _Progress) -> Iterator[tuple[bytes, int]]:
    for chunk, lines in chunks:
        yield chunk, lines
        progress.step(lines)


def _counting(rows: Iterable[Any], progress: _Progress) -> Iterator[Any]:
    for row in rows:
        yield row
        progress.step()


def _write_csv(rows: Iterable[Mapping[str, Any]], stream: IO[str], columns: Sequence[str]) -> None:
    write = stream.write
    write(csv_line(columns))
    if isinstance(rows, _Chunks):
        # ready UTF-8 lines: straight to the byte stream under the text layer, no decode/encode
        stream.flush()
        raw = stream.buffer  # type: ignore[attr-defined]
        for chunk, _lines in rows:
            raw.write(chunk)
        return
    for row in rows:
        write(row_csv_line(columns, row))


def _write_jsonl(rows: Iterable[Mapping[str, Any]], stream: IO[str], columns: Sequence[str]) -> None:
    # one encoder for the whole run: json.dumps() with options builds a new one per call
    encode = json.JSONEncoder(ensure_ascii=False, default=json_default).encode
    write = stream.write
    for row in rows:
        write(encode({c: row.get(c) for c in columns}))
        write("\n")


def parquet_columns(columns: Sequence[str]) -> list[str]:
    """The Parquet file's columns: ``columns`` with each offset column beside its timestamp."""
    out: list[str] = []
    for c in columns:
        if c not in out:
            out.append(c)
        if c in OFFSET_COLUMNS and OFFSET_COLUMNS[c] not in columns:
            out.append(OFFSET_COLUMNS[c])
    return out


def _parquet_schema(pa: Any, columns: Sequence[str]) -> Any:
    fields = []
    offsets = set(OFFSET_COLUMNS.values())
    for c in columns:
        if c in INT_COLUMNS:
            fields.append(pa.field(c, pa.int64()))
        elif c in offsets:
            fields.append(pa.field(c, pa.int16()))
        elif c in TIME_COLUMNS:
            fields.append(pa.field(c, pa.timestamp("us", tz="UTC")))
        elif c == "read_also":
            fields.append(pa.field(c, pa.list_(pa.struct([("title", pa.string()), ("url", pa.string())]))))
        elif c in LIST_FIELDS:
            fields.append(pa.field(c, pa.list_(pa.string())))
        else:
            fields.append(pa.field(c, pa.string()))
    return pa.schema(fields)


def _parquet_row(row: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    out = {c: _parquet_cell(c, row.get(c)) for c in columns}
    for name, offset in OFFSET_COLUMNS.items():
        if offset in out and offset not in row:
            value = row.get(name)
            out[offset] = offset_minutes(datetime.fromisoformat(value) if isinstance(value, str) else value)
    return out


def _parquet_cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in INT_COLUMNS:
        return int(value)
    if column in TIME_COLUMNS:
        return as_utc(value)
    if column == "read_also":
        return [{"title": link.get("title"), "url": link.get("url")} for link in value]
    if column in LIST_FIELDS:
        return [str(v) for v in value]
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    return str(value)


def _write_parquet(rows: Iterable[Mapping[str, Any]], sink: Any, columns: Sequence[str]) -> None:
    pa = _require_pyarrow()
    columns = parquet_columns(columns)
    schema = _parquet_schema(pa, columns)
    with pa.parquet.ParquetWriter(sink, schema, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(_parquet_row(row, columns))
            if len(batch) >= PARQUET_BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


def export_archive(
    archive: Any,
    fmt: Format | str,
    out: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    topic: str | None = None,
    language: str | None = None,
    wire: str | None = None,
    progress: bool = False,
    total: int | None = None,
) -> int:
    """Export an Archive's current articles; CSV from SQLite formats each page of stored bytes
    directly (``csv_lines.csv_page``), byte for byte what write_rows writes."""
    filters = {"since": since, "until": until, "source": source, "topic": topic, "language": language,
               "wire": wire}
    if fmt != "csv" or archive.dialect != "sqlite":
        return write_rows(archive.iter_articles(**filters), fmt, out, progress=progress, total=total)
    chunks = _Chunks(_csv_chunks(archive, filters))
    with _cyclic_gc_paused():
        return write_rows(chunks, fmt, out, progress=progress, total=total)  # type: ignore[arg-type]


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    # pages allocate thousands of tuples, none in a cycle: the collector would walk them again and again
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _csv_chunks(archive: Any, filters: dict[str, Any]) -> Iterator[tuple[bytes, int]]:
    for rows, counts in archive.iter_row_pages(**filters, text_as_bytes=True):
        yield csv_page(rows, counts, COLUMNS), len(rows)


class _Chunks:
    """Pages of ready UTF-8 CSV lines and their line counts, travelling through write_rows."""

    def __init__(self, chunks: Iterable[tuple[bytes, int]]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[tuple[bytes, int]]:
        return iter(self.chunks)


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    fmt: Format | str,
    out: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    progress: bool = False,
    total: int | None = None,
) -> int:
    """Stream ``rows`` to ``out`` (a path, or "-" for stdout) as ``fmt``; returns the row count.

    ``columns`` fixes the columns and their order (default :data:`COLUMNS`); keys a row lacks
    are written empty, keys not listed are left out. ``total`` (e.g. from
    ``Archive.count_articles``) turns the progress counter into a bar.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    cols = list(columns or COLUMNS)
    if fmt == "parquet":
        _require_pyarrow()  # a clear message before any work
    check_writable(out)
    meter = _Progress(progress, total)
    counted = _counted(rows, meter)
    try:
        if str(out) == "-":
            _to_stdout(counted, fmt, cols)
        else:
            _to_file(counted, fmt, Path(out), cols)
    finally:
        meter.close()
    return meter.count


def _to_stdout(rows: Iterable[Mapping[str, Any]], fmt: str, columns: list[str]) -> None:
    try:
        if fmt == "parquet":
            if sys.stdout.isatty():
                raise ExportError("refusing to write binary Parquet to a terminal: use -o FILE")
            sys.stdout.flush()
            _write_parquet(rows, sys.stdout.buffer, columns)
        else:
            sys.stdout.flush()
            text = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
            try:
                (_write_csv if fmt == "csv" else _write_jsonl)(rows, text, columns)
                text.flush()
            finally:
                text.detach()  # leave sys.stdout open for the caller
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _to_file(rows: Iterable[Mapping[str, Any]], fmt: str, path: Path, columns: list[str]) -> None:
    part = path.with_name(path.name + ".part")
    try:
        if fmt == "parquet":
            _write_parquet(rows, str(part), columns)
        else:
            # the BOM by hand: TextIOWrapper has no fast path for the "utf-8-sig" codec
            with part.open("w", encoding="utf-8", newline="", buffering=1 << 20) as stream:
                if fmt == "csv":
                    stream.write("\ufeff")
                    _write_csv(rows, stream, columns)
                else:
                    _write_jsonl(rows, stream, columns)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
