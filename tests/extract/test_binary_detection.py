"""A page is binary by the share of control bytes and the absence of markup, not by one stray NUL."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from newsarchive import ExtractionError, extract
from newsarchive.extract.decode import sniff_binary

NUL = "\x00"
STORY = "".join(
    f"<p>Paragraph {i} of the invented harbour story is long enough to be kept as prose.</p>"
    for i in range(5)
)


def page(head: str = "", before: str = "", story: str = STORY) -> str:
    return (f"<!DOCTYPE html><html><head>{head}<title>Harbour reopens</title></head>"
            f"<body>{before}<article><h1>Harbour reopens after the storm</h1>{story}</article></body></html>")


# real pages carry these: a NUL left in a template, a run of them in one attribute, one in the text
PAGES_WITH_NULS = {
    "one NUL in the template head": page(head=NUL),
    "a NUL before the doctype": NUL + page(),
    "27 NULs inside one attribute": page(before=f'<div data-state="{NUL * 27}"></div>'),
    "NULs in the article text": page(story=STORY.replace("harbour", f"har{NUL}bour", 3)),
    "a NUL in a script template": page(head=f"<script>var tpl = '{NUL}';</script>"),
}


@pytest.mark.parametrize("name", list(PAGES_WITH_NULS))
@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_stray_nuls_do_not_reject_the_page(name: str, as_bytes: bool) -> None:
    html = PAGES_WITH_NULS[name]
    article = extract(html.encode("utf-8") if as_bytes else html, "https://harbour.example/news/1")
    assert article.headline == "Harbour reopens after the storm"
    assert article.paragraphs[0].startswith("Paragraph 0 of the invented harbour story")
    assert NUL not in article.body
    assert len(article.paragraphs) == 5


def test_nul_in_the_head_does_not_move_the_title_into_the_body() -> None:
    # a parser reading the NUL as text would end <head> there (as browsers do) and lose <title>
    article = extract(page(head=NUL).replace("<h1>Harbour reopens after the storm</h1>", ""),
                      "https://harbour.example/news/1")
    assert article.headline == "Harbour reopens"


def _noise(size: int) -> bytes:
    return random.Random(7).randbytes(size)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + _noise(4000), "PNG image"),
        (gzip.compress(page().encode()), "gzip"),
        (b"\xff\xd8\xff\xe0" + _noise(4000), "JPEG"),
        (b"MZ\x90\x00" + _noise(4000), "Windows executable"),
        # no magic number: random bytes (a tenth of them control bytes) and raw deflate data
        (_noise(6000), "binary data"),
        (zlib.compress(_noise(6000)), "binary data"),
        # UTF-16 without a byte-order mark: every other byte a NUL, markup or not
        (page().encode("utf-16-le"), "binary data"),
    ],
    ids=["png", "gzip", "jpeg", "exe", "random", "deflate", "utf16-no-bom"],
)
def test_real_binary_is_rejected_with_a_clear_error(data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=f"not an HTML page: looks like {reason}"):
        extract(data, "https://harbour.example/news/1")


def test_binary_error_says_how_much_was_control_bytes() -> None:
    with pytest.raises(ExtractionError, match=r"\d+\.\d% control bytes in the first 6,000 bytes"):
        extract(_noise(6000))


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (page().encode(), False),
        (page(before=f'<div data-x="{NUL * 27}"></div>').encode(), False),
        # a short page with a long run of NULs: still markup, still a page
        (page(before=NUL * 100).encode(), False),
        # text without markup tolerates only a trace of control bytes
        (b"plain words " * 50 + b"\x00\x01\x02\x03\x04", True),
        (b"plain words " * 50 + b"\x00", False),
        # a run of control bytes beyond a quarter of the sample, even with tags around it
        (b"<html><body><p>x</p>" + b"\x00" * 2000 + b"</body></html>", True),
    ],
    ids=["clean", "attribute-run", "short-page-run", "text-controls", "text-one-nul", "mostly-nul"],
)
def test_sniff_binary_by_share_and_markup(data: bytes, binary: bool) -> None:
    assert (sniff_binary(data) is not None) is binary
