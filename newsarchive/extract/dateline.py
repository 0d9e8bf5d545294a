"""Wire-service datelines at the start of an article's first paragraph.

The dateline field holds location and date as written ("MOSCOW, January 19",
"IGORA /Leningrad Region/, December 26", "WASHINGTON"); the agency marker ("/TASS/",
"(AP)", "(Reuters)") and the separator are not part of it, but the whole prefix, marker
and separator included, is removed from the paragraph. :func:`parse_dateline` also
returns the agency.

One pattern family covers the shapes (see docs of each wire): LOCATION [/Region/]
[, State] [[,.] DATE] [.] AGENCY SEP, and the agency-first ANSA shape. A paragraph that
merely starts with capitals is not a dateline: either an agency marker is present, or
the location is in capitals and followed by a dash separator (AP/Reuters/newspaper
shape without the agency).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Dateline", "parse_dateline", "split_dateline"]

_MONTH = (
    # English full, abbreviated (Jan., Sept) and capitals (JUL): used inside (?i:...)
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    # Spanish / Italian / French / Portuguese abbreviations and names
    r"ene(?:ro)?|febrero|marzo|abr(?:il)?|mayo|jun(?:io)?|jul(?:io)?|ago(?:sto)?|set(?:iembre|tembre)?|"
    r"septiembre|oct(?:ubre)?|noviembre|dic(?:iembre)?|gen(?:naio)?|febbraio|aprile|mag(?:gio)?|"
    r"giu(?:gno)?|lug(?:lio)?|ott(?:obre)?|dicembre|janvier|février|mars|avril|mai|juin|juillet|"
    r"août|septembre|octobre|novembre|décembre|"
    # Portuguese and German
    r"janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro|"
    r"januar|februar|märz|juni|juli|oktober|dezember|"
    # Russian genitive and abbreviations
    r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    r"янв|фев|мар|апр|июн|июл|авг|сен|сент|окт|ноя|дек"
)
_DATE = (
    rf"(?:(?i:{_MONTH})\.?\s+\d{{1,2}}(?!\d)|\d{{1,2}}\.?\s+(?:de\s+)?(?i:{_MONTH})(?![a-zа-яёäç]))"
    r"(?:,?\s+\d{4})?"
)
# Capitalised location words (Latin and Cyrillic): MOSCOW, ST. PETERSBURG, N'DJAMENA, Nueva Delhi
_UP = r"A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁ"
_LOW = r"a-zß-öø-ÿā-žа-яё"
# "HONG KONG/SHANGHAI": cities joined by a slash with no space (a TASS /Region/ has one before it)
_LOC_WORD = rf"[{_UP}][{_UP}{_LOW}'’.\-]*(?:/[{_UP}][{_UP}{_LOW}'’.\-]*)*"
_LOC = rf"{_LOC_WORD}(?:\s+(?:(?:de|del|de la|da|do|di|el|al|am|an|upon|on|sur)\s+)?{_LOC_WORD}){{0,4}}"
# ", Mich.", ", N.Y.", ", Calif.", ", D.C.", or a country/state name (", Ukraine") that is not a month
_STATE = (
    rf"(?:,\s+(?!(?i:{_MONTH})\b)"
    r"(?:[A-Z][a-z]{0,4}\.(?:\s?[A-Z][a-z]?\.)?|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?))"
)
_REGION = r"(?:\s*/[^/\n]{2,60}/)"
_AGENCIES = (
    r"AP|Reuters|Xinhua|Yonhap|Interfax|BelTA|EFE|AFP|UPI|ANSA|dpa|DPA|PTI|IANS|ANI|Bernama|Kyodo|"
    r"KUNA|WAM|SPA|IRNA|Sputnik|RIA Novosti|TASS|Anadolu|AA|Ukrinform|CNA|APA|MTI|CTK|ČTK|PAP|"
    r"Lusa|Agerpres|BTA|HINA|Tanjug|STA|SANA|MENA|QNA|BNA|NNA|Prensa Latina|Notimex|ATS|APA-OTS|"
    r"KNA|epd|AFP-JIJI|Jiji|NHK|CNN|BBC|UNI|PNA|Antara|VNA|TNA|OANA|ENA|KPL|ABC|SNS|EPA|PA|CP|AAP"
)
_AGENCY = (
    rf"(?:\s*/(?P<slash>TASS|ТАСС|(?:Корр|Corr)\.\s*(?:ТАСС|TASS)[^/\n]{{0,60}})/"
    rf"|\s*\((?P<paren>{_AGENCIES})\)"
    r"|\s+[-–—]\s*(?P<ria>РИА Новости|RIA Novosti|Sputnik|ПРАЙМ)"
    r"|\s+(?P<ifx>INTERFAX\.RU|ИНТЕРФАКС))"
)
_SEP = r"(?P<sep>\s*(?:\.\s*[-–—]+|[-–—]{1,2}|_|\.|:)\s*|\s+)"
# Yonhap-style slugs and a byline run into the paragraph: "(LEAD) By Kim Soo-yeon SEOUL, ..."
_PREFIX = (
    r"(?:\((?:LEAD|URGENT|\d+(?:st|nd|rd|th)\s+LD[^)]*|ATTN:[^)]*|UPDATE[^)]*|CORRECTED)\)\s*)*"
    r"(?:By\s+(?:[A-Z][a-z][\w'’.\-]*\s+){1,4})?"
)

_WITH_AGENCY = re.compile(
    rf"^{_PREFIX}(?P<loc>{_LOC}){_REGION}?{_STATE}?(?:\s*[,.]\s*(?P<date>{_DATE}))?\.?{_AGENCY}"
    rf"(?:\s*\.(?=\s))?{_SEP}(?=\S)",
)
_AGENCY_FIRST = re.compile(
    rf"^\((?P<paren>{_AGENCIES})\)\s*[-–—]{{1,2}}\s*(?P<loc>{_LOC}){_STATE}?"
    rf"(?:\s*[,.]\s*(?P<date>{_DATE}))?\s*[-–—]{{1,2}}\s*(?=\S)",
)
# No agency: the location must be in capitals and the separator a dash ("WASHINGTON — ...").
_CAPS_WORD = rf"[{_UP}][{_UP}'’.\-]+"
_NO_AGENCY = re.compile(
    rf"^(?P<loc>{_CAPS_WORD}(?:\s+{_CAPS_WORD}){{0,3}}){_REGION}?{_STATE}?"
    rf"(?:\s*,\s*(?P<date>{_DATE}))?(?P<sep>\s+[-–—]{{1,2}}\s+|\s*[—–]\s*)(?=[\d\"'“‘«({_UP}])",
)


@dataclass(frozen=True)
class Dateline:
    """A recognised dateline: what the field shows, its parts, and the prefix to remove."""

    text: str
    location: str
    date_text: str | None
    agency: str | None
    #: length of the paragraph prefix (dateline, agency marker, separator) that is removed
    prefix_length: int


def _agency(m: re.Match[str]) -> str | None:
    for group in ("slash", "paren", "ria", "ifx"):
        value = m.groupdict().get(group)
        if value:
            return value.strip()
    return None


def parse_dateline(paragraph: str) -> Dateline | None:
    """Recognise the dateline at the start of ``paragraph``, or None."""
    text = paragraph.lstrip()
    offset = len(paragraph) - len(text)
    if not text or (not text[0].isupper() and text[0] != "("):
        return None
    head = text[:200]
    m = _AGENCY_FIRST.match(head) or _WITH_AGENCY.match(head)
    if m is None:
        m = _NO_AGENCY.match(head)
        if m is None:
            return None
    location = m.group("loc").strip()
    date = m.group("date")
    end = m.end("date") if date else _location_end(m)
    start = m.start("loc")
    shown = " ".join(head[start:end].split()).rstrip(",")
    return Dateline(
        text=shown,
        location=location,
        date_text=" ".join(date.split()) if date else None,
        agency=_agency(m),
        prefix_length=offset + m.end(),
    )


def _location_end(m: re.Match[str]) -> int:
    """End of the location part, including a /Region/ and a ", State." when present."""
    text = m.string
    end = m.end("loc")
    region = re.match(_REGION, text[end:])
    if region:
        end += region.end()
    state = re.match(_STATE, text[end:])
    if state:
        end += state.end()
    return end


def split_dateline(paragraph: str) -> tuple[str | None, str]:
    """(dateline, rest of the paragraph); (None, paragraph) when it does not start with one."""
    found = parse_dateline(paragraph)
    if found is None:
        return None, paragraph
    return found.text, paragraph[found.prefix_length :].lstrip()
