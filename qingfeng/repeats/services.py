"""Writes to the repeat index. `repeat_index_case` runs inside the registration transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import transaction
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
    row = Reporter.objects.filter(case=case).values("name_hash", "phone_hash", "phone2_hash", "id_number_hash").first()
    return stored_reporter_hashes(**row) if row else ReporterHashes()


def _fill_party_keys(case: Case) -> None:
    """Make ReportedParty.match_key the key this app looks up (fills empty or differently normalised keys)."""
    changed = []
    for party in ReportedParty.objects.filter(case=case).only("pk", "name", "unit", "match_key"):
        key = party_match_key(party.name, party.unit)
        if party.match_key != key:
            party.match_key = key
            changed.append(party)
    if changed:
        ReportedParty.objects.bulk_update(changed, ["match_key"])


@transaction.atomic
def repeat_index_case(*, case: Case) -> None:
    """Index (or re-index) one case: band rows, embedding, person cluster, party keys.

    Call it inside the registration transaction after the reporter and parties are saved,
    and again whenever the title, description, reporter or parties change.
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
    if text_changed or not vector_bytes or vector_model != embedding.MODEL_NAME:
        vector = embedding.embed_case(case.title, case.description)
        vector_bytes = embedding.to_bytes(vector) if vector is not None else None
        vector_model = embedding.MODEL_NAME if vector is not None else ""
    if text_changed:
        RepeatBand.objects.filter(case_id=case.pk).delete()
        sig = minhash.signature(shingles(case_text(case.title, case.description)))
        RepeatBand.objects.bulk_create([RepeatBand(band=b, case_id=case.pk) for b in minhash.bands(sig)])
    RepeatDoc.objects.update_or_create(
        case_id=case.pk,
        defaults={
            "reporter_key": person,
            "region_code": case.region_code or "",
            "text_hash": text_hash,
            "vector": vector_bytes,
            "vector_model": vector_model,
            "indexed_at": now,
        },
    )
    if vector is not None:
        case_id, vec = case.pk, vector
        transaction.on_commit(lambda: vector_index.add(case_id=case_id, vector=vec, indexed_at=now))


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
        sig = minhash.signature(shingles(case_text(case.title, case.description)))
        band_rows += [RepeatBand(band=b, case_id=case.pk) for b in minhash.bands(sig)]
        docs.append(
            RepeatDoc(
                case_id=case.pk,
                reporter_key=person,
                region_code=case.region_code or "",
                text_hash=_text_hash(case.title, case.description),
                vector=embedding.to_bytes(vectors[i]) if vectors is not None else None,
                vector_model=embedding.MODEL_NAME if vectors is not None else "",
                indexed_at=now,
            )
        )
    # A later case of the batch may have merged a cluster an earlier one was given.
    final = dict(
        RepeatPersonKey.objects.filter(key__in={k for ks in doc_keys for k in ks}).values_list("key", "person_id")
    )
    for doc, keys in zip(docs, doc_keys, strict=True):
        if keys:
            doc.reporter_key = final.get(keys[0], doc.reporter_key)
    RepeatDoc.objects.bulk_create(docs)
    RepeatBand.objects.bulk_create(band_rows, batch_size=2000)
