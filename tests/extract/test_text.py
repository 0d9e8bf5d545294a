"""Main text: boilerplate removal, container choice, read-also links, headline choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsarchive import extract
from newsarchive.extract import strip_site_suffix

FIXTURES = Path(__file__).parent.parent / "fixtures" / "extract"


@pytest.fixture(scope="module")
def wire():
    html = (FIXTURES / "wire_story.html").read_bytes()
    return extract(html, "https://wire.example.org/economy/4711?utm_source=rss")


@pytest.fixture(scope="module")
def tass_like():
    html = (FIXTURES / "tass_like_2017.html").read_bytes()
    return extract(html, "https://tass.com/society/900000")


def test_body_keeps_article_blocks(wire):
    paragraphs = wire.paragraphs
    assert paragraphs[0].startswith("KIEL, March 5 (Example Wire) - Two restored harbour cranes")
    assert "A long campaign" in paragraphs  # subheading kept as its own paragraph
    assert "The first crane arrives in June and will stand next to the museum ship." in paragraphs
    assert "The cranes are part of the city's memory and belong where the ships are." in paragraphs
    assert paragraphs[-1].startswith("The cranes are part")


@pytest.mark.parametrize(
    "unwanted",
    [
        "cookies",  # consent banner
        "Home",  # navigation
        "Share on",  # share bar
        "Photo: City Archive",  # figure caption
        "Advertisement",  # ad label
        "garden furniture",  # ad slot
        "Read also",  # related block label
        "ferry terminal",  # related link titles
        "hidden paragraph",  # display:none
        "newsletter",  # newsletter box
        "Reader one",  # comments
        "Most read",  # sidebar list
        "Storm closes airports",
        "Copyright 2024",  # footer
        "By Mara Quell",  # byline
        "Harbour cranes return to the old port",  # the headline is not body text
    ],
)
def test_body_has_no_boilerplate(wire, unwanted):
    assert unwanted not in wire.body


def test_paragraphs_are_normalised(wire):
    assert "\n\n" in wire.body
    for paragraph in wire.paragraphs:
        assert paragraph == " ".join(paragraph.split())


def test_related_links_become_read_also(wire):
    assert wire.read_also == [
        {
            "title": "Port authority plans a new ferry terminal for the summer season",
            "url": "https://wire.example.org/economy/4700",
        },
        {
            "title": "Council approves budget for the old town renovation",
            "url": "https://wire.example.org/city/4650",
        },
    ]


def test_headline_canonical_source(wire):
    assert wire.headline == "Harbour cranes return to the old port"
    assert wire.canonical_url == "https://wire.example.org/economy/4711"
    assert wire.source == "wire.example.org"
    assert wire.language == "en"


def test_tass_2017_page(tass_like):
    assert tass_like.headline == "Ministers agree on a new river ferry schedule"
    assert tass_like.dateline == "MOSCOW, January 19. /TASS/."
    assert tass_like.body.startswith("The transport and regional ministers agreed")
    for unwanted in (
        "{{",
        "item.group_date",
        "Реклама",
        "Read also",
        "Back to Main page",
        "Most read",
        "Select the city",
        "Show more",
        "/TASS/",
    ):
        assert unwanted not in tass_like.body
    assert [link["url"] for link in tass_like.read_also] == [
        "https://tass.com/society/900001",
        "https://tass.com/society/900002",
    ]
    assert len(tass_like.paragraphs) == 4


def test_text_split_by_inline_blocks_is_joined():
    parts = "".join(
        f'<div class="text-block"><p>Paragraph {i} of the story carries enough words to count as prose, '
        f"really.</p></div><div class='ad-slot'>Advertisement</div>"
        for i in range(6)
    )
    html = f"<html><body><nav><a href='/'>Home</a></nav><div class='story'>{parts}</div></body></html>"
    article = extract(html)
    assert [p.split()[1] for p in article.paragraphs] == ["0", "1", "2", "3", "4", "5"]


def test_teaser_cards_are_not_the_article():
    story = "".join(
        f"<p>Sentence {i} of the real story is long enough to look like prose to anyone.</p>"
        for i in range(5)
    )
    cards = "".join(
        f'<a href="/other/{i}"><h3>Another headline number {i}</h3><p>A teaser text of the other story '
        f"that is long enough to look like prose, number {i}.</p></a>"
        for i in range(8)
    )
    article = extract(f"<html><body><article>{story}</article><section>{cards}</section></body></html>")
    assert "teaser" not in article.body
    assert article.body.count("real story") == 5


def test_json_ld_article_body_used_when_page_is_rendered_by_script():
    body = "First paragraph of the story, told in full.\\n\\nSecond paragraph with the rest of it. " * 3
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "Hi",'
        f'"articleBody": "{body}"}}</script></head><body><div id="app"></div></body></html>'
    )
    assert extract(html).body.startswith("First paragraph of the story")


def test_story_in_a_frameworks_script_state_when_the_body_is_empty():
    paragraphs = ["The council approved the harbour budget on Thursday after a long debate. " * 2,
                  "Work on the northern pier starts in spring, the mayor said at the meeting. " * 2]
    story = '<div class="ad">$$ARTICLEAD$$</div>'.join(f'<p class="editor-p">{p}</p>' for p in paragraphs)
    state = json.dumps({"queries": [{"data": {"title": "Harbour budget", "teaser": "short",
                                              "contentHtml": story}}]})
    html = (f"<html><head><title>Harbour budget</title></head><body><div id=\"root\"></div>"
            f"<script>window.__STATE__ = window.__STATE__ || []; window.__STATE__.push({state});</script>"
            "</body></html>")
    article = extract(html)
    assert article.body.split("\n\n") == [p.strip() for p in paragraphs]
    assert not [w for w in article.warnings if w.startswith("empty_body")]


def test_script_state_is_not_read_when_the_page_has_its_text():
    page_text = "<p>" + "The page's own paragraph about the harbour is what counts here. " * 3 + "</p>"
    state = json.dumps({"content": "<p>" + "Another story entirely, kept in the state. " * 8 + "</p>"})
    html = f"<html><body><article>{page_text}</article><script>var s = {state};</script></body></html>"
    article = extract(html)
    assert "Another story" not in article.body
    assert article.body.startswith("The page's own paragraph")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Kremlin comments on talks - TASS", "Kremlin comments on talks"),
        ("Markets slide | Reuters", "Markets slide"),
        ("Example Wire | Markets slide", "Markets slide"),
        ("Well - known phrase stays - in the title", "Well - known phrase stays - in the title"),
    ],
)
def test_strip_site_suffix(title, expected):
    assert strip_site_suffix(title, ("TASS", "Reuters", "Example Wire", "wire.example.org")) == expected


def test_headline_prefers_og_title_matching_h1():
    html = (
        "<html><head><title>Nice headline here - Paper</title>"
        '<meta property="og:site_name" content="Paper"></head><body>'
        "<h1>Nice headline here</h1><p>Text of the article that is long enough to be kept as prose.</p>"
        "</body></html>"
    )
    assert extract(html).headline == "Nice headline here"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Updated 15.59 | Published 14.14", False),
        ("Aktualisiert am 27. April 2024, 12:30 Uhr", False),
        ("27.04.2024, 12:30 Uhr", False),
        ("Quelle: AFP", False),
        ("Von Monique Muster", False),
        ("By Jane Doe", False),
        ("Advertisement", False),
        ("Реклама", False),
        ("Published in 1999, the book sold three million copies.", True),
        ("Von der Leyen sagte am Montag, dass sie 3 Punkte plant.", True),
        ("Stand der Ermittlungen: 3 Verdächtige sind gefasst worden.", True),
    ],
)
def test_short_furniture_lines(line, kept):
    story = "".join(f"<p>Paragraph {i} of the story is long enough to look like prose.</p>" for i in range(4))
    article = extract(f"<html><body><article>{story}<p>{line}</p></article></body></html>")
    assert (line in article.paragraphs) is kept


def test_article_body_from_json_ld_vouches_for_paragraphs():
    paragraphs = [f"Paragraph {i} of the story says something long enough to be prose." for i in range(8)]
    body = " ".join(paragraphs)
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "H",'
        f'"articleBody": "{body}"}}</script></head><body><article>'
        + "".join(f"<p>{p}</p>" for p in paragraphs[:4])
        + "<h2>A subheading</h2><div><p>Key point one, not in the story</p></div>"
        + "".join(f"<p>{p}</p>" for p in paragraphs[4:])
        + "</article></body></html>"
    )
    article = extract(html)
    assert "Key point one, not in the story" not in article.paragraphs
    assert "A subheading" in article.paragraphs
    assert len(article.paragraphs) == 9


def test_broken_and_non_http_links_are_not_read_also():
    story = "".join(f"<p>Paragraph {i} of the story is long enough to look like prose.</p>" for i in range(4))
    box = (
        '<div class="related"><a href="http://[broken/x">A broken link title that is long</a>'
        '<a href="javascript:void(0)">A script link title that is long enough</a>'
        '<a href="/ok/1">A good related story title here</a></div>'
    )
    article = extract(f"<html><body><article>{story}{box}</article></body></html>", "https://site.example/a/1")
    assert article.read_also == [{"title": "A good related story title here", "url": "https://site.example/ok/1"}]
    assert len(article.paragraphs) == 4


def test_layout_classes_are_not_furniture():
    # "overflow-hidden" clips, "leading-7" sets line height: neither hides or marks a lead.
    story = "".join(
        f'<div class="overflow-hidden"><p class="leading-7">Paragraph {i} of the story is long enough '
        "to be prose.</p></div>"
        for i in range(5)
    )
    lead = '<p class="article-leadtext">The teaser above the story, which is the description field.</p>'
    article = extract(f"<html><body><article>{lead}{story}</article></body></html>")
    assert len(article.paragraphs) == 5
    assert article.paragraphs[0].startswith("Paragraph 0")
