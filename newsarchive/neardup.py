"""Near-duplicate detection for syndicated wire copy, on a story's word 3-shingles.

A :class:`Fingerprint` holds a 64-bit SimHash (copies differ in at most ``HAMMING_THRESHOLD``
bits), ``BANDS`` MinHash-LSH band keys (only articles sharing one are compared; a pair of
Jaccard J shares one with probability 1-(1-J^3)^10: 0.98 at J=0.7, 0.03 at 0.15) and
content-defined sample keys (a partial copy, page 1 of 2, shares most of its samples with the
whole story). ``is_copy`` decides on the shingle sets. Fingerprints are stored: hashing must not
change between processes or releases (a test pins values). Measurements: benchmarks/README.md.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: words per shingle: a changed word stays local, different same-topic stories share almost none
SHINGLE_WORDS = 3
#: SimHash bits a copy may differ in: edited copies average 8 (tail 18), different stories 30 (tail 15)
HAMMING_THRESHOLD = 18
#: LSH layout: BANDS keys per article, each over ROWS one-permutation MinHash bins
BANDS = 10
ROWS = 3
#: texts of fewer shingles get no band keys: too short to call copies (exact ones share a content hash)
MIN_SHINGLES = 8
#: bodies shorter than this many words are fingerprinted together with their headline
SHORT_BODY_WORDS = 60
#: the 6-word window at a shingle is sampled when its MinHash value is 0 modulo this, so every
#: copy samples the same windows (~14 samples for a 230-word story)
SAMPLE_EVERY = 16
#: a sample key mixes the SimHash values of a shingle and the one this many after it: 6 words, so
#: common 3-word phrases ("said in a") are not shared by unrelated stories
SAMPLE_SPAN = 3
#: sample keys a pair shares before containment is checked (a partial copy shares nearly all)
MIN_SHARED_SAMPLES = 2
#: a shorter text this contained in a longer one is a partial copy (page 1 of 2: 0.95-0.98); quoting
#: 40% of a story, or reusing half of one, stays below (tests/storage/test_containment.py)
CONTAINED = 0.8
#: whole-text copies also need shingle sets this alike: edited copies are 0.77-0.93, a story reusing
#: half of another ~0.3-0.45 (its SimHash can be as near as a copy's)
RESEMBLANCE = 0.6
#: containment is not judged for texts of fewer shingles: too short to tell a copy from a quote
MIN_CONTAINED_SHINGLES = 40

# stored values: changing the hashing or a parameter above needs a migration recomputing them
_WORD = re.compile(r"\w+")
_LE64 = np.dtype("<u8")
_BINS = BANDS * ROWS
# bin of a value v is ((v >> 32) * _BINS) >> 32, which grows with v: bin b holds the values from
# _BIN_STARTS[b] up to the next bin's start, so a binary search in sorted values finds its minimum
_BIN_STARTS = np.array([-(-(b << 32) // _BINS) << 32 for b in range(_BINS)], np.uint64)
_BIN_NUMBERS = np.arange(_BINS)
# odd 64-bit constant (golden ratio) that decorrelates densified bins, bands and samples
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
# odd multipliers of a band's three minima (digits of pi)
_MULTIPLIERS = np.array([0x243F6A8885A308D3, 0x13198A2E03707345, 0xA4093822299F31D1], np.uint64)
# added to each band's sum so two bands' keys differ even for the same minima
_BAND_OFFSETS = np.arange(BANDS, dtype=np.uint64) * _GOLDEN
_SPLITMIX = (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9), np.uint64(27), np.uint64(0x94D049BB133111EB),
             np.uint64(31))
_SAMPLE_MASK = np.uint64(SAMPLE_EVERY - 1)


#: the shingle set of no text
NO_SHINGLES = np.zeros(0, _LE64)


@dataclass(frozen=True)
class Fingerprint:
    """What the archive stores per version to find near-duplicates of it."""

    simhash: int
    band_keys: tuple[int, ...]
    sample_keys: tuple[int, ...] = ()  # rows of neardup_keys beside the band keys, not a column

    @property
    def keys(self) -> tuple[int, ...]:
        """Every key the index holds for the text: band keys, then sample keys."""
        return self.band_keys + self.sample_keys


def tokens(text: str) -> list[str]:
    """Words of ``text`` after NFKC, casefolding and ё→е (a common Russian spelling variant)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("ё", "е"))


# ASCII text (most wire copy) is split as bytes, a table lookup per byte: the same words as
# tokens() (for ASCII, \w is [0-9A-Za-z_]), and a word hashes the same either way (its UTF-8)
_ASCII_GAPS = bytes(i if chr(i).isalnum() or chr(i) == "_" else 32 for i in range(128)) + b" " * 128


def _words(text: str) -> list[str] | list[bytes]:
    if text.isascii():
        return text.encode("ascii").lower().translate(_ASCII_GAPS).split()
    return tokens(text)


def shingles(text: str) -> set[str]:
    """The word 3-shingles of ``text`` as strings (the whole text if it is shorter)."""
    words = tokens(text)
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


# word -> its six 64-bit table values (one blake2b digest). News vocabulary repeats, so most
# words are found here; cleared when full (~200 bytes an entry: a source's common vocabulary)
_WORD_TABLES: dict[str | bytes, bytes] = {}
_WORD_TABLES_MAX = 1 << 16
_TABLES = 2 * SHINGLE_WORDS
_PERSON = b"na-neardup-v2"  # blake2b personalisation: the word tables of fingerprint version 2


def _word_tables(words: Sequence[str | bytes]) -> bytes:
    try:  # the usual case once the vocabulary is warm: one C-level pass
        return b"".join(map(_WORD_TABLES.__getitem__, words))
    except KeyError:
        missing = set(words).difference(_WORD_TABLES)
    if len(_WORD_TABLES) + len(missing) > _WORD_TABLES_MAX:
        _WORD_TABLES.clear()
        missing = set(words)
    for word in missing:
        data = word if isinstance(word, bytes) else word.encode("utf-8")
        _WORD_TABLES[word] = hashlib.blake2b(data, digest_size=8 * _TABLES, person=_PERSON).digest()
    return b"".join(map(_WORD_TABLES.__getitem__, words))


def _digests(words: list[str] | list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit values per word 3-shingle: (SimHash input, MinHash input), as uint64 arrays.

    Simple tabulation hashing (3-independent, as SimHash and one-permutation MinHash need): a
    shingle's SimHash value is the XOR of its words' values from tables 0, 1 and 2, its MinHash
    value the same over tables 3-5.
    """
    if len(words) < SHINGLE_WORDS:
        if not words:
            return NO_SHINGLES, NO_SHINGLES
        text = b" ".join(w if isinstance(w, bytes) else w.encode("utf-8") for w in words)
        digest = hashlib.blake2b(text, digest_size=16, person=_PERSON).digest()
        return np.frombuffer(digest[:8], _LE64), np.frombuffer(digest[8:], _LE64)
    # little-endian on any machine: the tables are stored values' inputs
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
    # bit k of every value as column k (least significant first): set in the SimHash when most values have it
    octets = values.astype(_LE64, copy=False).view(np.uint8)
    bits = np.unpackbits(octets, bitorder="little").reshape(count, 64)
    counts = bits.sum(axis=0, dtype=np.uint16 if count < 1 << 16 else np.int64)  # 16 bits sum ~1.5x faster
    return int(np.packbits(counts > count / 2, bitorder="little").view("<i8")[0])


def _splitmix(v: np.ndarray) -> list[int]:
    """splitmix64's finaliser (every output bit depends on every input bit), as signed 64-bit ints."""
    s1, m1, s2, m2, s3 = _SPLITMIX
    v ^= v >> s1
    v *= m1
    v ^= v >> s2
    v *= m2
    v ^= v >> s3
    return v.view(np.int64).tolist()


def _band_keys(values: np.ndarray) -> tuple[int, ...]:
    count = len(values)
    if count < MIN_SHINGLES:
        return ()
    ordered = np.sort(values)
    at = np.searchsorted(ordered, _BIN_STARTS)
    minima = ordered[np.minimum(at, count - 1)]  # bin b holds ordered[at[b]:at[b + 1]]
    if at[-1] == count or len(set(at.tolist())) < _BINS:  # a bin is empty (a set is the fastest test)
        # densification by rotation: an empty bin takes the next full bin's minimum, plus
        # _GOLDEN times the distance so that two empty bins differ
        full = np.flatnonzero(np.diff(at, append=count))
        source = full[np.searchsorted(full, _BIN_NUMBERS) % len(full)]
        minima = minima[source] + ((source - _BIN_NUMBERS) % _BINS).astype(np.uint64) * _GOLDEN
    # uint64 arithmetic wraps modulo 2**64, as the keys need
    return tuple(_splitmix(minima.reshape(BANDS, ROWS) @ _MULTIPLIERS + _BAND_OFFSETS))


def _sample_keys(sim: np.ndarray, minh: np.ndarray) -> tuple[int, ...]:
    picked = np.flatnonzero((minh[:-SAMPLE_SPAN] & _SAMPLE_MASK) == 0)
    # _GOLDEN added so that a sample key is never the raw value of a shingle
    window = (sim[picked] * _MULTIPLIERS[1]) ^ sim[picked + SAMPLE_SPAN]
    return tuple(sorted(set(_splitmix(window + _GOLDEN))))


def _text_digests(body: str, headline: str | None) -> tuple[np.ndarray, np.ndarray]:
    words = _words(body)
    if headline and len(words) < SHORT_BODY_WORDS:
        # outlets rewrite headlines, so only a brief, too short to stand alone, is read with its own
        words = _words(f"{headline}\n\n{body}")
    return _digests(words)


def fingerprint(body: str, headline: str | None = None) -> Fingerprint:
    """SimHash, band keys and sample keys of a story, from one pass over its shingles."""
    sim, minh = _text_digests(body, headline)
    return Fingerprint(_simhash(sim), _band_keys(minh), _sample_keys(sim, minh))


def shingle_set(body: str, headline: str | None = None) -> np.ndarray:
    """The distinct shingles :func:`fingerprint` reads (their 64-bit SimHash inputs, sorted)."""
    return np.unique(_text_digests(body, headline)[0])


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller shingle set found in the other; 0 when it is too short to judge."""
    smaller = min(len(a), len(b))
    if smaller < MIN_CONTAINED_SHINGLES:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / smaller


def resemblance(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two shingle sets."""
    union = len(np.union1d(a, b))
    return len(np.intersect1d(a, b, assume_unique=True)) / union if union else 0.0


def shared_samples(a: Fingerprint, b: Fingerprint) -> int:
    """Sample keys two fingerprints have in common."""
    return len(set(a.sample_keys).intersection(b.sample_keys))


def is_near_duplicate(a: int, b: int) -> bool:
    """True when two SimHashes (signed or unsigned 64-bit) differ in at most HAMMING_THRESHOLD bits."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count() <= HAMMING_THRESHOLD


def is_copy(mine: Fingerprint, my_shingles: np.ndarray, theirs: Fingerprint, their_shingles: np.ndarray,
            *, root: bool = True) -> bool:
    """Does a new text (``mine``) join an archived one's story?

    * a whole-text copy: SimHashes near and shingle sets at least RESEMBLANCE alike (SimHash
      alone also passes a story that reuses half of another);
    * a partial copy: MIN_SHARED_SAMPLES sample keys shared, the shorter text CONTAINED in the
      longer. A new text containing a shorter archived one joins it only when that one is its
      cluster's first (``root``): otherwise the new text may be another story quoting the same part.

    ``theirs`` may hold only a simhash (the archive stores no keys per article): the caller's
    lookup then found the shared sample keys.
    """
    if is_near_duplicate(mine.simhash, theirs.simhash) and \
            resemblance(my_shingles, their_shingles) >= RESEMBLANCE:
        return True
    if theirs.sample_keys and shared_samples(mine, theirs) < MIN_SHARED_SAMPLES:
        return False
    return containment(my_shingles, their_shingles) >= CONTAINED and \
        (root or len(my_shingles) <= len(their_shingles))
