"""Bytes to text like a browser: BOM, valid UTF-8 over stale declarations, HTTP and <meta> charsets."""

from __future__ import annotations

import codecs

import pytest

from newsarchive import extract
from newsarchive.extract.decode import codec_for, decode_html

PAGE = "<html><head>{meta}<title>Çà et là: Москва — Zürich</title></head><body><p>{body}</p></body></html>"
BODY = "Über die Brücke gingen Café-Gäste nach Москва, and nothing was garbled along the way at all."


def page(meta: str = "") -> str:
    return PAGE.format(meta=meta, body=BODY)


def test_valid_utf8_wins_over_stale_meta_charset():
    data = page('<meta charset="iso-8859-15">').encode("utf-8")
    assert extract(data).headline == "Çà et là: Москва — Zürich"
    assert BODY in extract(data).body


def test_meta_charset_used_when_bytes_are_not_utf8():
    text = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        "<title>Москва — новости</title></head><body><p>Текст статьи о том, что в Москве "
        "прошёл снег, и его длины хватает для абзаца.</p></body></html>"
    )
    article = extract(text.encode("cp1251"))
    assert article.headline == "Москва — новости"
    assert article.body.startswith("Текст статьи")


def test_http_charset_used_before_meta():
    data = "<html><body><p>Größe</p></body></html>".encode("latin-1")
    assert decode_html(data, http_charset="ISO-8859-1") == "<html><body><p>Größe</p></body></html>"


def test_bom_decides():
    text = page()
    assert decode_html(codecs.BOM_UTF8 + text.encode("utf-8")) == text
    assert decode_html(codecs.BOM_UTF16_LE + text.encode("utf-16-le")) == text


def test_undeclared_legacy_bytes_fall_back_to_windows_1252():
    data = "<html><body><p>caf\u00e9 \u201cquoted\u201d</p></body></html>".encode("cp1252")
    assert "café “quoted”" in decode_html(data)


def test_invalid_utf8_with_few_bad_bytes_stays_utf8():
    data = page().encode("utf-8") + b"\xff"
    assert "Москва" in decode_html(data)


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("gb2312", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("utf8", "utf-8"),
        ("windows-1251", "cp1251"),
        ("no-such-charset", None),
        (None, None),
    ],
)
def test_charset_labels(label, codec):
    assert codec_for(label) == codec
