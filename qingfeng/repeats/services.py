"""Writes to the repeat index. `repeat_index_case` runs inside the registration transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qingfeng.cases.models import Case, ReportedParty, Reporter
from qingfeng.repeats import embedding, minhash
from qingfeng.repeats.models import RepeatBand, RepeatDoc, RepeatPerson, RepeatPersonKey
from qingfeng.repeats.normalize import (
    ReporterHashes,
    case_text,
    normalize_text,
    party_match_key,
    shingles,
    stored_reporter_hashes,
)
from qingfeng.repeats.unionfind import UnionFind
from qingfeng.repeats.vectors import vector_index


def _text_hash(title: str, description: str) -> str:
    basis = f"{normalize_text(case_text(title, description))}\x00{embedding.embedding_text(title, description)}"
    return hashlib.blake2b(basis.encode("utf-8"), digest_size=16).hexdigest()


def reporter_person_key(*, keys: Iterable[str]) -> int | None:
    """The person cluster for these identity hashes, creating or merging clusters as needed.

    Two clusters that turn out to share a phone or ID number are merged into the older one,
    re-pointing their keys and the index rows that carry them. Safe under concurrent
    registrations: key rows are inserted with ON CONFLICT DO NOTHING and read back.
    """
    keys = list(dict.fromkeys(keys))
    if not keys:
        return None
    found = dict(RepeatPersonKey.objects.filter(key__in=keys).values_list("key", "person_id"))
    person_id = min(found.values()) if found else RepeatPerson.objects.create().pk
    missing = [k for k in keys if k not in found]
    if missing:
        RepeatPersonKey.objects.bulk_create(
            [RepeatPersonKey(key=k, person_id=person_id) for k in missing], ignore_conflicts=True
        )
        found = dict(RepeatPersonKey.objects.filter(key__in=keys).values_list("key", "person_id"))
    persons = set(found.values()) | {person_id}
    keep = min(persons)
    others = persons - {keep}
    if others:
        RepeatPersonKey.objects.filter(person_id__in=others).update(person_id=keep)
        RepeatDoc.objects.filter(reporter_key__in=others).update(reporter_key=keep)
        RepeatPerson.objects.filter(pk__in=others).delete()
    return keep


def _reporter_hashes(case: Case) -> ReporterHashes:
    # Registration has just created the reporter, so it is usually cached on the case.
    try:
        rep = case.reporter
    except Reporter.DoesNotExist:
        return ReporterHashes()
    return stored_reporter_hashes(
        name_hash=rep.name_hash,
        phone_hash=rep.phone_hash,
        phone2_hash=rep.phone2_hash,
        id_number_hash=rep.id_number_hash,
    )


def _fill_party_keys(case: Case) -> None:
    """Make ReportedParty.match_key the key this app looks up (fills empty or differently normalised keys)."""
    _save_party_keys(ReportedParty.objects.filter(case=case).only("pk", "name", "unit", "match_key"))


def _save_party_keys(parties: Iterable[ReportedParty]) -> None:
    changed = []
    for party in parties:
        key = party_match_key(party.name, party.unit)
        if party.match_key != key:
            party.match_key = key
            changed.append(party)
    if changed:
        ReportedParty.objects.bulk_update(changed, ["match_key"])


@transaction.atomic
def repeat_index_case(*, case: Case) -> None:
    """Index (or re-index) one case: band rows, embedding, person cluster, party keys.

    Call it whenever the title, description, reporter or parties of a case change, after they
    are saved. Registration indexes its new cases through `repeat_index_registered` instead.
    """
    now = timezone.now()
    hashes = _reporter_hashes(case)
    person = reporter_person_key(keys=hashes.identity_keys)
    _fill_party_keys(case)
    text_hash = _text_hash(case.title, case.description)
    doc = RepeatDoc.objects.select_for_update().filter(pk=case.pk).first()
    text_changed = doc is None or doc.text_hash != text_hash
    vector_bytes = doc.vector if doc is not None else None
    vector_model = doc.vector_model if doc is not None else ""
    vector = None
    if text_changed or not vector_bytes or vector_model != embedding.vector_tag():
        vector = embedding.embed_case(case.title, case.description)
        vector_bytes = embedding.to_bytes(vector) if vector is not None else None
        vector_model = embedding.vector_tag() if vector is not None else ""
    if text_changed:
        if doc is not None:
            RepeatBand.objects.filter(case_id=case.pk).delete()
        sig = minhash.signature(shingles(case_text(case.title, case.description)))
        RepeatBand.objects.bulk_create([RepeatBand(band=b, case_id=case.pk) for b in minhash.bands(sig)])
    fields = {
        "reporter_key": person,
        "region_code": case.region_code or "",
        "text_hash": text_hash,
        "vector": vector_bytes,
        "vector_model": vector_model,
        "indexed_at": now,
    }
    if doc is None:
        RepeatDoc.objects.create(case_id=case.pk, **fields)
    else:
        RepeatDoc.objects.filter(pk=case.pk).update(**fields)
    if vector is not None:
        _after_commit(with_vector=[(case.pk, vector)], lacking=[], now=now)
    elif vector_bytes is None:
        _after_commit(with_vector=[], lacking=[case.pk], now=now)


def _after_commit(*, with_vector: list[tuple[int, Any]], lacking: list[int], now: Any) -> None:
    """Once the index rows are committed: mirror the new vectors in this process's vector index,
    and have the cases without one embedded by a task."""
    if with_vector:

        def mirror() -> None:
            for pk, vec in with_vector:
                vector_index.add(case_id=pk, vector=vec, indexed_at=now)

        transaction.on_commit(mirror)
    if lacking and embedding.available():
        from qingfeng.core.tasks import dispatch
        from qingfeng.repeats.tasks import repeat_embed_missing_task

        dispatch(repeat_embed_missing_task, case_ids=lacking)


def repeat_index_registered(cases: Sequence[Case]) -> None:
    """Registration hook (intake.services.REGISTRATION_HOOKS): index the new cases in their
    transaction, with one statement per table for all of them (a new case has no index rows
    to replace or read back, so a single registration takes this path too).

    The model never runs here: a vector is stored only if this process has it cached (a
    clerk's repeat check just computed it); otherwise it stays null and
    `repeat_embed_missing_task` is dispatched after commit to fill it. Band, identity and
    party signals find the case as soon as the transaction commits either way."""
    now = timezone.now()
    persons = reporter_person_keys(keysets=[_reporter_hashes(case).identity_keys for case in cases])
    # The parties registration holds in memory: no query.
    _save_party_keys(party for case in cases for party in case.reported_parties.all())
    bands: list[RepeatBand] = []
    docs: list[RepeatDoc] = []
    with_vector: list[tuple[int, Any]] = []
    lacking: list[int] = []
    for case, person in zip(cases, persons, strict=True):
        vector = embedding.cached_case_vector(case.title, case.description)
        doc, case_bands = _index_rows(case, person=person, vector=vector, now=now)
        docs.append(doc)
        bands.extend(case_bands)
        if vector is not None:
            with_vector.append((case.pk, vector))
        else:
            lacking.append(case.pk)
    RepeatBand.objects.bulk_create(bands)
    RepeatDoc.objects.bulk_create(docs)
    _after_commit(with_vector=with_vector, lacking=lacking, now=now)


def _index_rows(case: Case, *, person: int | None, vector: Any, now: Any) -> tuple[RepeatDoc, list[RepeatBand]]:
    """A new case's index rows, unsaved: its document row and its MinHash band rows."""
    sig = minhash.signature(shingles(case_text(case.title, case.description)))
    doc = RepeatDoc(
        case_id=case.pk,
        reporter_key=person,
        region_code=case.region_code or "",
        text_hash=_text_hash(case.title, case.description),
        vector=embedding.to_bytes(vector) if vector is not None else None,
        vector_model=embedding.vector_tag() if vector is not None else "",
        indexed_at=now,
    )
    return doc, [RepeatBand(band=b, case_id=case.pk) for b in minhash.bands(sig)]


def reporter_person_keys(*, keysets: Sequence[Sequence[str]]) -> list[int | None]:
    """`reporter_person_key` for several reports in order, as if registered one after another.

    Reports that share a key (with each other or with an earlier report) end in one cluster,
    the oldest. Reporters never seen before (the common case) get their clusters and keys with
    one insert each; any report touching an existing cluster, or whose keys another
    registration took meanwhile, goes through `reporter_person_key` itself.
    """
    keysets = [list(dict.fromkeys(keys)) for keys in keysets]
    every = {k for keys in keysets for k in keys}
    if not every:
        return [None] * len(keysets)
    found = dict(RepeatPersonKey.objects.filter(key__in=every).values_list("key", "person_id"))
    # Keys joined by a shared report form one component.
    clusters = UnionFind()
    for keys in keysets:
        clusters.union(keys)
    members: dict[str, list[str]] = {}
    for k in every:
        members.setdefault(clusters.find(k), []).append(k)
    person_of: dict[str, int] = {}
    assigned: dict[str, int] = {}
    fresh = [r for r, keys in members.items() if not any(k in found for k in keys)]
    if fresh:
        created = RepeatPerson.objects.bulk_create([RepeatPerson() for _ in fresh])
        assigned = {r: p.pk for r, p in zip(fresh, created, strict=True)}
        RepeatPersonKey.objects.bulk_create(
            [RepeatPersonKey(key=k, person_id=assigned[r]) for r in fresh for k in members[r]], ignore_conflicts=True
        )
        stored = dict(
            RepeatPersonKey.objects.filter(key__in=[k for r in fresh for k in members[r]]).values_list(
                "key", "person_id"
            )
        )
        for r in fresh:
            if all(stored.get(k) == assigned[r] for k in members[r]):
                person_of[r] = assigned[r]
    for r, keys in members.items():
        if r in person_of:
            continue
        owners = {found.get(k) for k in keys}
        only = next(iter(owners)) if len(owners) == 1 else None
        if only is not None:
            # Every key already belongs to one cluster (a repeat reporter): nothing to create or merge.
            person_of[r] = only
        else:
            # A cluster to extend or merge, or a race lost: the one-report path does it.
            person = reporter_person_key(keys=sorted(keys))
            assert person is not None
            person_of[r] = person
    orphans = [pk for r, pk in assigned.items() if person_of[r] != pk]
    if orphans:
        RepeatPerson.objects.filter(pk__in=orphans, keys__isnull=True).delete()
    return [person_of[clusters.find(keys[0])] if keys else None for keys in keysets]


# How many texts one embedding call takes while filling missing vectors (the model runs the
# texts of a call in parallel; a transaction per batch keeps each write short).
FILL_BATCH = 32


def _lacking_vector() -> Q:
    """Rows without a usable vector: none yet, or one of another model or embedded length."""
    return Q(vector__isnull=True) | ~Q(vector_model=embedding.vector_tag())


def repeat_fill_vectors(*, case_ids: Iterable[int] | None = None, batch_size: int = FILL_BATCH) -> int:
    """Embed the indexed cases that lack a usable vector (all of them, or only `case_ids`).

    Returns how many vectors were stored. Safe to run concurrently with itself and with
    re-indexing: a vector is written only where the row still lacks one and still has the
    text hash of the text that was embedded, so a racing task or an edit of the case in the
    meantime makes the write a no-op rather than storing a stale vector.
    """
    if not embedding.available():
        return 0
    qs = RepeatDoc.objects.filter(_lacking_vector()).order_by("pk")
    if case_ids is not None:
        ids = sorted(set(case_ids))
        if not ids:
            return 0
        qs = qs.filter(pk__in=ids)
    stored = 0
    last = 0
    while True:
        rows = list(
            qs.filter(pk__gt=last).values_list("pk", "text_hash", "case__title", "case__description")[:batch_size]
        )
        if not rows:
            break
        last = rows[-1][0]
        texts = [embedding.embedding_text(title, description) for _pk, _h, title, description in rows]
        vectors = embedding.embed_many(texts)
        if vectors is None:
            break
        stored += _store_vectors(rows, texts, vectors)
    return stored


def _store_vectors(rows: list[tuple[int, str, str, str]], texts: list[str], vectors: Any) -> int:
    now = timezone.now()
    written: list[tuple[int, Any]] = []
    lacking, tag = _lacking_vector(), embedding.vector_tag()
    with transaction.atomic():
        for (pk, text_hash, _title, _description), vec in zip(rows, vectors, strict=True):
            n = RepeatDoc.objects.filter(lacking, pk=pk, text_hash=text_hash).update(
                vector=embedding.to_bytes(vec), vector_model=tag, indexed_at=now
            )
            if n:
                written.append((pk, vec))

        def publish() -> None:
            for pk, vec in written:
                vector_index.add(case_id=pk, vector=vec, indexed_at=now)

        transaction.on_commit(publish)
    if len(texts) <= 8:
        # A case registered a moment ago: its page and the registration answer will ask again.
        for text, vec in zip(texts, vectors, strict=True):
            embedding.remember(text, vec)
    return len(written)


def repeat_index_rebuild(*, batch_size: int = 256, only_missing: bool = False, progress: bool = False) -> int:
    """Re-index every case (or only those without a RepeatDoc); returns how many were indexed.

    Embeddings are computed in batches (parallel across texts) and band rows bulk-written,
    one transaction per batch, so a long rebuild can be interrupted and resumed with
    `only_missing`.
    """
    qs = Case.objects.order_by("pk")
    if only_missing:
        qs = qs.filter(repeat_doc__isnull=True)
    done = 0
    last = 0
    while True:
        cases = list(qs.filter(pk__gt=last).only("pk", "title", "description", "region_code")[:batch_size])
        if not cases:
            break
        last = cases[-1].pk
        _index_batch(cases)
        done += len(cases)
        if progress:
            print(f"indexed {done} cases", flush=True)
    vector_index.reset()
    return done


@transaction.atomic
def _index_batch(cases: list[Case]) -> None:
    now = timezone.now()
    ids = [c.pk for c in cases]
    vectors = embedding.embed_many([embedding.embedding_text(c.title, c.description) for c in cases])
    reporters = {
        r["case_id"]: stored_reporter_hashes(
            name_hash=r["name_hash"],
            phone_hash=r["phone_hash"],
            phone2_hash=r["phone2_hash"],
            id_number_hash=r["id_number_hash"],
        )
        for r in Reporter.objects.filter(case_id__in=ids).values(
            "case_id", "name_hash", "phone_hash", "phone2_hash", "id_number_hash"
        )
    }
    RepeatBand.objects.filter(case_id__in=ids).delete()
    RepeatDoc.objects.filter(case_id__in=ids).delete()
    docs, band_rows, doc_keys = [], [], []
    for i, case in enumerate(cases):
        _fill_party_keys(case)
        keys = reporters.get(case.pk, ReporterHashes()).identity_keys
        person = reporter_person_key(keys=keys)
        doc_keys.append(keys)
        doc, case_bands = _index_rows(case, person=person, vector=vectors[i] if vectors is not None else None, now=now)
        docs.append(doc)
        band_rows += case_bands
    # A later case of the batch may have merged a cluster an earlier one was given.
    final = dict(
        RepeatPersonKey.objects.filter(key__in={k for ks in doc_keys for k in ks}).values_list("key", "person_id")
    )
    for doc, keys in zip(docs, doc_keys, strict=True):
        if keys:
            doc.reporter_key = final.get(keys[0], doc.reporter_key)
    RepeatDoc.objects.bulk_create(docs)
    RepeatBand.objects.bulk_create(band_rows, batch_size=2000)
