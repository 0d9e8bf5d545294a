"""The one record that flows through newsarchive: page -> Article -> pipelines -> archive."""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args, get_type_hints

#: fields whose share of filled articles per run is counted (store pipeline), reported (crawl
#: summary) and watched for a sudden drop (layout-drift alarm in newsarchive.storage.stats)
FILL_FIELDS = ("headline", "published", "body", "dateline", "topics", "authors")


def normalise_text(text: str) -> str:
    """Text as compared for identity: NFKC, casefolded, whitespace collapsed."""
    # NFKC leaves ASCII as it is; str.split() splits on exactly the characters \s matches, so
    # this is re.sub(r"\s+", " ", text).strip() at a fraction of the cost (the archive hashes every
    # article's whole text on save)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).casefold()


def content_hash(headline: str | None, body: str) -> str:
    """SHA-256 of the normalised headline and body: equal for the same text under any markup."""
    text = normalise_text(headline or "") + "\n" + normalise_text(body)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class FetchInfo:
    """How and when the page behind an Article was fetched (crawl provenance, not content)."""

    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: where the raw request/response pair was archived (see newsarchive.capture)
    warc_file: str | None = None
    warc_offset: int | None = None
    warc_length: int | None = None
    #: "rss", "sitemap", "section", "read_also", "start"
    discovered_via: str | None = None
    #: modification time the feed or sitemap entry reported for this URL
    listed_modified: datetime | None = None
    #: path of the feed or sitemap that reported it (the revisit policy compares per listing)
    listing: str | None = None


@dataclass
class Article:
    """One news article as extracted from one page.

    A plain dataclass so Scrapy accepts it as an item (itemadapter) and so that
    extraction, storage and export share one field contract. ``wire`` names the news agency
    the dateline or credit line credits (``Reuters``, ``TASS``...; see
    newsarchive.extract.dateline.WIRES); ``warnings`` says why a field came out empty
    (``empty_body: ...``), the kind before the colon.
    """

    url: str
    canonical_url: str | None = None
    #: site key (``tass``, ``ap``...) or the page's host for pages without a profile
    source: str | None = None
    section: str | None = None
    headline: str | None = None
    #: as printed, agency marker included (``WASHINGTON (AP) —``); never repeated at the start of ``body``
    dateline: str | None = None
    wire: str | None = None
    #: timezone-aware whenever the page states a zone or the site profile knows it
    published: datetime | None = None
    #: the timestamp string exactly as the page shows it
    published_raw: str | None = None
    updated: datetime | None = None
    updated_raw: str | None = None
    #: the lead/teaser shown above the body, when the page has one
    description: str | None = None
    #: paragraphs separated by one blank line; starts after the dateline
    body: str = ""
    topics: list[str] = field(default_factory=list)
    #: ``[{"title": ..., "url": absolute URL}]``: related links found inside the article
    read_also: list[dict[str, str]] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    language: str | None = None
    fetched_at: datetime | None = None
    #: crawl provenance; not part of the record's content, left out of to_dict()
    fetch: FetchInfo | None = field(default=None, compare=False, repr=False)
    warnings: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Fingerprint of the normalised headline and body (computed, never stale)."""
        return content_hash(self.headline, self.body)

    @property
    def paragraphs(self) -> list[str]:
        """The body split into its non-empty paragraphs."""
        return [p for p in self.body.split("\n\n") if p.strip()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values: datetimes as ISO 8601 with their offset, lists copied."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "fetch":
                continue
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, list):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            out[f.name] = value
        out["content_hash"] = self.content_hash
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Inverse of :meth:`to_dict` (unknown keys such as ``content_hash`` are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"fetch"}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in _TIME_FIELDS:
            if isinstance(kwargs.get(key), str):
                kwargs[key] = datetime.fromisoformat(kwargs[key])
        return cls(**kwargs)


#: the Article fields that hold a datetime (ISO text in to_dict)
_TIME_FIELDS = tuple(name for name, hint in get_type_hints(Article).items() if datetime in get_args(hint))


#: shorter bodies are index pages, teasers or error pages, not articles (NEWSARCHIVE_MIN_BODY_CHARS)
DEFAULT_MIN_BODY_CHARS = 80


def skip_reason(item: Any, min_body_chars: int = DEFAULT_MIN_BODY_CHARS) -> str | None:
    """Why ``item`` is not a storable article, or None when it is."""
    if not isinstance(item, Article):
        return "not_article"
    if not (item.headline or "").strip():
        return "no_headline"
    body = item.body.strip() if isinstance(item.body, str) else ""
    if not body:
        return "no_body"
    if len(body) < min_body_chars:
        return "body_too_short"
    if item.published is None:
        return "unparseable_published" if (item.published_raw or "").strip() else "no_published"
    return None


def warning_kinds(article: Article) -> list[str]:
    """The kinds of an Article's warnings ("empty_body: ..." -> "empty_body"), each once."""
    kinds: list[str] = []
    for warning in article.warnings or []:
        kind = str(warning).split(":", 1)[0].strip().replace("/", "_") or "unknown"
        if kind not in kinds:
            kinds.append(kind)
    return kinds
