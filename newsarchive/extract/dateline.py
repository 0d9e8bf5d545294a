"""Wire-service datelines at the start of an article's first paragraph.

The dateline field holds the dateline as printed, agency marker and separator included
("MOSCOW, January 19. /TASS/.", "WASHINGTON (AP) —", "新华社北京11月17日电"); the whole
prefix is removed from the paragraph. :class:`Dateline` also gives its parts: the place
and date (``core``), the agency token as printed and the agency's canonical name
(``wire``, from :data:`WIRES`).

One pattern family covers the Latin/Cyrillic shapes (see docs of each wire):
PLACE [/Region/] [, Country] [/PLACE...] [[,.] DATE] [.] AGENCY SEP, and the agency-first
ANSA shape; the Chinese (新华社<place><date>电), Japanese (【<date> AFP】) and Korean
((서울=연합뉴스)) shapes have patterns of their own. A paragraph that merely starts with
capitals is not a dateline: either an agency marker is present, or the location is in
capitals and followed by a dash separator (newspaper shape without the agency).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["WIRES", "Dateline", "parse_dateline", "split_dateline", "wire_name"]

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
# "SURABAYA, Indonesia/JAKARTA", "GAZA/CAIRO": more places after a country or state, joined by "/"
_MORE_PLACES = rf"(?:/(?={_LOC_WORD}){_LOC}{_STATE}?)*"
_AGENCIES = (
    r"AP|Reuters|Xinhua|Yonhap|Interfax|BelTA|EFE|AFP|UPI|ANSA|dpa|DPA|PTI|IANS|ANI|Bernama|Kyodo|"
    r"KUNA|WAM|SPA|IRNA|Sputnik|RIA Novosti|TASS|Anadolu|AA|Ukrinform|CNA|APA|MTI|CTK|ČTK|PAP|"
    r"Lusa|Agerpres|BTA|HINA|Tanjug|STA|SANA|MENA|QNA|BNA|NNA|Prensa Latina|Notimex|ATS|APA-OTS|"
    r"KNA|epd|AFP-JIJI|Jiji|NHK|CNN|BBC|UNI|PNA|Antara|VNA|TNA|OANA|ENA|KPL|ABC|SNS|EPA|PA|CP|AAP|"
    r"UNIAN|Ukrinform|Укрінформ|Укринформ|IANS|Bernama|AzerTAc|Trend|Kazinform|Xinhua/\w+"
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
    rf"^{_PREFIX}(?P<loc>{_LOC}){_REGION}?{_STATE}?{_MORE_PLACES}(?:\s*[,.]\s*(?P<date>{_DATE}))?\.?{_AGENCY}"
    rf"(?:\s*\.(?=\s))?{_SEP}(?=\S)",
)
_AGENCY_FIRST = re.compile(
    rf"^\((?P<paren>{_AGENCIES})\)\s*[-–—]{{1,2}}\s*(?P<loc>{_LOC}){_STATE}?{_MORE_PLACES}"
    rf"(?:\s*[,.]\s*(?P<date>{_DATE}))?\s*[-–—]{{1,2}}\s*(?=\S)",
)
# No agency: the location must be in capitals and the separator a dash ("WASHINGTON — ...").
_CAPS_WORD = rf"[{_UP}][{_UP}'’.\-]+"
_NO_AGENCY = re.compile(
    rf"^(?P<loc>{_CAPS_WORD}(?:\s+{_CAPS_WORD}){{0,3}}){_REGION}?{_STATE}?{_MORE_PLACES}"
    rf"(?:\s*,\s*(?P<date>{_DATE}))?(?P<sep>\s+[-–—]{{1,2}}\s+|\s*[—–]\s*)(?=[\d\"'“‘«({_UP}])",
)


# Chinese agencies: 新华社北京11月17日电（记者 张三）, 中新网上海3月2日电
_CJK_AGENCY = (
    r"新华社|新華社|新华网|新華網|中新社|中新网|中新網|人民网|人民網|央视网|央視網|"
    r"法新社|路透社|美联社|美聯社|共同社|塔斯社"
)
_CHINESE = re.compile(
    rf"^(?P<cjk>{_CJK_AGENCY})(?:记者|記者)?(?P<loc>[\u4e00-\u9fff·／/、]{{1,16}}?)"
    r"(?P<date>\d{1,2}月\d{1,2}日)(?:\d{1,2}时\d{1,2}分)?电(?:[（(][^）)\n]{1,60}[）)])?\s*"
)
# Japanese: 【6月18日 AFP】, 【ワシントン=共同】, 【パリ＝AFP時事】: the agency sits inside the brackets
_JA_AGENCY = r"AFP=時事|AFP時事|AFPBB News|AFP|時事|共同|ロイター|新華社|聯合|AP|EPA|dpa|ブルームバーグ"
_JAPANESE = re.compile(
    r"^【(?P<inner>[^】\n]{0,30}?(?P<ja>" + _JA_AGENCY + r")[^】\n]{0,20})】\s*"
)
_JA_DATE = re.compile(r"\d{1,2}月\d{1,2}日")
# Korean: (서울=연합뉴스) 홍길동 기자 =
_KOREAN = re.compile(
    r"^\((?P<loc>[가-힣·/ ]{1,12})=(?P<ko>연합뉴스|뉴스1|뉴시스|연합)\)\s*"
    r"(?:(?P<by>[가-힣]{2,4}(?:[ ,·][가-힣]{2,4}){0,3})\s*(?:기자|특파원)\s*=\s*)?"
)

#: agency token as printed (casefolded) -> one canonical name; other tokens keep their spelling
WIRES: dict[str, str] = {
    **dict.fromkeys(("ap", "associated press", "the associated press", "美联社", "美聯社"), "AP"),
    **dict.fromkeys(("reuters", "thomson reuters", "路透社", "ロイター", "рейтер"), "Reuters"),
    **dict.fromkeys(("afp", "agence france-presse", "agence france presse", "法新社", "afpbb news",
                     "afp=時事", "afp時事", "afp-jiji"), "AFP"),
    **dict.fromkeys(("tass", "тасс", "итар-тасс", "itar-tass", "塔斯社"), "TASS"),
    **dict.fromkeys(("xinhua", "新华社", "新華社", "新华网", "新華網"), "Xinhua"),
    **dict.fromkeys(("anadolu", "aa", "anadolu agency", "anadolu ajansı", "anadolu ajansi"), "Anadolu"),
    **dict.fromkeys(("interfax", "interfax.ru", "интерфакс"), "Interfax"),
    **dict.fromkeys(("ansa",), "ANSA"),
    **dict.fromkeys(("yonhap", "연합뉴스", "연합", "聯合", "yonhap news agency"), "Yonhap"),
    **dict.fromkeys(("sputnik", "спутник"), "Sputnik"),
    **dict.fromkeys(("ria novosti", "риа новости"), "RIA Novosti"),
    **dict.fromkeys(("ukrinform", "укрінформ", "укринформ"), "Ukrinform"),
    **dict.fromkeys(("kyodo", "共同", "共同社", "kyodo news"), "Kyodo"),
    **dict.fromkeys(("jiji", "時事"), "Jiji"),
    **dict.fromkeys(("dpa", "deutsche presse-agentur"), "dpa"),
    **dict.fromkeys(("efe",), "EFE"),
    **dict.fromkeys(("belta",), "BelTA"),
    **dict.fromkeys(("upi", "united press international"), "UPI"),
    **dict.fromkeys(("中新社", "中新网", "中新網"), "China News Service"),
    **dict.fromkeys(("人民网", "人民網"), "People's Daily"),
    **dict.fromkeys(("央视网", "央視網"), "CCTV"),
    **dict.fromkeys(("뉴스1",), "News1"),
    **dict.fromkeys(("뉴시스",), "Newsis"),
}


def wire_name(token: str | None) -> str | None:
    """The canonical name of the agency a marker names ("ТАСС" -> "TASS"), None for no token."""
    if not token:
        return None
    token = " ".join(token.split())
    key = token.casefold()
    if key in WIRES:
        return WIRES[key]
    # "Корр. ТАСС Вера Щербакова", "Xinhua/Reporter": the agency word inside a longer marker
    for word in re.split(r"[\s/.,=]+", key):
        if word in WIRES and len(word) > 2:
            return WIRES[word]
    return token


# "/Корр. ТАСС Вера Щербакова/": the correspondent inside a TASS marker is the story's author
_CORRESPONDENT = re.compile(r"(?:Корр|Corr)\.\s*(?:ТАСС|TASS)\s+([^\W\d_][\w'’.\- ]{2,58}?)\s*$")


@dataclass(frozen=True)
class Dateline:
    """A recognised dateline: as printed, its parts, and the prefix to remove."""

    #: as printed: place, date, agency marker and separator ("KATHMANDU, April 25 (Reuters) -")
    text: str
    location: str
    date_text: str | None
    #: the agency token as printed ("ТАСС", "Reuters", "新华社"), None without one
    agency: str | None
    #: length of the paragraph prefix (dateline, agency marker, separator) that is removed
    prefix_length: int
    #: place and date only ("KATHMANDU, April 25")
    core: str = ""
    #: the byline run into the dateline ("By Kim Soo-yeon SEOUL, ..."), when there is one
    byline: str | None = None

    @property
    def wire(self) -> str | None:
        """The canonical name of the credited agency."""
        return wire_name(self.agency)


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
    if not text:
        return None
    head = text[:200]
    if not text[0].isupper() and text[0] != "(":
        return _parse_cjk(head, offset)
    m = _AGENCY_FIRST.match(head) or _WITH_AGENCY.match(head)
    if m is None:
        m = _NO_AGENCY.match(head)
        if m is None:
            return _parse_cjk(head, offset) if text[0] == "(" else None
    location = m.group("loc").strip()
    date = m.group("date")
    end = m.end("date") if date else _location_end(m)
    start = m.start("loc")
    core = " ".join(head[start:end].split()).rstrip(",")
    first = 0 if m.re is _AGENCY_FIRST else start
    shown = " ".join(head[first : m.end()].split())
    byline = re.search(r"By\s+(.+?)\s*$", head[:start]) if start else None
    correspondent = _CORRESPONDENT.match(m.groupdict().get("slash") or "")
    return Dateline(
        text=shown,
        location=location,
        date_text=" ".join(date.split()) if date else None,
        agency=_agency(m),
        prefix_length=offset + m.end(),
        core=core,
        byline=byline.group(1) if byline else (correspondent.group(1) if correspondent else None),
    )


def _parse_cjk(head: str, offset: int) -> Dateline | None:
    m = _CHINESE.match(head)
    if m:
        shown = m.group(0).strip()
        return Dateline(shown, m.group("loc"), m.group("date"), m.group("cjk"), offset + m.end(),
                        core=m.group("loc") + m.group("date"))
    m = _JAPANESE.match(head)
    if m:
        inner = m.group("inner")
        date = _JA_DATE.search(inner)
        place = inner.replace(m.group("ja"), " ")
        place = _JA_DATE.sub(" ", place).strip(" =＝")
        core = " ".join(inner.replace(m.group("ja"), " ").split()).strip(" =＝")
        return Dateline(m.group(0).strip(), place, date.group(0) if date else None, m.group("ja"),
                        offset + m.end(), core=core)
    m = _KOREAN.match(head)
    if m:
        return Dateline(m.group(0).strip(), m.group("loc").strip(), None, m.group("ko"), offset + m.end(),
                        core=m.group("loc").strip(), byline=m.group("by"))
    return None


def _location_end(m: re.Match[str]) -> int:
    """End of the location part, including a /Region/, a ", State." and more places when present."""
    text = m.string
    end = m.end("loc")
    region = re.match(_REGION, text[end:])
    if region:
        end += region.end()
    state = re.match(_STATE, text[end:])
    if state:
        end += state.end()
    more = re.match(_MORE_PLACES, text[end:])
    if more:
        end += more.end()
    return end


def split_dateline(paragraph: str) -> tuple[str | None, str]:
    """(dateline as printed, rest of the paragraph); (None, paragraph) when it does not start with one."""
    found = parse_dateline(paragraph)
    if found is None:
        return None, paragraph
    return found.text, paragraph[found.prefix_length :].lstrip()
