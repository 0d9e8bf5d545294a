"""Near-duplicate detection for syndicated wire copy: SimHash + an LSH band index.

The same wire story is republished under other URLs and by other outlets with small edits:
a new headline or dateline, a reworded sentence, a paragraph added at the end, typos. This
module turns a story's text into

* ``simhash``: a 64-bit SimHash over word 3-shingles (stored beside the version); two
  stories are near-duplicates when their SimHashes differ in at most ``HAMMING_THRESHOLD``
  bits, and
* ``band_keys``: ``BANDS`` integer keys (stored in an indexed table); only articles sharing
  at least one key with a new article are compared with it, so the cost per new article is
  ``BANDS`` index lookups whatever the size of the archive.

Why the band keys come from the text and not from the SimHash bits: the pigeonhole scheme
(split the 64 bits into k+1 bands, any two fingerprints within k bits share a band) is only
selective for k <= 3 or 4. Measured on our test stories (tests/storage/test_neardup.py,
averaged over 200 hash seeds), lightly edited copies are 7-10 bits apart on average and up
to ~19 in the tail, while different stories on the same topic are 24-32 bits apart. A
pigeonhole index for k=18 needs 19 bands of 3 bits, i.e. every new article would be compared
with a large fraction of the archive. So the candidates come from MinHash-LSH over the same
shingles (one-permutation hashing with densification, ``BANDS`` bands of ``ROWS`` rows):
a pair with shingle Jaccard similarity J shares a key with probability 1-(1-J^3)^10, which
is 0.98 at J=0.7 (our edited copies have J=0.77-0.93), 0.24 at J=0.3 and 0.03 at J=0.15 (our
same-topic different stories have J<=0.15). The SimHash check then rejects the few
accidental candidates. All values are signed 64-bit integers so they fit an SQL BIGINT.

On 10k synthetic 230-word stories, 99.7% of edited copies (new headline, first sentence
replaced, a sentence appended) were found and no two different stories shared a band key
(benchmarks/storage.py measures this at every archive size).

Fingerprints are stored, so they must not change between processes or releases: words are
hashed with blake2b and combined by fixed rotations (see ``_digests``); a test pins one value.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import sys
import unicodedata
from array import array
from dataclasses import dataclass

#: words per shingle: 3 keeps a changed word local (3 shingles) while two different stories
#: about the same people and places share almost no 3-word sequences (Jaccard <= 0.15 on
#: our pairs, against 0.23 with 2-word shingles).
SHINGLE_WORDS = 3
#: a pair is a near-duplicate when the SimHashes differ in at most this many of 64 bits:
#: edited copies of our test stories average 7-10 bits (tail up to ~19 over 200 hash seeds),
#: different same-topic stories average 24-32 (tail down to ~15). 18 sits between the two
#: means, about 2.5 standard deviations from the different-story mean; a different story in
#: that tail is still rejected unless it also shares an LSH band, which needs Jaccard
#: similarity far above what different stories reach (see the module docstring).
HAMMING_THRESHOLD = 18
#: LSH layout: BANDS keys per article, each over ROWS one-permutation MinHash bins
BANDS = 10
ROWS = 3
#: texts with fewer shingles than this get no band keys: too short to call near-duplicates
#: (exact copies are still caught by the content hash)
MIN_SHINGLES = 8
#: bodies shorter than this many words are fingerprinted together with their headline
SHORT_BODY_WORDS = 60

_WORD = re.compile(r"\w+")
_MASK64 = (1 << 64) - 1
_BINS = BANDS * ROWS
# fingerprints must be stable across processes and releases (they are stored): changing the
# hashing or any parameter above means recomputing every stored fingerprint, so the band keys
# carry a version prefix
_BAND_PREFIX = b"newsarchive-neardup-v1"
# odd 64-bit constant (golden ratio) used to decorrelate densified bins
_GOLDEN = 0x9E3779B97F4A7C15


@dataclass(frozen=True)
class Fingerprint:
    """What the archive stores per version to find near-duplicates of it."""

    simhash: int
    band_keys: tuple[int, ...]


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


# word -> 64-bit hash; news vocabulary repeats heavily, so most words are found here. Bounded
# by clearing (a memo of a pure function: losing it costs time, never changes a result).
_WORD_HASHES: dict[str | bytes, int] = {}
_WORD_HASHES_MAX = 200_000


def _word_hashes(words: list[str] | list[bytes]) -> list[int]:
    cache = _WORD_HASHES
    try:
        # the usual case once the vocabulary is warm: every word known, one C-level pass
        return list(map(cache.__getitem__, words))
    except KeyError:
        pass
    missing: set[str | bytes] = set(words).difference(cache)  # type: ignore[assignment]
    if len(cache) + len(missing) > _WORD_HASHES_MAX:
        cache.clear()
        missing = set(words)
    blake2b = hashlib.blake2b
    for word in missing:
        data = word if isinstance(word, bytes) else word.encode("utf-8")
        cache[word] = int.from_bytes(blake2b(data, digest_size=8).digest(), "little")
    return list(map(cache.__getitem__, words))


@functools.lru_cache(maxsize=512)
def _rot_masks(r: int, lanes: int) -> tuple[int, int]:
    high = ((_MASK64 << r) & _MASK64).to_bytes(8, "little") * lanes
    low = ((1 << r) - 1).to_bytes(8, "little") * lanes
    return int.from_bytes(high, "little"), int.from_bytes(low, "little")


def _rot(x: int, r: int, lanes: int) -> int:
    """Rotate every 64-bit lane of the packed integer ``x`` left by ``r`` bits."""
    # masks longer than x are harmless (AND keeps the shorter length), so they are cached
    # per power-of-two size instead of per text length
    high, low = _rot_masks(r, 1 << max(lanes - 1, 1).bit_length())
    return ((x << r) & high) | ((x >> (64 - r)) & low)


def _mix(x: int, lanes: int) -> int:
    # two rounds of lane-local diffusion (XOR of rotations) and a chi-style nonlinear step
    # (x ^ (~rot1 & rot2), as in Keccak), so each output bit depends non-linearly on all
    # three words of its shingle
    ones = (1 << (64 * lanes)) - 1
    for r1, r2, a, b in ((13, 37, 1, 2), (23, 49, 7, 19)):
        x ^= _rot(x, r1, lanes) ^ _rot(x, r2, lanes)
        x ^= (_rot(x, a, lanes) ^ ones) & _rot(x, b, lanes)
    return x


def _digests(words: list[str] | list[bytes]) -> tuple[bytes, bytes]:
    """Two 64-bit values per word 3-shingle: (SimHash input, MinHash input), packed little-endian.

    Each word is hashed once (blake2b); the shingle values are then computed for all
    positions at once on one big integer holding every word hash in a 64-bit lane: lane i of
    ``packed >> 64`` is word i+1, and rotations, XOR and AND act on all lanes together. This
    keeps the per-shingle work in C and a 300-word story in a few hundred microseconds.
    """
    if len(words) < SHINGLE_WORDS:
        if not words:
            return b"", b""
        text = b" ".join(words) if isinstance(words[0], bytes) else " ".join(words).encode("utf-8")  # type: ignore[arg-type]
        digest = hashlib.blake2b(text, digest_size=16).digest()
        return digest[:8], digest[8:]
    hashes = array("Q", _word_hashes(words))
    if sys.byteorder == "big":
        hashes.byteswap()
    lanes = len(words) - SHINGLE_WORDS + 1
    keep = (1 << (64 * lanes)) - 1
    a = int.from_bytes(hashes.tobytes(), "little")
    b, c = a >> 64, a >> 128
    n = len(words)
    sim = _mix((a ^ _rot(b, 21, n) ^ _rot(c, 42, n)) & keep, lanes)
    minh = _mix((_rot(a, 9, n) ^ _rot(b, 31, n) ^ _rot(c, 50, n) ^ keep) & keep, lanes)
    return sim.to_bytes(8 * lanes, "little"), minh.to_bytes(8 * lanes, "little")


@functools.lru_cache(maxsize=64)
def _bit_masks(size: int) -> tuple[int, ...]:
    """Eight ints of ``size`` bytes, the j-th with bit j of every byte set."""
    return tuple(int.from_bytes(bytes([1 << j]) * size, "little") for j in range(8))


def _simhash(packed: bytes) -> int:
    count = len(packed) // 8
    if not count:
        return 0
    # masks longer than a column are harmless (AND keeps the shorter length), so they are
    # cached per power-of-two size instead of per text length
    masks = _bit_masks(1 << max(count - 1, 1).bit_length())
    half = count / 2
    value = 0
    for byte in range(8):
        # byte ``byte`` (little-endian) of every shingle's value, as one int: bit j of each of
        # its bytes counted at once with AND and bit_count, all in C
        column = int.from_bytes(packed[byte::8], "little")
        for j, mask in enumerate(masks):
            if (column & mask).bit_count() > half:
                value |= 1 << (8 * byte + j)
    return _signed(value)


def _values(packed: bytes) -> list[int]:
    words = array("Q")
    words.frombytes(packed)
    if sys.byteorder == "big":
        words.byteswap()
    return words.tolist()


_BAND_HEADS = tuple(_BAND_PREFIX + band.to_bytes(2, "little") for band in range(BANDS))
_PACK_ROWS = struct.Struct(f"<{ROWS}Q").pack


def _band_keys(packed: bytes) -> tuple[int, ...]:
    if len(packed) // 8 < MIN_SHINGLES:
        return ()
    # the smallest value per bin: a dict built from the values in descending order keeps the
    # last, smallest, value of each bin, all in C
    values = sorted(_values(packed), reverse=True)
    smallest = dict(zip(map(_BINS.__rmod__, values), values, strict=True))
    if len(smallest) == _BINS:
        filled = [smallest[i] for i in range(_BINS)]  # the usual case: nothing to densify
    else:
        bins: list[int | None] = [smallest.get(i) for i in range(_BINS)]
        # densification by rotation: an empty bin borrows the next non-empty bin's value,
        # offset by the distance so that two empty bins do not copy the same value
        filled = [0] * _BINS
        for i in range(_BINS):
            for step in range(_BINS):
                value = bins[(i + step) % _BINS]
                if value is not None:
                    filled[i] = (value + step * _GOLDEN) & _MASK64
                    break
    blake2b = hashlib.blake2b
    return tuple(
        _signed(int.from_bytes(blake2b(head + _PACK_ROWS(*filled[band * ROWS : (band + 1) * ROWS]),
                                       digest_size=8).digest(), "little"))
        for band, head in enumerate(_BAND_HEADS)
    )


def fingerprint_text(body: str, headline: str | None = None) -> str:
    """The text a story is fingerprinted on: the body, plus the headline when the body is short.

    Headlines and datelines are what outlets rewrite most, so they are left out of normal-length
    stories; a brief of a few lines has too little body to stand on its own.
    """
    if headline and len(_WORD.findall(body)) < SHORT_BODY_WORDS:
        return f"{headline}\n\n{body}"
    return body


def fingerprint(body: str, headline: str | None = None) -> Fingerprint:
    """SimHash and LSH band keys of :func:`fingerprint_text`, from one pass over its shingles."""
    words = _words(body)
    if headline and len(words) < SHORT_BODY_WORDS:
        # as fingerprint_text() describes (one kind of token: both as str unless both ASCII)
        words = (_words(headline) + words if headline.isascii() == body.isascii()  # type: ignore[operator]
                 else tokens(headline) + tokens(body))
    sim, minh = _digests(words)
    return Fingerprint(simhash=_simhash(sim), band_keys=_band_keys(minh))


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
    """The archive's decision: a shared band key and SimHashes within the threshold."""
    return shares_band(a, b) and is_near_duplicate(a.simhash, b.simhash)
