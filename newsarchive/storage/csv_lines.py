"""CSV lines for the export: cells and records exactly as ``csv.writer`` writes them.

Two ways to the same bytes: ``csv_value``/``csv_line`` for any row (``write_rows``), and the
archive's fast path, ``csv_page``, which formats a page of ``Archive.iter_row_pages()`` tuples
(SQLite text read as undecoded bytes) column by column, each column by what the models say it
holds. ``tests/storage/test_export_fast.py`` holds them to ``write_rows(archive.iter_articles())``
byte for byte.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from newsarchive.storage.search import LIST_FIELDS, OFFSET_COLUMNS, ROW_INDEX, TIME_FIELDS, row_dict


# -- any row --------------------------------------------------------------------------------------
def json_default(value: Any) -> Any:
    """json.dumps ``default=``: datetimes as ISO 8601, sets and tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot export a {type(value).__name__}")


def csv_value(column: str, value: Any) -> str:
    """One cell as the CSV writes it: lists and dicts as JSON text (``json.loads`` reads them
    back), datetimes as ISO 8601, None empty."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return json.dumps(list(value), ensure_ascii=False, default=json_default)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=json_default)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_field(value: Any) -> str:
    # RFC 4180 / csv.QUOTE_MINIMAL: quote a field holding a comma, quote, CR or LF
    text = value if value.__class__ is str else ("" if value is None else str(value))
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_line(cells: Sequence[Any]) -> str:
    """One CSV record, byte for byte what ``csv.writer(lineterminator="\\r\\n")`` writes, faster
    (benchmarks/README.md)."""
    if len(cells) == 1 and (cells[0] is None or cells[0] == ""):
        return '""\r\n'  # as csv does: an empty line would read back as no row at all
    return ",".join([_csv_field(v) for v in cells]) + "\r\n"


def row_csv_line(columns: Sequence[str], row: Mapping[str, Any]) -> str:
    """One row dict as its CSV line (``columns`` in order, missing keys empty)."""
    cells = [row.get(c) for c in columns]
    # most cells are plain strings: convert only the others (lists, datetimes, dicts)
    for i, value in enumerate(cells):
        if value.__class__ not in _CSV_AS_IS:
            cells[i] = csv_value(columns[i], value)
    return csv_line(cells)


_CSV_AS_IS = frozenset({str, int, type(None)})


# -- the archive's CSV fast path: SQLite's undecoded text ----------------------------------------
# Text stays the UTF-8 bytes SQLite stored (no decode and encode again). The CSV specials are
# ASCII, which in UTF-8 is never part of another character, so the same tests on bytes give the
# same line. A page holding anything unusual (None where text belongs, an odd timestamp) is
# formatted by row_csv_line.

class _Unusual(ValueError):
    """A stored value the bytes path does not format itself (the page takes the str path)."""


@functools.lru_cache(maxsize=256)
def _zone(minutes: int) -> tuple[timedelta, str]:
    # the suffix exactly as datetime.isoformat() prints this offset
    delta = timedelta(minutes=minutes)
    return delta, datetime(2000, 1, 1, tzinfo=timezone(delta)).isoformat()[19:]


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
    """SQLite's stored UTC text ("YYYY-MM-DD HH:MM:SS.ffffff") as isoformat() prints it in UTC."""
    if len(value) != 26 or value[10] != 32:
        raise _Unusual(value)
    if value.endswith(b".000000"):
        return b"%bT%b+00:00" % (value[:10], value[11:19])
    return b"%bT%b+00:00" % (value[:10], value[11:])


def _stamp(value: bytes, minutes: int | None) -> bytes:
    """Stored UTC text shown in the page's offset (naive, in UTC, when the zone is unknown)."""
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


def _quote(cell: bytes) -> bytes:
    return b'"%b"' % cell.replace(b'"', b'""')


def _text(values: Sequence[Any]) -> list[bytes]:
    # the common case (no quote, comma or newline) without a call
    return [b"" if v is None else _quote(v) if 34 in v or 44 in v or 10 in v or 13 in v else v
            for v in values]


def _json_list(value: bytes) -> bytes:
    # SQLite keeps json.dumps() text: without a backslash it has no escapes, so it is exactly
    # what json.dumps(ensure_ascii=False) writes again for the decoded value
    if 92 in value or value[:1] != b"[":
        value = json.dumps(json.loads(value), ensure_ascii=False).encode()
    return value if value == b"[]" else _quote(value)


def _utc_column(values: Sequence[Any]) -> list[bytes]:
    """_utc_stamp() of a page's column at once (values repeat: one per saved batch)."""
    count = len(values)
    try:
        joined = b"\n".join(values)
    except TypeError:  # a None among them
        joined = b""
    # exactly "YYYY-MM-DD HH:MM:SS.ffffff" each: the newlines every 27 bytes, one space in each,
    # at offset 10, so the replacements below touch only what _utc_stamp rewrites
    if (len(joined) != 27 * count - 1 or joined[26::27] != b"\n" * (count - 1)
            or joined.count(32) != count or joined[10::27] != b" " * count):
        return [b"" if v is None else _utc_stamp(v) for v in values]
    joined = (joined + b"\n").replace(b" ", b"T").replace(b".000000\n", b"\n").replace(b"\n", b"+00:00\n")
    return joined.split(b"\n")[:-1]


def _ints(values: Sequence[Any]) -> list[bytes]:
    # repr of a list of ints runs in C
    if not all(v is None or v.__class__ is int for v in values):
        raise _Unusual(values)
    return str(list(values)).encode()[1:-1].replace(b"None", b"").split(b", ")


_Column = Callable[[Sequence[Sequence[Any]], Mapping[int, bytes]], list[bytes]]
_INT_COLUMNS = frozenset({"article_id", "version_id", "cluster_id", "copy_of"})


def _column(name: str) -> _Column:
    """How the bytes path formats export column ``name`` from a page's columns."""
    index = ROW_INDEX.get(name)
    if name == "version_count":
        ids = ROW_INDEX["article_id"]
        return lambda cols, counts: [counts.get(a, b"1") for a in cols[ids]]
    if index is None:
        return lambda cols, counts: [b""] * len(cols[0])
    if name in _INT_COLUMNS:
        return lambda cols, counts: _ints(cols[index])
    if name in LIST_FIELDS:
        return lambda cols, counts: [_json_list(v) for v in cols[index]]
    if name in OFFSET_COLUMNS:
        offset = ROW_INDEX[OFFSET_COLUMNS[name]]
        return lambda cols, counts: [b"" if v is None else _stamp(v, m)
                                     for v, m in zip(cols[index], cols[offset], strict=True)]
    if name in TIME_FIELDS or name in ("first_seen", "last_seen"):
        return lambda cols, counts: _utc_column(cols[index])
    return lambda cols, counts: _text(cols[index])


@functools.lru_cache(maxsize=8)
def _plan(columns: tuple[str, ...]) -> tuple[_Column, ...]:
    return tuple(_column(name) for name in columns)


def csv_page(rows: Sequence[Sequence[Any]], counts: Mapping[int, int], columns: Sequence[str]) -> bytes:
    """Archive.iter_row_pages() rows (text as bytes) as the UTF-8 CSV lines of ``columns``."""
    if not rows:
        return b""
    versions = {article_id: b"%d" % n for article_id, n in counts.items()}
    try:
        cols = list(zip(*rows, strict=True))
        cells = [make(cols, versions) for make in _plan(tuple(columns))]
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        # None where text belongs, a number in a text column, an odd timestamp: the str path
        # formats the page (or raises) exactly as the general export would
        decoded: list[tuple[Any, ...]] = [tuple(v.decode() if v.__class__ is bytes else v for v in row)
                                          for row in rows]
        return "".join([row_csv_line(columns, row_dict(row, counts.get(row[ROW_INDEX["article_id"]], 1)))
                        for row in decoded]).encode()
    lines = [b",".join(line) for line in zip(*cells, strict=True)]
    lines.append(b"")
    return b"\r\n".join(lines)
