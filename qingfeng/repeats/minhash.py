"""MinHash over character bigrams, cut into LSH bands stored as indexed integer rows.

With BANDS bands of ROWS rows, two texts of bigram Jaccard J share at least one band with
probability 1 - (1 - J**ROWS)**BANDS: 0.94 at J = 0.7, 0.99 at J = 0.8, 0.01 at J = 0.1.
The band rows live in the database (RepeatBand), so nothing is held in memory.
The constants are part of the stored index: changing them needs `rebuild_repeat_index`.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable

import numpy as np

BANDS = 10
ROWS = 4
NUM_PERM = BANDS * ROWS
_SEED = 20240601

_rng = np.random.default_rng(_SEED)
# Multiply-shift hashing: (a * x + b) mod 2**64, top 32 bits. a is odd.
_A = (_rng.integers(1, 2**63 - 1, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)).astype(np.uint64)
_B = _rng.integers(0, 2**63 - 1, size=NUM_PERM, dtype=np.uint64)
_MAX = np.uint32(0xFFFFFFFF)


def signature(shingles: Iterable[str]) -> np.ndarray:
    """NUM_PERM uint32 minimums; all-max for an empty set."""
    hv = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in shingles), dtype=np.uint64)
    if hv.size == 0:
        return np.full(NUM_PERM, _MAX, dtype=np.uint32)
    with np.errstate(over="ignore"):
        mixed = (hv[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    return mixed.min(axis=0).astype(np.uint32)


def bands(sig: np.ndarray) -> list[int]:
    """One signed 64-bit key per band (band number mixed in, so bands never collide)."""
    if bool((sig == _MAX).all()):
        return []
    out = []
    for i in range(BANDS):
        chunk = sig[i * ROWS : (i + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(chunk, digest_size=8, person=f"qfband{i:02d}".encode()).digest()
        out.append(int.from_bytes(digest, "big", signed=True))
    return out


def estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean())
