"""Issue 15 items 1, 2, 3, 6, 7: datelines as printed and the wire, clean bodies, people as
authors, read-also boxes, and bodies that are never lost. All fixtures are written here."""

from __future__ import annotations

import json

import pytest

from newsarchive import extract
from newsarchive.extract.bylines import split_agencies
from newsarchive.extract.dateline import parse_dateline, split_dateline, wire_name
from newsarchive.extract.text import clean_paragraphs

STORY = (
    "The committee met for four hours on Tuesday and agreed on a plan for the coming winter, "
    "officials said after the session ended late in the evening."
)
MORE = (
    "The plan covers heating, transport and the supply of food to remote villages, and it will be "
    "reviewed again in the spring when the first results are known to everyone involved."
)

# (paragraph, dateline as printed, wire, start of the body)
DATELINES = [
    ("МОСКВА, 5 мая. /ТАСС/. Правительство утвердило план.", "МОСКВА, 5 мая. /ТАСС/.", "TASS",
     "Правительство"),
    ("新华社北京11月17日电 记者从有关部门获悉，计划已经完成。", "新华社北京11月17日电", "Xinhua", "记者从"),
    ("新华社上海3月2日电（记者王明）市政府宣布新措施。", "新华社上海3月2日电（记者王明）", "Xinhua",
     "市政府"),
    ("【6月18日 AFP】フランス政府は新しい計画を発表した。", "【6月18日 AFP】", "AFP", "フランス"),
    ("【ワシントン=共同】米政府は発表した。", "【ワシントン=共同】", "Kyodo", "米政府"),
    ("ANKARA (AA) - Bakan yeni planı açıkladı.", "ANKARA (AA) -", "Anadolu", "Bakan"),
    ("İSTANBUL (AA) - Vali açıklama yaptı.", "İSTANBUL (AA) -", "Anadolu", "Vali"),
    ("(ANSA) - ROMA, 28 LUG - Il governo ha approvato.", "(ANSA) - ROMA, 28 LUG -", "ANSA", "Il governo"),
    ("SEOUL, June 5 (Yonhap) -- The ministry said.", "SEOUL, June 5 (Yonhap) --", "Yonhap", "The ministry"),
    ("(서울=연합뉴스) 김철수 기자 = 정부는 발표했다.", "(서울=연합뉴스) 김철수 기자 =", "Yonhap", "정부는"),
    ("SURABAYA, Indonesia/JAKARTA (Reuters) - Rescuers searched.",
     "SURABAYA, Indonesia/JAKARTA (Reuters) -", "Reuters", "Rescuers"),
    ("KATHMANDU, April 25 (Reuters) - The authority said.", "KATHMANDU, April 25 (Reuters) -", "Reuters",
     "The"),
    ("MEXICO CITY (AP) — The economy grew.", "MEXICO CITY (AP) —", "AP", "The economy"),
    ("LYON, France (AFP) - Firefighters arrived.", "LYON, France (AFP) -", "AFP", "Firefighters"),
    ("MOSCOW, June 3 (Sputnik) - The ministry said.", "MOSCOW, June 3 (Sputnik) -", "Sputnik", "The"),
    ("KYIV, June 3 (Ukrinform) - The council met.", "KYIV, June 3 (Ukrinform) -", "Ukrinform", "The council"),
    ("MOSCOW. April 2 (Interfax) - The bank said.", "MOSCOW. April 2 (Interfax) -", "Interfax", "The bank"),
    ("WASHINGTON — The Senate voted.", "WASHINGTON —", None, "The Senate"),
]


@pytest.mark.parametrize(("paragraph", "printed", "wire", "rest"), DATELINES)
def test_dateline_as_printed(paragraph, printed, wire, rest):
    found = parse_dateline(paragraph)
    assert found is not None
    assert found.text == printed
    assert found.wire == wire
    dateline, body = split_dateline(paragraph)
    assert (dateline, body[: len(rest)]) == (printed, rest)


@pytest.mark.parametrize(("paragraph", "core"), [
    ("SURABAYA, Indonesia/JAKARTA (Reuters) - Text.", "SURABAYA, Indonesia/JAKARTA"),
    ("(ANSA) - ROMA, 28 LUG - Testo.", "ROMA, 28 LUG"),
    ("新华社北京11月17日电 文字。", "北京11月17日"),
    ("МОСКВА, 5 мая. /ТАСС/. Текст.", "МОСКВА, 5 мая"),
])
def test_dateline_core_is_place_and_date(paragraph, core):
    found = parse_dateline(paragraph)
    assert found is not None
    assert found.core == core


@pytest.mark.parametrize("paragraph", [
    "The committee met on Tuesday.", "新华社记者在现场看到，人们排起长队。", "【重要】お知らせ",
    "(LEAD) nothing here",
])
def test_not_a_dateline(paragraph):
    assert split_dateline(paragraph) == (None, paragraph)


@pytest.mark.parametrize(("token", "wire"), [
    ("ТАСС", "TASS"), ("Корр. ТАСС Иван Петров", "TASS"), ("新华社", "Xinhua"), ("AA", "Anadolu"),
    ("INTERFAX.RU", "Interfax"), ("연합뉴스", "Yonhap"), ("РИА Новости", "RIA Novosti"),
    ("Reuters", "Reuters"),
    ("Associated Press", "AP"), ("Укрінформ", "Ukrinform"), ("BelTA", "BelTA"), (None, None),
])
def test_one_canonical_wire_name(token, wire):
    assert wire_name(token) == wire


@pytest.mark.parametrize(("names", "people", "agencies"), [
    (["Reuters Editorial"], [], ["Reuters"]),
    (["ТАСС"], [], ["TASS"]),
    (["Associated Press"], [], ["AP"]),
    (["The Associated Press"], [], ["AP"]),
    (["Sputnik"], [], ["Sputnik"]),
    (["Ukrinform"], [], ["Ukrinform"]),
    (["AA"], [], ["Anadolu"]),
    (["AFP, PARIS"], [], ["AFP"]),
    (["AP Staff", "Jane Roe"], ["Jane Roe"], ["AP"]),
    (["Maria Rossi", "dpa"], ["Maria Rossi"], ["dpa"]),
    (["Apple Martin"], ["Apple Martin"], []),
])
def test_agencies_are_not_authors(names, people, agencies):
    assert split_agencies(names) == (people, agencies)


# (paragraphs, paragraphs kept, people named, agencies named)
TRAILERS = [
    ([STORY, "【纠错】 【责任编辑:王小明 】"], [STORY], [], []),
    ([STORY, MORE + " 【责任编辑：李华】"], [STORY, MORE], [], []),
    ([STORY, MORE + " reporter1@example.co.kr (END)"], [STORY, MORE], [], []),
    ([STORY, "reporter1@example.co.kr"], [STORY], [], []),
    ([STORY, MORE + "（完）"], [STORY, MORE], [], []),
    ([STORY, "(c)AFP/Jean Dupont"], [STORY], ["Jean Dupont"], ["AFP"]),
    ([STORY, MORE + " (c)AFP/Jean Dupont"], [STORY, MORE], ["Jean Dupont"], ["AFP"]),
    (["By JANE ROE, Associated Press", STORY], [STORY], ["JANE ROE"], ["Associated Press"]),
    ([STORY, "© 2024 Example News Agency. All rights reserved."], [STORY], [], []),
    ([STORY, "Bu haberlerin tamamı izinsiz yayımlanamaz. Tüm hakları saklıdır."], [STORY], [], []),
    ([STORY, MORE], [STORY, MORE], [], []),
    # the site addressing its reader under the story
    ([STORY, "Got a story? Get in touch with our news team by emailing tips@example.co.uk.",
      "Follow Example.co.uk on Twitter and Facebook for the latest news updates.",
      "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply."],
     [STORY], [], []),
    ([STORY, "Read more stories like this by signing up to our free weekly newsletter."], [STORY], [], []),
    ([STORY, "Il vous reste 57.09% de cet article à lire. La suite est réservée aux abonnés."],
     [STORY], [], []),
    ([STORY, "Abonniere den Whatsapp-Kanal von Beispiel und du verpasst nichts mehr."], [STORY], [], []),
    # ... but a story's own last line about a newsletter or a platform stays
    ([STORY, "She announced the decision on Twitter on Friday."],
     [STORY, "She announced the decision on Twitter on Friday."], [], []),
]


@pytest.mark.parametrize(("paragraphs", "kept", "people", "wires"), TRAILERS)
def test_trailers_are_removed(paragraphs, kept, people, wires):
    cleaned = clean_paragraphs(paragraphs)
    assert (cleaned.paragraphs, cleaned.people, cleaned.wires) == (kept, people, wires)


def _page(body: str, head: str = "") -> str:
    return (f"<html><head><title>Plan for winter agreed</title>{head}</head><body>"
            f"<nav><a href='/a'>Home</a> <a href='/b'>World</a></nav>{body}"
            "<footer><a href='/licensing'>Licensing and reprints of our stories</a> Example</footer>"
            "</body></html>")


@pytest.mark.parametrize("label", [
    "5 Min Read", "3 min read", "Related Coverage", "Share this article", "Read Next", "Bu haberi paylaşın",
    "Lesezeit: 4 Minuten", "分享到：",
])
def test_labels_leave_the_body(label):
    html = _page(f"<article><h1>Plan for winter agreed</h1><p>{label}</p><p>{STORY}</p><p>{MORE}</p>"
                 "</article>")
    body = extract(html, "https://news.example/world/2024/plan").body
    assert label not in body
    assert body.startswith("The committee")


URL = "https://news.example/world/2024/06/03/plan-for-winter-agreed-123"
RELATED_A = "/world/2024/06/02/heating-prices-rise-again-456"
RELATED_B = "https://news.example/economy/2024/06/01/villages-get-new-roads-789"


@pytest.mark.parametrize("label", [
    "Read also", "Read Next", "Related News", "Related Coverage", "Читайте также", "Benzer haberler",
    "相关新闻",
    "Read also:",
])
def test_read_also_boxes_by_heading(label):
    box = (f"<div class='box-x1'><h2>{label}</h2><ul>"
           f"<li><a href='{RELATED_A}'>Heating prices rise again this winter</a></li>"
           f"<li><a href='{RELATED_B}'>Villages get new roads before the winter</a></li>"
           f"<li><a href='/terms-of-use'>Terms of use and licensing of content</a></li></ul></div>")
    html = _page(f"<article><h1>Plan for winter agreed</h1><p>{STORY}</p><p>{MORE}</p></article>{box}")
    art = extract(html, URL)
    urls = [r["url"] for r in art.read_also]
    assert urls == ["https://news.example" + RELATED_A, RELATED_B]
    assert label.rstrip(":") not in art.body


def test_read_also_heading_inside_the_story_takes_only_its_list():
    inline = "<a href='/world/2024/05/01/an-earlier-report-on-the-plan-111'>an earlier report on the plan</a>"
    html = _page(
        f"<article><h1>Plan for winter agreed</h1><div class='body'><p>{STORY} See {inline}.</p>"
        f"<h3>Related</h3><ul><li><a href='{RELATED_A}'>Heating prices rise again this winter</a></li></ul>"
        f"<p>{MORE}</p></div></article>"
    )
    art = extract(html, URL)
    assert [r["url"] for r in art.read_also] == ["https://news.example" + RELATED_A]
    assert "Related" not in art.body


def test_licensing_links_in_the_story_are_not_read_also():
    html = _page(
        f"<article><h1>Plan for winter agreed</h1><p>{STORY}</p><p>{MORE}</p>"
        "<p><a href='https://agency.example/about/trust-principles.html'>"
        "Our standards: the trust principles</a></p>"
        "<p><a href='/licensing/reprints'>Purchase licensing rights for this story</a></p>"
        f"<p>Read also: <a href='{RELATED_A}'>Heating prices rise again this winter</a></p></article>"
    )
    art = extract(html, URL)
    assert [r["url"] for r in art.read_also] == ["https://news.example" + RELATED_A]


def test_read_also_never_navigation_or_footer():
    nav = (f"<nav><h3>Related</h3><a href='{RELATED_A}'>Heating prices rise again this winter</a></nav>"
           f"<footer><h3>Read also</h3><a href='{RELATED_B}'>Villages get new roads before the winter</a>"
           "</footer>")
    html = _page(f"<article><h1>Plan for winter agreed</h1><p>{STORY}</p><p>{MORE}</p></article>{nav}")
    art = extract(html, URL)
    assert art.read_also == []
    assert all("licensing" not in r["url"] for r in art.read_also)


def test_outlet_republishing_wire_copy():
    html = _page(
        "<article><h1>Plan for winter agreed</h1><div class='byline'>By JANE ROE, Associated Press</div>"
        f"<p>LONDON (AP) — {STORY}</p><p>{MORE}</p></article>",
        head="<meta name='author' content='Associated Press'>",
    )
    art = extract(html, URL)
    assert art.dateline == "LONDON (AP) —"
    assert art.wire == "AP"
    assert art.body.startswith("The committee")
    assert art.authors == ["JANE ROE"]
    assert art.to_dict()["wire"] == "AP"


@pytest.mark.parametrize(("paragraph", "person"), [
    ("РИМ, 3 декабря. /Корр. ТАСС Иван Петров/. Италия объявила.", "Иван Петров"),
    ("(LEAD) By Lee Min-ho SEOUL, June 5 (Yonhap) -- The ministry said.", "Lee Min-ho"),
    ("(서울=연합뉴스) 김철수 기자 = 정부는 발표했다.", "김철수"),
    ("MOSCOW, June 3. /TASS/. The ministry said.", None),
])
def test_dateline_credits_name_the_person(paragraph, person):
    found = parse_dateline(paragraph)
    assert found is not None
    assert found.byline == person


def test_tass_correspondent_is_the_author():
    html = _page(f"<article><h1>Plan for winter agreed</h1><div class='author'>ТАСС</div>"
                 f"<p>РИМ, 3 декабря. /Корр. ТАСС Иван Петров/. {STORY}</p><p>{MORE}</p></article>")
    art = extract(html, URL)
    assert (art.authors, art.wire) == (["Иван Петров"], "TASS")


def test_wire_byline_above_the_dateline():
    html = _page(f"<article><h1>Plan for winter agreed</h1><p>By JANE ROE, Associated Press</p>"
                 f"<p>LONDON (AP) — {STORY}</p><p>{MORE}</p></article>")
    art = extract(html, URL)
    assert (art.dateline, art.wire, art.authors) == ("LONDON (AP) —", "AP", ["JANE ROE"])
    assert art.body.startswith("The committee")


def test_agency_author_becomes_the_wire_without_dateline():
    html = _page(f"<article><h1>Plan for winter agreed</h1><p>{STORY}</p><p>{MORE}</p></article>",
                 head="<meta name='author' content='Reuters Editorial'>")
    art = extract(html, URL)
    assert (art.authors, art.wire) == ([], "Reuters")


# Bodies that must not be lost, whatever the wrapper.
@pytest.mark.parametrize("wrapped", [
    # React streaming SSR: the story arrives in a hidden suspense part that a script moves in place
    f"<div id='__next'><main><div>Loading</div></main></div><div hidden id='S:0'><article>"
    f"<h1>Plan for winter agreed</h1><p>{STORY}</p><p>{MORE}</p></article></div>"
    "<script>$RC('B:0','S:0')</script>",
    # Next.js server HTML: plain <p> under hashed CSS-module classes
    f"<div class='Article_wrap__x1Yz'><div class='Body_text__a9Bc'><p>{STORY}</p><p>{MORE}</p></div></div>",
    # a print wrapper whose classes look like boilerplate, beside a big menu
    "<div class='menu-links'>" + " ".join(f"<a href='/s{i}'>Section number {i}</a>" for i in range(80)) +
    f"</div><div class='print-only teaser-box'><p>{STORY}</p></div>",
])
def test_body_is_never_lost(wrapped):
    art = extract(_page(wrapped), URL)
    assert art.body.startswith("The committee met")
    # the page's only date is the URL's day: that warning is the date finder's, not the body's
    assert [w for w in art.warnings if not w.startswith("published_")] == []


def test_short_json_ld_article_body_is_used():
    body = "The council approved the budget on Monday."
    ld = json.dumps({"@type": "NewsArticle", "headline": "Budget approved", "articleBody": body})
    html = _page("<div id='root'></div>", head=f"<script type='application/ld+json'>{ld}</script>")
    art = extract(html, URL)
    assert art.body == body
    assert [w for w in art.warnings if not w.startswith("published_")] == []


@pytest.mark.parametrize("storyless", [
    "<div class='gallery'><figure><img src='/a.jpg'></figure></div>",
    "<form class='search'><p>No match for that postcode, please try again with another one.</p></form>",
])
def test_empty_body_says_why(storyless):
    art = extract(_page(storyless), URL)
    assert art.body == ""
    assert art.warnings
    assert art.warnings[0].startswith("empty_body:")
    assert art.to_dict()["warnings"] == art.warnings
