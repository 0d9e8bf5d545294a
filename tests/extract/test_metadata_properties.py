"""Metadata readers never raise: random strings, random JSON-LD, deeply nested values."""

from __future__ import annotations

import json
from datetime import datetime

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarchive.extract.dateline import parse_dateline, split_dateline
from newsarchive.extract.dates import parse_timestamp, url_date
from newsarchive.extract.pagedate import find_published
from newsarchive.extract.structured import read_metadata

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text that looks a little like dates and datelines, so the parsers get past their first checks
date_like = st.lists(
    st.sampled_from([*"0123456789 -:/.,+TZAPMUTCGMSKjanuaryМСКянвря()—", "March", "(AP)", "MOSCOW", "UTC+3"]),
    max_size=30,
).map("".join)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["@type", "@graph", "headline", "name", "author", "keywords", "datePublished",
                         "mainEntity", "publisher", "articleBody", "inLanguage", "x"]),
        inner, max_size=5),
    max_leaves=30,
)


@FAST
@given(st.one_of(st.text(max_size=80), date_like))
def test_parse_timestamp_never_raises(raw):
    value = parse_timestamp(raw, language="en", reference=datetime(2020, 1, 1))
    assert value is None or isinstance(value, datetime)


@FAST
@given(st.one_of(st.text(max_size=120), date_like))
def test_dateline_split_is_a_prefix_cut(paragraph):
    dateline, rest = split_dateline(paragraph)
    if dateline is None:
        assert rest == paragraph
    else:
        found = parse_dateline(paragraph)
        assert found is not None
        assert paragraph[found.prefix_length :].lstrip() == rest


@FAST
@given(st.text(max_size=100))
def test_url_date_never_raises(url):
    assert url_date(url) is None or isinstance(url_date(url), datetime)


@FAST
@given(json_values)
def test_random_jsonld_never_raises(value):
    script = json.dumps(value).replace("</", "<\\/")
    doc = lxml.html.fromstring(
        f'<html><head><script type="application/ld+json">{script}</script></head><body><p>x</p></body></html>'
    )
    md = read_metadata(doc, "https://example.org/2020/01/02/x")
    published, _raw = find_published(doc, md, "https://example.org/2020/01/02/x")
    assert published is None or isinstance(published, datetime)


def test_deeply_nested_jsonld_is_bounded():
    nested = "[" * 5000 + "]" * 5000
    author = {"name": {"name": {"name": {"name": {"name": {"name": {"name": "Deep"}}}}}}}
    doc = lxml.html.fromstring(
        '<html><head><script type="application/ld+json">' + nested + "</script>"
        '<script type="application/ld+json">'
        + json.dumps({"@type": "NewsArticle", "headline": "Ok", "author": author})
        + "</script></head><body></body></html>"
    )
    md = read_metadata(doc, None)
    assert md.headline == "Ok"
    assert md.authors == []


def test_deeply_nested_html_is_bounded():
    inner = "<div class='meta'>" * 3000 + "Datum 28.04.2023" + "</div>" * 3000
    html = "<html><body>" + inner + "</body></html>"
    doc = lxml.html.fromstring(html)
    md = read_metadata(doc, None)
    published, _raw = find_published(doc, md, None)
    assert published is None or published.year == 2023
