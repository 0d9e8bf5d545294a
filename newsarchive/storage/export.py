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
  row has the same columns, lists (``topics``, ``authors``) are joined with ``"; "``, and
  ``read_also`` (a list of ``{"title", "url"}``) is JSON text.
* JSON Lines is UTF-8 without BOM, one object per line, values as ``Article.to_dict()``.
* Parquet keeps lists as list columns and ``read_also`` as a list of structs; it is written in
  row groups of ``PARQUET_BATCH_ROWS`` rows so memory stays flat. It needs pyarrow (the
  ``parquet`` extra).
* Datetimes are ISO 8601 strings with their UTC offset in every format, so the page's own
  offset (``+03:00`` for Moscow) survives; Parquet's timestamp type could not keep it.

A file target is written to ``<name>.part`` beside it and renamed at the end, so an
interrupted export never leaves a half-written file under the real name.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Literal

from newsarchive.article import Article
from newsarchive.errors import NewsarchiveError
from newsarchive.storage.search import _REORDER
from newsarchive.storage.search import _iso as _stored_iso

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")

#: what iter_articles() yields: the Article fields plus the archive's own
COLUMNS: tuple[str, ...] = (
    *Article(url="").to_dict().keys(),
    "article_id",
    "version_count",
    "cluster_id",
    "first_seen",
    "last_seen",
)
LIST_COLUMNS = frozenset({"topics", "authors"})
INT_COLUMNS = frozenset({"article_id", "version_id", "version_count", "cluster_id"})
#: rows per Parquet row group: ~10k articles of a few KB each is a few tens of MB at most
PARQUET_BATCH_ROWS = 10_000
LIST_SEPARATOR = "; "


class ExportError(NewsarchiveError):
    """The export target cannot be written, or the format cannot be produced here."""


# -- target checks ---------------------------------------------------------------------------
def check_writable(out: str | os.PathLike[str]) -> None:
    """Fail with one sentence, before any work, when ``out`` cannot be written ("-" is stdout)."""
    if str(out) == "-":
        return
    path = Path(out)
    if path.is_dir():
        raise ExportError(f"cannot write the export to {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write the export to {path}: folder {parent} does not exist")
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
        raise ExportError(f"cannot write the export to {path}: {exc.strerror or exc}") from exc


def _require_pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # registers pa.parquet
    except ImportError as exc:
        raise ExportError(
            "Parquet export needs pyarrow: pip install 'newsarchive[parquet]' (or use csv / jsonl)"
        ) from exc
    return pa


# -- value conversion --------------------------------------------------------------------------
def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def csv_value(column: str, value: Any) -> str:
    """One cell as the CSV writes it (lists joined, nested values as JSON, None empty)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        if column in LIST_COLUMNS:
            return LIST_SEPARATOR.join(str(v) for v in value)
        # read_also and any other structured list: JSON text, which pandas can json.loads back
        return json.dumps(list(value), ensure_ascii=False, default=_json_default)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def _csv_field(value: Any) -> str:
    # RFC 4180 / csv.QUOTE_MINIMAL: quote a field holding a comma, quote, CR or LF
    text = value if value.__class__ is str else ("" if value is None else str(value))
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_line(cells: Sequence[Any]) -> str:
    """One CSV record, byte for byte what ``csv.writer(lineterminator="\\r\\n")`` writes.

    Written by hand because the csv module walks every character in a Python-object loop
    (about 25k article rows/s here); these str methods scan in C, several times faster.
    """
    if len(cells) == 1 and (cells[0] is None or cells[0] == ""):
        return '""\r\n'  # as csv does: an empty line would read back as no row at all
    return ",".join([_csv_field(v) for v in cells]) + "\r\n"


# plain values that _csv_field writes directly; everything else goes through csv_value()
_CSV_AS_IS = frozenset({str, int, type(None)})


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
    as_is = _CSV_AS_IS
    for row in rows:
        cells = [row.get(c) for c in columns]
        # most cells are plain strings: convert only the others (lists, datetimes, dicts)
        for i, value in enumerate(cells):
            if value.__class__ not in as_is:
                cells[i] = csv_value(columns[i], value)
        write(csv_line(cells))


def _write_jsonl(rows: Iterable[Mapping[str, Any]], stream: IO[str], columns: Sequence[str]) -> None:
    # one encoder for the whole run: json.dumps() with options builds a new one per call
    encode = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
    write = stream.write
    for row in rows:
        write(encode({c: row.get(c) for c in columns}))
        write("\n")


def _parquet_schema(pa: Any, columns: Sequence[str]) -> Any:
    fields = []
    for c in columns:
        if c in INT_COLUMNS:
            fields.append(pa.field(c, pa.int64()))
        elif c in LIST_COLUMNS:
            fields.append(pa.field(c, pa.list_(pa.string())))
        elif c == "read_also":
            fields.append(pa.field(c, pa.list_(pa.struct([("title", pa.string()), ("url", pa.string())]))))
        else:
            fields.append(pa.field(c, pa.string()))
    return pa.schema(fields)


def _parquet_cell(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in INT_COLUMNS:
        return int(value)
    if column in LIST_COLUMNS:
        return [str(v) for v in value]
    if column == "read_also":
        return [{"title": link.get("title"), "url": link.get("url")} for link in value]
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    return str(value)


def _write_parquet(rows: Iterable[Mapping[str, Any]], sink: Any, columns: Sequence[str]) -> None:
    pa = _require_pyarrow()
    schema = _parquet_schema(pa, columns)
    with pa.parquet.ParquetWriter(sink, schema, compression="zstd") as writer:
        batch: dict[str, list[Any]] = {c: [] for c in columns}
        size = 0
        for row in rows:
            for c in columns:
                batch[c].append(_parquet_cell(c, row.get(c)))
            size += 1
            if size >= PARQUET_BATCH_ROWS:
                writer.write_table(pa.Table.from_pydict(batch, schema=schema))
                batch = {c: [] for c in columns}
                size = 0
        if size:
            writer.write_table(pa.Table.from_pydict(batch, schema=schema))


# -- the archive's CSV fast path --------------------------------------------------------------
def _list_cell(text: Any) -> str:
    """A stored JSON list of strings as csv_value() joins it, without decoding it when possible."""
    if text.__class__ is str:
        if text == "[]":
            return ""
        # no backslash means no escapes, so no string holds a quote: '", "' can only be a
        # separator, and the quote count proves every item is a string
        if ("\\" not in text and text.startswith('["') and text.endswith('"]')
                and text.count('"') == 2 * text.count('", "') + 2):
            return text[2:-2].replace('", "', LIST_SEPARATOR)
        text = json.loads(text)
    return csv_value("topics", list(text or ()))


def _json_cell(text: Any) -> str:
    """A stored JSON list (read_also) as csv_value() writes it: JSON with non-ASCII kept."""
    # SQLite keeps json.dumps() text; without a backslash it has no escapes, which is exactly
    # what json.dumps(ensure_ascii=False) would write again for the decoded value
    if text.__class__ is str and "\\" not in text and text.startswith("["):
        return text
    value = json.loads(text) if isinstance(text, str) else text
    return csv_value("read_also", list(value or ()))


# PostgreSQL's datetimes and unusual stored text take the general conversion; values repeat
# (first_seen/last_seen of a saved batch), so most of those are cache hits
_iso_cached = functools.lru_cache(maxsize=1 << 12)(_stored_iso)


@functools.lru_cache(maxsize=256)
def _zone(minutes: int) -> tuple[timedelta, str]:
    # the suffix exactly as datetime.isoformat() prints this offset
    delta = timedelta(minutes=minutes)
    return delta, datetime(2000, 1, 1, tzinfo=timezone(delta)).isoformat()[19:]


def _iso_at(value: Any, minutes: int | None) -> str:
    """A stored UTC timestamp in its page's offset, as row_dict() renders it ("" for none)."""
    if value is None:
        return ""
    if minutes is not None and value.__class__ is str and len(value) == 26 and value[10] == " ":
        # SQLite's UTC text, printed as astimezone(offset).isoformat() would print it, without
        # the conversions: export formats several of these per row
        if minutes == 0:
            fraction = "" if value.endswith(".000000") else value[19:]
            return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
        delta, suffix = _zone(minutes)
        return (datetime.fromisoformat(value) + delta).isoformat() + suffix
    return _iso_cached(value, minutes) or ""


def _plain(values: Sequence[Any]) -> list[str]:
    """CSV fields of text cells: the common case (no quote, comma or newline) without a call."""
    return [v if v.__class__ is str and not ('"' in v or "," in v or "\n" in v or "\r" in v)
            else "" if v is None else _csv_field(v) for v in values]


def archive_csv_line(row: Sequence[Any]) -> str:
    """One ``Archive.iter_rows()`` row as the CSV line write_rows(iter_articles()) would write."""
    (article_id, canonical, cluster_id, first_seen, last_seen, source, _version_id, url, section,
     headline, dateline, published, published_offset, published_raw, updated, updated_offset, updated_raw,
     description, body, topics, read_also, authors, language, fetched_at, digest, version_count) = row
    cells = _plain((url, canonical, source, section, headline, dateline, _iso_at(published, published_offset),
                    published_raw, _iso_at(updated, updated_offset), updated_raw, description, body,
                    _list_cell(topics), _json_cell(read_also), _list_cell(authors), language,
                    _iso_at(fetched_at, 0), digest))
    # ids and the seen timestamps never need quoting
    return (",".join(cells) + f",{article_id},{version_count},{'' if cluster_id is None else cluster_id},"
            f"{_seen_iso(first_seen)},{_seen_iso(last_seen)}\r\n")


@functools.lru_cache(maxsize=1 << 10)
def _seen_iso(value: Any) -> str:
    # first_seen/last_seen: one value per saved batch, so nearly every call is a hit
    return _iso_at(value, 0)


# -- the same lines from SQLite's undecoded text -------------------------------------------------
# SQLite hands text over as UTF-8 bytes (Archive.iter_row_pages(text_as_bytes=True)): decoding
# every cell to str and encoding the line again was a third of the export. The CSV specials are
# ASCII, and in UTF-8 an ASCII byte is never part of another character, so the same tests and
# replacements on bytes give the same line. ``34 in cell`` (an int) is a memchr; ``b'"' in cell``
# costs ~5x more. Anything unusual in a row falls back to archive_csv_line() on decoded text.

class _Unusual(ValueError):
    """A stored value the bytes path does not format itself (the row takes archive_csv_line)."""


def _quote(cell: bytes) -> bytes:
    return b'"%b"' % cell.replace(b'"', b'""')


@functools.lru_cache(maxsize=1 << 12)
def _shifted(prefix: bytes, minutes: int) -> tuple[bytes, bytes]:
    # "YYYY-MM-DD HH" (or "... HH:MM" for an offset in part hours) moved into the page's offset,
    # and that offset as isoformat() prints it: a whole-minute shift leaves the rest alone, and
    # an hour holds many articles, so nearly every call is a hit
    delta, suffix = _zone(minutes)
    text = prefix.decode("ascii")
    moment = datetime.fromisoformat(text if len(text) == 16 else text + ":00") + delta
    return moment.isoformat()[: len(text)].encode("ascii"), suffix.encode("ascii")


def _utc_stamp(value: bytes) -> bytes:
    """_iso_at(value, 0) for SQLite's stored UTC text as bytes."""
    if len(value) != 26 or value[10] != 32:  # "YYYY-MM-DD HH:MM:SS.ffffff", as _iso_at tests
        raise _Unusual(value)
    if value.endswith(b".000000"):
        return b"%bT%b+00:00" % (value[:10], value[11:19])
    return b"%bT%b+00:00" % (value[:10], value[11:])


def _stamp(value: bytes | None, minutes: int | None) -> bytes:
    """_iso_at() for SQLite's stored UTC text as bytes."""
    if value is None:
        return b""
    if minutes == 0:
        return _utc_stamp(value)
    if len(value) != 26 or value[10] != 32:
        raise _Unusual(value)
    if minutes is None:
        return value[:10] + b"T" + (value[11:19] if value.endswith(b".000000") else value[11:])
    cut = 16 if minutes % 60 else 13
    head, suffix = _shifted(value[:cut], minutes)
    if value.endswith(b".000000"):
        return b"%b%b%b" % (head, value[cut:19], suffix)
    return b"%b%b%b" % (head, value[cut:], suffix)


def _utc_stamps(values: Sequence[Any]) -> list[bytes | None]:
    """_utc_stamp() of a page's column at once (None where a value is not the usual stored text)."""
    count = len(values)
    try:
        joined = b"\n".join(values)
    except TypeError:  # None, or not bytes
        joined = b""
    # exactly "YYYY-MM-DD HH:MM:SS.ffffff" each: the newlines every 27 bytes, one space in each,
    # at offset 10, so the replacements below touch only what _utc_stamp rewrites
    if (len(joined) != 27 * count - 1 or joined[26::27] != b"\n" * (count - 1)
            or joined.count(32) != count or joined[10::27] != b" " * count):
        return [_utc_or_none(v) for v in values]
    joined = (joined + b"\n").replace(b" ", b"T").replace(b".000000\n", b"\n").replace(b"\n", b"+00:00\n")
    return joined.split(b"\n")[:-1]  # type: ignore[return-value]


def _utc_or_none(value: Any) -> bytes | None:
    try:
        return _utc_stamp(value)
    except (TypeError, ValueError):
        return None


def _list_bytes(text: bytes) -> bytes:
    """_list_cell() for stored JSON text as bytes."""
    if text == b"[]":
        return b""
    # _list_cell's proof: without a backslash no item holds a quote, so once the separators
    # are gone a quote left means the text is not a plain list of strings
    cell = text[2:-2].replace(b'", "', b"; ")
    if 34 in cell or 92 in cell or text[:2] != b'["' or text[-2:] != b'"]':
        cell = _list_cell(text.decode()).encode()
    return cell


def _decoded(row: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(v.decode() if v.__class__ is bytes else v for v in row)


def csv_page(rows: Sequence[Sequence[Any]], counts: Mapping[int, int]) -> bytes:
    """Archive.iter_row_pages() rows (text as bytes) as the UTF-8 of their archive_csv_line()s."""
    # The loop runs once per exported article: its tests are spelled out inline (a helper call
    # per cell cost a tenth of the export), and each cell is tested for what it usually holds
    # first. ``34 in cell or 44 in cell or 10 in cell or 13 in cell``: a quote, comma, LF or CR.
    quote, utc, stamp, to_list = _quote, _utc_stamp, _stamp, _list_bytes
    # ids as text for the whole page at once: repr of a list of ints runs in C
    idents = str([row[0] for row in rows]).encode()[1:-1].split(b", ")
    clusters = str([row[2] for row in rows]).encode()[1:-1].replace(b"None", b"").split(b", ")
    versions = {article_id: b"%d" % n for article_id, n in counts.items()}
    lines: list[bytes] = []
    add = lines.append
    firsts = _utc_stamps([row[3] for row in rows])
    for row, ident, cluster, first in zip(rows, idents, clusters, firsts, strict=True):
        try:
            (article_id, canonical, _cluster_id, first_seen, last_seen, source, _version_id, url, section,
             headline, dateline, published, published_offset, published_raw, updated, updated_offset,
             updated_raw, description, body, topics, read_also, authors, language, fetched_at, digest) = row
            # url, canonical_url, source, section and headline rarely need quoting: one test for all
            head = b",".join((url, canonical, source, section or b"", headline or b""))
            if 34 in head or 10 in head or 13 in head or head.count(44) != 4:
                head = b",".join([quote(v) if 34 in v or 44 in v or 10 in v or 13 in v else v
                                  for v in (url, canonical, source, section or b"", headline or b"")])
            if dateline is None:
                dateline = b""
            elif 44 in dateline or 34 in dateline or 10 in dateline or 13 in dateline:
                dateline = quote(dateline)
            if published_raw is None:
                published_raw = b""
            elif 44 in published_raw or 34 in published_raw or 10 in published_raw or 13 in published_raw:
                published_raw = quote(published_raw)
            if updated_raw is None:
                updated_raw = b""
            elif 44 in updated_raw or 34 in updated_raw or 10 in updated_raw or 13 in updated_raw:
                updated_raw = quote(updated_raw)
            if description is None:
                description = b""
            elif 10 in description or 44 in description or 34 in description or 13 in description:
                description = quote(description)
            if 10 in body or 44 in body or 34 in body or 13 in body:  # nearly always: paragraphs
                body = quote(body)
            topics = to_list(topics)
            if 44 in topics or 34 in topics or 10 in topics or 13 in topics:
                topics = quote(topics)
            if 92 in read_also or read_also[:1] != b"[":
                read_also = _json_cell(read_also.decode()).encode()
            if 34 in read_also or 44 in read_also or 10 in read_also or 13 in read_also:
                read_also = quote(read_also)
            authors = to_list(authors)
            if 44 in authors or 34 in authors or 10 in authors or 13 in authors:
                authors = quote(authors)
            if language is None:
                language = b""
            elif 44 in language or 34 in language or 10 in language or 13 in language:
                language = quote(language)
            if 44 in digest or 34 in digest or 10 in digest or 13 in digest:
                digest = quote(digest)
            # an article seen once was fetched when first seen and last seen
            if first is None:
                raise _Unusual(first_seen)
            last = first if last_seen == first_seen else utc(last_seen)
            fetched = first if fetched_at == first_seen else stamp(fetched_at, 0)
            add(b",".join((
                head, dateline, b"" if published is None else stamp(published, published_offset),
                published_raw, b"" if updated is None else stamp(updated, updated_offset), updated_raw,
                description, body, topics, read_also, authors, language, fetched, digest,
                ident, versions.get(article_id, b"1"), cluster, first, last,
            )))
        except (TypeError, ValueError, OverflowError):
            # None where text belongs, a number in a text column, an odd timestamp: the str path
            # formats it (or raises) exactly as the general export would
            add(archive_csv_line((*_decoded(row), counts.get(row[0], 1))).encode()[:-2])
    lines.append(b"")
    return b"\r\n".join(lines)


def export_archive(
    archive: Any,
    fmt: Format | str,
    out: str | os.PathLike[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    topic: str | None = None,
    progress: bool = False,
    total: int | None = None,
) -> int:
    """Export an Archive's current articles; CSV takes a fast path, byte for byte what write_rows writes.

    The fast path formats the stored columns of each page of rows directly (timestamps as text,
    JSON lists decoded only when they hold escapes, SQLite text as undecoded bytes) instead of
    building a dict per article.
    """
    filters = {"since": since, "until": until, "source": source, "topic": topic}
    if fmt != "csv" or _REORDER:
        return write_rows(archive.iter_articles(**filters), fmt, out, progress=progress, total=total)
    chunks = _Chunks(_csv_chunks(archive, filters))
    with _cyclic_gc_paused():
        return write_rows(chunks, fmt, out, progress=progress, total=total)  # type: ignore[arg-type]


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    # every page allocates thousands of row tuples and lists, none of them in a reference cycle:
    # the cyclic collector walking them again and again was ~5% of the export's CPU time
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _csv_chunks(archive: Any, filters: dict[str, Any]) -> Iterator[tuple[bytes, int]]:
    as_bytes = archive.dialect == "sqlite"
    for rows, counts in archive.iter_row_pages(**filters, text_as_bytes=as_bytes):
        if as_bytes:
            yield csv_page(rows, counts), len(rows)
        else:
            text = "".join([archive_csv_line((*row, counts.get(row[0], 1))) for row in rows])
            yield text.encode(), len(rows)


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
            # newline="" lets csv write CRLF; the BOM (see the module docstring) is written by
            # hand because the "utf-8-sig" codec has no fast path in TextIOWrapper (~8x slower)
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
