"""Headline choice between og:title, the JSON-LD headline, <title> and <h1>, on invented pages."""

from __future__ import annotations

import json

import lxml.html
import pytest

from newsarchive.extract import extract
from newsarchive.extract.structured import read_metadata

STORY = "".join(
    f"<p>Paragraph {i} of the invented story is long enough to be kept as prose.</p>" for i in range(4)
)


def page(
    *,
    og: str | None = None,
    ld: str | None = None,
    title: str | None = None,
    h1: str | None = None,
    section: str | None = None,
    site: str = "Harbour Courier",
    first_paragraph: str = "",
) -> str:
    head = f"<title>{title}</title>" if title is not None else ""
    head += f'<meta property="og:site_name" content="{site}">'
    if og is not None:
        head += f'<meta property="og:title" content="{og}">'
    node: dict[str, str] = {"@type": "NewsArticle", "datePublished": "2024-05-03T08:15:00Z"}
    if ld is not None:
        node["headline"] = ld
    if section is not None:
        node["articleSection"] = section
    head += f'<script type="application/ld+json">{json.dumps(node)}</script>'
    body = f"<h1>{h1}</h1>" if h1 is not None else ""
    first = f"<p>{first_paragraph}</p>" if first_paragraph else ""
    return f"<html><head>{head}</head><body><article>{body}{first}{STORY}</article></body></html>"


SOCIAL = "Ferry captain steers through the storm"
DISPLAY = "Night ferry reaches harbour after twelve hours at sea"


def test_og_title_wins_when_the_title_repeats_the_json_ld_headline():
    html = page(og=SOCIAL, ld=DISPLAY, title=f"{DISPLAY} | Harbour Courier", h1=DISPLAY)
    assert extract(html, "https://courier.example/news/1").headline == SOCIAL


def test_json_ld_headline_wins_when_the_title_only_repeats_og_title():
    # <title> and og:title are the CMS default; the JSON-LD headline was set for this article
    html = page(og=DISPLAY, ld=SOCIAL, title=f"{DISPLAY} | Harbour Courier", h1=DISPLAY)
    assert extract(html, "https://courier.example/news/1").headline == SOCIAL


def test_json_ld_headline_wins_over_og_title_and_title_even_without_site_suffix():
    html = page(og=DISPLAY, ld=SOCIAL, title=DISPLAY, h1=SOCIAL)
    assert extract(html, "https://courier.example/news/1").headline == SOCIAL


@pytest.mark.parametrize(
    ("og", "ld"),
    [
        ("Port strike: Dockers walk out at dawn", "Port strike - Dockers walk out at dawn"),
        ("Dockers walk out at dawn", '"Dockers walk out" at dawn'),
    ],
)
def test_punctuation_variants_are_one_headline_and_og_title_stays(og, ld):
    html = page(og=og, ld=ld, title=f"{og} - Harbour Courier", h1=ld)
    assert extract(html, "https://courier.example/news/1").headline == og


def test_og_title_stays_without_a_title_to_compare():
    html = page(og=SOCIAL, ld=DISPLAY, h1=DISPLAY)
    assert extract(html, "https://courier.example/news/1").headline == SOCIAL


def test_title_that_is_neither_leaves_og_title():
    html = page(og=SOCIAL, ld=DISPLAY, title="Harbour news of the week | Harbour Courier", h1=DISPLAY)
    assert extract(html, "https://courier.example/news/1").headline == SOCIAL


def test_no_structured_headline_falls_back_to_h1():
    html = page(h1=DISPLAY)
    assert extract(html, "https://courier.example/news/1").headline == DISPLAY


def test_section_name_inside_the_headline_is_kept():
    headline = "A hundred years at the stadium: Much more than a sports venue"
    md = read_metadata(
        lxml.html.fromstring(page(og=headline, ld=headline, title=f"{headline} - Sports - Harbour Courier",
                                  section="Sports")),
        "https://courier.example/sports/1",
    )
    assert md.og_title == headline
    assert md.ld_headline == headline
    # a whole segment that is the section is still a title suffix
    assert md.page_title == headline


def test_section_suffix_of_the_title_is_stripped_without_og_title():
    headline = "Dockers walk out at dawn"
    md = read_metadata(
        lxml.html.fromstring(page(title=f"{headline} - Business - Harbour Courier", section="Business")),
        "https://courier.example/business/1",
    )
    assert md.page_title == headline


def test_kicker_and_headline_repeated_above_the_text_are_not_body():
    html = page(
        og="Dockers walk out at dawn",
        ld="Port strike: Dockers walk out at dawn",
        title="Port strike: Dockers walk out at dawn | Harbour Courier",
        first_paragraph="Port strikeDockers walk out at dawn",
    )
    article = extract(html, "https://courier.example/news/1")
    assert article.headline == "Dockers walk out at dawn"
    assert article.paragraphs[0].startswith("Paragraph 0 of the invented story")


def test_og_title_cut_by_an_unescaped_quote_is_not_used():
    full = 'Marathon winner and "royal visit" at the finish'
    broken = '<meta property="og:title" content="Marathon winner and "royal visit" at the finish">'
    html = page(ld="Children run their own marathon on Saturday", title=full, h1=full).replace(
        "<title>", broken + "<title>"
    )
    md = read_metadata(lxml.html.fromstring(html), "https://courier.example/news/1")
    assert md.og_title is None
    assert md.headline == "Children run their own marathon on Saturday"


def test_cut_og_title_without_json_ld_falls_back_to_the_h1():
    full = 'Marathon winner and "royal visit" at the finish'
    html = (
        '<html><head><meta property="og:title" content="Marathon winner and "royal visit" at the finish">'
        f"<title>{full}</title></head><body><article><h1>{full}</h1>{STORY}</article></body></html>"
    )
    assert extract(html, "https://courier.example/news/1").headline == full


def test_declared_category_is_a_title_suffix_only_as_a_whole_segment():
    html = page(title="Dockers walk out at dawn-Politics | Harbour Courier").replace(
        "<title>", '<meta name="content_category" content="Politics"><title>'
    )
    assert extract(html, "https://courier.example/news/1").headline == "Dockers walk out at dawn"
    kept = page(title="Politics of the port: dockers walk out | Harbour Courier").replace(
        "<title>", '<meta name="content_category" content="Politics"><title>'
    )
    headline = extract(kept, "https://courier.example/news/1").headline
    assert headline == "Politics of the port: dockers walk out"


@pytest.mark.parametrize(
    ("og", "h1", "expected"),
    [
        # metadata in ASCII, the page's own headline typographic: the page's wins
        ("Harbour's ferry runs again", "Harbour’s ferry runs again", "Harbour’s ferry runs again"),
        ("Mayor: &quot;We stay open&quot;", "Mayor: “We stay open”", "Mayor: “We stay open”"),
        # other words on the h1: og:title stays (the h1 is not simply its printed form)
        ("Harbour's ferry runs again", "Ferry back on the water", "Harbour's ferry runs again"),
        # case is the writer's choice, not typography
        ("Harbour ferry runs again", "HARBOUR FERRY RUNS AGAIN", "Harbour ferry runs again"),
    ],
)
def test_headline_keeps_the_page_typography(og, h1, expected):
    assert extract(page(og=og, h1=h1), "https://courier.example/news/1").headline == expected


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("港口渡轮恢复运营-新华网", "http://www.news.cn/local/20240503/abc/c.html", "港口渡轮恢复运营"),
        ("港口渡轮恢复运营_人民网", "http://society.people.example/n1/c1.html", "港口渡轮恢复运营"),
        ("항구 여객선 운항 재개 | 연합뉴스", "https://www.yna.co.kr/view/AKR1", "항구 여객선 운항 재개"),
        ("Liman feribotu yeniden sefere başladı - Anadolu Ajansı", "https://www.aa.com.tr/tr/x/1",
         "Liman feribotu yeniden sefere başladı"),
        ("Harbour ferry runs again | Reuters", "https://www.reuters.com/world/x", "Harbour ferry runs again"),
        ("Паром снова ходит - ТАСС", "https://tass.ru/obschestvo/1", "Паром снова ходит"),
        # a hyphenated word or a name after a dash is headline text, not a site
        ("Ferry back after COVID-19", "https://courier.example/news/1", "Ferry back after COVID-19"),
        ("Ferry named after Sputnik", "https://courier.example/news/1", "Ferry named after Sputnik"),
    ],
)
def test_site_suffix_is_stripped_whatever_the_separator(title, url, expected):
    html = f"<html><head><title>{title}</title></head><body><article>{STORY}</article></body></html>"
    assert extract(html, url).headline == expected
