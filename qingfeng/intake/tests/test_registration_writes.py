"""How registration writes: few statements, and the rows every registration shares written last."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from qingfeng.analytics.counting import stored_counts
from qingfeng.cases.models import Case, Category, ReportedParty
from qingfeng.intake.services import PartyInput, RegistrationInput, ReporterInput, case_register
from qingfeng.protection.audit import verify
from qingfeng.protection.models import AuditEntry

pytestmark = pytest.mark.django_db


def _writes(queries: list[dict[str, str]]) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_the_shared_rows_are_the_last_statements_before_commit(register):
    register("county")  # the chain head and the count rows exist from now on
    with CaptureQueriesContext(connection) as ctx:
        case = register("county")
    sql = _writes(ctx.captured_queries)
    counts = [i for i, s in enumerate(sql) if '"analytics_' in s and "ON CONFLICT" in s]
    head = [i for i, s in enumerate(sql) if "protection_audit" in s]
    assert counts and head, "a real-name registration updates the counts and the audit log"
    others = [i for i, s in enumerate(sql) if i not in counts and i not in head and s not in ("BEGIN", "COMMIT")]
    # Number, case, reporter, parties, access, event, the hooks' reads … then counts, then the chain.
    assert max(others) < min(counts) <= max(counts) < min(head)
    entry = AuditEntry.objects.get(action="identity_register", case_number=case.number)
    assert verify() == (AuditEntry.objects.count(), None) and entry.sequence == AuditEntry.objects.count()


def test_a_registration_takes_a_bounded_number_of_statements(register):
    register("county")
    with CaptureQueriesContext(connection) as ctx:
        register("county")
    # The repeat-detection hook adds its own index rows; the rest must stay this small.
    assert len(_writes(ctx.captured_queries)) <= 30


def test_the_registered_case_holds_its_categories_tags_and_parties_without_a_query(register):
    Category.objects.create(code="T1", name="测试类别", path="/T1/")
    case = register("county", categories=["T1"])
    with CaptureQueriesContext(connection) as ctx:
        assert [c.code for c in case.categories.all()] == ["T1"]
        assert list(case.tags.all()) == []
        assert [p.name for p in case.reported_parties.all()] == ["李四"]
    assert not ctx.captured_queries
    assert list(Case.objects.get(pk=case.pk).categories.values_list("code", flat=True)) == ["T1"]
    assert ReportedParty.objects.get(case=case).case_id == case.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_keep_numbers_audit_chain_and_counts_exact(tree):
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            for i in range(6):
                office = tree["county" if (k + i) % 2 else "sibling"]
                case = case_register(
                    data=RegistrationInput(
                        channel="phone",
                        title="并发登记",
                        description="并发登记测试：某镇镇长收受礼金。",
                        region_code=office.region_code,
                        # Some reporters come back: their person counts move under the person lock.
                        reporter=ReporterInput(anonymous=False, name="张三", phone=f"1380013{k % 3:04d}"),
                        parties=[PartyInput(name="李四", post="镇长", unit="某某镇人民政府")],
                    ),
                    office=office,
                    actor=None,
                )
                with lock:
                    numbers.append(case.number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for code in (tree["county"].code, tree["sibling"].code):
        seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(code + "-"))
        assert seqs == list(range(1, 25))
    assert verify() == (AuditEntry.objects.count(), None)
    assert AuditEntry.objects.filter(action="identity_register").count() == 48
    incremental = stored_counts()
    call_command("rebuild_counts", stdout=StringIO())
    assert stored_counts() == incremental
