"""Near-duplicate detection for syndicated wire copy: SimHash, LSH band keys, containment samples.

A story's text becomes

* ``simhash``: 64-bit SimHash over word 3-shingles; copies differ in at most ``HAMMING_THRESHOLD`` bits;
* ``band_keys``: ``BANDS`` MinHash-LSH keys over the same shingles, so only articles sharing a key are
  compared (a pair of Jaccard J shares one with probability 1-(1-J^3)^10: 0.98 at J=0.7, 0.03 at 0.15).
  They come from the text, not from SimHash bits: a pigeonhole index over 18 bits would compare
  every new article with much of the archive;
* ``sample_keys``: content-defined samples of 6-word windows, so a partial copy (page 1 of 2)
  shares most of its samples with the longer story where whole-text measures see little.

``is_copy`` then decides on the shingle sets. Fingerprints are stored: hashing must not change
between processes or releases (a test pins one value). Measurements: benchmarks/README.md.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

#: words per shingle: a changed word stays local, different same-topic stories share almost none
SHINGLE_WORDS = 3
#: SimHash bits a copy may differ in: edited copies average 8 (tail 18), different stories 30 (tail 15)
HAMMING_THRESHOLD = 18
#: LSH layout: BANDS keys per article, each over ROWS one-permutation MinHash bins
BANDS = 10
ROWS = 3  # _mixed_keys is written for three
#: texts with fewer shingles than this get no band keys: too short to call near-duplicates
#: (exact copies are still caught by the content hash)
MIN_SHINGLES = 8
#: bodies shorter than this many words are fingerprinted together with their headline
SHORT_BODY_WORDS = 60
#: containment samples: the 6-word window starting at a shingle is sampled when the shingle's
#: MinHash value is 0 modulo SAMPLE_EVERY, so the same windows are sampled in every copy of a
#: text, whatever it was cut from (~14 samples for a 230-word story, ~19 for a 309-word page)
SAMPLE_EVERY = 16
#: shingles after the sampled one whose SimHash value is mixed into a sample's key: 3 makes the
#: key cover 6 words, so common 3-word phrases ("said in a") are not shared by unrelated stories
SAMPLE_SPAN = 3
#: a pair is checked for containment when it shares at least this many sample keys (a partial
#: copy shares nearly all of the shorter text's samples; two different stories share ~none)
MIN_SHARED_SAMPLES = 2
#: a shorter text whose shingles are at least this share of a longer one's is a partial copy
#: of it (page 1 of 2, one part of a split release: 0.95-0.98); an article quoting 40% of a
#: story inside its own, or reusing half of one, stays below (tests/storage/test_containment.py)
CONTAINED = 0.8
#: whole-text copies (a shared band key, SimHashes within HAMMING_THRESHOLD) must also have shingle
#: sets at least this alike: lightly edited copies are 0.77-0.93, a story reusing half of another
#: ~0.3-0.45 (its SimHash can be as near as a copy's)
RESEMBLANCE = 0.6
#: containment is not judged for texts of fewer shingles: too short to tell a copy from a quote
MIN_CONTAINED_SHINGLES = 40

_WORD = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1
_BINS = BANDS * ROWS
# a value's bin is ((value >> 32) * _BINS) >> 32, which grows with the value: bin b holds
# exactly the values from _BIN_STARTS[b] up to the next bin's start, so in sorted values each
# bin's minimum is the first value at or past its start (a binary search, no per-value work)
_BIN_STARTS = np.array([-(-(b << 32) // _BINS) << 32 for b in range(_BINS)], np.uint64)
_BIN_NUMBERS = np.arange(_BINS, dtype=np.uint64)
_BINS_NP, _HIGH = np.uint64(_BINS), np.uint64(32)
_LE64 = np.dtype("<u8")
_EMPTY = np.zeros(0, _LE64)
# stored values: changing the hashing or a parameter above needs a migration recomputing them
# odd 64-bit constant (golden ratio) used to decorrelate densified bins
_GOLDEN = 0x9E3779B97F4A7C15


@dataclass(frozen=True)
class Fingerprint:
    """What the archive stores per version to find near-duplicates of it."""

    simhash: int
    band_keys: tuple[int, ...]
    #: content-defined samples of the text's 6-word windows, for containment (not a stored column:
    #: rows of neardup_keys beside the band keys)
    sample_keys: tuple[int, ...] = ()

    @property
    def keys(self) -> tuple[int, ...]:
        """Every key the index holds for the text: band keys, then sample keys."""
        return self.band_keys + self.sample_keys


def _signed(value: int) -> int:
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


# ASCII text: every non-word character becomes a space, so str.split() returns exactly what
# _WORD.findall() would (for ASCII, \w is [0-9A-Za-z_]) at a third of the cost
_ASCII_GAPS = str.maketrans({chr(i): " " for i in range(128) if not (chr(i).isalnum() or chr(i) == "_")})


def tokens(text: str) -> list[str]:
    """Words of ``text`` after NFKC, casefolding and ё→е (a common Russian spelling variant)."""
    if text.isascii():
        # NFKC leaves ASCII unchanged, and most wire copy is ASCII
        return text.lower().translate(_ASCII_GAPS).split()
    text = unicodedata.normalize("NFKC", text)
    return _WORD.findall(text.casefold().replace("ё", "е"))


# the same for ASCII text as bytes: bytes.translate is a table lookup per byte, several times
# faster than str.translate's mapping; a word hashes the same either way (its UTF-8 bytes)
_ASCII_GAPS_BYTES = bytes(i if (chr(i).isalnum() or chr(i) == "_") else 32 for i in range(128)) + b" " * 128


def _words(text: str) -> list[str] | list[bytes]:
    """:func:`tokens`, as bytes when the text is ASCII (what fingerprinting needs)."""
    if text.isascii():
        return text.encode("ascii").lower().translate(_ASCII_GAPS_BYTES).split()
    return tokens(text)


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """The set of ``size``-word sequences of ``text`` (the whole text if it is shorter)."""
    words = tokens(text)
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


# word -> its six 64-bit table values (48 bytes, see _digests); news vocabulary repeats
# heavily, so most words are found here. Bounded by clearing (a memo of a pure function:
# losing it costs time, never changes a result). An entry costs ~200 bytes: 65,536 of them
# hold a source's common vocabulary, where 200,000 let a long crawl's memory grow by tens
# of MB with rare words (names, numbers) until the first clear.
_WORD_TABLES: dict[str | bytes, bytes] = {}
_WORD_TABLES_MAX = 1 << 16
_TABLES = 2 * SHINGLE_WORDS
# blake2b's personalisation: the word tables of fingerprint version 2
_PERSON = b"na-neardup-v2"


def _word_tables(words: list[str] | list[bytes]) -> bytes:
    cache = _WORD_TABLES
    try:
        # the usual case once the vocabulary is warm: every word known, one C-level pass
        return b"".join(map(cache.__getitem__, words))
    except KeyError:
        pass
    missing: set[str | bytes] = set(words).difference(cache)  # type: ignore[assignment]
    if len(cache) + len(missing) > _WORD_TABLES_MAX:
        cache.clear()
        missing = set(words)
    blake2b = hashlib.blake2b
    for word in missing:
        data = word if isinstance(word, bytes) else word.encode("utf-8")
        cache[word] = blake2b(data, digest_size=8 * _TABLES, person=_PERSON).digest()
    return b"".join(map(cache.__getitem__, words))


def _digests(words: list[str] | list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit values per word 3-shingle: (SimHash input, MinHash input), as uint64 arrays.

    Simple tabulation hashing: each word has six random 64-bit values (one blake2b call,
    memoised), and a shingle's SimHash value is the XOR of its first word's value from
    table 0, its second word's from table 1 and its third's from table 2; its MinHash value
    the same over tables 3-5. That is 3-independent, as a shingle hash for SimHash and
    one-permutation MinHash needs, and it is three shifted XORs over the words' table rows.
    """
    if len(words) < SHINGLE_WORDS:
        if not words:
            return _EMPTY, _EMPTY
        text = b" ".join(words) if isinstance(words[0], bytes) else " ".join(words).encode("utf-8")  # type: ignore[arg-type]
        digest = hashlib.blake2b(text, digest_size=16, person=_PERSON).digest()
        return np.frombuffer(digest[:8], _LE64), np.frombuffer(digest[8:], _LE64)
    # the tables' bytes are read as little-endian on any machine (they are stored values' inputs)
    rows = np.frombuffer(_word_tables(words), _LE64).reshape(-1, _TABLES)
    lanes = len(words) - SHINGLE_WORDS + 1
    sim = rows[0:lanes, 0].copy()
    minh = rows[0:lanes, SHINGLE_WORDS].copy()
    for offset in range(1, SHINGLE_WORDS):
        sim ^= rows[offset : offset + lanes, offset]
        minh ^= rows[offset : offset + lanes, SHINGLE_WORDS + offset]
    return sim, minh


def _simhash(values: np.ndarray) -> int:
    count = len(values)
    if not count:
        return 0
    # bit k of every value as column k (bytes little-endian, bits least significant first),
    # counted down the column: bit k of the SimHash is set when most shingles have it set
    octets = values.astype(_LE64, copy=False).view(np.uint8)
    bits = np.unpackbits(octets, bitorder="little").reshape(count, 64)
    # 16-bit counters where they cannot overflow: they sum ~1.5x faster than 64-bit ones
    counts = bits.sum(axis=0, dtype=np.uint16 if count < 1 << 16 else np.int64)
    return _signed(int.from_bytes(np.packbits(counts > count / 2, bitorder="little").tobytes(), "little"))


#: odd 64-bit multipliers of a band's three MinHash values (digits of pi; any odd values
#: with well-mixed bits would do, these are fixed because band keys are stored)
_MULTIPLIERS = np.array([0x243F6A8885A308D3, 0x13198A2E03707345, 0xA4093822299F31D1], np.uint64)
_SPLITMIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
#: a multiple of the band number added to each band's sum, so two bands' keys differ even
#: for the same minima
_BAND_OFFSETS = np.array([(band * _GOLDEN) & _MASK64 for band in range(BANDS)], np.uint64)


def _mixed_keys(filled: np.ndarray) -> tuple[int, ...]:
    """One key per band from its ROWS bin minima.

    The minima are random 64-bit values already: a different odd multiple of each, summed
    with a multiple of the band number, then the splitmix64 finaliser so every key bit
    depends on every input bit. uint64 arithmetic wraps modulo 2**64, as the keys need.
    """
    v = filled.reshape(BANDS, ROWS) @ _MULTIPLIERS
    v += _BAND_OFFSETS
    c1, c2 = _SPLITMIX
    v ^= v >> _SHIFTS[0]
    v *= c1
    v ^= v >> _SHIFTS[1]
    v *= c2
    v ^= v >> _SHIFTS[2]
    return tuple(v.view(np.int64).tolist())


def _band_keys(values: np.ndarray) -> tuple[int, ...]:
    count = len(values)
    if count < MIN_SHINGLES:
        return ()
    ordered = np.sort(values)
    at = np.searchsorted(ordered, _BIN_STARTS)
    # each bin's minimum is the first value at or past its start, if that value is still in it
    first = ordered[np.minimum(at, count - 1)]
    present = (at < count) & ((((first >> _HIGH) * _BINS_NP) >> _HIGH) == _BIN_NUMBERS)
    if present.all():
        return _mixed_keys(first)  # the usual case: nothing to densify
    # densification by rotation: an empty bin borrows the next non-empty bin's value,
    # offset by the distance so that two empty bins do not copy the same value
    bins = [value if ok else None for value, ok in zip(first.tolist(), present.tolist(), strict=True)]
    filled = [0] * _BINS
    for i in range(_BINS):
        for step in range(_BINS):
            value = bins[(i + step) % _BINS]
            if value is not None:
                filled[i] = (value + step * _GOLDEN) & _MASK64
                break
    return _mixed_keys(np.array(filled, np.uint64))


def _sample_keys(sim: np.ndarray, minh: np.ndarray) -> tuple[int, ...]:
    if len(sim) <= SAMPLE_SPAN:
        return ()
    picked = np.flatnonzero((minh[:-SAMPLE_SPAN] & np.uint64(SAMPLE_EVERY - 1)) == 0)
    # the window's two SimHash values mixed as the band keys are (splitmix64), and a constant
    # added so that a sample key is never the raw value of a shingle
    v = (sim[picked] * _MULTIPLIERS[1]) ^ sim[picked + SAMPLE_SPAN]
    v += np.uint64(_GOLDEN)
    c1, c2 = _SPLITMIX
    v ^= v >> _SHIFTS[0]
    v *= c1
    v ^= v >> _SHIFTS[1]
    v *= c2
    v ^= v >> _SHIFTS[2]
    return tuple(sorted(set(v.view(np.int64).tolist())))


def fingerprint_text(body: str, headline: str | None = None) -> str:
    """The text a story is fingerprinted on: the body, plus the headline when the body is short.

    Headlines and datelines are what outlets rewrite most, so they are left out of normal-length
    stories; a brief of a few lines has too little body to stand on its own.
    """
    if headline and len(_WORD.findall(body)) < SHORT_BODY_WORDS:
        return f"{headline}\n\n{body}"
    return body


def _text_digests(body: str, headline: str | None) -> tuple[np.ndarray, np.ndarray]:
    words = _words(body)
    if headline and len(words) < SHORT_BODY_WORDS:
        # as fingerprint_text() describes (one kind of token: both as str unless both ASCII)
        words = (_words(headline) + words if headline.isascii() == body.isascii()  # type: ignore[operator]
                 else tokens(headline) + tokens(body))
    return _digests(words)


def fingerprint(body: str, headline: str | None = None) -> Fingerprint:
    """SimHash, LSH band keys and sample keys of :func:`fingerprint_text`, from one pass over its shingles."""
    sim, minh = _text_digests(body, headline)
    return Fingerprint(simhash=_simhash(sim), band_keys=_band_keys(minh), sample_keys=_sample_keys(sim, minh))


#: the shingle set of no text
NO_SHINGLES = np.zeros(0, np.uint64)


def shingle_set(body: str, headline: str | None = None) -> np.ndarray:
    """The distinct shingles of :func:`fingerprint_text` (as their 64-bit SimHash inputs, sorted)."""
    return np.unique(_text_digests(body, headline)[0])


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller shingle set (:func:`shingle_set`) found in the other; 0 when it is too short."""
    smaller = min(len(a), len(b))
    if smaller < MIN_CONTAINED_SHINGLES:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller


def shared_samples(a: Fingerprint, b: Fingerprint) -> int:
    """Sample keys two fingerprints have in common."""
    return len(set(a.sample_keys).intersection(b.sample_keys))


def simhash(text: str) -> int:
    """64-bit SimHash of ``text``'s word shingles, as a signed 64-bit integer."""
    return _simhash(_digests(tokens(text))[0])


def band_keys(text: str) -> list[int]:
    """LSH keys of ``text`` (signed 64-bit); empty when the text is too short to compare."""
    if not isinstance(text, str):
        # keys come from the shingles, not from SimHash bits (see the module docstring)
        raise TypeError("band_keys() takes the story text; use fingerprint() for both values at once")
    return list(_band_keys(_digests(tokens(text))[1]))


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK64).bit_count()


def is_near_duplicate(a: int, b: int, threshold: int = HAMMING_THRESHOLD) -> bool:
    """True when two SimHashes are within ``threshold`` bits of each other."""
    return hamming(a, b) <= threshold


def shares_band(a: Fingerprint, b: Fingerprint) -> bool:
    """True when two fingerprints would find each other through the band index."""
    return not set(a.band_keys).isdisjoint(b.band_keys)


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    """Whole-text near-duplicates: a shared band key and SimHashes within the threshold."""
    return shares_band(a, b) and is_near_duplicate(a.simhash, b.simhash)


def resemblance(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two shingle sets (:func:`shingle_set`)."""
    union = len(np.union1d(a, b))
    return len(np.intersect1d(a, b, assume_unique=True)) / union if union else 0.0


def is_copy(mine: Fingerprint, my_shingles: np.ndarray, theirs: Fingerprint, their_shingles: np.ndarray,
            *, root: bool = True) -> bool:
    """The archive's decision on a candidate pair: does a new text (``mine``) join an archived one's story?

    * a whole-text copy: SimHashes within the threshold and shingle sets at least RESEMBLANCE alike
      (SimHash alone also passes a story that reuses half of another);
    * a partial copy: sharing MIN_SHARED_SAMPLES sample keys, the shorter text at least CONTAINED
      in the longer. A new text containing a shorter archived one joins it only when that one is
      its cluster's first article (``root``; its story's page 1 came first): when the shorter one is
      itself a partial copy of a story already archived, the new text may be a different story
      quoting the same part.

    ``theirs`` needs only its simhash (the archive stores no keys per article); the sample-key
    test is left to the caller then (the lookup found the shared keys).
    """
    if is_near_duplicate(mine.simhash, theirs.simhash) and \
            resemblance(my_shingles, their_shingles) >= RESEMBLANCE:
        return True
    if theirs.sample_keys and shared_samples(mine, theirs) < MIN_SHARED_SAMPLES:
        return False
    return containment(my_shingles, their_shingles) >= CONTAINED and \
        (root or len(my_shingles) <= len(their_shingles))
