from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from qingfeng.cases.models import Attachment, Case, CaseEvent, Reporter
from qingfeng.core import crypto
from qingfeng.core.errors import TooLarge, ValidationFailed
from qingfeng.intake.services import PartyInput, ReporterInput

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def test_registration_numbers_by_office_year_and_sequence(register, tree):
    a = register("county")
    b = register("county")
    year = a.received_at.astimezone().year
    assert a.number == f"110101-{year}-000001"
    assert b.number == f"110101-{year}-000002"
    assert register("sibling").number == f"110102-{year}-000001"


def test_a_failed_registration_leaves_no_gap_in_the_numbers(register):
    register("county")
    with pytest.raises(ValidationFailed):
        register("county", title="   ")
    assert register("county").number.endswith("-000002")


def test_registration_writes_the_register_event_and_access(register, tree, staff):
    case = register("county", actor=staff("county"))
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_status, event.to_status) == ("register", "", "received")
    assert event.actor == staff("county") and event.office == tree["county"]
    assert list(case.access.values_list("office__code", flat=True)) == ["110101"]


def test_validation_names_every_bad_field(register):
    with pytest.raises(ValidationFailed) as exc:
        register(
            "county",
            channel="fax",
            title="",
            region_code="11a",
            is_group_visit=True,
            head_count=1,
            categories=["nope"],
            reporter=ReporterInput(anonymous=False, name="", id_number="110101199003074518"),
            parties=[PartyInput(name="")],
        )
    fields = exc.value.fields
    for name in (
        "channel",
        "title",
        "region_code",
        "is_group_visit",
        "head_count",
        "categories",
        "reporter.name",
        "reporter.id_number",
        "parties[0].name",
    ):
        assert name in fields, name


def test_a_real_name_report_needs_a_verifiable_contact(register):
    with pytest.raises(ValidationFailed) as exc:
        register("county", reporter=ReporterInput(anonymous=False, name="王五"))
    assert "reporter.phone" in exc.value.fields


def test_identity_is_encrypted_at_rest_and_found_by_keyed_hash(register):
    case = register(
        "county",
        reporter=ReporterInput(anonymous=False, name="张三", phone="+86 138-0013-8000", id_number="11010519491231002X"),
    )
    with connection.cursor() as cur:
        cur.execute("SELECT name, phone, id_number, phone_hash FROM cases_reporter WHERE case_id = %s", [case.pk])
        name, phone, id_number, phone_hash = cur.fetchone()
    for raw in (name, phone, id_number):
        assert raw.startswith("fernet:")
        assert "张三" not in raw and "13800138000" not in raw and "11010519491231002X" not in raw
    reporter = Reporter.objects.get(case=case)
    assert reporter.name == "张三" and reporter.id_number == "11010519491231002X"
    # Full-width digits and a country code normalise to the same keyed hash.
    assert Reporter.objects.filter(phone_hash=crypto.phone_hash("１３８００１３８０００")).count() == 1
    assert phone_hash != "13800138000"


def test_an_id_number_with_a_wrong_check_digit_is_refused(register):
    with pytest.raises(ValidationFailed) as exc:
        register(
            "county",
            reporter=ReporterInput(anonymous=False, name="张三", phone="13800138000", id_number="110105194912310021"),
        )
    assert "reporter.id_number" in exc.value.fields


def test_attachments_are_checked_by_content_and_stored_outside_the_database(register):
    good = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    case = register("county", attachments=[good])
    att = Attachment.objects.get(case=case)
    assert att.content_type == "image/png" and att.size == len(PNG)
    assert att.file.name.startswith("attachments/") and "scan" not in att.file.name
    with att.file.open("rb") as fh:
        assert fh.read() == PNG


def test_an_executable_renamed_to_pdf_is_refused(register):
    fake = SimpleUploadedFile(
        "report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 50, content_type="application/pdf"
    )
    with pytest.raises(ValidationFailed) as exc:
        register("county", attachments=[fake])
    assert "attachments" in exc.value.fields
    assert Case.objects.count() == 0


def test_an_oversized_attachment_is_a_413(register, settings):
    settings.ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(TooLarge):
        register("county", attachments=[SimpleUploadedFile("big.png", PNG, content_type="image/png")])
    assert Case.objects.count() == 0


def test_full_text_tokens_are_jieba_words_not_whitespace_chunks(register):
    case = register("county", title="反映扶贫资金被挪用", description="村支书挪用扶贫资金修建自家房屋")
    assert " 扶贫 " in case.search_tokens and " 资金 " in case.search_tokens


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_gap_free_numbers(tree):
    from qingfeng.intake.services import RegistrationInput, case_register

    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            for _ in range(5):
                case = case_register(
                    data=RegistrationInput(
                        channel="online", title="并发登记", description="并发登记测试", region_code="110101"
                    ),
                    office=tree["county"],
                    actor=None,
                )
                with lock:
                    numbers.append(case.number)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(1, 41))
