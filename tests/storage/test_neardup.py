"""Near-duplicate detection on wire stories we wrote: edited copies match, different stories do not."""
# ruff: noqa: E501  (the stories are prose: one paragraph per line, as extraction produces them)

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive import neardup

PORT_STRIKE = """Dock workers at the port of Valdera walked off the job on Tuesday, halting the loading of grain ships for the second time this month, union leaders said.

The Valdera Port Workers Union said about 3,400 members had joined the stoppage after talks with the port authority over pay and night-shift staffing broke down late on Monday. Cranes at the main container terminal stood idle and at least eleven bulk carriers were waiting at anchor outside the breakwater, according to the harbour master's office.

"We have been patient for six months and the authority has given us nothing but promises," union chairman Tomas Reljic told reporters at the gates of the terminal. He said the strike would continue until the authority returned to the table with a written offer.

The port authority said in a statement that it regretted the action and that its offer of a 4 percent raise over two years remained open. It said emergency cargo, including medicine and fuel for the island ferries, would still be handled by managers.

Valdera handles roughly a third of the country's grain exports. Traders said a long stoppage could delay shipments promised to buyers in North Africa before the end of the quarter and push up freight rates in the region.

The last strike at the port, in March, lasted three days and ended with a mediated agreement on overtime pay."""

PORT_STRIKE_EDITED = """Dock workers at the port of Valdera walked off the job on Tuesday, halting the loading of grain ships for the second time this month, union leaders said.

The Valdera Port Workers Union said about 3,400 members had joined the stoppage after talks with the port authority over wages and night-shift staffing collapsed late on Monday. Cranes at the main container terminal stood idle and at least eleven bulk carriers were waiting at anchor outside the breakwater, according to the harbour master's office.

"We have been patient for six months and the authority has given us nothing but promises," union chairman Tomas Reljic told reporters at the gates of the terminal. He said the strike would continue until the authority returned to the table with a written offer.

The port authority said in a statement that it regretted the action and that its offer of a 4 percent raise over two years remained open. Managers will keep handling emergency cargo such as medicine and ferry fuel, the statement added.

Valdera handles roughly a third of the country's grain exports. Traders said a long stoppage could delay shipments promised to buyers in North Africa before the end of the quarter and push up freight rates in the region.

The last strike at the port, in March, lasted three days and ended with a mediated agreement on overtime pay."""

PORT_STRIKE_EXTENDED = PORT_STRIKE + """

On Tuesday evening the transport ministry said it had asked a state mediator to contact both sides. A ministry spokeswoman said no date for new talks had been set."""

PORT_STRIKE_TYPOS = PORT_STRIKE.replace("halting", "haltng").replace("breakwater", "break water").replace(
    "reporters", "reportres").replace("regretted", "regreted")

PORT_DEAL = """The port authority of Valdera and the Valdera Port Workers Union signed a three-year wage agreement on Friday, ending a dispute that had threatened grain exports through the country's busiest harbour.

Under the deal, about 3,400 dock workers will receive a 9 percent raise spread over three years and an extra allowance for night shifts, union chairman Tomas Reljic said after the signing ceremony at the authority's headquarters.

"This is a fair result and it was reached without a single lost hour of work," Reljic said, thanking the state mediator who chaired the last round of talks. The authority's director, Ana Petrak, said the agreement gave the port the stability it needed to win new shipping contracts.

The agreement also creates a joint committee on safety at the container terminal, where two workers were injured in a crane accident last year. The committee will publish a report every six months.

Grain traders welcomed the news. Valdera handles roughly a third of the country's grain exports, and buyers in North Africa had asked for guarantees that shipments promised for the spring would leave on time.

The authority said it would invest part of this year's profit in new cranes and a second berth for bulk carriers, a project expected to take four years."""

RATE_HIKE = """The central bank of Norland raised its key interest rate by half a percentage point to 7.5 percent on Thursday, its third increase this year, as inflation stayed well above target.

Governor Elsa Maren told a news conference that consumer prices had risen 6.8 percent in the year to October, driven by food and energy, and that the bank was ready to act again if price growth did not slow in the coming months.

"Our task is to bring inflation back to 3 percent, and we will use the tools we have to do it," Maren said. She added that the labour market remained strong, giving the economy room to absorb higher borrowing costs.

The decision was in line with the expectations of most economists polled before the meeting. The Norland crown rose 0.4 percent against the euro after the announcement, while yields on two-year government bonds climbed to their highest level since 2008.

Business groups criticised the move. The Norland Chamber of Industry said small companies were already struggling to refinance loans and warned that investment plans would be postponed.

The bank's board will next meet on December 14, when it will also publish new forecasts for growth and inflation."""

RATE_HOLD = """The central bank of Norland kept its key interest rate unchanged at 7.5 percent on Thursday, pausing after three increases this year as inflation began to ease.

Governor Elsa Maren said consumer prices had risen 5.1 percent in the year to January, down from a peak of 6.8 percent in October, and that the board wanted to see the full effect of earlier increases before deciding on its next step.

"It is too early to declare victory, but the direction is the right one," Maren told a news conference. She said the bank would not hesitate to raise rates again if food prices started to climb.

Most economists polled before the meeting had expected the pause. The Norland crown was little changed against the euro, and yields on two-year government bonds fell slightly from their highest level since 2008.

The Norland Chamber of Industry welcomed the decision, saying small companies needed a period of stable borrowing costs to plan investment. Trade unions urged the bank to start cutting rates by the summer.

The bank's board will next meet on March 21, when it will also publish new forecasts for growth and inflation."""

FLOOD_RU = """Уровень воды в реке Сольве у города Заречье за сутки поднялся почти на два метра, в зоне подтопления оказались более 400 жилых домов, сообщили в среду в региональном управлении МЧС.

По данным спасателей, из затопленных кварталов эвакуированы около 1200 человек, для них в городе развернуты три пункта временного размещения в зданиях школ. Движение по мосту через Сольву закрыто, автобусы в соседний район пускают в объезд.

«Пик паводка ожидается в ночь на пятницу, вода может подняться еще на полметра», — сказал журналистам глава управления Игорь Седов. Он призвал жителей прибрежных улиц заранее вывезти документы и ценные вещи.

Губернатор области Марина Власова ввела в Заречье режим чрезвычайной ситуации и поручила выделить средства на выплаты пострадавшим семьям. По ее словам, каждая семья получит по 20 тысяч рублей в течение недели.

Синоптики объясняют паводок быстрым таянием снега и сильными дождями в верховьях реки. В прошлый раз такой подъем воды в Заречье наблюдался весной 2013 года."""

FLOOD_RU_EDITED = FLOOD_RU.replace(
    "Движение по мосту через Сольву закрыто, автобусы в соседний район пускают в объезд.",
    "Мост через Сольву закрыт для транспорта, автобусы идут в объезд.",
).replace("ввела в Заречье", "объявила в Заречье")

BRIDGE_RU = """В городе Заречье в среду открыли после ремонта мост через реку Сольву, закрытый для транспорта с прошлой весны, сообщили в администрации области.

Ремонт обошелся областному бюджету в 640 миллионов рублей. Рабочие заменили пролеты, укрепили опоры и расширили проезжую часть до четырех полос, рассказал журналистам глава дорожного управления Игорь Седов.

«Теперь мост выдержит и большой паводок, и тяжелые грузовики», — сказал Седов. По его словам, гарантия подрядчика на новые конструкции составляет десять лет.

Губернатор области Марина Власова, которая приехала на открытие, пообещала в следующем году начать строительство второго моста ниже по течению. Проект уже прошел экспертизу, добавила она.

Автобусы в соседний район снова пойдут по прямому маршруту с понедельника, дорога займет на 40 минут меньше. Жители Заречья больше года жаловались на объезд через поселок Кривцы."""

# a brief rewrite by another outlet: own headline and dateline, the same body
PORT_STRIKE_REPUBLISHED_HEADLINE = "Valdera dockers strike again, grain ships stuck at anchor"

NEAR_DUPLICATES = {
    "changed-sentences": (PORT_STRIKE, PORT_STRIKE_EDITED),
    "paragraph-added-at-end": (PORT_STRIKE, PORT_STRIKE_EXTENDED),
    "typos": (PORT_STRIKE, PORT_STRIKE_TYPOS),
    "russian-reworded": (FLOOD_RU, FLOOD_RU_EDITED),
}
DIFFERENT_STORIES = {
    "same-port-different-event": (PORT_STRIKE, PORT_DEAL),
    "same-bank-different-decision": (RATE_HIKE, RATE_HOLD),
    "same-town-different-event-ru": (FLOOD_RU, BRIDGE_RU),
    "unrelated": (PORT_STRIKE, RATE_HIKE),
}


def hamming(a: int, b: int) -> int:
    return bin((a ^ b) % 2**64).count("1")


@pytest.mark.parametrize(("a", "b"), NEAR_DUPLICATES.values(), ids=NEAR_DUPLICATES.keys())
def test_lightly_edited_copies_are_near_duplicates(a: str, b: str) -> None:
    fa, fb = neardup.fingerprint(a), neardup.fingerprint(b)
    assert set(fa.band_keys) & set(fb.band_keys)  # the band index finds the pair
    assert neardup.is_near_duplicate(fa.simhash, fb.simhash), hamming(fa.simhash, fb.simhash)
    assert neardup.is_copy(fa, neardup.shingle_set(a), fb, neardup.shingle_set(b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT_STORIES.values(), ids=DIFFERENT_STORIES.keys())
def test_different_stories_on_the_same_topic_are_not(a: str, b: str) -> None:
    fa, fb = neardup.fingerprint(a), neardup.fingerprint(b)
    assert not neardup.is_near_duplicate(fa.simhash, fb.simhash), hamming(fa.simhash, fb.simhash)
    assert not set(fa.band_keys) & set(fb.band_keys)
    assert not neardup.is_copy(fa, neardup.shingle_set(a), fb, neardup.shingle_set(b))


def test_the_test_pairs_really_are_what_they_claim() -> None:
    # guards the fixtures: edited copies share most shingles, different stories share few
    def jaccard(a: str, b: str) -> float:
        return neardup.resemblance(neardup.shingle_set(a), neardup.shingle_set(b))

    assert all(0.6 < jaccard(a, b) < 1 for a, b in NEAR_DUPLICATES.values())
    assert all(jaccard(a, b) < 0.3 for a, b in DIFFERENT_STORIES.values())
    for name, (a, b) in DIFFERENT_STORIES.items():
        if name != "unrelated":
            # same named entities on both sides, so the test is about events, not vocabulary
            assert len(set(neardup.tokens(a)) & set(neardup.tokens(b))) > 25, name


def test_headline_and_dateline_changes_do_not_matter_for_normal_stories() -> None:
    plain = neardup.fingerprint(PORT_STRIKE)
    republished = neardup.fingerprint(PORT_STRIKE, headline=PORT_STRIKE_REPUBLISHED_HEADLINE)
    assert republished == plain


def test_short_body_is_fingerprinted_with_its_headline() -> None:
    brief = "Dock workers at the port of Valdera went on strike on Tuesday, the union said."
    a = neardup.fingerprint(brief, headline="Valdera dock workers strike")
    b = neardup.fingerprint(brief, headline="Grain exports halted as Valdera port stops")
    assert a.simhash != b.simhash
    assert a == neardup.fingerprint("Valdera dock workers strike\n\n" + brief)


def test_fingerprints_are_stable_and_fit_a_signed_bigint() -> None:
    fp = neardup.fingerprint(RATE_HIKE)
    assert fp == neardup.fingerprint(RATE_HIKE)
    assert len(fp.band_keys) == neardup.BANDS
    assert fp.sample_keys
    for value in (fp.simhash, *fp.keys):
        assert -(2**63) <= value < 2**63


def test_normalisation_ignores_case_spacing_punctuation_and_yo() -> None:
    assert neardup.fingerprint("Ёлка стояла в  ЦЕНТРЕ, города.") == neardup.fingerprint("елка стояла в центре города")
    text = PORT_STRIKE.replace("Valdera", "Вальдёра")
    assert neardup.fingerprint(text.upper()) == neardup.fingerprint(text.replace("ё", "е"))


def test_too_short_texts_get_no_band_keys() -> None:
    assert neardup.fingerprint("Strike at the port.").band_keys == ()
    assert neardup.fingerprint("") == neardup.Fingerprint(0, (), ())
    assert len(neardup.shingle_set("")) == 0


@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63)))
def test_near_duplicate_simhashes_differ_in_few_bits_signed_or_unsigned(a: int, flipped: set[int]) -> None:
    def signed(v: int) -> int:
        return v - 2**64 if v >= 2**63 else v

    b = a ^ sum(1 << bit for bit in flipped)
    near = len(flipped) <= neardup.HAMMING_THRESHOLD
    assert neardup.is_near_duplicate(a, b) == near
    assert neardup.is_near_duplicate(b, a) == near
    assert neardup.is_near_duplicate(signed(a), signed(b)) == near
    assert neardup.is_near_duplicate(signed(a), b) == near


def test_fingerprints_do_not_change_between_releases() -> None:
    # stored fingerprints must stay comparable: a change here means a migration that
    # recomputes every stored simhash and band key
    fp = neardup.fingerprint(
        "Dock workers at the port of Valdera walked off the job on Tuesday, halting the loading of grain ships."
    )
    assert fp.simhash == -8512067897921595546
    assert fp.band_keys[:2] == (-6326586983794877449, -3599838927841971988)
    # non-ASCII words and sample keys
    fp = neardup.fingerprint(FLOOD_RU)
    assert (fp.simhash, fp.band_keys[:2]) == (7050070839149312452, (-6637195085931268256, -13548644318793923))
    assert fp.sample_keys[:2] == (-4941174761684807703, -4173905532599897580)
    # a brief read with its headline, its 17 shingles leaving bins empty (densified band keys)
    fp = neardup.fingerprint("Dock workers at the port of Valdera went on strike on Tuesday, the union said.",
                             headline="Valdera dock workers strike")
    assert (fp.simhash, fp.band_keys[:2]) == (-6898771116976148512, (5549336875090740314, 1000764745058158312))


def test_word_hash_memo_overflow_gives_the_same_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    # the memo is cleared when full; words of the text being hashed must survive the clearing
    expected = neardup.fingerprint(RATE_HIKE)
    monkeypatch.setattr(neardup, "_WORD_TABLES_MAX", 8)
    neardup._WORD_TABLES.clear()
    # the memo holds some of the text's own words when it overflows on the rest
    neardup.fingerprint(" ".join(neardup.tokens(RATE_HIKE)[:6]))
    assert neardup.fingerprint(RATE_HIKE) == expected
    assert neardup.fingerprint(RATE_HIKE) == expected


_TEXT = st.text(alphabet=st.sampled_from("ab Zé ёЁ_1,.\n\t-ß²ﬁ\u0301"), max_size=300)


@given(body=_TEXT, headline=st.none() | _TEXT)
def test_ascii_texts_fingerprinted_as_bytes_match_their_str_tokens(body: str, headline: str | None) -> None:
    # ASCII text is tokenised as bytes for speed; stored fingerprints must be what the str
    # tokens (the definition) give, for ASCII, non-ASCII and mixed body/headline pairs
    for text in (body, body.encode("ascii", "ignore").decode()):
        if text.isascii():
            assert [w.decode() for w in neardup._words(text)] == neardup.tokens(text)  # type: ignore[union-attr]
        words = neardup.tokens(text)
        if headline and len(words) < neardup.SHORT_BODY_WORDS:
            words = neardup.tokens(headline) + words
        sim, minh = neardup._digests(words)
        expected = neardup.Fingerprint(neardup._simhash(sim), neardup._band_keys(minh), neardup._sample_keys(sim, minh))
        assert neardup.fingerprint(text, headline) == expected
