"""Canonical URLs: the key that makes two fetches the same article."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

# Analytics and share parameters that never select different content.
TRACKING_PARAMS = frozenset(
    {
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
        "utm_name", "utm_reader", "utm_brand", "utm_social", "utm_social-type",
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
        "mc_cid", "mc_eid", "_ga", "_gl", "igshid", "ref", "ref_src", "ref_url", "referrer",
        "cmpid", "cmp", "ito", "itm_source", "itm_medium", "itm_campaign", "ncid", "ocid",
        "taid", "smid", "sr_share", "share", "spm", "from", "rss", "feed", "output",
        "amp", "outputType", "print", "taxonomy-tree", "__twitter_impression",
    }
)
_TRACKING_LIST = tuple(sorted(TRACKING_PARAMS))  # w3lib's parameter type is a sequence
_AMP_PATH = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))")
_PRINT_PATH = re.compile(r"/print/?$")
#: URLs canonical_url() returns unchanged (tests/test_urls.py checks this against the full path)
_ALREADY_CANONICAL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)+/(?:[A-Za-z0-9_~-]+[./])*[A-Za-z0-9_~-]*\Z")


def canonical_url(url: str, rel_canonical: str | None = None) -> str:
    """The archive's key for ``url``.

    ``rel=canonical`` wins when it points to the same site; then tracking
    parameters, fragments, AMP and print variants are removed and the rest is
    put in w3lib's canonical form (sorted query, normalised escapes).
    """
    if rel_canonical:
        candidate = urljoin(url, rel_canonical.strip())
        if _same_site(url, candidate):
            url = candidate
    if is_already_canonical(url):
        # the usual article URL: w3lib would return it unchanged, at a tenth of a save's cost
        return url
    return _canonicalize(url)


def is_already_canonical(url: str) -> bool:
    """True for URLs in their canonical form already: lower-case host, plain path, no query or fragment."""
    return (_ALREADY_CANONICAL.match(url) is not None
            and not any(marker in url for marker in ("/amp", ".amp", "//amp.", "/print")))


def _canonicalize(url: str) -> str:
    url = url_query_cleaner(url, _TRACKING_LIST, remove=True, keep_fragments=False)
    scheme, netloc, path, query, _ = urlsplit(url)
    path = _PRINT_PATH.sub("", _AMP_PATH.sub("", path)) or "/"
    netloc = netloc.lower()
    if netloc.startswith("amp."):
        netloc = netloc[4:]
    return canonicalize_url(urlunsplit((scheme.lower(), netloc, path, query, "")))


def absolute_url(base: str | None, href: str) -> str | None:
    """``href`` resolved against ``base``; None unless the result is an http(s) URL."""
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urljoin(base, href) if base else href
        ok = urlsplit(url).scheme in ("http", "https")
    except ValueError:  # "http://[broken" and the like: a bad link costs only that link
        return None
    return url if ok else None


def _same_site(a: str, b: str) -> bool:
    host_a, host_b = urlsplit(a).hostname or "", urlsplit(b).hostname or ""
    strip = lambda h: h.removeprefix("www.").removeprefix("amp.")  # noqa: E731
    return bool(host_b) and strip(host_a) == strip(host_b)
