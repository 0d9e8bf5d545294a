"""Text to timestamp: parse the strings pages write (and dates in URLs).

Which of a page's timestamps is the article's is decided in ``pagedate``; this module only
turns one string into one datetime.

Parsing is layered for speed: epoch numbers and ISO 8601 first (``fromisoformat``), then a
small month-name parser for the common "19 January 2017, 13:48" shapes in a dozen
languages, and only then dateparser (slow; cached, called with explicit languages).
Zones the string states ("+03:00", "Z", "UTC+3", "MSK", "GMT") are read here, not by
dateparser, so that every stated zone ends up as a fixed offset on the result.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

__all__ = ["is_epoch", "parse_timestamp", "url_date", "zone_named"]

# Abbreviations as news pages use them; ambiguous ones (IST, CST) take their most common
# meaning on English-language news sites.
_ZONE_ABBR: dict[str, float] = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2,
    "MEZ": 1, "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "МСК": 3, "MSD": 4, "TRT": 3,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5,
    "IST": 5.5, "PKT": 5, "WIB": 7, "WITA": 8, "WIT": 9, "ICT": 7, "SGT": 8, "HKT": 8,
    "PHT": 8, "JST": 9, "KST": 9, "AWST": 8, "ACST": 9.5, "ACDT": 10.5,
    "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "SAST": 2, "CAT": 2, "EAT": 3, "WAT": 1,
    "BRT": -3, "ART": -3, "CLT": -4, "COT": -5, "PET": -5,
}

_ISO = re.compile(
    r"(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})"
    r"(?:[T\s]+(?P<H>\d{1,2}):?(?P<M>\d{2})(?::?(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<z>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
# epoch seconds (10 digits: 2001-2286) or milliseconds (13 digits); shorter numbers are ids
_EPOCH = re.compile(r"\d{10}(?:\.\d+)?|\d{13}")
# A stated zone: "UTC+3", "GMT+03:00", "+0300", "MSK", "(UTC)". The offset must follow a
# time or a zone word so that "2024-05-03" is not read as an offset of -05.
_ZONE_RE = re.compile(
    r"(?:\b(?P<base>UTC|GMT|UT)\s*(?P<bo>[+\-−]\s*\d{1,2}(?::?\d{2})?)?"
    r"|(?<=\d)\s*(?P<off>[+\-−]\d{2}:?\d{2})\b"
    r"|\b(?P<abbr>[A-Z]{2,5}|МСК)\b)",
)
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d{2}(?!\d)")
_HAS_DIGIT = re.compile(r"\d")

# Month names and common abbreviations -> month number, across the languages the archive meets.
_MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "january jan janvier janv enero ene januar jän jänner gennaio gen janeiro janeiro "
        "januari styczeń stycznia leden ledna januára tammikuuta siječnja ianuarie "
        "января январь янв січня ocak",
        "february feb febr février févr fevrier febrero februar febbraio fevereiro fev februari "
        "lutego luty únor února februára helmikuuta veljače februarie "
        "февраля февраль фев лютого şubat",
        "march mar mars marzo märz maerz março marco maart maret marca březen března marca "
        "maaliskuuta ožujka martie марта март мар березня mart",
        "april apr avril abril aprile april apr. kwietnia kwiecień duben dubna apríla "
        "huhtikuuta travnja aprilie апреля апрель апр квітня nisan",
        "may mai mayo maggio maio mei maja maj květen května mája toukokuuta svibnja "
        "мая май травня mayıs",
        "june jun juin junio juni giugno junho juni czerwca czerwiec červen června júna "
        "kesäkuuta lipnja iunie июня июнь июн червня haziran",
        "july jul juillet juil julio juli luglio lug julho juli lipca lipiec červenec července "
        "júla heinäkuuta srpnja iulie июля июль июл липня temmuz",
        "august aug août aout agosto ago august agustus sierpnia sierpień srpen srpna augusta "
        "elokuuta kolovoza august августа август авг серпня ağustos",
        "september sep sept septembre septiembre setiembre september settembre set setembro "
        "wrzesień września září septembra syyskuuta rujna septembrie "
        "сентября сентябрь сен сент вересня eylül",
        # not "out" (outubro): "5 out of 10" is no date
        "october oct octobre octubre oktober ottobre ott outubro okt oktober "
        "października październik říjen října októbra lokakuuta listopada octombrie "
        "октября октябрь окт жовтня ekim",
        "november nov novembre noviembre november novembre novembro nopember listopad "
        "listopadu novembra marraskuuta studenoga noiembrie ноября ноябрь ноя листопада kasım",
        "december dec décembre decembre diciembre dic dezember dez dicembre dezembro desember "
        "desember grudnia grudzień prosinec prosince decembra joulukuuta prosinca decembrie "
        "декабря декабрь дек грудня aralık",
    ],
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name.rstrip("."), _num)
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TIME = r"(?P<H>\d{1,2})[:.h](?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?)?"
_SEP = r"[\s,.\-/|·–—]*?(?:at|à|um|alle|às|a\s+las|в|o|kl\.?|г\.|года|,)?[\s,.\-/|·–—]*"
_DAY_MONTH = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?\s*(?:de\s+)?(?P<mon>{_MONTH_ALT})(?![^\W\d_])\.?"
    rf"(?:\s*(?:de\s+|,\s*)?(?P<y>\d{{4}}))?(?:{_SEP}{_TIME})?",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"(?<![^\W\d_])(?P<mon>{_MONTH_ALT})(?![^\W\d_])\.?\s+(?P<d>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?"
    rf"(?:,?\s+(?P<y>\d{{4}}))?"
    rf"(?:{_SEP}{_TIME})?",
    re.IGNORECASE,
)
# a time of day standing apart from the date ("13:48, 19 January", "5:07 PM EDT, Fri May 3")
_LOOSE_TIME = re.compile(
    r"(?<![\d.:])(?P<H>\d{1,2})(?:[:h]|\s?Uhr\s?)(?P<M>\d{2})(?::(?P<S>\d{2}))?\s*(?P<ampm>[ap]\.?\s?m\.?)?(?![\d])",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})(?P<sep>[./])(?P<m>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})(?!\d)(?:{_SEP}{_TIME})?",
    re.IGNORECASE,
)
# "2024/05/03", "2024.05.03" and an ISO day inside a label ("Written: 2023-11-07 15:03:30")
_YMD_SLASH = re.compile(
    rf"(?<!\d)(?P<y>\d{{4}})(?P<s>[/.\-])(?P<m>\d{{1,2}})(?P=s)(?P<d>\d{{1,2}})(?!\d)(?:{_SEP}{_TIME})?"
)


def _offset_zone(hours: float) -> timezone:
    return timezone(timedelta(minutes=round(hours * 60)))


def _parse_offset(text: str) -> timezone | None:
    text = text.replace("−", "-").replace(" ", "")
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", text)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))


def is_epoch(text: str) -> bool:
    """Whether the string is an epoch number (seconds or milliseconds): an instant in any zone."""
    return bool(_EPOCH.fullmatch(text.strip()))


@lru_cache(maxsize=64)
def zone_named(name: str) -> tzinfo | None:
    """The IANA zone of that name, or None (logged) when this system does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown timezone %r ignored", name)
        return None


def _find_zone(text: str) -> tuple[tzinfo | None, str]:
    """The zone the string states, and the string without it."""
    for m in _ZONE_RE.finditer(text):
        zone: tzinfo | None = None
        if m.group("base"):
            zone = _parse_offset(m.group("bo")) if m.group("bo") else UTC
        elif m.group("off"):
            zone = _parse_offset(m.group("off"))
        elif m.group("abbr") in _ZONE_ABBR:
            zone = _offset_zone(_ZONE_ABBR[m.group("abbr")])
        if zone is not None:
            return zone, (text[: m.start()] + " " + text[m.end() :]).strip()
    return None, text


def _hour(h: str, ampm: str | None) -> int:
    hour = int(h)
    if ampm:
        pm = ampm.lower().startswith("p")
        if hour == 12:
            hour = 0
        if pm:
            hour += 12
    return hour


def _build(y: int | None, mon: int, d: int, m: re.Match[str]) -> tuple[datetime, bool] | None:
    """(datetime, year_known) from matched parts; None when the parts are not a real date."""
    hour = minute = second = 0
    if m.groupdict().get("H"):
        hour, minute = _hour(m["H"], m["ampm"]), int(m["M"])
        second = int(m["S"] or 0)
    try:
        return datetime(y or 2000, mon, d, hour, minute, second), y is not None
    except ValueError:
        return None


def _quick_parse(text: str, month_first: bool = False) -> tuple[datetime, bool] | None:
    """Parse the common month-name and numeric shapes without dateparser."""
    for pattern, numeric in ((_DAY_MONTH, False), (_MONTH_DAY, False), (_YMD_SLASH, True), (_NUMERIC, True)):
        m = pattern.search(text)
        if m is None:
            continue
        month = int(m["m"]) if numeric else _MONTHS[m["mon"].lower()]
        day = int(m["d"])
        if pattern is _NUMERIC and m["sep"] == "/" and (month > 12 or (month_first and day <= 12)):
            day, month = month, day  # 04/28/2023, or any d/d/yyyy on a US-English page
        if not 1 <= month <= 12:
            continue
        year = m["y"]
        if not year:
            # "Fri Apr 28 19:20:36 CEST 2023": the year stands apart from the day and month
            found = _YEAR.search(text, m.end()) or _YEAR.search(text[: m.start()])
            year = found.group(0) if found else None
        built = _build(int(year) if year else None, month, day, m)
        if built and not m["H"]:
            rest = text[: m.start()] + " " + text[m.end() :]
            clock = _LOOSE_TIME.search(rest)
            if clock and int(clock["H"]) < 24 and int(clock["M"]) < 60:
                built = built[0].replace(hour=_hour(clock["H"], clock["ampm"]), minute=int(clock["M"]),
                                         second=int(clock["S"] or 0)), built[1]
        return built
    return None


@lru_cache(maxsize=4096)
def _dateparser_parse(text: str, language: str | None) -> tuple[datetime, bool] | None:
    """The slow fallback, cached: (naive-or-aware datetime, year_known)."""
    import dateparser  # imported lazily: loading its language data costs ~0.3 s

    # no relative-time parser: "3 hours ago" on an archived page says nothing without the fetch time
    settings = {
        "PREFER_DAY_OF_MONTH": "first",
        "REQUIRE_PARTS": ["day", "month"],
        "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    }
    langs = [language] if language else None
    try:
        result = dateparser.parse(text, languages=langs, settings=settings)  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError, LookupError):
        result = None
    if result is None and langs:
        try:
            result = dateparser.parse(text, settings=settings)  # type: ignore[arg-type]
        except (ValueError, TypeError, OverflowError, LookupError):
            result = None
    if result is None:
        return None
    return result, bool(_YEAR.search(text))


def _iso(text: str) -> datetime | None:
    m = _ISO.fullmatch(text)
    if not m:
        return None
    try:
        micro = int((m["f"] or "0")[:6].ljust(6, "0"))
        value = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0),
                         int(m["S"] or 0), micro)
    except ValueError:
        return None
    z = m["z"]
    if z:
        zone = UTC if z in ("Z", "UTC", "GMT") else _parse_offset(z)
        if zone is None:
            return None
        value = value.replace(tzinfo=zone)
    return value


def _closest_year(value: datetime, reference: datetime) -> datetime:
    """Put a year-less date in the year that makes it closest before (or at) ``reference``."""
    ref = reference.replace(tzinfo=None)
    wall = value.replace(tzinfo=None)
    for year in (ref.year, ref.year - 1):
        try:
            candidate = wall.replace(year=year)
        except ValueError:  # 29 February
            continue
        # a day of slack: pages stamp times in their zone, the reference may be UTC
        if candidate <= ref + timedelta(days=1):
            return value.replace(year=year)
    return value.replace(year=ref.year)


def parse_timestamp(
    raw: str,
    *,
    language: str | None = None,
    timezone: str | None = None,
    reference: datetime | None = None,
    thorough: bool = True,
) -> datetime | None:
    """Parse one timestamp string; aware whenever the string states a zone, else in ``timezone``.

    ``thorough=False`` skips dateparser (the rare shapes the quick parsers miss), for values
    that only corroborate another.

    A date without a year takes it from ``reference`` (another date of the same page, or its
    URL's); without one it is no timestamp (None).
    """
    if not raw:
        return None
    text = " ".join(raw.split())
    if not text or len(text) > 200 or not _HAS_DIGIT.search(text):
        return None
    default_zone = zone_named(timezone) if timezone else None
    if _EPOCH.fullmatch(text):
        number = float(text)
        if number > 1e11:  # milliseconds
            number /= 1000
        try:
            stamp = datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return stamp.astimezone(default_zone) if default_zone else stamp
    value = _iso(text)
    if value is None:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            value = None
    if value is not None:
        if value.tzinfo is None and default_zone:
            value = value.replace(tzinfo=default_zone)
        return value
    zone, rest = _find_zone(text)
    parsed: tuple[datetime, bool] | None = None
    if zone is not None:
        # ISO with a zone word after it: "2024-05-03T10:00:00 EST", "2024-05-03 10:00 GMT+3"
        iso = _iso(rest)
        if iso is not None and iso.tzinfo is None:
            parsed = (iso, True)
    month_first = (language or "").replace("_", "-").lower() == "en-us"
    parsed = parsed or _quick_parse(rest, month_first)
    if parsed is None and thorough:
        parsed = _dateparser_parse(rest, _lang(language))
    if parsed is None:
        return None
    value, year_known = parsed
    if not year_known:
        # the year comes from the page or its URL; today's year would date an archived page wrongly
        if reference is None:
            return None
        value = _closest_year(value, reference)
    if zone is not None:
        value = value.replace(tzinfo=zone)
    elif value.tzinfo is None and default_zone:
        value = value.replace(tzinfo=default_zone)
    return value


def _lang(language: str | None) -> str | None:
    if not language:
        return None
    code = language.replace("_", "-").split("-")[0].lower()
    return code if 2 <= len(code) <= 3 else None



# ---------------------------------------------------------------- dates in URLs

_URL_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})[/_-]?(?P<m>0[1-9]|1[0-2])[/_-]?(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
    # an article id that starts with the date after a letter prefix: AEN20240805006051320
    r"|/[A-Za-z]{1,4}(?P<y2>(?:19|20)\d{2})(?P<m2>0[1-9]|1[0-2])(?P<d2>0[1-9]|[12]\d|3[01])\d{4,}"
)
_URL_DATE_SEP = re.compile(
    r"/(?P<y>(?:19|20)\d{2})[/_-](?P<m>0?[1-9]|1[0-2])[/_-](?P<d>0?[1-9]|[12]\d|3[01])(?:[/_.-]|$)"
)


def url_date(url: str | None) -> datetime | None:
    """A calendar date written in the URL path (``/2024/05/03/``, ``/20240503``), as naive midnight."""
    if not url:
        return None
    path = url.split("?", 1)[0].split("#", 1)[0]
    for pattern in (_URL_DATE_SEP, _URL_DATE):
        m = pattern.search(path)
        if m:
            y, mo, d = (m["y"], m["m"], m["d"]) if m["y"] else (m["y2"], m["m2"], m["d2"])
            try:
                value = datetime(int(y), int(mo), int(d))
            except ValueError:
                continue
            if 1995 <= value.year <= datetime.now(UTC).year + 1:
                return value
    return None
