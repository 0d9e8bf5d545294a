"""Bytes to text the way a browser reads a page, and the refusal of input that is not HTML.

Order: byte-order mark, then valid UTF-8 (a stale ``<meta charset>`` or HTTP header is
common on re-encoded archives, and legacy 8-bit text is almost never valid UTF-8 by
accident), then the HTTP charset, then the ``<meta>`` charset in the first 4 KiB, then
windows-1252 as browsers do for Western pages.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from newsarchive.errors import ExtractionError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# First bytes of formats that are often served where a page was expected.
_MAGIC = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"RIFF", "RIFF media file"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ", "xz-compressed data"),
    (b"OggS", "Ogg media file"),
    (b"ID3", "MP3 audio"),
    (b"\x00\x00\x00", "binary data"),
    (b"wOF", "web font"),
    (b"\x7fELF", "executable"),
    (b"MZ", "Windows executable"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""",
    re.IGNORECASE,
)
# C0 control bytes no text format uses (tab, line and page breaks and ESC excluded)
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])
# A page is binary by the share of control bytes, not by their presence: real pages carry a
# stray NUL in a template or a run of them in one attribute. Random bytes hold about 10% of
# them and (almost) never three HTML tags: with markup a page may hold up to a quarter (a short
# page with a long run), without markup only a trace.
_SNIFF_BYTES = 65536
_MAX_CONTROL_SHARE = 0.25
_MAX_CONTROL_SHARE_UNMARKED = 0.005
_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|link|script|div|p|a|span|table)[\s>/]", re.IGNORECASE
)
_HAS_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9:-]*|!doctype|!--)", re.IGNORECASE)
_FEED_ROOT = re.compile(r"<(rss|feed|urlset|sitemapindex)\b")

# WHATWG encoding labels that name a superset codec (what browsers really decode).
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "utf-16": "utf-8",  # a <meta> claiming UTF-16 in an ASCII-compatible prefix is wrong (HTML spec)
    "x-user-defined": "cp1252",
}


def codec_for(label: str | None) -> str | None:
    """Python codec name for an HTTP/``<meta>`` charset label, or None when unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def sniff_binary(data: bytes) -> str | None:
    """What the bytes are when they are clearly not a text document, else None."""
    head = data[:4096]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    return _control_verdict(data[:_SNIFF_BYTES])


def _control_verdict(sample: bytes) -> str | None:
    """"binary data (...)" when the sample holds too many control bytes for a page, else None."""
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if not controls:
        return None
    share = controls / len(sample)
    if share > _MAX_CONTROL_SHARE or (share > _MAX_CONTROL_SHARE_UNMARKED and not _has_markup(sample)):
        return f"binary data ({share:.1%} control bytes in the first {len(sample):,} bytes)"
    return None


def _has_markup(sample: bytes) -> bool:
    """Whether a few HTML tags stand in the sample (one could occur in random bytes by chance)."""
    return sum(1 for _match in islice(_MARKUP.finditer(sample), 3)) >= 3


def decode_html(data: bytes, http_charset: str | None = None) -> str:
    """Decode page bytes like a browser would, preferring valid UTF-8 over stale declarations."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(bom_codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    codec = codec_for(http_charset)
    if codec is None:
        match = _META_CHARSET.search(data[:4096])
        codec = codec_for(match.group(1).decode("ascii", "replace")) if match else None
    if codec is None or codec.startswith(("utf-16", "utf-32")):
        # Invalid UTF-8 with no usable declaration: mostly UTF-8 text with a few bad bytes,
        # or a legacy Western page. Pick the reading with fewer replacement characters.
        as_utf8 = data.decode("utf-8", errors="replace")
        bad = as_utf8.count("\ufffd")
        return as_utf8 if bad <= max(2, len(data) // 2000) else data.decode("cp1252", errors="replace")
    return data.decode(codec, errors="replace")


def page_text(html: bytes | str, http_charset: str | None = None) -> str:
    """The page as text; raises ExtractionError when the input is empty or clearly not HTML."""
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if not data.strip():
            raise ExtractionError("empty input: no bytes to read as HTML")
        what = sniff_binary(data)
        if what:
            raise ExtractionError(f"not an HTML page: looks like {what}")
        text = decode_html(data, http_charset)
    elif isinstance(html, str):
        text = html
        what = _control_verdict(text[:_SNIFF_BYTES].encode("utf-8", "surrogatepass"))
        if what:
            raise ExtractionError(f"not an HTML page: looks like {what}")
    else:
        raise ExtractionError(f"expected bytes or str, got {type(html).__name__}")
    if not text.strip():
        raise ExtractionError("empty input: no text to read as HTML")
    head = text[:65536]
    if not _HAS_TAG.search(head):
        raise ExtractionError("not an HTML page: no markup in the first 64 KiB")
    root = _first_element(head)
    feed = _FEED_ROOT.match(root)
    if feed:
        raise ExtractionError(f"not an HTML page: an XML <{feed.group(1)}> document (feed or sitemap)")
    return text


def _first_element(head: str) -> str:
    """The text from the first element on, past an XML declaration, comments and whitespace."""
    rest = head.lstrip()
    while rest.startswith(("<?", "<!--")):
        end = rest.find("?>" if rest.startswith("<?") else "-->")
        if end < 0:
            return ""
        rest = rest[end + (2 if rest.startswith("<?") else 3) :].lstrip()
    return rest


#: file names the extract command and the benchmark read as saved pages
PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


def page_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each file given, and every saved page (PAGE_SUFFIXES) below each directory, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(PAGE_SUFFIXES)
            )
        else:
            yield path


def read_page(path: Path) -> bytes:
    """A saved page's bytes, gunzipped when it is .gz or gzip data (ExtractionError if broken)."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz") or data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ExtractionError(f"cannot decompress: {exc}") from None
    return data
