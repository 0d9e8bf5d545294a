import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from newsarchive.article import Article, FetchInfo, content_hash, normalise_text


def _article(**kw: object) -> Article:
    base = {
        "url": "https://tass.com/politics/925235",
        "headline": "Kremlin: talks",
        "dateline": "MOSCOW, January 19",
        "published": datetime(2017, 1, 19, 13, 48, tzinfo=timezone(timedelta(hours=3))),
        "body": "First paragraph.\n\nSecond one.",
        "topics": ["Foreign policy"],
        "read_also": [{"title": "Other", "url": "https://tass.com/politics/925200"}],
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


def test_to_dict_is_json_ready_with_offset() -> None:
    d = _article(fetched_at=datetime(2026, 1, 1, tzinfo=UTC), fetch=FetchInfo(status=200)).to_dict()
    assert d["published"] == "2017-01-19T13:48:00+03:00"
    assert "fetch" not in d
    assert d["content_hash"] == content_hash("Kremlin: talks", "First paragraph.\n\nSecond one.")
    json.dumps(d)


def test_from_dict_round_trip() -> None:
    a = _article()
    assert Article.from_dict(a.to_dict()) == a


def test_content_hash_ignores_markup_whitespace_and_case() -> None:
    a = _article(body="First  paragraph.\n\n Second one.")
    b = _article(body="first paragraph. second ONE.")
    assert a.content_hash == b.content_hash
    assert _article(body="First paragraph, edited.").content_hash != a.content_hash


def test_paragraphs() -> None:
    assert _article().paragraphs == ["First paragraph.", "Second one."]


# every character class normalise_text treats specially: Unicode spaces (NBSP, ideographic,
# line separator, U+001C..U+001F which \s also matches), compatibility forms NFKC folds
# (ligatures, circled digits, full-width letters), case pairs with special folds (ß, Σ)
_AWKWARD = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000\ufeff\u200b" \
    "ﬁ①Ｆｕｌｌ ßΣσς ёЁ aZ.,"


@given(st.text(alphabet=st.sampled_from(_AWKWARD) | st.characters(), max_size=80))
def test_normalise_text_is_nfkc_casefold_with_whitespace_runs_collapsed(text: str) -> None:
    # stored content hashes depend on this exact definition: the fast path must not drift
    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()
    assert normalise_text(text) == expected
