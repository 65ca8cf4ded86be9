from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from qingfeng.cases.models import CaseAccess
from qingfeng.repeats.check import candidate_reasons
from qingfeng.repeats.selectors import find_repeat_candidates
from qingfeng.repeats.tests.conftest import make_case, needs_model

TITLE = "反映某某村村主任张三侵占集体土地征收补偿款"
BODY = "2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民，村民多次找镇里反映都没有结果。"
OTHER_TITLE = "阳光小区物业乱收费问题"
OTHER_BODY = "阳光小区物业公司每月多收停车费，业主多次投诉无果，希望有关部门尽快处理。"


def find(**kw: Any) -> list:
    args: dict[str, Any] = {
        "title": TITLE,
        "description": BODY,
        "reporter": {},
        "parties": [],
        "region_code": "110101",
        "viewer_office": None,
    }
    args.update(kw)
    return find_repeat_candidates(**args)


def test_it_finds_a_near_identical_report_and_says_how_it_ended(tree) -> None:
    earlier = make_case(
        tree["county"],
        TITLE,
        BODY + "请纪委调查。",
        status="concluded",
        disposal_way="verification",
        substantiation="partly",
        conclusion="部分属实，责令退还补偿款",
        problem_solved=True,
        satisfaction=4,
    )
    make_case(tree["county"], OTHER_TITLE, OTHER_BODY)
    [c] = find(viewer_office=tree["county"])
    assert c.case_id == earlier.pk and c.case_number == earlier.number
    assert c.flag and c.score >= 0.5
    assert any(r.startswith("text ") and r.endswith("% similar") for r in c.reasons)
    assert "same place" in c.reasons
    assert (c.status, c.disposal_way, c.substantiation, c.conclusion) == (
        "concluded",
        "verification",
        "partly",
        "部分属实，责令退还补偿款",
    )
    assert (c.problem_solved, c.satisfaction) == (True, 4)
    assert c.outcome_label and c.status_label and c.disposal_label
    assert not c.restricted and c.title == TITLE


def test_the_same_reporter_is_found_across_channels_and_phone_forms(tree) -> None:
    earlier = make_case(tree["county"], OTHER_TITLE, OTHER_BODY, phone="13800138000", channel="phone")
    [c] = find(reporter={"name": "", "phone": "+86 １３８ ０ ０１３ ８０００"})
    assert c.case_id == earlier.pk
    assert "same phone" in c.reasons
    # Same reporter, different matter: shown, not flagged as a repeat.
    assert not c.flag and c.score < 0.5


def test_the_id_number_matches_whatever_its_case(tree) -> None:
    earlier = make_case(tree["county"], TITLE, BODY, id_number="11010519491231002X", name="王五")
    [c] = find(reporter={"name": "王 五", "id_number": "11010519491231002x"})
    assert c.case_id == earlier.pk
    assert c.reasons[:2] == ["same ID number", "same reporter name"]
    assert c.flag


def test_the_same_reported_person_and_place_lower_the_text_bar(tree) -> None:
    party = {"kind": "person", "name": "张三", "unit": "某某村委员会"}
    earlier = make_case(tree["county"], "村干部问题", "张三在征地中有违规行为，补偿款去向不明。", parties=[party])
    [c] = find(parties=[{"kind": "person", "name": "张 三", "unit": "某某村委"}])
    assert c.case_id == earlier.pk
    assert "same reported person" in c.reasons


def test_a_name_alone_does_not_make_a_candidate(tree) -> None:
    make_case(tree["county"], OTHER_TITLE, OTHER_BODY, name="王五")
    assert find(reporter={"name": "王五"}) == []


@needs_model
def test_a_reworded_report_is_flagged_by_meaning(tree) -> None:
    earlier = make_case(
        tree["county"],
        "举报某某村村主任张三私吞征地补偿款",
        "我们村去年征地的补偿款被村长张三扣下了，一分钱没给老百姓，请纪委调查。",
    )
    make_case(tree["county"], OTHER_TITLE, OTHER_BODY)
    make_case(
        tree["county"], "某某镇卫生院院长收受药品回扣", "镇卫生院王五院长长期收受医药代表回扣，大量采购高价药品。"
    )
    found = find(title=TITLE, description="2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民。")
    assert [c.case_id for c in found] == [earlier.pk]
    assert found[0].flag
    assert any(r.startswith("meaning ") for r in found[0].reasons)


SCHOOL_TITLE = "投诉甲县第二中学暑假强制学生补课"
SCHOOL_BODY = "甲县第二中学今年暑假要求全体高二学生到校补课，每人收取补课费八百元，不去就不给发新书。"


@needs_model
def test_the_same_complaint_about_another_county_is_listed_not_flagged(tree) -> None:
    earlier = make_case(tree["county"], SCHOOL_TITLE, SCHOOL_BODY)
    reworded = "暑假逼着高二学生回校上课，每个学生交八百元补课费，不交不发书。"
    [same] = find(title="反映甲县二中暑期逼着学生补课", description="甲县二中" + reworded)
    assert same.case_id == earlier.pk and same.flag and "other_place" not in same.signals
    # As close in meaning (cosine 0.97 here), but another county's school: a different matter.
    [other] = find(title="反映乙县二中暑期逼着学生补课", description="乙县二中" + reworded)
    assert other.case_id == earlier.pk and not other.flag
    assert "other_place" in other.signals and "similar_meaning" in other.signals


@needs_model
def test_a_reworded_report_about_another_county_by_region_code_is_not_flagged(tree) -> None:
    earlier = make_case(tree["county"], SCHOOL_TITLE, SCHOOL_BODY, region_code="110101")
    reworded = {
        "title": "反映二中暑期逼着学生补课",
        "description": "二中暑假逼着高二学生回校上课，每人交八百元补课费。",
    }
    [same] = find(**reworded, region_code="110101001")
    assert same.case_id == earlier.pk and same.flag and "other_region" not in same.signals
    [other] = find(**reworded, region_code="110102")
    assert other.case_id == earlier.pk and not other.flag and "other_region" in other.signals
    with translation.override("zh-hans"):
        assert "问题属地不同" in candidate_reasons(other)


@needs_model
def test_a_letter_naming_another_village_is_flagged_and_says_so(tree) -> None:
    earlier = make_case(tree["county"], "反映梅塘村村主任张三侵占集体土地征收补偿款", BODY)
    [c] = find(title="反映双湾村村主任张三侵占集体土地征收补偿款", description=BODY)
    assert c.case_id == earlier.pk and c.flag  # near-identical text stands on its own
    assert "other_place" in c.signals and "the titles name different places" in c.reasons
    with translation.override("zh-hans"):
        assert "标题所指地点不同" in candidate_reasons(c)


def test_exclude_case_id_leaves_the_case_itself_out(tree) -> None:
    case = make_case(tree["county"], TITLE, BODY)
    assert find(exclude_case_id=case.pk) == []
    assert [c.case_id for c in find()] == [case.pk]


def test_a_viewer_sees_only_its_cases_and_the_reporters_own_elsewhere_by_number(tree) -> None:
    mine = make_case(tree["county"], TITLE, BODY)
    theirs_same_text = make_case(tree["sibling"], TITLE, BODY)
    theirs_same_reporter = make_case(tree["sibling"], TITLE, BODY + "（补充材料）", phone="13800138000")
    found = {c.case_id: c for c in find(viewer_office=tree["county"], reporter={"phone": "13800138000"})}
    assert set(found) == {mine.pk, theirs_same_reporter.pk}
    assert theirs_same_text.pk not in found
    other = found[theirs_same_reporter.pk]
    assert other.restricted
    assert other.holding_office == tree["sibling"].name
    assert other.case_number == theirs_same_reporter.number
    assert other.title == "" and other.conclusion == "" and other.status == "" and other.problem_solved is None
    assert other.reasons == ["same phone"] and not other.flag
    # Unrestricted (batch tools) sees everything in full.
    assert {c.case_id for c in find(reporter={"phone": "13800138000"})} == {
        mine.pk,
        theirs_same_text.pk,
        theirs_same_reporter.pk,
    }


def test_a_hidden_case_is_not_shown_in_full(tree) -> None:
    case = make_case(tree["county"], TITLE, BODY)
    CaseAccess.objects.filter(case=case).update(hidden=True)
    assert find(viewer_office=tree["county"]) == []


def test_an_office_that_was_given_access_sees_it(tree) -> None:
    case = make_case(tree["sibling"], TITLE, BODY)
    CaseAccess.objects.create(case=case, office=tree["county"], received_at=case.received_at)
    [c] = find(viewer_office=tree["county"])
    assert c.case_id == case.pk and not c.restricted


def test_candidates_are_ranked_and_limited(tree) -> None:
    exact = make_case(tree["county"], TITLE, BODY, phone="13800138000")
    near = make_case(tree["county"], TITLE, BODY[:30])
    for i in range(3):
        make_case(tree["county"], f"{OTHER_TITLE}{i}", OTHER_BODY, phone="13800138000")
    found = find(reporter={"phone": "13800138000"}, limit=3)
    assert len(found) == 3
    assert [c.case_id for c in found[:2]] == [exact.pk, near.pk]
    assert found[0].score > found[1].score > found[2].score


@pytest.mark.django_db
def test_an_empty_index_finds_nothing() -> None:
    assert find() == []


def test_the_same_title_over_another_body_is_worded_for_a_shown_candidate(tree) -> None:
    """With no title weight the title term is computed only for the candidates shown: it must still be."""
    same_phone = "13800138000"
    earlier = make_case(tree["county"], TITLE, OTHER_BODY, phone=same_phone)
    [c] = find(
        viewer_office=tree["county"], reporter={"phone": same_phone}, description="这是另外一件事情的详细经过说明。"
    )
    assert c.case_id == earlier.pk
    assert c.text_similarity is not None and c.text_similarity < 0.3
    assert "title 100% similar" in c.reasons


def test_a_larger_limit_takes_more_proposals_than_the_default_pools(tree) -> None:
    """The pools are sized for the shown candidates: asking for 18 must not stop at the 12 the
    identity pool holds for the default 10."""
    phone = "13900001111"
    topics = ["道路", "学校", "医院", "物业", "供水", "供暖", "拆迁", "低保", "环保", "噪音"]
    for i in range(20):
        make_case(tree["county"], f"关于{topics[i % 10]}问题的第{i}次反映", f"事项编号{i}，情况另述。", phone=phone)
    assert len(find(viewer_office=tree["county"], reporter={"phone": phone})) == 10
    many = find_repeat_candidates(
        title=TITLE, description=BODY, reporter={"phone": phone}, parties=[], region_code="110101",
        viewer_office=tree["county"], limit=18,
    )  # fmt: skip
    assert len(many) == 18
    assert all("same phone" in c.reasons for c in many)
