from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from qingfeng.repeats import vectors
from qingfeng.repeats.models import RepeatDoc
from qingfeng.repeats.normalize import gram_array, jaccard, jaccard_arrays, shingles
from qingfeng.repeats.scoring import DEFAULTS, Signals, build_query, compare, judge, title_text
from qingfeng.repeats.tests.conftest import make_case, needs_model
from qingfeng.repeats.vectors import vector_index

TEXT = "反映某某村村主任张三侵占集体土地征收补偿款，至今没有发给村民。"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("反映 Ａ市某某村村主任张三侵占补偿款！", "Ａ市某某村村主任张三侵占集体补偿款"),
        ("阳光小区物业乱收费", "阳光小区物业乱收费"),
        ("甲", "甲乙"),
        ("", "甲乙"),
        ("😀物业", "物业😀"),
    ],
)
def test_packed_bigrams_give_the_same_jaccard_as_string_sets(a: str, b: str) -> None:
    assert jaccard_arrays(gram_array(a), gram_array(b)) == pytest.approx(jaccard(shingles(a), shingles(b)))


def test_a_missing_title_is_stood_in_for_by_the_opening_of_the_description() -> None:
    assert title_text("物业乱收费", "正文") == "物业乱收费"
    assert (
        title_text(" ", "阳光小区物业公司每月多收停车费，业主多次投诉无果，希望有关部门尽快处理。")
        == ("阳光小区物业公司每月多收停车费，业主多次投诉无果，希望有关部门尽快处理。"[:30])
    )


def test_the_title_term_is_computed_from_both_titles() -> None:
    q = build_query(title="投诉J5县国城国际开发商严重违反合同", description="正文一", reporter=None, parties=None,
                    region_code="", embed=False)  # fmt: skip
    c = build_query(title="投诉J5县国城国际开发商违反合同", description="正文二", reporter=None, parties=None,
                    region_code="", embed=False)  # fmt: skip
    s = compare(q, cand_shingles=None, cand_vector=None, cand_reporter=c.reporter, same_person=False,
                cand_party_keys=(), cand_region="", cand_grams=c.cmp_grams,
                cand_title_shingles=c.title_shingles)  # fmt: skip
    assert s.title_jaccard == pytest.approx(jaccard(shingles(q.text.split("\n")[0]), shingles(c.text.split("\n")[0])))
    assert 0.5 < s.title_jaccard < 1.0


def test_reworded_text_is_judged_by_its_meaning_whoever_reported_it() -> None:
    cos_flag = DEFAULTS["COS_FLAG"]
    assert DEFAULTS["COS_FLAG_LINKED"] == cos_flag
    again = judge(Signals(cosine=cos_flag + 0.01, jaccard=0.1, same_phone=True))
    assert again.flag and again.score >= 0.5
    assert "same_phone" in again.codes and "similar_meaning" in again.codes
    # A neighbouring matter of the same reporter: close, not close enough.
    neighbour = judge(Signals(cosine=cos_flag - 0.01, jaccard=0.1, same_phone=True))
    assert not neighbour.flag and neighbour.score < 0.5
    # A stranger's report in the same words is the same matter too, ranked below the re-ask.
    stranger = judge(Signals(cosine=cos_flag + 0.01, jaccard=0.1))
    assert stranger.flag and stranger.score < again.score


def test_a_shared_reporter_neither_lowers_nor_raises_the_bar_for_near_identical_text() -> None:
    for jac in (DEFAULTS["JAC_FLAG"] - 0.05, DEFAULTS["JAC_FLAG"] + 0.05):
        alone, linked = judge(Signals(jaccard=jac)), judge(Signals(jaccard=jac, same_phone=True))
        assert alone.flag == linked.flag == (jac >= DEFAULTS["JAC_FLAG"])
        assert linked.score > alone.score


@override_settings(REPEATS_THRESHOLDS={"TITLE_WEIGHT": 0.2, "COS_FLAG": 0.995, "COS_FLAG_LINKED": 0.995})
def test_a_configured_title_term_makes_reworded_text_need_its_title_to_agree() -> None:
    # Two strangers' complaints about two schools' holiday classes: close meaning, other subject.
    assert not judge(Signals(cosine=0.966, title_jaccard=0.1)).flag
    assert not judge(Signals(cosine=0.966, title_jaccard=0.1, same_phone=True)).flag
    # The same matter in other words: the title agrees.
    assert judge(Signals(cosine=0.966, title_jaccard=0.5)).flag


@needs_model
def test_a_row_whose_transaction_began_long_ago_is_picked_up_by_the_reconciliation(tree, monkeypatch) -> None:
    a = make_case(tree["county"], "甲", TEXT)
    vec = vectors.embedding.from_bytes(RepeatDoc.objects.get(pk=a.pk).vector)
    assert vec is not None
    assert vector_index.search(vec, 5) == [a.pk]
    # Another process commits a row stamped two minutes ago (its transaction was held open).
    b = make_case(tree["county"], "乙", TEXT + "！")
    RepeatDoc.objects.filter(pk=b.pk).update(indexed_at=timezone.now() - timedelta(minutes=2))
    assert b.pk not in vector_index.search(vec, 5)  # the per-second pass looks back SHORT_SLACK only
    monkeypatch.setattr(vectors, "RECONCILE_SECONDS", 0.0)
    assert set(vector_index.search(vec, 5)) == {a.pk, b.pk}
