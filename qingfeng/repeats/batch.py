"""Batch repeat detection over a file of reports (manage.py find_repeats) and benchmarks.

Reports in the file are not cases: they are kept in an in-memory index for the run, and each
is compared with the reports received before it in the file and with the registered cases
(through the database index). Scoring is the same as for registered cases (scoring.judge).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from qingfeng.repeats import embedding
from qingfeng.repeats.scoring import Query, Signals, Verdict, build_query, compare, judge
from qingfeng.repeats.unionfind import UnionFind

_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
)
MIN_SCORE = 0.2


def parse_time(value: Any) -> datetime | None:
    """'2018/12/25 6:08:43', '2019-01-02T10:00:00+08:00', '2019年1月2日' -> naive datetime."""
    if not value:
        return None
    m = _DATE.search(str(value))
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def report_parties(row: Mapping[str, Any]) -> list[dict[str, str]]:
    name = str(row.get("reported_name") or "").strip()
    if not name:
        return []
    kind = str(row.get("reported_kind") or "person")
    return [{"kind": kind, "name": name, "unit": str(row.get("reported_unit") or "")}]


def report_reporter(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": str(row.get("reporter_name") or ""),
        "phone": str(row.get("reporter_phone") or ""),
        "id_number": str(row.get("reporter_id_number") or ""),
    }


@dataclass
class _Doc:
    ref: str
    query: Query
    person_keys: list[str] = field(default_factory=list)


class MemoryIndex:
    """Exact in-memory index of the reports seen so far in one batch run."""

    def __init__(self) -> None:
        self.docs: list[_Doc] = []
        self.by_band: dict[int, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_party: dict[str, list[int]] = defaultdict(list)
        self.people = UnionFind()
        self._vecs = np.zeros((1024, embedding.DIM), dtype=np.float32)
        self._has_vec: list[bool] = []

    def add(self, ref: str, q: Query) -> None:
        i = len(self.docs)
        keys = q.reporter.identity_keys
        self.docs.append(_Doc(ref=ref, query=q, person_keys=keys))
        for b in q.bands:
            self.by_band[b].append(i)
        for k in keys:
            self.by_key[k].append(i)
        if keys:
            self.people.union(keys)
        for pk in q.party_keys:
            self.by_party[pk].append(i)
        if i >= len(self._vecs):
            self._vecs = np.vstack([self._vecs, np.zeros_like(self._vecs)])
        self._has_vec.append(q.vector is not None)
        if q.vector is not None:
            self._vecs[i] = q.vector

    def candidates(
        self, q: Query, *, pool_vectors: int = 30, keep_all: bool = False
    ) -> list[tuple[str, Signals, Verdict]]:
        n = len(self.docs)
        if n == 0:
            return []
        pool: set[int] = set()
        for b in q.bands:
            pool.update(self.by_band.get(b, ()))
        for k in q.reporter.identity_keys:
            pool.update(self.by_key.get(k, ()))
        for pk in q.party_keys:
            pool.update(self.by_party.get(pk, ()))
        if q.vector is not None:
            sims = self._vecs[:n] @ q.vector
            top = np.argpartition(-sims, min(pool_vectors, n - 1))[:pool_vectors] if n > pool_vectors else range(n)
            pool.update(int(i) for i in top)
        roots = {self.people.find(k) for k in q.reporter.identity_keys}
        out = []
        for i in pool:
            d = self.docs[i]
            same_person = bool(roots) and any(self.people.find(k) in roots for k in d.person_keys)
            s = compare(
                q,
                cand_shingles=d.query.cmp_shingles,
                cand_vector=d.query.vector,
                cand_reporter=d.query.reporter,
                same_person=same_person,
                cand_party_keys=d.query.party_keys,
                cand_region=d.query.region_code,
                cand_title_shingles=d.query.title_shingles,
                cand_places=d.query.places,
            )
            v = judge(s)
            if keep_all or v.score >= MIN_SCORE or s.reporter_match or s.party_match:
                out.append((d.ref, s, v))
        return out


def queries_for_rows(rows: Sequence[Mapping[str, Any]], *, batch_size: int = 64) -> list[Query]:
    """Build queries for many reports, embedding them in batches (parallel across texts)."""
    texts = [embedding.embedding_text(str(r.get("title") or ""), str(r.get("description") or "")) for r in rows]
    vectors: list[np.ndarray | None] = [None] * len(rows)
    if embedding.available():
        for start in range(0, len(rows), batch_size):
            chunk = embedding.embed_many(texts[start : start + batch_size])
            if chunk is not None:
                for j, vec in enumerate(chunk):
                    vectors[start + j] = vec
    return [
        build_query(
            title=str(r.get("title") or ""),
            description=str(r.get("description") or ""),
            reporter=report_reporter(r),
            parties=report_parties(r),
            region_code=str(r.get("region_code") or ""),
            vector=vectors[i],
            embed=False,
        )
        for i, r in enumerate(rows)
    ]


def processing_order(rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """Indexes in the order received (ties and undated lines keep their place in the file)."""
    keyed = []
    last: datetime | None = None
    for i, r in enumerate(rows):
        t = parse_time(r.get("received_at"))
        if t is None:
            t = last
        else:
            last = t
        keyed.append((t or datetime.min, i))
    return [i for _, i in sorted(keyed)]


__all__ = ["MemoryIndex", "parse_time", "processing_order", "queries_for_rows"]
