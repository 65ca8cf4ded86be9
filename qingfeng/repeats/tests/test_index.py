from __future__ import annotations

import pytest

from qingfeng.cases.models import ReportedParty
from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatBand, RepeatDoc, RepeatPerson, RepeatPersonKey
from qingfeng.repeats.normalize import party_match_key
from qingfeng.repeats.services import repeat_index_case, repeat_index_rebuild
from qingfeng.repeats.tests.conftest import make_case, needs_model
from qingfeng.repeats.vectors import vector_index

TEXT = "反映某某村村主任张三侵占集体土地征收补偿款，至今没有发给村民。"


def test_it_writes_bands_and_a_doc_and_fills_party_keys(tree) -> None:
    case = make_case(
        tree["county"], "侵占补偿款", TEXT, phone="13800138000", parties=[{"name": "张 三", "unit": "某某村委员会"}]
    )
    doc = RepeatDoc.objects.get(pk=case.pk)
    assert doc.reporter_key is not None
    assert doc.region_code == "110101"
    assert RepeatBand.objects.filter(case=case).count() == 10
    assert ReportedParty.objects.get(case=case).match_key == party_match_key("张三", "某某村委")


@needs_model
def test_it_stores_the_embedding_as_float16(tree) -> None:
    case = make_case(tree["county"], "侵占补偿款", TEXT)
    doc = RepeatDoc.objects.get(pk=case.pk)
    assert doc.vector_model == embedding.vector_tag()
    vec = embedding.from_bytes(doc.vector)
    assert vec is not None and vec.shape == (384,)
    assert abs(float(vec @ vec) - 1.0) < 0.01


def test_reindexing_unchanged_text_keeps_the_vector_and_bands(tree, monkeypatch: pytest.MonkeyPatch) -> None:
    case = make_case(tree["county"], "侵占补偿款", TEXT)
    bands = list(RepeatBand.objects.filter(case=case).values_list("pk", flat=True))
    monkeypatch.setattr(embedding, "embed_case", lambda *a: pytest.fail("embedded again"))
    if not embedding.available():
        monkeypatch.setattr(embedding, "embed_case", lambda *a: None)
    repeat_index_case(case=case)
    assert list(RepeatBand.objects.filter(case=case).values_list("pk", flat=True)) == bands


def test_changed_text_replaces_the_bands(tree) -> None:
    case = make_case(tree["county"], "侵占补偿款", TEXT)
    before = set(RepeatBand.objects.filter(case=case).values_list("band", flat=True))
    case.description = "阳光小区物业公司每月多收停车费，业主多次投诉无果。"
    case.save()
    repeat_index_case(case=case)
    after = set(RepeatBand.objects.filter(case=case).values_list("band", flat=True))
    assert len(after) == 10 and not before & after


def test_reports_sharing_a_phone_or_id_form_one_person_and_clusters_merge(tree) -> None:
    office = tree["county"]
    a = make_case(office, "甲", TEXT, phone="13800138000")
    b = make_case(office, "乙", TEXT, id_number="11010519491231002X")
    keys = RepeatDoc.objects.in_bulk([a.pk, b.pk])
    assert keys[a.pk].reporter_key != keys[b.pk].reporter_key
    # A third report gives both the phone and the ID number: all three are one person.
    c = make_case(office, "丙", TEXT, phone="+86 138 0013 8000", id_number="11010519491231002x")
    people = set(RepeatDoc.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("reporter_key", flat=True))
    assert len(people) == 1
    assert RepeatPerson.objects.count() == 1
    assert RepeatPersonKey.objects.filter(person_id=people.pop()).count() == 2


def test_an_anonymous_report_without_contact_has_no_person(tree) -> None:
    case = make_case(tree["county"], "匿名", TEXT)
    assert RepeatDoc.objects.get(pk=case.pk).reporter_key is None


def test_rebuild_reindexes_everything(tree) -> None:
    a = make_case(tree["county"], "甲", TEXT, phone="13800138000", index=False)
    b = make_case(tree["county"], "乙", TEXT, phone="13800138000", index=False)
    assert repeat_index_rebuild() == 2
    docs = RepeatDoc.objects.in_bulk([a.pk, b.pk])
    assert docs[a.pk].reporter_key == docs[b.pk].reporter_key is not None
    assert RepeatBand.objects.count() == 20
    assert repeat_index_rebuild(only_missing=True) == 0


@needs_model
def test_the_vector_index_catches_up_with_rows_written_elsewhere(tree) -> None:
    a = make_case(tree["county"], "甲", TEXT)
    vec = embedding.from_bytes(RepeatDoc.objects.get(pk=a.pk).vector)
    assert vec is not None
    assert vector_index.search(vec, 5) == [a.pk]
    # Another process registers a case: this process learns it on the next lookup.
    b = make_case(tree["county"], "乙", TEXT + "！")
    assert set(vector_index.search(vec, 5)) == {a.pk, b.pk}
    assert vector_index.stats()["vectors"] == 2


def test_statistics_count_distinct_persons(tree) -> None:
    from qingfeng.cases.models import Case
    from qingfeng.repeats.selectors import repeat_reporter_count

    make_case(tree["county"], "甲", TEXT, phone="13800138000")
    make_case(tree["county"], "乙", TEXT, phone="138 0013 8000", id_number="11010519491231002X")
    make_case(tree["county"], "丙", TEXT, id_number="11010519491231002X")
    make_case(tree["county"], "丁", TEXT)
    make_case(tree["county"], "戊", TEXT)
    assert repeat_reporter_count(case_ids=Case.objects.values_list("pk", flat=True)) == 3
