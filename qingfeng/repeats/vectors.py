"""The in-process approximate nearest-neighbour index over the stored case vectors.

The database (RepeatDoc.vector) is the source of truth. Each process keeps one HNSW index
(usearch, int8-quantised cosine: measured 178 MiB for 210,000 vectors, so about 0.85 GiB at one
million cases) that only *proposes* candidates; their exact cosine is then computed from the
float16 vectors read back from the database, so quantisation never decides a score and a
stale or deleted entry is simply dropped.

Keeping in step across processes: every lookup first runs `sync()`, which (at most once per
REPEATS_VECTOR_SYNC_SECONDS) reads the ids of rows indexed since the last sync, minus a slack
that covers transactions still open at that time, and adds the new vectors. The slack is short
(SHORT_SLACK) on the per-second path, so its cost follows the registration rate, not the last
bulk load; every RECONCILE_SECONDS a pass with the long SLACK picks up rows of transactions
that stayed open longer. A restart rebuilds from the database, or loads the snapshot written by
`rebuild_repeat_index --snapshot` and catches up from its time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatDoc

logger = logging.getLogger(__name__)

SLACK = timedelta(minutes=10)
SHORT_SLACK = timedelta(seconds=30)
RECONCILE_SECONDS = 300.0
_BATCH = 5000


class _Backend(Protocol):
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, key: int) -> None: ...
    def contains(self, key: int) -> bool: ...
    def search(self, vector: np.ndarray, k: int) -> list[int]: ...
    def search_scored(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def __len__(self) -> int: ...
    def memory_bytes(self) -> int: ...


class _UsearchBackend:
    def __init__(self, index: Any | None = None) -> None:
        from usearch.index import Index

        dtype = getattr(settings, "REPEATS_VECTOR_DTYPE", "i8")
        self.index = (
            index if index is not None else Index(ndim=embedding.DIM, metric="cos", dtype=dtype, connectivity=16)
        )

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.index.add(keys.astype(np.uint64), vectors.astype(np.float32), threads=1)

    def remove(self, key: int) -> None:
        self.index.remove(int(key))

    def contains(self, key: int) -> bool:
        return int(key) in self.index

    def search(self, vector: np.ndarray, k: int) -> list[int]:
        return [key for key, _ in self.search_scored(vector, k)]

    def search_scored(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self.index) == 0:
            return []
        found = self.index.search(vector.astype(np.float32), k, threads=1)
        keys = np.atleast_1d(found.keys)
        sims = 1.0 - np.atleast_1d(found.distances)
        return [(int(key), float(sim)) for key, sim in zip(keys, sims, strict=True)]

    def __len__(self) -> int:
        return len(self.index)

    def memory_bytes(self) -> int:
        return int(self.index.memory_usage)


class _NumpyBackend:
    """Exact search; used when usearch is not installed (fine for small offices and tests)."""

    def __init__(self) -> None:
        self.keys: dict[int, int] = {}
        self.mat = np.zeros((0, embedding.DIM), dtype=np.float32)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        for key, vec in zip(keys.tolist(), vectors, strict=True):
            if key in self.keys:
                self.mat[self.keys[key]] = vec
            else:
                self.keys[key] = len(self.mat)
                self.mat = np.vstack([self.mat, vec[None, :]])

    def remove(self, key: int) -> None:
        row = self.keys.pop(int(key), None)
        if row is not None:
            self.mat[row] = 0.0

    def contains(self, key: int) -> bool:
        return int(key) in self.keys

    def search(self, vector: np.ndarray, k: int) -> list[int]:
        return [key for key, _ in self.search_scored(vector, k)]

    def search_scored(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.keys:
            return []
        sims = self.mat @ vector
        order = np.argsort(-sims)[: k + 8]
        rows = {row: key for key, row in self.keys.items()}
        return [(rows[int(i)], float(sims[i])) for i in order if int(i) in rows][:k]

    def __len__(self) -> int:
        return len(self.keys)

    def memory_bytes(self) -> int:
        return int(self.mat.nbytes)


def _new_backend() -> _Backend:
    try:
        return _UsearchBackend()
    except ImportError:
        logger.warning("usearch is not installed: exact vector search in memory")
        return _NumpyBackend()


def _db_identity() -> str:
    return f"{connection.vendor}:{connection.settings_dict.get('NAME')}"


class VectorIndex:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._backend: _Backend | None = None
        self._db: str = ""
        self._synced_from: datetime | None = None
        self._last_sync = 0.0
        self._last_reconcile = 0.0
        self._versions: dict[int, datetime] = {}

    # --- lifecycle ------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._backend = None
            self._db = ""
            self._synced_from = None
            self._versions = {}
            self._last_sync = 0.0
            self._last_reconcile = 0.0

    def _ensure(self) -> _Backend:
        if self._backend is not None and self._db == _db_identity():
            return self._backend
        self.reset()
        self._db = _db_identity()
        if not self._load_snapshot():
            self.build()
        assert self._backend is not None
        return self._backend

    def build(self) -> int:
        """(Re)build from every stored vector in the database; returns how many were added."""
        with self._lock:
            started = timezone.now()
            backend = _new_backend()
            total = 0
            last = 0
            qs = RepeatDoc.objects.filter(vector__isnull=False, vector_model=embedding.vector_tag()).order_by("pk")
            while True:
                rows = list(qs.filter(pk__gt=last).values_list("pk", "vector")[:_BATCH])
                if not rows:
                    break
                keys = np.array([r[0] for r in rows], dtype=np.uint64)
                vecs = np.stack([embedding.from_bytes(r[1]) for r in rows])  # type: ignore[misc]
                backend.add(keys, vecs)
                total += len(rows)
                last = rows[-1][0]
            self._backend = backend
            self._db = _db_identity()
            self._synced_from = started
            self._last_sync = self._last_reconcile = time.monotonic()
            self._versions = {}
            return total

    # --- snapshot -------------------------------------------------------------------

    @staticmethod
    def snapshot_path() -> Path | None:
        path = getattr(settings, "REPEATS_VECTOR_SNAPSHOT", None)
        return Path(path) if path else None

    def save_snapshot(self, path: Path | None = None) -> Path | None:
        path = path or self.snapshot_path()
        with self._lock:
            backend = self._ensure()
            if path is None or not isinstance(backend, _UsearchBackend):
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
            backend.index.save(str(path))
            meta = {
                "model": embedding.vector_tag(),
                "db": self._db,
                "synced_from": (self._synced_from or timezone.now()).isoformat(),
                "count": len(backend),
            }
            path.with_suffix(".json").write_text(json.dumps(meta))
            return path

    def _load_snapshot(self) -> bool:
        path = self.snapshot_path()
        if path is None or not path.exists() or not path.with_suffix(".json").exists():
            return False
        try:
            from usearch.index import Index

            meta = json.loads(path.with_suffix(".json").read_text())
            if meta.get("model") != embedding.vector_tag() or meta.get("db") != self._db:
                return False
            index = Index.restore(str(path), view=False)
            if index is None:
                return False
            self._backend = _UsearchBackend(index)
            self._synced_from = datetime.fromisoformat(meta["synced_from"])
            self._last_sync = self._last_reconcile = 0.0
        except (ImportError, OSError, ValueError, KeyError) as exc:
            logger.warning("ignoring the vector snapshot %s: %s", path, exc)
            return False
        self.sync(force=True)
        return True

    # --- keeping in step ---------------------------------------------------------------

    def sync(self, *, force: bool = False) -> int:
        """Add vectors other processes indexed since the last sync; returns how many."""
        with self._lock:
            backend = self._ensure()
            interval = float(getattr(settings, "REPEATS_VECTOR_SYNC_SECONDS", 1.0))
            now_mono = time.monotonic()
            if not force and now_mono - self._last_sync < interval:
                return 0
            started = timezone.now()
            # A forced sync (start, snapshot) and the periodic reconciliation look SLACK back; the
            # per-second path only SHORT_SLACK, which covers a registration's transaction.
            reconcile = force or now_mono - self._last_reconcile >= RECONCILE_SECONDS
            since = (self._synced_from or started) - (SLACK if reconcile else SHORT_SLACK)
            recent = list(
                RepeatDoc.objects.filter(
                    indexed_at__gte=since, vector__isnull=False, vector_model=embedding.vector_tag()
                ).values_list("pk", "indexed_at")
            )
            previous = self._synced_from or started
            # Skip what this index already has: the same version, or a row that was indexed
            # before the last sync (or build, or snapshot) started and is present.
            todo = [
                pk for pk, at in recent if self._versions.get(pk) != at and not (at < previous and backend.contains(pk))
            ]
            added = 0
            for start in range(0, len(todo), 500):
                rows = RepeatDoc.objects.filter(pk__in=todo[start : start + 500]).values_list(
                    "pk", "vector", "indexed_at"
                )
                for pk, raw, at in rows:
                    vec = embedding.from_bytes(raw)
                    if vec is not None:
                        self._put(backend, pk, vec)
                        self._versions[pk] = at
                        added += 1
            if reconcile:
                self._versions = {pk: at for pk, at in self._versions.items() if at >= since}
                self._last_reconcile = now_mono
            self._synced_from = started
            self._last_sync = now_mono
            return added

    @staticmethod
    def _put(backend: _Backend, key: int, vec: np.ndarray) -> None:
        if backend.contains(key):
            backend.remove(key)
        backend.add(np.array([key], dtype=np.uint64), vec[None, :])

    def add(self, *, case_id: int, vector: np.ndarray, indexed_at: datetime | None = None) -> None:
        """Called after the registering transaction commits, in the registering process."""
        with self._lock:
            if self._backend is None:
                return  # built lazily from the database on first use, which includes this row
            self._put(self._backend, case_id, vector)
            if indexed_at is not None:
                self._versions[case_id] = indexed_at

    def search(self, vector: np.ndarray, k: int) -> list[int]:
        self.sync()
        with self._lock:
            return self._ensure().search(vector, k)

    def search_scored(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(case id, approximate cosine) of the k nearest; int8 quantisation reads up to about 0.03 low."""
        self.sync()
        with self._lock:
            return self._ensure().search_scored(vector, k)

    def stats(self) -> dict[str, int]:
        with self._lock:
            backend = self._ensure()
            return {"vectors": len(backend), "memory_bytes": backend.memory_bytes()}


vector_index = VectorIndex()
