"""Repeat detection wired into registration: the hook, the deferred embedding, the sweep, the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from qingfeng.accounts.models import Role
from qingfeng.cases.models import Case
from qingfeng.intake.services import REGISTRATION_HOOKS, ReporterInput
from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatBand, RepeatDoc
from qingfeng.repeats.services import _store_vectors, repeat_fill_vectors, repeat_index_registered
from qingfeng.repeats.tasks import repeat_embed_missing_task
from qingfeng.repeats.tests.conftest import needs_model

pytestmark = pytest.mark.django_db

TITLE = "反映某某村村主任张三侵占集体土地征收补偿款"
BODY = "2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民，村民多次找镇里反映都没有结果。"
# The same matter in other words under the same subject: few character bigrams in common with TITLE + BODY.
REWORDED_TITLE = "举报某某村村主任张三私吞征地补偿款"
REWORDED_BODY = "我们村去年征地的补偿款被村长张三扣下了，一分钱没给老百姓，请纪委调查。"
ANONYMOUS = ReporterInput(anonymous=True)


@pytest.fixture(autouse=True)
def _empty_embedding_cache() -> Any:
    """Registration stores a vector only if it is cached: start every test without one."""
    embedding.clear_cache()
    yield
    embedding.clear_cache()


def check_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "letter",
        "title": TITLE,
        "description": BODY + "请纪委调查。",
        "region_code": "110101",
        "reporter": {"anonymous": True},
        "parties": [],
    }
    body.update(overrides)
    return body


def end_case(case: Case, *, status: str, conclusion: str, problem_solved: bool, satisfaction: int) -> None:
    """Give a case an ending (verified, partly substantiated) without walking the workflow."""
    Case.objects.filter(pk=case.pk).update(
        status=status,
        disposal_way="verification",
        substantiation="partly",
        conclusion=conclusion,
        problem_solved=problem_solved,
        satisfaction=satisfaction,
    )


def test_the_registration_hook_is_installed() -> None:
    assert repeat_index_registered in REGISTRATION_HOOKS


def test_registration_indexes_in_its_transaction_and_defers_the_embedding(
    register, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    doc = RepeatDoc.objects.get(pk=case.pk)
    assert RepeatBand.objects.filter(case_id=case.pk).count() > 0
    # The model did not run inside the transaction: the vector comes later.
    assert doc.vector is None and doc.vector_model == ""
    assert len(callbacks) == (1 if embedding.available() else 0)


def test_a_report_registered_a_moment_ago_is_found_by_a_check(api, staff, register) -> None:
    earlier = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    assert RepeatDoc.objects.get(pk=earlier.pk).vector is None  # the deferred task has not run
    before = Case.objects.count()
    r = api(staff("county")).post("/api/v1/repeat-check/", check_body(), format="json")
    assert r.status_code == 200, r.content
    [c] = r.json()["candidates"]
    assert c["case_number"] == earlier.number and c["flag"] and not c["restricted"]
    assert "similar_text" in c["signals"] and "same_place" in c["signals"]
    assert c["state"]["status"] == "received" and c["state"]["label"]
    assert c["holding_office"] == earlier.holding_office.name and c["title"] == TITLE
    assert set(c) >= {"disposal", "outcome", "return_visit", "received_at", "score", "reasons"}
    assert Case.objects.count() == before  # a check registers nothing


def test_the_check_says_how_the_earlier_case_ended(api, staff, register) -> None:
    earlier = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    end_case(earlier, status="fed_back", conclusion="部分属实，责令退还补偿款", problem_solved=False, satisfaction=2)
    [c] = api(staff("county")).post("/api/v1/repeat-check/", check_body(), format="json").json()["candidates"]
    assert c["state"]["status"] == "fed_back" and c["state"]["label"]
    assert c["disposal"]["way"] == "verification" and c["disposal"]["label"]
    assert c["outcome"]["substantiation"] == "partly" and c["outcome"]["label"]
    assert c["outcome"]["conclusion"] == "部分属实，责令退还补偿款"
    assert c["return_visit"] == {"problem_solved": False, "satisfaction": 2}
    assert any("%" in reason for reason in c["reasons"])


@needs_model
def test_the_deferred_embedding_makes_a_reworded_report_findable(
    api, staff, register, django_capture_on_commit_callbacks
) -> None:
    client = api(staff("county"))
    body = check_body(title=TITLE, description="2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民。")
    with django_capture_on_commit_callbacks(execute=False):
        earlier = register(title=REWORDED_TITLE, description=REWORDED_BODY, reporter=ANONYMOUS, parties=[])
    # Before the embedding task runs, the reworded text shares too little to be found.
    assert client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"] == []
    embedding.clear_cache()
    assert repeat_embed_missing_task.delay(case_ids=[earlier.pk]).get() == 1
    doc = RepeatDoc.objects.get(pk=earlier.pk)
    assert doc.vector is not None and doc.vector_model == embedding.vector_tag()
    [c] = client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"]
    assert c["case_number"] == earlier.number and c["flag"]
    assert "similar_meaning" in c["signals"] and "similar_text" not in c["signals"]


@needs_model
def test_the_task_runs_after_commit_and_fills_the_vector(register, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    doc = RepeatDoc.objects.get(pk=case.pk)
    assert doc.vector is not None and doc.vector_model == embedding.vector_tag()


@needs_model
def test_a_vector_a_check_just_computed_is_stored_at_registration(
    api, staff, register, django_capture_on_commit_callbacks
) -> None:
    api(staff("county")).post("/api/v1/repeat-check/", check_body(), format="json")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = register(title=TITLE, description=BODY + "请纪委调查。", reporter=ANONYMOUS, parties=[])
    doc = RepeatDoc.objects.get(pk=case.pk)
    assert doc.vector is not None and doc.vector_model == embedding.vector_tag()
    assert len(callbacks) == 1  # only the vector index update, no embedding task


@needs_model
def test_a_vector_left_missing_is_filled_by_the_sweep(register) -> None:
    # Registered while the task never ran (worker down, crash): the periodic sweep catches up.
    cases = [register(title=f"{TITLE}{i}", description=BODY, reporter=ANONYMOUS, parties=[]) for i in range(3)]
    assert RepeatDoc.objects.filter(vector__isnull=True).count() == 3
    assert repeat_embed_missing_task.delay().get() == 3
    assert not RepeatDoc.objects.filter(pk__in=[c.pk for c in cases], vector__isnull=True).exists()
    assert repeat_embed_missing_task.delay().get() == 0


@needs_model
def test_vectors_of_another_embedded_length_are_not_compared_and_are_re_embedded(
    api, staff, register, settings, django_capture_on_commit_callbacks
) -> None:
    client = api(staff("county"))
    body = check_body(title=TITLE, description="2023年村里土地被征收，村主任张三把补偿款截留，至今没有发给村民。")
    with django_capture_on_commit_callbacks(execute=True):
        earlier = register(title=REWORDED_TITLE, description=REWORDED_BODY, reporter=ANONYMOUS, parties=[])
    assert client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"][0]["flag"]
    # The embedded length changes: the stored vector was made from other text than a query's.
    settings.REPEATS_EMBED_CHARS = embedding.embed_chars() // 2
    embedding.clear_cache()
    assert RepeatDoc.objects.get(pk=earlier.pk).vector_model != embedding.vector_tag()
    assert client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"] == []
    # The sweep re-embeds it at the new length; then it is compared again.
    assert repeat_embed_missing_task.delay().get() == 1
    assert RepeatDoc.objects.get(pk=earlier.pk).vector_model == embedding.vector_tag()
    assert repeat_embed_missing_task.delay().get() == 0
    [c] = client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"]
    assert c["case_number"] == earlier.number and "similar_meaning" in c["signals"]


@needs_model
def test_rebuild_missing_also_fills_missing_vectors(register, capsys) -> None:
    case = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    call_command("rebuild_repeat_index", "--only-missing")
    assert "filled 1 missing vectors" in capsys.readouterr().out
    assert RepeatDoc.objects.get(pk=case.pk).vector is not None


@needs_model
def test_racing_fills_store_each_vector_once_and_never_a_stale_one(register) -> None:
    a = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    b = register(title="阳光小区物业乱收费问题", description="物业公司每月多收停车费。", reporter=ANONYMOUS, parties=[])
    rows = list(
        RepeatDoc.objects.filter(pk__in=[a.pk, b.pk])
        .order_by("pk")
        .values_list("pk", "text_hash", "case__title", "case__description")
    )
    texts = [embedding.embedding_text(t, d) for _pk, _h, t, d in rows]
    vectors = embedding.embed_many(texts)
    # Another task fills `a` first; meanwhile `b` is edited (re-indexed: new text hash, no vector).
    assert repeat_fill_vectors(case_ids=[a.pk]) == 1
    stored_a = RepeatDoc.objects.get(pk=a.pk).vector
    RepeatDoc.objects.filter(pk=b.pk).update(text_hash="edited")
    assert _store_vectors(rows, texts, vectors) == 0
    assert RepeatDoc.objects.get(pk=a.pk).vector == stored_a
    assert RepeatDoc.objects.get(pk=b.pk).vector is None


def test_without_a_model_nothing_is_dispatched(register, settings, django_capture_on_commit_callbacks) -> None:
    settings.REPEATS_EMBEDDINGS = False
    embedding._model.cache_clear()
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            case = register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
        assert callbacks == []
        assert RepeatDoc.objects.get(pk=case.pk).vector is None
        assert repeat_fill_vectors() == 0
    finally:
        embedding._model.cache_clear()


def test_a_sibling_countys_case_is_shown_only_by_number_when_the_phone_matches(api, staff, register) -> None:
    same_text = register("sibling", title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    same_phone = register(
        "sibling",
        title=TITLE,
        description=BODY + "（补充）",
        reporter=ReporterInput(anonymous=False, name="赵六", phone="13900139000"),
        parties=[],
    )
    client = api(staff("county"))
    assert client.post("/api/v1/repeat-check/", check_body(), format="json").json()["candidates"] == []
    body = check_body(reporter={"anonymous": False, "name": "赵六", "phone": "139 0013 9000"})
    [c] = client.post("/api/v1/repeat-check/", body, format="json").json()["candidates"]
    assert c["case_number"] == same_phone.number and c["restricted"]
    assert c["holding_office"] == same_phone.holding_office.name
    assert c["title"] is None and c["state"] is None and c["outcome"] is None and c["return_visit"] is None
    assert not c["flag"] and c["signals"] == ["same_phone"]
    assert same_text.number not in {x["case_number"] for x in [c]}


def test_a_check_by_phone_is_audited_without_the_phone(api, staff, register) -> None:
    from qingfeng.protection.models import AuditEntry

    earlier = register(
        "sibling",
        title=TITLE,
        description=BODY,
        reporter=ReporterInput(anonymous=False, name="赵六", phone="13900139000"),
    )
    client = api(staff("county"))
    client.post("/api/v1/repeat-check/", check_body(), format="json")
    assert not AuditEntry.objects.filter(action="repeat_check_identity").exists()  # nothing probed
    body = check_body(reporter={"anonymous": False, "name": "赵六", "phone": "139 0013 9000"})
    client.post("/api/v1/repeat-check/", body, format="json")
    entry = AuditEntry.objects.get(action="repeat_check_identity")
    assert entry.actor_id == staff("county").pk
    assert entry.detail == {"channel": "api", "by": ["phone"], "candidates": [earlier.number], "restricted": 1}
    assert "13900139000" not in str(entry.detail) and "赵六" not in str(entry.detail)


def test_registration_through_the_api_answers_with_the_candidates(api, staff) -> None:
    client = api(staff("county"))
    first = client.post("/api/v1/cases/", check_body(description=BODY), format="json")
    assert first.status_code == 201, first.content
    assert first.json()["repeat_candidates"] == []
    second = client.post("/api/v1/cases/", check_body(), format="json")
    assert second.status_code == 201, second.content
    found = second.json()["repeat_candidates"]
    assert [c["case_number"] for c in found] == [first.json()["number"]]  # not the new case itself
    assert found[0]["flag"] and found[0]["reasons"]


def test_the_registration_answer_is_what_its_serializers_give(api, staff, register) -> None:
    """The answer is built without the serializers (for speed); they still document it, so both agree."""
    import json

    from qingfeng.cases.serializers import (
        CaseCreatedSerializer,
        RegistrationSerializer,
        RepeatCandidateSerializer,
        case_created_data,
        repeat_candidates_data,
    )
    from qingfeng.repeats.check import candidate_payload, repeat_check

    phone = ReporterInput(anonymous=False, name="赵六", phone="13900139000")
    earlier = register(title=TITLE, description=BODY, reporter=phone, parties=[])  # visible to the county
    # An ended case, so every nested part of a candidate (disposal, outcome, return visit) is filled.
    end_case(earlier, status="archived", conclusion="部分属实", problem_solved=True, satisfaction=4)
    register("sibling", title=TITLE, description=BODY, reporter=phone, parties=[])  # restricted
    body = check_body(
        categories=["mass.poverty_funds"], reporter={"anonymous": False, "name": "赵六", "phone": "13900139000"}
    )
    r = api(staff("county")).post("/api/v1/cases/", body, format="json")
    assert r.status_code == 201, r.content
    answer = r.json()
    assert answer["categories"] == ["mass.poverty_funds"]
    assert {c["restricted"] for c in answer["repeat_candidates"]} == {True, False}
    shown = next(c for c in answer["repeat_candidates"] if not c["restricted"])
    assert shown["disposal"]["way"] == "verification" and shown["return_visit"]["satisfaction"] == 4

    case = Case.objects.get(number=answer["number"])
    ser = RegistrationSerializer(data=body)
    assert ser.is_valid(), ser.errors
    found = repeat_check(data=ser.to_input(), viewer_office=case.holding_office, exclude_case_id=case.pk, embed=False)
    payloads = [candidate_payload(c) for c in found]

    def plain(data: Any) -> Any:
        return json.loads(json.dumps(data, default=str))

    assert plain(repeat_candidates_data(payloads)) == plain(RepeatCandidateSerializer(payloads, many=True).data)
    expected = plain(CaseCreatedSerializer(case, context={"repeat_candidates": payloads}).data)
    assert plain(case_created_data(case, payloads)) == expected
    assert answer == expected


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.INTAKE_CLERK, True),
        (Role.PETITION_HEAD, True),
        (Role.HANDLER, True),
        (Role.LEADER, True),
        (Role.ANALYST, False),
        (Role.AUDITOR, False),
    ],
)
def test_who_may_check(api, tree, make_user, role, allowed) -> None:
    r = api(make_user(tree["county"], role)).post("/api/v1/repeat-check/", check_body(), format="json")
    assert r.status_code == (200 if allowed else 403), r.content


def test_check_input_is_validated_like_registration(api, staff) -> None:
    r = api(staff("county")).post("/api/v1/repeat-check/", check_body(region_code="1", title=""), format="json")
    assert r.status_code == 400
    body = r.json()
    assert "region_code" in str(body) and "title" in str(body)


def test_reasons_are_in_the_users_language(api, staff, register) -> None:
    register(title=TITLE, description=BODY, reporter=ANONYMOUS, parties=[])
    client = api(staff("county"))
    zh = client.post("/api/v1/repeat-check/", check_body(), format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.post("/api/v1/repeat-check/", check_body(), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "same place" in en.json()["candidates"][0]["reasons"]
    assert "地点相同" in zh.json()["candidates"][0]["reasons"]
