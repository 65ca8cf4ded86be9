"""Bulk registration: the same rows as one registration per report, and the batch API."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from qingfeng.analytics.counting import TABLES, stored_counts
from qingfeng.analytics.models import TopicMatch
from qingfeng.analytics.topics import topic_save
from qingfeng.cases.models import Case, CaseAccess, CaseEvent, Category, ReportedParty, Reporter, Tag
from qingfeng.core.errors import ValidationFailed
from qingfeng.intake.services import (
    PartyInput,
    RegistrationInput,
    ReporterInput,
    case_register,
    case_register_many,
)
from qingfeng.notifications.models import Notification
from qingfeng.protection.audit import verify
from qingfeng.protection.models import AuditEntry
from qingfeng.repeats.models import RepeatBand, RepeatDoc, RepeatPersonKey

pytestmark = pytest.mark.django_db

FROZEN = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def reports() -> list[RegistrationInput]:
    """Reports that exercise every part: real name and anonymous, a reporter who comes back within
    the batch and one known from before it, categories, tags, a topic's keyword, several parties,
    another year, no reporter at all."""
    party = PartyInput(name="李四", post="镇长", unit="某某镇人民政府")
    return [
        RegistrationInput(
            channel="phone",
            title="反映某镇镇长违规收受礼金",
            description="2026年春节期间，某镇镇长李四收受辖区企业礼金两万元。",
            region_code="110101",
            categories=["T1"],
            tags=["K1"],
            reporter=ReporterInput(anonymous=False, name="张三", phone="13800138000", id_number=""),
            parties=[party, PartyInput(name="某某公司", kind="organisation", unit="")],
        ),
        RegistrationInput(
            channel="letter",
            title="再问：某镇镇长收受礼金一事",
            description="上次反映某镇镇长李四收受礼金，至今未见处理。",
            region_code="110101",
            reporter=ReporterInput(anonymous=True, phone="138 0013 8000"),  # the same phone, written apart
            parties=[party],
        ),
        RegistrationInput(
            channel="online",
            title="某村村委会侵占集体土地",
            description="某村村委会主任王五将集体耕地违规出租用于建厂，破坏耕地。",
            region_code="110101",
            reporter=ReporterInput(anonymous=False, name="赵六", phone="13900000001"),
            parties=[PartyInput(name="王五", post="村委会主任", unit="某村村委会")],
        ),
        RegistrationInput(
            channel="visit",
            title="反映学校食堂食品安全问题",
            description="某中学食堂使用过期食材，学生多次腹泻。",
            region_code="110101",
            is_group_visit=True,
            head_count=5,
            reporter=ReporterInput(anonymous=False, name="钱七", phone="13700000002"),
        ),
        RegistrationInput(
            channel="letter",
            title="去年的来信补登",
            description="某局干部违规发放津贴补贴。",
            region_code="110101",
            received_at=datetime(2025, 12, 30, 3, 0, tzinfo=UTC),
            reporter=ReporterInput(anonymous=False, name="孙八", phone="13600000003"),
        ),
        RegistrationInput(
            channel="online",
            title="匿名反映某所所长吃空饷",
            description="某所所长安排亲属吃空饷多年。",
            region_code="110101",
        ),
    ]


def snapshot() -> dict[str, Any]:
    """Every row registration writes, keyed by case number; ids replaced by what they stand for."""
    number = dict(Case.objects.values_list("pk", "number"))
    docs = dict(RepeatDoc.objects.values_list("case_id", "reporter_key"))
    # A person cluster is named by the case numbers in it (ids differ between runs).
    clusters: dict[int | None, tuple[str, ...]] = {None: ()}
    for case_id, person in docs.items():
        clusters.setdefault(person, ())
        clusters[person] = tuple(sorted((*clusters[person], number[case_id])))

    def rows(model: Any, drop: tuple[str, ...] = ()) -> Counter[str]:
        out: Counter[str] = Counter()
        for row in model.objects.values():
            row.pop("id", None)
            for name in drop:
                row.pop(name, None)
            if "case_id" in row:
                row["case_id"] = number.get(row["case_id"], row["case_id"])
            out[repr(sorted(row.items()))] += 1
        return out

    return {
        "cases": rows(Case),
        "reporters": rows(Reporter),
        "parties": rows(ReportedParty),
        "access": rows(CaseAccess),
        "events": rows(CaseEvent),
        "categories": rows(Case.categories.through),
        "tags": rows(Case.tags.through),
        "topics": rows(TopicMatch),
        "notifications": rows(Notification),
        "bands": rows(RepeatBand),
        "docs": Counter(
            repr((number[c], clusters[p], d.region_code, d.text_hash, d.vector_model))
            for c, p, d in ((d.case_id, d.reporter_key, d) for d in RepeatDoc.objects.all())
        ),
        "person_keys": Counter(
            repr((k, clusters.get(p, ("no case",)))) for k, p in RepeatPersonKey.objects.values_list("key", "person_id")
        ),
        "audit": rows(AuditEntry, drop=("sequence", "prev_hash", "hash", "created_at")),
        "counts": {table: rows(model) for table, (model, _cols) in TABLES.items()},
    }


@pytest.fixture
def setup(tree: dict[str, Any], make_user: Any) -> dict[str, Any]:
    Category.objects.create(code="T1", name="违规收送礼金", path="/T1/")
    Tag.objects.create(code="K1", name="乡村振兴")
    analyst = make_user(tree["province"], "analyst")
    topic_save(actor=analyst, code="farmland", name="耕地保护", keywords=["耕地"])
    # A reporter known from before: the batch's third report joins that cluster.
    case_register(
        data=RegistrationInput(
            channel="phone",
            title="早先的来电",
            description="反映某村村委会主任王五的问题。",
            region_code="110101",
            reporter=ReporterInput(anonymous=False, name="赵六", phone="13900000001"),
        ),
        office=tree["county"],
        actor=None,
    )
    return {"office": tree["county"], "clerk": make_user(tree["county"], "intake_clerk")}


@pytest.mark.parametrize("actor_kind", ["clerk", "none"])
def test_a_batch_writes_exactly_the_rows_of_one_registration_per_report(setup: dict[str, Any], actor_kind: str):
    office = setup["office"]
    actor = setup["clerk"] if actor_kind == "clerk" else None
    with time_machine.travel(FROZEN, tick=False):
        mark = transaction.savepoint()
        singles = [case_register(data=d, office=office, actor=actor).number for d in reports()]
        one_by_one = snapshot()
        transaction.savepoint_rollback(mark)
        batch = [c.number for c in case_register_many(items=reports(), office=office, actor=actor)]
        together = snapshot()
    assert batch == singles  # the same numbers, in the same order (the rolled-back ones came back)
    assert len(set(batch)) == 6 and batch[4].split("-")[1] == "2025"
    for part in one_by_one:
        assert together[part] == one_by_one[part], part
    assert verify() == (AuditEntry.objects.count(), None)
    docs = {d.case.number: d.reporter_key for d in RepeatDoc.objects.select_related("case")}
    first, again, known = batch[0], batch[1], batch[2]
    assert docs[first] == docs[again] is not None  # the same phone, inside the batch
    earlier = Case.objects.get(title="早先的来电").number
    assert docs[known] == docs[earlier]  # a reporter known from before the batch
    assert TopicMatch.objects.filter(case__number=known).exists()  # 耕地


def test_a_batch_takes_a_bounded_number_of_statements_however_many_reports(setup: dict[str, Any]):
    office, clerk = setup["office"], setup["clerk"]

    def statements(n: int) -> int:
        items = [
            RegistrationInput(
                channel="letter",
                title=f"反映第{i}号事项",
                description=f"某局干部第{i}次违规报销费用。",
                region_code="110101",
                reporter=ReporterInput(anonymous=False, name="周九", phone=f"1350000{n:02d}{i:02d}"),
                parties=[PartyInput(name=f"干部{i}", unit="某局")],
            )
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as ctx:
            case_register_many(items=items, office=office, actor=clerk)
        return len(ctx.captured_queries)

    small, large = statements(5), statements(40)
    # One statement per table whatever the size (SQLite splits long inserts: at most 999 values).
    assert large - small <= 6 and large <= 40, (small, large)


def test_one_bad_report_registers_none_and_names_it(setup: dict[str, Any]):
    items = reports()
    items[3] = RegistrationInput(channel="fax", title="", description="x", region_code="1")
    before = Case.objects.count()
    with pytest.raises(ValidationFailed) as err:
        case_register_many(items=items, office=setup["office"], actor=setup["clerk"])
    assert {"reports[3].channel", "reports[3].title", "reports[3].region_code"} <= set(err.value.fields)
    assert not any(name.startswith("reports[0]") for name in err.value.fields)
    assert Case.objects.count() == before


def test_numbers_of_a_batch_and_single_registrations_never_clash(setup: dict[str, Any], register: Any):
    office = setup["office"]
    a = register(office).number
    batch = [c.number for c in case_register_many(items=reports()[:3], office=office, actor=None)]
    b = register(office).number
    seq = [int(n.rsplit("-", 1)[1]) for n in (a, *batch, b)]
    assert seq == list(range(seq[0], seq[0] + 5))


# --- API -----------------------------------------------------------------------------------------


def body(i: int, **overrides: Any) -> dict[str, Any]:
    return {
        "channel": "letter",
        "title": f"批量登记第{i}件",
        "description": f"某局干部第{i}次违规报销费用。",
        "region_code": "110101",
        "reporter": {"anonymous": False, "name": "周九", "phone": f"135000000{i:02d}"},
        "parties": [{"name": "吴十", "post": "科长", "unit": "某局"}],
        **overrides,
    }


def test_the_batch_endpoint_registers_all_and_lists_them(setup: dict[str, Any], api: Any):
    resp = api(setup["clerk"]).post("/api/v1/cases/batch/", {"reports": [body(i) for i in range(3)]}, format="json")
    assert resp.status_code == 201, resp.content
    numbers = [c["number"] for c in resp.json()["cases"]]
    assert resp.json()["count"] == 3 and len(set(numbers)) == 3
    assert list(Case.objects.filter(number__in=numbers).order_by("number").values_list("title", flat=True)) == [
        "批量登记第0件",
        "批量登记第1件",
        "批量登记第2件",
    ]
    assert resp.json()["cases"][0]["url"] == f"/api/v1/cases/{numbers[0]}/"


def test_the_batch_endpoint_refuses_bad_input_with_messages_and_registers_nothing(
    setup: dict[str, Any], api: Any, make_user: Any
):
    client = api(setup["clerk"])
    before = Case.objects.count()
    shape = client.post("/api/v1/cases/batch/", {"reports": [body(0), body(1, channel="fax", title="")]}, format="json")
    assert shape.status_code == 400
    fields = shape.json()["extra"]["fields"]
    assert "reports[1].channel" in fields and "reports[1].title" in fields and "reports[0].title" not in fields
    domain = client.post("/api/v1/cases/batch/", {"reports": [body(0), body(1, categories=["NOPE"])]}, format="json")
    assert domain.status_code == 422 and "reports[1].categories" in domain.json()["extra"]["fields"]
    assert "none was registered" in domain.json()["message"]
    files = client.post("/api/v1/cases/batch/", {"reports": [body(0, attachments=["x"])]}, format="json")
    assert files.status_code == 400 and "reports[0].attachments" in files.json()["extra"]["fields"]
    empty = client.post("/api/v1/cases/batch/", {"reports": []}, format="json")
    assert empty.status_code == 400
    assert Case.objects.count() == before
    handler = make_user(setup["office"], "handler")
    assert api(handler).post("/api/v1/cases/batch/", {"reports": [body(0)]}, format="json").status_code == 403


def test_the_batch_endpoint_refuses_more_than_its_limit(setup: dict[str, Any], api: Any, settings: Any):
    settings.REGISTRATION_BATCH_MAX = 2
    resp = api(setup["clerk"]).post("/api/v1/cases/batch/", {"reports": [body(i) for i in range(3)]}, format="json")
    assert resp.status_code == 413 and "At most 2 reports" in resp.json()["message"]
    assert not Case.objects.filter(title__startswith="批量登记").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_single_registrations_keep_numbers_persons_audit_and_counts_exact(tree):
    """Batches and single registrations at two offices at once, sharing reporters: no clash, no
    gap, no deadlock, and counts equal to a rebuild from the rows."""
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()

    def report(k: int, i: int) -> RegistrationInput:
        return RegistrationInput(
            channel="letter",
            title=f"并发批量登记{k}-{i}",
            description="某镇镇长收受礼金，多次反映。",
            region_code="110101",
            reporter=ReporterInput(anonymous=False, name="张三", phone=f"1380013{(k + i) % 4:04d}"),
        )

    def worker(k: int) -> None:
        try:
            for i in range(4):
                office = tree["county" if (k + i) % 2 else "sibling"]
                if k % 2:
                    got = [case_register(data=report(k, i), office=office, actor=None)]
                else:
                    got = case_register_many(items=[report(k, i * 3 + j) for j in range(3)], office=office, actor=None)
                with lock:
                    numbers.extend(c.number for c in got)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(numbers) == 3 * 4 * 3 + 3 * 4 == len(set(numbers))
    for code in (tree["county"].code, tree["sibling"].code):
        seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(code + "-"))
        assert seqs == list(range(1, len(seqs) + 1))
    assert verify() == (AuditEntry.objects.count(), None)
    # Four phones: four person clusters, however the reports were registered.
    assert RepeatDoc.objects.values("reporter_key").distinct().count() == 4
    incremental = stored_counts()
    call_command("rebuild_counts", stdout=StringIO())
    assert stored_counts() == incremental
