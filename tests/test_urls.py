import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.urls import _canonicalize, canonical_url, is_already_canonical


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://tass.com/politics/925235?utm_source=x&utm_medium=rss#comments", "https://tass.com/politics/925235"),
        ("https://TASS.com/politics/925235?fbclid=abc", "https://tass.com/politics/925235"),
        ("https://example.com/news/story/amp", "https://example.com/news/story"),
        ("https://example.com/amp/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
        ("https://amp.example.com/news/story", "https://example.com/news/story"),
        ("https://example.com/news/story/print", "https://example.com/news/story"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?id=7&utm_campaign=z", "https://example.com/a?id=7"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_rel_canonical_honoured_on_same_site_only() -> None:
    assert canonical_url("https://tass.com/x?a=1", "/politics/1") == "https://tass.com/politics/1"
    assert canonical_url("https://www.tass.com/x", "https://tass.com/politics/1") == "https://tass.com/politics/1"
    assert canonical_url("https://tass.com/politics/1", "https://evil.example/") == "https://tass.com/politics/1"


# URLs shaped like article links, with the characters that make canonical forms differ
# (upper case, dots, %, query, fragment, ports, "amp"/"print" variants) mixed in
_HOST_PART = st.text(alphabet="abcxyz019-AMPamp", min_size=1, max_size=8)
_SEGMENT = st.text(alphabet="abcXYZ019_~-.%ampprint", min_size=0, max_size=10)
_URLS = st.builds(
    lambda scheme, host, tld, segments, tail: f"{scheme}://{host}.{tld}/" + "/".join(segments) + tail,
    st.sampled_from(["http", "https", "HTTP"]),
    _HOST_PART,
    st.sampled_from(["com", "ru", "co.uk", "example", "COM"]),
    st.lists(_SEGMENT, max_size=5),
    st.sampled_from(["", "", "", "/", ".html", "?a=1", "#top", "?utm_source=x", ":8080", "/amp", "/print"]),
)


@settings(max_examples=1500)
@given(_URLS)
def test_already_canonical_urls_are_what_w3lib_returns(url: str) -> None:
    # canonical_url() returns these unchanged without calling w3lib: that shortcut must never
    # give another key than the full path would (the archive is keyed by it)
    if is_already_canonical(url):
        assert _canonicalize(url) == url


def test_the_shortcut_covers_ordinary_article_urls() -> None:
    for url in ("https://tass.com/politics/900101", "https://apnews.com/article/abc-def-0123",
                "https://www.reuters.com/world/europe/some-story-2024-01-02/", "https://tass.ru/ekonomika/1.html",
                "https://news.example/sample/1", "https://example.com/camp/blueprint"):
        assert is_already_canonical(url)
        assert canonical_url(url) == _canonicalize(url) == url
    for url in ("https://TASS.com/a", "https://tass.com/a?b=1", "https://tass.com/a#c", "https://tass.com/a/amp",
                "https://tass.com:443/a", "https://tass.com/a%20b", "https://tass.com/a/../b", "https://tass.com",
                "https://amp.tass.com/a", "https://tass.com/a.amp", "https://tass.com/a/print"):
        assert not is_already_canonical(url)
