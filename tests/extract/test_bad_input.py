"""Input that is not a page, or a hostile page: a clear ExtractionError or a bounded best effort."""

from __future__ import annotations

import gzip

import pytest

from newsarchive import ExtractionError, extract


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        ("", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (gzip.compress(b"<html><body>x</body></html>"), "gzip"),
        (bytes(range(256)) * 8, "binary"),
        (b"just a line of plain text without any markup at all", "no markup"),
        (b'{"json": "is not a page", "list": [1, 2, 3]}', "no markup"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>', "feed"),
    ],
)
def test_not_html_raises_clear_error(data, reason):
    with pytest.raises(ExtractionError, match=reason):
        extract(data)


def test_wrong_type_raises_extraction_error():
    with pytest.raises(ExtractionError):
        extract(12345)  # type: ignore[arg-type]


def test_page_without_article_gives_empty_body():
    html = b"<html><head><title>Politics</title></head><body><nav><a href='/a'>A</a></nav></body></html>"
    article = extract(html, "https://news.example.com/politics/")
    assert article.body == ""
    assert article.url == "https://news.example.com/politics/"


def test_truncated_html_still_gives_text():
    html = (
        "<html><body><article><p>"
        + "A sentence of the story that goes on. " * 10
        + "</p><p>Cut here in the mid"
    )
    article = extract(html.encode())
    assert article.body.startswith("A sentence of the story")


def test_invalid_utf8_does_not_raise():
    html = b"<html><body><p>Caf\xc3 au lait \xff\xfe is served here every morning, the owner says.</p></body>"
    assert "au lait" in extract(html).body


def test_deep_nesting_is_bounded():
    depth = 10_000
    html = (
        "<html><body>"
        + "<div>" * depth
        + "<p>Deep text that is long enough to be prose.</p>"
        + "</div>" * depth
    )
    article = extract(html + "</body></html>")
    assert article.url == ""


def test_fifty_megabyte_page():
    paragraph = "<p>" + "word " * 40 + "number {}</p>"
    count = 50_000_000 // len(paragraph)
    story = "".join(paragraph.format(i) for i in range(count))
    html = "<html><body><article>" + story + "</article></body></html>"
    article = extract(html.encode())
    # Cut to the first MAX_PAGE_CHARS: what fits there is extracted, paragraph by paragraph.
    assert article.paragraphs[0] == "word " * 40 + "number 0"
    assert 10_000 < len(article.paragraphs) < count


def test_unclosed_inline_tags_keep_the_whole_story():
    # Old pages repeat an unclosed <font> per paragraph: the tree nests one level deeper each time.
    html = "<html><body>" + "".join(
        f"<font size=2>Paragraph {i} of an old page with unclosed font tags, long enough to be prose.<br><br>"
        for i in range(1000)
    )
    article = extract(html + "</body></html>")
    assert len(article.paragraphs) == 1000
