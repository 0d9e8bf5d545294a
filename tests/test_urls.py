import pytest

from newsarchive.urls import canonical_url


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
