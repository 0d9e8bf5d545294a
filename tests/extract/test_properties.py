"""Property tests: extract never raises anything but ExtractionError, and returns in bounded time."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsarchive import Article, ExtractionError, extract

TAGS = [
    "div",
    "p",
    "span",
    "a",
    "article",
    "section",
    "li",
    "ul",
    "h1",
    "h2",
    "script",
    "style",
    "table",
    "td",
    "tr",
    "nav",
    "aside",
    "br",
    "figure",
    "blockquote",
]
ATTRS = [
    "",
    ' class="share"',
    ' class="article-body"',
    ' id="x"',
    " hidden",
    ' style="display:none"',
    ' href="/a"',
    ' ng-repeat="i in x"',
    ' class="related"',
    ' aria-hidden="true"',
]

fragment = st.recursive(
    st.text(max_size=40),
    lambda inner: st.builds(
        lambda tag, attr, children: f"<{tag}{attr}>{''.join(children)}</{tag}>",
        st.sampled_from(TAGS),
        st.sampled_from(ATTRS),
        st.lists(inner, max_size=4),
    ),
    max_leaves=30,
)
PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes | str) -> None:
    start = time.monotonic()
    try:
        result = extract(data, "https://example.org/news/1")
    except ExtractionError:
        return
    assert isinstance(result, Article)
    assert isinstance(result.body, str)
    assert time.monotonic() - start < 10


@PROPS
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    check(data)


@PROPS
@given(st.text(max_size=2000))
def test_random_text(text):
    check(text)


@PROPS
@given(st.lists(fragment, min_size=1, max_size=5), st.integers(min_value=0, max_value=400))
def test_generated_html_and_its_truncations(fragments, cut):
    html = "<html><body>" + "".join(fragments) + "</body></html>"
    check(html)
    check(html[: cut % (len(html) + 1)])
    check(html.encode("utf-8")[: cut % (len(html) + 1)])


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=5_000, max_value=10_000), st.sampled_from(["div", "span", "b", "table"]))
def test_deep_nesting(depth, tag):
    check("<html><body>" + f"<{tag}>" * depth + "deep text" + f"</{tag}>" * depth + "</body></html>")
