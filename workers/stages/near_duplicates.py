"""Near-duplicate fingerprints of a body: MinHash over word shingles, LSH band keys, verification.

``fingerprint(body)`` gives what an ingest-time lookup needs (``DedupKeys``): band keys, short
strings stored in a keyword field and looked up with one search per bulk batch, and a small MinHash
signature kept with the document, from which ``similarity`` estimates the Jaccard similarity of two
bodies' shingle sets. Two bodies are copies of one text when they share a band key and
``similarity`` reaches ``DUPLICATE_THRESHOLD`` (chosen with ``make bench-dedup``).

- Tokens are lower-cased words (each CJK character is one), shingles ``SHINGLE_WORDS`` consecutive
  tokens, each hashed to 64 bits (CRC-32 of each word, mixed and combined by position).
- ``NUM_PERM`` hash functions of the multiply-shift family give the MinHash; the first
  ``BANDS * ROWS`` values make ``BANDS`` band keys of ``ROWS`` values each: a pair of Jaccard
  similarity J shares at least one key with probability 1 - (1 - J**ROWS)**BANDS.
- The stored signature keeps the lowest ``SIGNATURE_BITS`` bits of every value (b-bit MinHash,
  Li and König 2010); ``similarity`` removes the chance agreement of b-bit values.

Every constant here is part of the stored data: changing one (or ``_SEED``) makes new keys that
never match old documents, like a mapping change (recompute and reindex).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

SHINGLE_WORDS = 5
NUM_PERM = 128
BANDS = 32
ROWS = 3
BAND_KEY_CHARS = 8  # a band's digit and 7 base64url digits of its hash (``_band_keys``)
SIGNATURE_BITS = 8
DUPLICATE_THRESHOLD = 0.40  # chosen with `make bench-dedup` (the middle of the thresholds meeting every goal)
#: a copy at least this similar to the document it was matched with is not searchable by its band
#: keys (``with_cluster``): later copies find that document instead, so the lookup's search reads
#: one document per set of near-identical copies, not every copy of a story carried by many sites
NEAR_IDENTICAL = 0.90
_SEED = 19

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)
_rng = np.random.default_rng(_SEED)
_MUL = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
_ADD = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_POSITION = _rng.integers(1, 2**63, size=SHINGLE_WORDS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_BAND_ROW = _rng.integers(1, 2**63, size=ROWS + 1, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_CHANCE = 1.0 / (1 << SIGNATURE_BITS)  # two b-bit values of different minima agree this often
_SIGNATURE_MASK = np.uint32((1 << SIGNATURE_BITS) - 1)
_BAND_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"[:BANDS]
_BASE64URL = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8)
_SEXTET_SHIFTS = np.arange(63, 21, -6, dtype=np.uint64) - np.uint64(5)  # the top 42 bits, 6 at a time
_CHUNK = 512  # shingles per block of the MinHash product (fits the CPU cache)


@dataclass(frozen=True, slots=True)
class DedupKeys:
    """What the near-duplicate lookup needs of one body."""

    bands: tuple[str, ...]  # LSH band keys, 8 characters: the band's digit and a 42-bit hash of its rows
    signature: bytes  # NUM_PERM b-bit MinHash values, one byte each
    shingles: int  # size of the body's shingle set (0: no words)

    def stored(self) -> dict[str, Any]:
        """The document's ``dedup`` field (``workers.models.DedupFields``): the signature in base64."""
        return {"bands": list(self.bands), "signature": base64.b64encode(self.signature).decode("ascii"),
                "shingles": self.shingles}

    @classmethod
    def from_stored(cls, fields: Mapping[str, Any]) -> DedupKeys:
        """The keys from a document's ``dedup`` field (bands may be left out: verification needs none)."""
        return cls(tuple(fields.get("bands") or ()), base64.b64decode(fields["signature"]), int(fields["shingles"]))


EMPTY = DedupKeys((), bytes(NUM_PERM), 0)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every input bit moves every output bit (uint64 arrays, wrapping)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(body: str) -> np.ndarray:
    """The distinct 64-bit hashes of the body's word shingles (one shingle if it is shorter)."""
    tokens = _TOKEN.findall(body.lower())
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    codes = {t: zlib.crc32(t.encode("utf-8")) for t in set(tokens)}
    words = _mix64(np.fromiter((codes[t] for t in tokens), dtype=np.uint64, count=len(tokens)))
    n = max(1, len(words) - SHINGLE_WORDS + 1)
    combined = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(min(SHINGLE_WORDS, len(words))):
            combined += words[j:j + n] * _POSITION[j]
    return np.unique(_mix64(combined))


def _minhash(hashes: np.ndarray) -> np.ndarray:
    """NUM_PERM minima (uint32) of the multiply-shift hashes (a*x + b mod 2**64) >> 32."""
    minima = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, hashes.size, _CHUNK):  # bounded memory for very long bodies
        values = (hashes[start:start + _CHUNK, None] * _MUL[None, :] + _ADD[None, :]) >> np.uint64(32)
        np.minimum(minima, values.min(axis=0), out=minima)
    return minima.astype(np.uint32)


def _band_keys(minima: np.ndarray) -> tuple[str, ...]:
    """One key per band: the band's digit (base 32) and a 42-bit hash of its rows (7 base64url digits)."""
    rows = minima[: BANDS * ROWS].astype(np.uint64).reshape(BANDS, ROWS)
    combined = _mix64((rows * _BAND_ROW[:ROWS]).sum(axis=1) + np.arange(BANDS, dtype=np.uint64) * _BAND_ROW[ROWS])
    digits = (combined[:, None] >> _SEXTET_SHIFTS) & np.uint64(63)
    text = _BASE64URL[digits].tobytes().decode("ascii")
    return tuple(_BAND_DIGITS[i] + text[7 * i: 7 * i + 7] for i in range(BANDS))


def fingerprint(body: str) -> DedupKeys:
    """Band keys and signature of a body (``EMPTY``, which matches nothing, when it has no words)."""
    hashes = shingle_hashes(body)
    if not hashes.size:
        return EMPTY
    minima = _minhash(hashes)
    signature = (minima & _SIGNATURE_MASK).astype(np.uint8).tobytes()
    return DedupKeys(_band_keys(minima), signature, int(hashes.size))


def similarity(a: DedupKeys, b: DedupKeys) -> float:
    """Estimated Jaccard similarity of two bodies' shingle sets, from their signatures."""
    if not a.shingles or not b.shingles:
        return 0.0
    agree = np.count_nonzero(np.frombuffer(a.signature, np.uint8) == np.frombuffer(b.signature, np.uint8))
    return similarity_of_agreements(int(agree))


def similarity_of_agreements(agree: int) -> float:
    """Estimated Jaccard similarity of two signatures that share ``agree`` of their values."""
    return max(0.0, (agree / NUM_PERM - _CHANCE) / (1.0 - _CHANCE))


def is_near_duplicate(a: DedupKeys, b: DedupKeys, threshold: float = DUPLICATE_THRESHOLD) -> bool:
    """Whether two bodies are copies of one text: a shared band key and enough similarity."""
    return bool(a.shingles and b.shingles and set(a.bands) & set(b.bands)) and similarity(a, b) >= threshold


def min_agreements(threshold: float = DUPLICATE_THRESHOLD) -> int:
    """Signature values two bodies must share for ``similarity`` to reach ``threshold``."""
    return math.ceil(round((threshold * (1.0 - _CHANCE) + _CHANCE) * NUM_PERM, 9))


def new_cluster_id(doc_id: str, keys: DedupKeys) -> str:
    """The id of the cluster a document starts: from its id and its text, so a redelivered page
    proposes the same cluster and a page whose URL now shows another text proposes another."""
    return hashlib.blake2b(doc_id.encode("utf-8") + keys.signature, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Copy:
    """A document already placed in a cluster, as the lookup sees it."""

    doc_id: str
    cluster_id: str
    origin_id: str  # the first copy of the cluster (its own id when it is the first)
    keys: DedupKeys


@dataclass(frozen=True, slots=True)
class ClusterDecision:
    """Where a document goes: ``duplicate_of`` is the cluster's first copy, None on that copy."""

    cluster_id: str
    duplicate_of: str | None
    matched: str | None = None  # the copy it was found similar to (itself when it is kept as before)
    similarity: float | None = None


def decide(doc_id: str, keys: DedupKeys, candidates: list[Copy], threshold: float = DUPLICATE_THRESHOLD) -> ClusterDecision | None:
    """The cluster of a document among copies found by its band keys, or None (no verified copy).

    The document's own earlier version wins when it is still the same text (a redelivered or
    re-fetched page keeps its cluster); otherwise the most similar verified copy.
    """
    best: tuple[float, Copy] | None = None
    for copy in candidates:
        score = similarity(keys, copy.keys)
        if score < threshold:
            continue
        if copy.doc_id == doc_id:
            return ClusterDecision(copy.cluster_id, None if copy.origin_id == doc_id else copy.origin_id, doc_id, score)
        if best is None or score > best[0]:
            best = (score, copy)
    if best is None:
        return None
    score, copy = best
    return ClusterDecision(copy.cluster_id, None if copy.origin_id == doc_id else copy.origin_id, copy.doc_id, score)


def first_copy(doc_id: str, keys: DedupKeys) -> ClusterDecision:
    return ClusterDecision(new_cluster_id(doc_id, keys), None)


class LocalClusters:
    """Clusters kept in memory: the decision rule of the ingest-time lookup, for one process (a
    benchmark, an offline run, one bulk batch before it meets the index)."""

    def __init__(self, threshold: float = DUPLICATE_THRESHOLD, max_candidates: int = 10) -> None:
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.copies: dict[str, Copy] = {}
        self._by_band: dict[str, list[str]] = {}

    def candidates(self, doc_id: str, keys: DedupKeys) -> list[Copy]:
        """Copies sharing a band key, the most shared keys first (what the index search returns)."""
        shared: dict[str, int] = {}
        for band in keys.bands:
            for other in self._by_band.get(band, ()):
                shared[other] = shared.get(other, 0) + 1
        ranked = sorted(shared, key=lambda d: -shared[d])[: self.max_candidates]
        return [self.copies[d] for d in ranked]

    def add(self, doc_id: str, keys: DedupKeys) -> ClusterDecision:
        if not keys.shingles:
            return first_copy(doc_id, keys)
        decision = decide(doc_id, keys, self.candidates(doc_id, keys), self.threshold) or first_copy(doc_id, keys)
        previous = self.copies.get(doc_id)
        for band in previous.keys.bands if previous else ():
            self._by_band[band].remove(doc_id)
        for band in keys.bands:
            self._by_band.setdefault(band, []).append(doc_id)
        self.copies[doc_id] = Copy(doc_id, decision.cluster_id, decision.duplicate_of or doc_id, keys)
        return decision


def keys_of_document(document: Mapping[str, Any]) -> DedupKeys:
    """A document's keys: its ``dedup`` field as the enrich stage stored it, else (a message from
    before documents carried it, or a field that does not read) the fingerprint of its body."""
    stored = document.get("dedup")
    if isinstance(stored, Mapping):
        try:
            keys = DedupKeys.from_stored(stored)
        except (KeyError, TypeError, ValueError):
            pass
        else:
            if len(keys.signature) == NUM_PERM and (len(keys.bands) == BANDS or not keys.shingles):
                return keys
    body = document.get("body")
    return fingerprint(body if isinstance(body, str) else "")


def searchable(doc_id: str, decision: ClusterDecision) -> bool:
    """Whether a placed document's band keys go into the index: all but a copy that is
    ``NEAR_IDENTICAL`` to another document it was matched with (its own earlier version aside)."""
    return not (decision.duplicate_of and decision.matched not in (None, doc_id)
                and decision.similarity is not None and decision.similarity >= NEAR_IDENTICAL)


def with_cluster(doc_id: str, document: Mapping[str, Any], keys: DedupKeys, decision: ClusterDecision) -> dict[str, Any]:
    """The document with its cluster, its first copy (left out on the first copy) and its keys,
    without the band keys of a near-identical copy (``searchable``)."""
    placed = {name: value for name, value in document.items() if name not in ("cluster_id", "duplicate_of")}
    placed["cluster_id"] = decision.cluster_id
    if decision.duplicate_of:
        placed["duplicate_of"] = decision.duplicate_of
    placed["dedup"] = keys.stored()
    if not searchable(doc_id, decision):
        placed["dedup"]["bands"] = []
    return placed
