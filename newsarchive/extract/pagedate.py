"""Finding the article's own publication time on a page, and the zone it is stated in.

A page states its date several times: JSON-LD, meta tags, ``<time>``, the byline, the URL.
The first structured value is taken unless the page itself shows it is off:

* a wall clock labelled UTC ("10:00Z") loses to an explicit instant of the page (an epoch,
  an ISO string with a non-zero offset) that differs from it by a whole zone offset; the
  mislabelled wall clock then tells the publisher's zone;
* a UTC value is shown in the publisher's zone when the page prints the same instant as
  local time elsewhere (``18:09:55`` beside ``01:09:55Z``), and a naive value takes the
  zone such a pair implies;
* a bare day loses to a timed value of about the same day, and when structured values disagree
  by days the one the visible page or the URL agrees with wins.

Only then does the site profile's zone apply, to a value that is still naive. When the page
has no date of its own the URL's date, then htmldate's finder (a dependency made for
arbitrary pages), give the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import islice
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newsarchive.extract.bylines import short_text
from newsarchive.extract.dates import is_epoch, parse_timestamp, url_date, zone_named

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from newsarchive.extract.structured import Metadata

__all__ = ["find_published", "zone_like"]

_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d{2}(?!\d)")

_SAME_MOMENT = timedelta(seconds=60)
_QUARTER_HOUR = timedelta(minutes=15)
_MAX_OFFSET = timedelta(hours=14)
_ZERO = timedelta(0)
#: epoch values some templates put on <time> beside (or instead of) the datetime attribute
_EPOCH_ATTRS = ("data-timestamp", "data-time", "data-epoch", "data-unix", "data-published")


@dataclass(frozen=True)
class _Stamp:
    """One publication timestamp the page states, parsed without any default zone."""

    value: datetime
    raw: str
    #: "structured" (JSON-LD, meta, microdata), "time" (a <time> element) or "text" (visible text)
    source: str

    @property
    def timed(self) -> bool:
        """Whether the page gave a time of day, not only a day."""
        return ":" in self.raw or is_epoch(self.raw) or self.value.time() != datetime.min.time()

    @property
    def explicit(self) -> bool:
        """An instant beyond doubt: an epoch, a non-zero offset, or a zone printed in visible text."""
        offset = self.value.utcoffset()
        if offset is None:
            return False
        return is_epoch(self.raw) or offset != _ZERO or self.source == "text"

    @property
    def utc_label(self) -> bool:
        """A markup value labelled UTC ("Z", "+00:00"): templates also put local wall clocks under it."""
        return self.value.utcoffset() == _ZERO and not self.explicit


def _zone_shift(wall: datetime, instant: datetime) -> timedelta | None:
    """The offset at which the wall clock ``wall`` shows ``instant``, when it is one a zone can have."""
    shift = wall.replace(tzinfo=None) - instant.astimezone(UTC).replace(tzinfo=None)
    if abs(shift) <= _MAX_OFFSET and shift % _QUARTER_HOUR == _ZERO:
        return shift
    return None


def _days_apart(a: datetime, b: datetime) -> int:
    """Calendar days between two values as each is written (their own wall clocks)."""
    return abs((a.date() - b.date()).days)


def _parse(
    raws: list[str], source: str, language: str | None, reference: datetime | None, *, thorough: bool = True
) -> list[_Stamp]:
    out: list[_Stamp] = []
    for raw in raws:
        value = parse_timestamp(raw, language=language, reference=reference, thorough=thorough)
        # "0001-01-01T00:00:00" and far-future values are CMS placeholders, not publication times
        if value is not None and 1990 <= value.year <= datetime.now(UTC).year + 1:
            out.append(_Stamp(value, raw.strip(), source))
    return out


def find_published(
    doc: HtmlElement,
    meta: Metadata,
    url: str | None,
    *,
    timezone: str | None = None,
    language: str | None = None,
) -> tuple[datetime | None, str | None]:
    """The page's own publication time and its raw string (None when only the day is known)."""
    language = language or meta.language
    from_url = url_date(url)
    reference = from_url + timedelta(days=1) if from_url else (meta.updated or meta.published)
    structured = _parse(meta.published_candidates, "structured", language, reference)
    times: list[_Stamp] = []
    # a structured value with its own non-zero offset, agreeing with the others, needs no check
    settled = bool(structured) and structured[0].explicit and not is_epoch(structured[0].raw) and all(
        _days_apart(s.value, structured[0].value) <= 1 for s in structured)
    for raw, _el in ([] if settled else _time_elements(doc, meta.headline)[:6]):
        # only a <time> that may be the answer gets dateparser; the others merely corroborate
        times += _parse([raw], "time", language, reference, thorough=not (structured or times))
    stamps = structured + times
    primary: _Stamp | None = None
    if stamps:
        primary = _agreeing(stamps[0], structured or times, times if structured else [], from_url,
                            doc, language, reference, meta.headline)
        primary = _prefer_timed(primary, stamps)
    else:
        text = (_near_headline(doc, language, reference, headline=meta.headline)
                or _visible_date(doc, language, reference))
        # a date in the headline area that the URL contradicts is an event's, not the article's
        if text and not (from_url and _days_apart(text[0][0], from_url) > 0):
            primary = _Stamp(text[0][0], text[0][1], "text")
    if primary is None:
        day = from_url or _htmldate_day(doc, url)
        if day is None:
            return None, None
        zone = zone_named(timezone) if timezone else None
        return (day.replace(tzinfo=zone) if zone else day), None
    value, raw = _reconcile(primary, [s for s in stamps if s is not primary], present=timezone is None)
    value = _profile_zone(value, raw, timezone)
    if from_url is not None and value.utcoffset() == _ZERO and value.date() != from_url.date():
        value = _on_url_day(value, from_url, url, timezone, language)
    return value, raw


def _agreeing(
    primary: _Stamp,
    pool: list[_Stamp],
    shown: list[_Stamp],
    from_url: datetime | None,
    doc: HtmlElement,
    language: str | None,
    reference: datetime | None,
    headline: str | None,
) -> _Stamp:
    """When the page's values disagree by days, the first one the visible page or the URL agrees with."""
    if all(_days_apart(s.value, primary.value) <= 1 for s in pool):
        return primary
    evidence = [s.value for s in shown]
    if from_url is not None:
        evidence.append(from_url)
    text = _near_headline(doc, language, reference, headline=headline, thorough=False)
    evidence.extend(value for value, _raw in text)
    for stamp in pool:
        if any(_days_apart(stamp.value, seen) <= 1 for seen in evidence if seen is not stamp.value):
            return stamp
    return primary


def _prefer_timed(primary: _Stamp, stamps: list[_Stamp]) -> _Stamp:
    """A bare day ("2020-04-30", often an edition date) gives way to a timed value of about the same day."""
    if primary.timed:
        return primary
    for stamp in stamps:
        if stamp.timed and _days_apart(stamp.value, primary.value) <= 2:
            return stamp
    return primary


def _reconcile(primary: _Stamp, others: list[_Stamp], *, present: bool = True) -> tuple[datetime, str]:
    """The primary value checked against the page's other values: (value, raw).

    ``present=False`` (the site profile knows the zone) keeps a UTC value as it is rather than
    showing it in a zone the page prints elsewhere, which can be the reader's browser's.
    """
    value, raw = primary.value, primary.raw
    if value.tzinfo is None:
        if primary.timed:
            # the same moment stated with a zone elsewhere tells this wall clock's offset
            for other in others:
                if other.value.tzinfo is not None and other.timed:
                    shift = _zone_shift(value, other.value)
                    if shift is not None:
                        return value.replace(tzinfo=_fixed(shift)), raw
        return value, raw
    if primary.utc_label:
        for other in others:
            if other.explicit:
                shift = _zone_shift(value, other.value)
                if shift is not None and shift != _ZERO:
                    # a local wall clock labelled UTC: the explicit instant wins, shown in that zone
                    return other.value.astimezone(_fixed(shift)), other.raw
    if present and value.utcoffset() == _ZERO:
        # the same instant printed in the publisher's zone elsewhere: show it in that zone
        for other in others:
            offset = other.value.utcoffset()
            if offset is not None and offset != _ZERO and abs(other.value - value) <= _SAME_MOMENT:
                return value.astimezone(other.value.tzinfo), raw
            # a naive local time, or (beside an epoch) a local wall clock labelled UTC
            if (offset is None and other.timed) or (other.utc_label and primary.explicit):
                shift = _zone_shift(other.value, value)
                if shift is not None and shift != _ZERO:
                    return value.astimezone(_fixed(shift)), raw
    return value, raw


def _fixed(shift: timedelta) -> tzinfo:
    return UTC if shift == _ZERO else timezone(shift)


def _profile_zone(value: datetime, raw: str, zone_name: str | None) -> datetime:
    """The site's zone for a value the page left naive; an epoch is shown in it too."""
    zone = zone_named(zone_name) if zone_name else None
    if zone is None:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    if is_epoch(raw) and value.utcoffset() == _ZERO:
        return value.astimezone(zone)
    return value


# Zones of single-zone countries by country-code domain, and of languages spoken in one zone: used
# only to show a UTC instant in the publisher's zone when the URL's day confirms that zone.
_TLD_ZONES = {
    "at": "Europe/Vienna", "be": "Europe/Brussels", "bg": "Europe/Sofia", "ch": "Europe/Zurich",
    "cz": "Europe/Prague", "de": "Europe/Berlin", "dk": "Europe/Copenhagen", "fi": "Europe/Helsinki",
    "fr": "Europe/Paris", "gr": "Europe/Athens", "hr": "Europe/Zagreb", "hu": "Europe/Budapest",
    "ie": "Europe/Dublin", "it": "Europe/Rome", "nl": "Europe/Amsterdam", "no": "Europe/Oslo",
    "pl": "Europe/Warsaw", "ro": "Europe/Bucharest", "rs": "Europe/Belgrade", "se": "Europe/Stockholm",
    "si": "Europe/Ljubljana", "sk": "Europe/Bratislava", "tr": "Europe/Istanbul", "ua": "Europe/Kyiv",
    "uk": "Europe/London", "il": "Asia/Jerusalem", "in": "Asia/Kolkata", "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul", "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "tw": "Asia/Taipei",
    "sg": "Asia/Singapore", "ph": "Asia/Manila", "th": "Asia/Bangkok", "vn": "Asia/Ho_Chi_Minh",
    "pk": "Asia/Karachi", "eg": "Africa/Cairo", "za": "Africa/Johannesburg", "ng": "Africa/Lagos",
    "ke": "Africa/Nairobi", "nz": "Pacific/Auckland", "co": "America/Bogota", "pe": "America/Lima",
}
_LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "it": "Europe/Rome", "nl": "Europe/Amsterdam", "pl": "Europe/Warsaw",
    "cs": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest", "sl": "Europe/Ljubljana",
    "hr": "Europe/Zagreb", "sv": "Europe/Stockholm", "da": "Europe/Copenhagen", "nb": "Europe/Oslo",
    "fi": "Europe/Helsinki", "el": "Europe/Athens", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
    "tr": "Europe/Istanbul", "uk": "Europe/Kyiv", "he": "Asia/Jerusalem", "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul", "th": "Asia/Bangkok", "vi": "Asia/Ho_Chi_Minh",
}


def _on_url_day(
    value: datetime, day: datetime, url: str | None, zone_name: str | None, language: str | None
) -> datetime:
    """A UTC instant whose day is not the URL's, shown in the site's zone if that zone gives the URL's day.

    The URL's date is the publisher's calendar day; the zone comes from the site profile, else
    from the country domain or the page's language. The instant never changes.
    """
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        host = ""
    code = (language or "").replace("_", "-").split("-")[0].lower()
    tld = host.rsplit(".", 1)[-1]
    names = (zone_name,) if zone_name else (_TLD_ZONES.get(tld), _LANGUAGE_ZONES.get(code))
    for name in names:
        zone = zone_named(name) if name else None
        if zone is not None:
            local = value.astimezone(zone)
            if local.date() == day.date():
                return local
    return value


def zone_like(value: datetime | None, published: datetime | None, zone_name: str | None) -> datetime | None:
    """Another timestamp of the page (its modification time), naive ones in the publication time's zone."""
    if value is None or value.tzinfo is not None:
        return value
    if published is not None and published.tzinfo is not None:
        return value.replace(tzinfo=published.tzinfo)
    zone = zone_named(zone_name) if zone_name else None
    return value.replace(tzinfo=zone) if zone else value


_URL_MONTH = re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>0[1-9]|1[0-2])/")


def _htmldate_day(doc: HtmlElement, url: str | None) -> datetime | None:
    """htmldate's day for a page that states no date we can read (it works on a copy of the tree)."""
    import htmldate  # imported lazily: only pages without a date of their own need it

    found = htmldate.find_date(doc, url=url, original_date=True, extensive_search=True)
    if not found:
        return None
    try:
        day = datetime.strptime(found, "%Y-%m-%d")
    except ValueError:
        return None
    month = _URL_MONTH.search(url.split("?", 1)[0]) if url else None
    if month and day.day == 1 and (int(month["y"]), int(month["m"])) == (day.year, day.month):
        return None  # the first of the month the URL names: a day made up from "/2018/08/"
    return day


# ---------------------------------------------------------------- where pages show dates

_FOREIGN = re.compile(
    r"related|recommend|most[-_]?(?:read|popular|viewed)|trending|teaser|sidebar|aside|footer|"
    r"comment|widget|more[-_]|popular|newsletter|promo|outbrain|taboola|breadcrumb|nav",
    re.IGNORECASE,
)
_DATE_CLASS = re.compile(r"date|time|publi|posted|dateline|byline|meta|datum|fecha|tarih", re.IGNORECASE)
# a visible label in front of the date: "Datum 28.04.2023", "Published: 3 May 2024"
_DATE_LABEL = re.compile(
    r"^\s*(?:date|datum|dato|data|fecha|published|posted|first published|publication|publié|"
    r"publicado|pubblicato|veröffentlicht|erschienen|опубликовано|дата)\b",
    re.IGNORECASE,
)


_LABELS = ("Date", "Datum", "Dato", "Data", "Fecha", "Published", "Posted", "First published", "Publié",
           "Publicado", "Pubblicato", "Veröffentlicht", "Erschienen", "Опубликовано", "Дата")
# Which elements may hold a visible date: a date-like class, or a label starting their own text.
# A Python walk with two regexes beats an XPath with two dozen string tests per element.
_VISIBLE_TAGS = ("span", "div", "p", "small", "li", "dd", "time", "strong", "b", "dt")
_VISIBLE_CLASS = re.compile(r"date|Date|time|publi|datum|fecha|tarih|meta")
_LABEL_START = re.compile(r"\s*(?:" + "|".join(map(re.escape, _LABELS)) + ")")



def _foreign(el: HtmlElement) -> bool:
    """Whether ``el`` sits inside a related/most-read/footer/aside block."""
    node: HtmlElement | None = el
    depth = 0
    while node is not None and depth < 12:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("aside", "footer", "nav"):
            return True
        attrs = f"{node.get('class', '')} {node.get('id', '')}"
        if attrs.strip() and _FOREIGN.search(attrs):
            return True
        node = node.getparent()
        depth += 1
    return False


_MODIFIED = re.compile(r"modif|updat|aktualisiert|edited", re.IGNORECASE)


_WORDS = re.compile(r"[\W_]+")


def _headline_h1(doc: HtmlElement, headline: str | None) -> HtmlElement | None:
    """The <h1> that shows the article's headline (a site's logo is often the first), else the first."""
    first: HtmlElement | None = None
    key = _WORDS.sub("", headline.casefold()) if headline else ""
    for count, h1 in enumerate(doc.iter("h1")):
        if count >= 10:
            break
        first = first if first is not None else h1
        text = _WORDS.sub("", (short_text(h1, 400) or "").casefold())
        # the same opening words: the h1 may add a label ("Subscribers"), the title a section
        if key and len(text) >= 10 and (text in key or key in text or text[:24] == key[:24]):
            return h1
    return first


def _time_rank(el: HtmlElement, byline: set[HtmlElement]) -> int:
    """0 beside the headline, 1 marked as the publication time, 2 inside the article, 3 elsewhere."""
    node = el.getparent()
    for _ in range(3):
        if node is None:
            break
        if node in byline:
            return 0
        node = node.getparent()
    attrs = f"{el.get('class', '')} {el.get('itemprop', '')} {el.get('pubdate', '')}"
    if el.get("pubdate") is not None or "publish" in attrs.lower() or "datePublished" in attrs:
        return 1
    node = el.getparent()
    while node is not None:
        if node.tag in ("article", "main"):
            return 2
        node = node.getparent()
    return 3


def _time_elements(doc: HtmlElement, headline: str | None = None) -> list[tuple[str, HtmlElement]]:
    """``<time>`` values, the page's own first: beside the headline, marked as published, then
    inside <article>/<main>.

    Dates in related/most-read blocks, footers and navigation are skipped; so are times marked
    as modification times, and the current date that site headers show outside the article.
    """
    elements = list(islice(doc.iter("time"), 40))
    if not elements:
        return []
    h1 = _headline_h1(doc, headline)
    # the headline's block: its parent and grandparent (a byline sits beside the <h1>)
    byline: set[HtmlElement] = set()
    if h1 is not None:
        near = zip(range(2), h1.iterancestors(), strict=False)
        byline = {a for _, a in near if a.tag not in ("body", "html")}
    found: list[tuple[int, int, str, HtmlElement]] = []
    for order, el in enumerate(elements):
        raw = el.get("datetime") or el.get("data-datetime") or short_text(el, 100)
        epoch = next((v for v in (el.get(a) for a in _EPOCH_ATTRS) if v and is_epoch(v)), None)
        if (not raw or not raw.strip()) and epoch:
            raw, epoch = epoch, None
        if not raw or not raw.strip() or _foreign(el):
            continue
        if _MODIFIED.search(f"{el.get('class', '')} {el.get('itemprop', '')}"):
            continue
        rank = _time_rank(el, byline)
        if rank == 3 and any(a.tag == "header" for a in el.iterancestors()):
            continue
        found.append((rank, order, raw.strip(), el))
        if epoch:
            # the instant beside a datetime attribute that may be a wall clock labelled UTC
            found.append((rank, order, epoch, el))
    found.sort(key=lambda item: (item[0], item[1]))
    return [(raw, el) for _rank, _order, raw, el in found]


def _visible_date(
    doc: HtmlElement, language: str | None, reference: datetime | None
) -> list[tuple[datetime, str]]:
    """A date shown near the article: a short element with a date-like class or a "Published" label."""
    found: list[HtmlElement] = []
    for count, el in enumerate(doc.iter(*_VISIBLE_TAGS)):
        if count > 30_000 or len(found) > 100:
            break
        cls, own = el.get("class"), el.text
        if not ((cls and _VISIBLE_CLASS.search(cls)) or (own and _LABEL_START.match(own))):
            continue
        if len(el) > 5:
            continue  # a container, not a date
        raw = short_text(el, 80) or ""
        if raw in _LABELS and el.getparent() is not None:
            # "<li><strong>Datum</strong> 28.04.2023</li>": the label's parent holds the date
            el = el.getparent()
            raw = short_text(el, 80) or ""
        if not 5 < len(raw) < 80 or _foreign(el):
            continue
        if _DATE_CLASS.search(el.get("class", "")) or _DATE_LABEL.match(raw):
            found.append(el)
    # innermost first: <span class="date"> rather than the <div class="meta"> around it
    found.sort(key=lambda el: len(el) > 0)
    for el in found:
        raw = short_text(el, 80) or ""
        value = parse_timestamp(raw, language=language, reference=reference)
        if value is not None and value.year >= 1995:
            return [(value, raw)]
    return []


_UPDATED_LABEL = re.compile(
    r"(?:updated|modified|aktualisiert|geändert|modifié|mis à jour|actualizado|aggiornato|"
    r"güncelleme|обновлено|수정|更新)\W*$",
    re.IGNORECASE,
)


_UPDATED_START = re.compile(
    r"^\W*(?:last\s+)?(?:updated|modified|aktualisiert|geändert|modifié|mis à jour|actualizado|"
    r"aggiornato|güncelleme|обновлено|수정|更新)",
    re.IGNORECASE,
)


def _near_headline(
    doc: HtmlElement,
    language: str | None,
    reference: datetime | None,
    *,
    headline: str | None = None,
    thorough: bool = True,
) -> list[tuple[datetime, str]]:
    """A full date (with its year) in the short texts around the headline's <h1>: the byline area.

    Looks in the h1's parent, then grandparent..., stopping before the block grows into the
    page. A date labelled "Updated"/"Aktualisiert" is the modification time: used only when
    the byline area shows no other date (it is still the right day far more often than not).
    """
    h1 = _headline_h1(doc, headline)
    if h1 is None:
        return []
    updated: list[tuple[datetime, str]] = []
    node = h1
    for _ in range(6):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        node = parent
        pieces = [" ".join(t.split()) for t in _own_texts(node, 400)]
        if sum(len(p) for p in pieces) > 20000:
            break
        previous = ""
        for piece in pieces:
            if 6 <= len(piece) <= 90 and len(piece.split()) <= 16 and _YEAR.search(piece):
                value = parse_timestamp(piece, language=language, reference=reference, thorough=thorough)
                if value is not None and 1995 <= value.year <= datetime.now(UTC).year + 1:
                    if not (_UPDATED_LABEL.search(previous) or _UPDATED_START.match(piece)):
                        return [(value, piece)]
                    updated = updated or [(value, piece)]
            if piece:
                previous = piece
    return updated


_NOT_BYLINE = frozenset({"figure", "figcaption", "picture", "aside", "nav", "script", "style", "noscript",
                         "blockquote"})


_MEDIA = re.compile(r"pic|image|img|photo|caption|media|figure|gallery|video|credit", re.IGNORECASE)


def _own_texts(node: HtmlElement, limit: int, depth: int = 0) -> list[str]:
    """Text pieces under ``node`` in order, leaving out captions, lists, asides and scripts."""
    out: list[str] = []
    if node.text:
        out.append(node.text)
    for child in node:
        if len(out) >= limit:
            break
        if (isinstance(child.tag, str) and child.tag not in _NOT_BYLINE and depth < 30
                and not _MEDIA.search(child.get("class", ""))):
            out.extend(_own_texts(child, limit - len(out), depth + 1))
        if child.tail:
            out.append(child.tail)
    return out
