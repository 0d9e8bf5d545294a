"""Wire datelines: each agency's style is recognised and removed; capitals alone are not a dateline."""

from __future__ import annotations

import pytest

from newsarchive.extract.dateline import parse_dateline, split_dateline

# (paragraph, dateline, agency, first words of the rest)
STYLES = [
    # TASS English, with a region in slashes
    ("MOSCOW, January 19. /TASS/. Russia will host the talks.", "MOSCOW, January 19", "TASS", "Russia will"),
    ("IGORA /Leningrad Region/, December 26. /TASS/. The summit opened.",
     "IGORA /Leningrad Region/, December 26", "TASS", "The summit"),
    # TASS Russian, with a correspondent inside the slashes
    ("МОСКВА, 30 июня. /ТАСС/. Президент подписал закон.", "МОСКВА, 30 июня", "ТАСС", "Президент"),
    ("РИМ, 3 декабря. /Корр. ТАСС Иван Иванов/. Италия объявила.", "РИМ, 3 декабря",
     "Корр. ТАСС Иван Иванов", "Италия"),
    # RIA Novosti
    ("МОСКВА, 30 июн - РИА Новости. Погода улучшится.", "МОСКВА, 30 июн", "РИА Новости", "Погода"),
    # Interfax Russian and English: city with a period
    ("Москва. 19 сентября. INTERFAX.RU - Банк снизил ставку.", "Москва. 19 сентября", "INTERFAX.RU", "Банк"),
    ("MOSCOW. April 2 (Interfax) - The bank cut rates.", "MOSCOW. April 2", "Interfax", "The bank"),
    ("MOSCOW. Sept 19 (Interfax) - Output rose.", "MOSCOW. Sept 19", "Interfax", "Output"),
    # AP: no date, em dash; US cities with their state
    ("WASHINGTON (AP) — The Senate voted.", "WASHINGTON", "AP", "The Senate"),
    ("GRAND RAPIDS, Mich. (AP) — A man was arrested.", "GRAND RAPIDS, Mich.", "AP", "A man"),
    ("KYIV, Ukraine (AP) — Air raid sirens sounded.", "KYIV, Ukraine", "AP", "Air raid"),
    ("NEW YORK (AP) _ Stocks fell.", "NEW YORK", "AP", "Stocks"),
    # Reuters
    ("LONDON, March 3 (Reuters) - Shares rose.", "LONDON, March 3", "Reuters", "Shares"),
    ("WASHINGTON (Reuters) - Officials said.", "WASHINGTON", "Reuters", "Officials"),
    # Xinhua, several month forms
    ("BEIJING, Jan. 5 (Xinhua) -- China launched a satellite.", "BEIJING, Jan. 5", "Xinhua", "China"),
    ("SHENZHEN, December 26 (Xinhua) -- Exports grew.", "SHENZHEN, December 26", "Xinhua", "Exports"),
    # Yonhap, with a slug before it
    ("SEOUL, Nov. 24 (Yonhap) -- South Korea said.", "SEOUL, Nov. 24", "Yonhap", "South Korea"),
    ("(LEAD) SEOUL, Nov. 24 (Yonhap) -- South Korea said.", "SEOUL, Nov. 24", "Yonhap", "South Korea"),
    # EFE: city in title case, separator ".-"
    ("Madrid, 21 mar (EFE).- El Gobierno aprobó.", "Madrid, 21 mar", "EFE", "El Gobierno"),
    ("Nueva Delhi, 21 ene (EFE).- La India anunció.", "Nueva Delhi, 21 ene", "EFE", "La India"),
    ("Seoul, Nov 29 (EFE).- North Korea fired.", "Seoul, Nov 29", "EFE", "North Korea"),
    # ANSA: agency first
    ("(ANSA) - ROME, JUL 11 - Italy's premier said.", "ROME, JUL 11", "ANSA", "Italy's"),
    ("(ANSA) - MILANO, 16 MAG - La Borsa chiude.", "MILANO, 16 MAG", "ANSA", "La Borsa"),
    # BelTA: day before month
    ("MINSK, 3 April (BelTA) - Belarus will.", "MINSK, 3 April", "BelTA", "Belarus"),
    # a byline run into the paragraph, cities joined by a slash, Portuguese and German dates
    ("By Kim Soo-yeon SEOUL, Nov. 24 (Yonhap) -- North Korea.", "SEOUL, Nov. 24", "Yonhap", "North Korea"),
    ("HONG KONG/SHANGHAI, March 3 (Reuters) - Markets.", "HONG KONG/SHANGHAI, March 3", "Reuters", "Markets"),
    ("SÃO PAULO, 3 de março (Reuters) - O real.", "SÃO PAULO, 3 de março", "Reuters", "O real"),
    ("BERLIN, 3. März (dpa) - Die Regierung.", "BERLIN, 3. März", "dpa", "Die Regierung"),
    # newspaper style without an agency: capitals and a dash
    ("WASHINGTON — The Senate passed the bill.", "WASHINGTON", None, "The Senate"),
    ("ST. PETERSBURG, Fla. — A storm hit.", "ST. PETERSBURG, Fla.", None, "A storm"),
]


@pytest.mark.parametrize(("paragraph", "dateline", "agency", "rest"), STYLES)
def test_wire_styles(paragraph, dateline, agency, rest):
    found = parse_dateline(paragraph)
    assert found is not None
    assert found.core == dateline
    assert found.agency == agency
    # the field holds the dateline as printed: place and date, agency marker, separator
    assert found.text.startswith(dateline) or found.text.startswith("(" + (agency or ""))
    assert found.text in " ".join(paragraph.split())
    got_dateline, got_rest = split_dateline(paragraph)
    assert got_dateline == found.text
    assert got_rest.startswith(rest)
    # the whole prefix, agency marker and separator included, is gone
    assert "(" + (agency or "") + ")" not in got_rest[:20]
    assert not got_rest.startswith(("-", "—", ".", "/"))


def test_parts_of_a_dateline():
    found = parse_dateline("BEIJING, Jan. 5, 2024 (Xinhua) -- Text.")
    assert found is not None
    assert (found.location, found.date_text, found.agency) == ("BEIJING", "Jan. 5, 2024", "Xinhua")
    assert (found.text, found.wire) == ("BEIJING, Jan. 5, 2024 (Xinhua) --", "Xinhua")


def test_leading_whitespace_is_part_of_the_removed_prefix():
    got = split_dateline("  LONDON, March 3 (Reuters) - Shares rose.")
    assert got == ("LONDON, March 3 (Reuters) -", "Shares rose.")


@pytest.mark.parametrize(
    "paragraph",
    [
        "NATO SAID ON MONDAY that it would send more troops.",
        "BREAKING: A strong earthquake struck the region.",
        "U.S. troops left the base on Tuesday.",
        "The president said on Monday that talks would resume.",
        "NASA — the agency said — will delay the launch.",
        "MOSCOW is preparing for the summit, officials said.",
        "LONDON, March 3 was the day the market opened.",
        "UPDATE 2-Oil prices fall",
        "",
        "   ",
        "(Photo) Crowds gathered in the square.",
        "2024 was a record year for exports.",
        "By the way SEOUL is a big city (Yonhap) reported.",
        "NEW DELHI: The government said.",
    ],
)
def test_not_a_dateline(paragraph):
    assert parse_dateline(paragraph) is None
    assert split_dateline(paragraph) == (None, paragraph)


def test_long_paragraph_is_cheap_to_reject():
    paragraph = "A" * 100_000 + " — tail"
    assert parse_dateline(paragraph) is None
