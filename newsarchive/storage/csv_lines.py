"""CSV lines for the export: cells and records exactly as ``csv.writer`` writes them.

Two ways to the same bytes: ``csv_value``/``csv_line`` for any row (``write_rows``), and the
archive's fast path, which formats ``Archive.iter_row_pages()`` tuples straight into lines
(``archive_csv_line`` for str cells, ``csv_page`` for a page of SQLite text read as bytes)
without building a dict per article. ``tests/storage/test_export_fast.py`` holds them to
``write_rows(archive.iter_articles())`` byte for byte.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from newsarchive.storage.search import _iso as _stored_iso

LIST_COLUMNS = frozenset({"topics", "authors"})
LIST_SEPARATOR = "; "


# -- any row --------------------------------------------------------------------------------------
def json_default(value: Any) -> Any:
    """json.dumps ``default=``: datetimes as ISO 8601, sets and tuples as lists."""
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
    """One CSV record, byte for byte what ``csv.writer(lineterminator="\\r\\n")`` writes.

    Written by hand because the csv module walks every character in a Python-object loop
    (about 25k article rows/s here); these str methods scan in C, several times faster.
    """
    if len(cells) == 1 and (cells[0] is None or cells[0] == ""):
        return '""\r\n'  # as csv does: an empty line would read back as no row at all
    return ",".join([_csv_field(v) for v in cells]) + "\r\n"


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
            if first is None:
                raise _Unusual(first_seen)
            # an article seen once was fetched when first seen and last seen
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
