from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import date, datetime
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from qingfeng.cases.models import Case, CaseEvent, Category
from qingfeng.core import crypto
from qingfeng.factories import make_office
from qingfeng.intake.importing import (
    ImportFileError,
    Mapping,
    clean_paragraphs,
    parse_bool,
    parse_channel,
    parse_datetime,
    parse_status,
)
from qingfeng.notifications.models import Notification

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = ["external_id", "received_at", "channel", "title", "description"]
ID_NUMBER = "11010519491231002X"


def row(external_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "received_at": "2019/4/25 9:32:09",
        "channel": "来信",
        "title": f"反映问题 {external_id}",
        "description": "某镇镇长收受礼金。",
        **fields,
    }


def write_csv(path: Path, rows: list[dict[str, Any]], *, encoding: str = "utf-8") -> Path:
    columns = list(dict.fromkeys([*HEADER, *(k for r in rows for k in r)]))
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are compared in English (the site's language is Chinese)."""
    with translation.override("en"):
        yield


def run(*args: Any, **options: Any) -> tuple[str, str]:
    """Runs the command; returns (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("import_reports", *[str(a) for a in args], stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def fail(*args: Any, **options: Any) -> tuple[str, str]:
    """Runs a command that must exit non-zero; returns (CommandError message, stderr)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_reports", *[str(a) for a in args], stdout=out, stderr=err, **options)
    return str(exc.value), err.getvalue()


def imported_ids(office_code: str = "110101") -> list[str]:
    return sorted(Case.objects.filter(received_office__code=office_code).values_list("external_id", flat=True))


@pytest.fixture
def county(tree):
    return tree["county"]


@pytest.fixture
def categories(db):
    """The seeded problem categories (integrity 违反廉洁纪律, mass 违反群众纪律 …) and one retired."""
    assert Category.objects.filter(code__in=["integrity", "mass"]).count() == 2
    Category.objects.create(code="retired", name="旧类别", path="/retired/", active=False)


# --- happy paths ---------------------------------------------------------------------------


def test_it_imports_a_csv_file_into_the_office(tmp_path, county, categories):
    path = write_csv(
        tmp_path / "old.csv",
        [
            row(
                "A-1",
                channel="来电",
                reporter_name="张三",
                reporter_phone="138 0013 8000",
                reporter_id_number=ID_NUMBER,
                anonymous="实名",
                region_code="110101",
                category="integrity；违反群众纪律",
                reported_name="李四",
                reported_unit="某某镇人民政府",
            ),
            row("A-2", channel="网络", anonymous="是"),
        ],
    )

    out, err = run(path, office="110101")

    assert err == ""
    assert "imported: 2, already imported: 0, errors: 0 (of 2 rows" in out
    one = Case.objects.get(external_id="A-1")
    assert one.received_office == county and one.holding_office == county
    assert one.number.startswith("110101-2019-")
    assert one.received_at == datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)
    assert (one.channel, one.status, one.is_real_name, one.region_code) == ("phone", "received", True, "110101")
    assert sorted(one.categories.values_list("code", flat=True)) == ["integrity", "mass"]
    assert one.reporter.name == "张三" and one.reporter.phone_hash == crypto.phone_hash("13800138000")
    party = one.reported_parties.get()
    assert (party.name, party.unit, party.kind) == ("李四", "某某镇人民政府", "person")
    two = Case.objects.get(external_id="A-2")
    assert (two.channel, two.is_real_name, two.region_code) == ("online", False, "110101")
    event = CaseEvent.objects.get(case=two)
    assert event.action == "register" and event.data["imported_from"] == "old.csv" and event.data["line"] == 3


def test_it_imports_an_xlsx_workbook_with_date_cells_and_numeric_ids(tmp_path, county):
    path = tmp_path / "old.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["External_ID ", "received_at", "channel", "title", "description", "anonymous"])
    sheet.append([1001, datetime(2020, 1, 8, 11, 23, 30), "visit", "  标题\u3000一  ", "正文", True])
    sheet.append([])
    sheet.append([1002.0, 43580.5, "letter", "标题二", "正文", 1])
    sheet.append([1003, "2019年13月1日", "letter", "标题三", "正文", "否"])
    book.save(path)

    out, err = run(path, office="110101")

    assert err == "line 5: received_at: “2019年13月1日” is not a real date or time.\n"
    assert "imported: 2, already imported: 0, errors: 1 (of 3 rows" in out
    first = Case.objects.get(external_id="1001")
    assert first.received_at == datetime(2020, 1, 8, 11, 23, 30, tzinfo=SHANGHAI)
    assert (first.title, first.channel) == ("标题 一", "visit")
    second = Case.objects.get(external_id="1002")
    assert second.received_at == datetime(2019, 4, 25, 12, 0, tzinfo=SHANGHAI)


def test_it_imports_json_lines_and_reports_a_bad_json_line_alone(tmp_path, county, categories):
    path = tmp_path / "old.jsonl"
    lines = [
        json.dumps(row("J-1", received_at="2019-04-25T01:32:09Z", anonymous=True), ensure_ascii=False),
        "",
        '{"external_id": "J-2", "title": ',
        "[1, 2]",
        json.dumps(row("J-3", channel="online", status="已受理", category=["integrity", "mass"]), ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    out, err = run(path, office="110101")

    assert err.splitlines() == [
        "line 3: Not valid JSON: Expecting value: line 1 column 32 (char 31).",
        "line 4: Each line must be a JSON object {…}.",
    ]
    assert "imported: 2, already imported: 0, errors: 2 (of 4 rows" in out
    assert Case.objects.get(external_id="J-1").received_at == datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)
    third = Case.objects.get(external_id="J-3")
    assert third.status == "accepted"
    assert sorted(third.categories.values_list("code", flat=True)) == ["integrity", "mass"]


def test_it_reads_gb18030_csv_and_tab_separated_files(tmp_path, county):
    gb = write_csv(tmp_path / "gb.csv", [row("G-1", title="来自旧系统的标题")], encoding="gb18030")
    tsv = tmp_path / "tab.tsv"
    tsv.write_text("\t".join(HEADER) + "\nT-1\t2019-04-25\tphone\t标题\t正文\n", encoding="utf-8")

    run(gb, office="110101")
    run(tsv, office="110101")

    assert Case.objects.get(external_id="G-1").title == "来自旧系统的标题"
    assert Case.objects.get(external_id="T-1").received_at == datetime(2019, 4, 25, tzinfo=SHANGHAI)


def test_running_the_import_twice_imports_nothing_twice(tmp_path, county):
    path = write_csv(tmp_path / "old.csv", [row("R-1"), row("R-2"), row("R-3", channel="fax")])
    run(path, office="110101")

    out, err = run(path, office="110101")

    assert "imported: 0, already imported: 2, errors: 1 (of 3 rows" in out
    assert err == "line 4: channel: “fax” is not a known channel (letter, visit, phone, online, other).\n"
    assert imported_ids() == ["R-1", "R-2"]
    assert Case.objects.count() == 2


def test_the_same_external_id_may_be_imported_by_another_office(tmp_path, tree):
    path = write_csv(tmp_path / "old.csv", [row("X-1")])
    run(path, office="110101")
    run(path, office="110102")
    assert Case.objects.filter(external_id="X-1").count() == 2


# --- historical states -----------------------------------------------------------------------


def test_an_imported_concluded_case_gets_one_import_event_and_no_open_deadline(tmp_path, county, staff):
    path = write_csv(
        tmp_path / "old.csv",
        [
            row(
                "S-1",
                reporter_name="张三",
                reporter_phone="13800138000",
                status="办结",
                outcome="  经核查，\n\n\n\t反映问题部分属实。 ",
                concluded_at="2019-06-01 10:00",
            )
        ],
    )

    run(path, office="110101", actor=staff("county").username)

    case = Case.objects.get(external_id="S-1")
    assert case.status == "concluded" and case.is_real_name
    assert case.conclusion == "经核查，\n\n反映问题部分属实。"
    assert case.concluded_at == datetime(2019, 6, 1, 10, 0, tzinfo=SHANGHAI)
    assert case.status_changed_at == case.concluded_at
    assert case.next_due is None and case.next_due_kind == "" and case.feedback_due is None
    register, imported = CaseEvent.objects.filter(case=case).order_by("id")
    assert register.action == "register"
    assert (imported.action, imported.from_status, imported.to_status) == ("import", "received", "concluded")
    assert imported.reason == "imported from old.csv line 2"
    assert imported.data == {"outcome": "经核查，\n\n反映问题部分属实。", "concluded_at": "2019-06-01T10:00:00+08:00"}
    assert imported.actor == staff("county") and imported.office == county


@pytest.mark.parametrize(
    ("status", "extra", "implied"),
    [
        ("fed_back", {"concluded_at": "2019/6/1"}, {"fed_back_at": datetime(2019, 6, 1, tzinfo=SHANGHAI)}),
        ("归档", {"concluded_at": "2019/6/1"}, {"archived_at": datetime(2019, 6, 1, tzinfo=SHANGHAI)}),
        ("暂存待查", {}, {"disposal_way": "shelved"}),
        ("重复件", {}, {"is_repeat": True}),
        ("不予受理", {}, {"status": "not_accepted"}),
    ],
)
def test_an_imported_state_sets_the_fields_it_implies(tmp_path, county, status, extra, implied):
    run(write_csv(tmp_path / "old.csv", [row("S-1", status=status, **extra)]), office="110101")

    case = Case.objects.get(external_id="S-1")
    for name, value in implied.items():
        assert getattr(case, name) == value
    assert case.next_due is None


def test_an_outcome_without_a_state_means_the_case_was_concluded(tmp_path, county):
    path = write_csv(tmp_path / "old.csv", [row("S-1", outcome="已处理")])
    run(path, office="110101")
    case = Case.objects.get(external_id="S-1")
    assert (case.status, case.conclusion, case.concluded_at) == ("concluded", "已处理", None)


def test_an_imported_open_case_keeps_the_deadlines_that_run_from_received_at(tmp_path, county):
    path = write_csv(
        tmp_path / "old.csv",
        [row("O-1", reporter_name="张三", reporter_phone="13800138000", status="accepted", received_at="2019-04-25")],
    )
    run(path, office="110101")
    case = Case.objects.get(external_id="O-1")
    assert case.status == "accepted"
    assert case.next_due_kind == "acceptance_notice" and case.next_due.year == 2019


def test_imported_cases_send_no_new_report_notifications(tmp_path, county):
    run(write_csv(tmp_path / "old.csv", [row("N-1"), row("N-2", status="fed_back")]), office="110101")
    assert Case.objects.count() == 2
    assert not Notification.objects.exists()


# --- bad rows --------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_line_and_the_good_rows_are_imported(tmp_path, county, categories):
    rows = [
        row("B-1"),
        row("B-2", received_at="25/04/2019"),
        row("B-3", channel="传真"),
        row("B-4", region_code="1a"),
        row("B-5", reporter_name="张三", reporter_phone="13800138000", reporter_id_number="110105194912310021"),
        row("B-1"),
        row("B-7", category="旧类别"),
        row("B-8", category="no-such"),
        row("B-9", anonymous="maybe"),
        row("B-10", title="  ", description=""),
        row("", received_at="2999-01-01"),
        row("B-12", status="accepted", outcome="结论"),
        row("B-13", outcome="结论", concluded_at="2019-01-01"),
        row("B-14", reported_name="李" * 101),
        row("B-15"),
    ]
    path = write_csv(tmp_path / "old.csv", rows)

    out, err = run(path, office="110101")

    assert err.splitlines() == [
        "line 3: received_at: “25/04/2019” is not a date and time we can read.",
        "line 4: channel: “传真” is not a known channel (letter, visit, phone, online, other).",
        "line 5: region_code: Give the region code where the problem happened (2, 4, 6 or 9 digits).",
        "line 6: reporter_id_number: The ID number is not valid (wrong length or check digit).",
        "line 7: external_id: “B-1” already appears at line 2.",
        "line 8: category: The category “旧类别” is no longer in use.",
        "line 9: category: “no-such” is not a problem category (by code or name).",
        "line 10: anonymous: “maybe” is not yes or no (是/否, true/false, 1/0, 匿名/实名).",
        "line 11: title: This field is required.",
        "line 11: description: This field is required.",
        "line 12: external_id: This field is required.",
        "line 12: received_at: The date received cannot be in the future.",
        "line 13: outcome: Only a concluded, fed-back or archived case has this; the state is “accepted”.",
        "line 14: concluded_at: Earlier than the date received.",
        "line 15: reported_name: At most 100 characters.",
    ]
    assert "imported: 2, already imported: 0, errors: 13 (of 15 rows" in out
    assert imported_ids() == ["B-1", "B-15"]


def test_a_row_is_reported_at_the_line_where_it_starts_when_values_span_lines(tmp_path, county):
    path = write_csv(
        tmp_path / "old.csv",
        [
            row("M-1", description="第一段\n\t\t\n第二段\n第三段"),
            row("M-2", title="多行\n标题", description="\n\n正文\n"),
            row("M-3", channel="fax"),
        ],
    )

    _out, err = run(path, office="110101")

    # M-1 spans lines 2-5 and M-2 lines 6-10 (newlines inside quoted values): M-3 starts at line 11.
    assert err == "line 11: channel: “fax” is not a known channel (letter, visit, phone, online, other).\n"
    assert Case.objects.get(external_id="M-1").description == "第一段\n\n第二段\n第三段"
    assert Case.objects.get(external_id="M-2").title == "多行 标题"


def test_a_row_with_more_cells_than_the_header_is_an_error(tmp_path, county):
    path = tmp_path / "old.csv"
    path.write_text(",".join(HEADER) + "\nW-1,2019-04-25,letter,标题,正文,多余\nW-2,2019-04-25,letter,标题,正文,\n")
    _out, err = run(path, office="110101")
    assert err == "line 2: 6 cells, but the header names 5 columns.\n"
    assert imported_ids() == ["W-2"]


def test_it_fails_when_every_row_fails(tmp_path, county):
    path = write_csv(tmp_path / "old.csv", [row("F-1", channel="fax"), row("F-2", received_at="yesterday")])
    message, err = fail(path, office="110101")
    assert "imported: 0, already imported: 0, errors: 2 (of 2 rows" in message
    assert "no row could be imported" in message
    assert err.count("line ") == 2


# --- bad files and arguments -------------------------------------------------------------------


def test_a_missing_required_column_is_a_clear_error(tmp_path, county):
    path = tmp_path / "old.csv"
    path.write_text("external_id,received_at,title,description\nC-1,2019-04-25,标题,正文\n")
    message, _err = fail(path, office="110101")
    assert message.startswith(
        "Columns missing from the file: channel (required). The header has: external_id, received_at"
    )
    assert not Case.objects.exists()


def test_a_default_stands_in_for_a_missing_column(tmp_path, county):
    path = tmp_path / "old.csv"
    path.write_text("external_id,received_at,title,description\nC-1,2019-04-25,标题,正文\n")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"defaults": {"channel": "来访"}}))
    run(path, office="110101", mapping=mapping)
    assert Case.objects.get(external_id="C-1").channel == "visit"


def test_an_unknown_office_is_a_clear_error(tmp_path, tree):
    message, _err = fail(write_csv(tmp_path / "old.csv", [row("U-1")]), office="999999")
    assert message == "No office has the code '999999'."


def test_an_unknown_actor_is_a_clear_error(tmp_path, county):
    message, _err = fail(write_csv(tmp_path / "old.csv", [row("U-1")]), office="110101", actor="nobody")
    assert message == "No active user is called 'nobody'."


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "Cannot tell the format of old.xls from its extension"),
        ("old.xlsx", b"not a zip file", "old.xlsx is not a readable XLSX workbook"),
        ("old.csv", b"", "The file is empty."),
        ("old.csv", b"\n\n", "The file is empty."),
        ("old.jsonl", b"  \n", "The file is empty."),
        ("old.csv", b"external_id,received_at,channel,title,description\n", "the file has no rows to import"),
        ("old.csv", b"\xff\xfe\x00\x00\x81\x30", "neither UTF-8 nor GB18030"),
        ("old.csv", b"a,A,b\n1,2,3\n", "The column \u201cA\u201d appears twice in the header."),
    ],
)
def test_an_unreadable_file_is_a_clear_error(tmp_path, county, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    message, _err = fail(path, office="110101")
    assert expected in message


def test_a_missing_file_is_a_clear_error(tmp_path, county):
    message, _err = fail(tmp_path / "nope.csv", office="110101")
    assert message == f"Cannot read {tmp_path / 'nope.csv'}: no such file."


def test_format_overrides_the_extension(tmp_path, county):
    path = tmp_path / "export.dat"
    path.write_text(json.dumps(row("F-1"), ensure_ascii=False) + "\n", encoding="utf-8")
    run(path, office="110101", format="jsonl")
    assert imported_ids() == ["F-1"]


def test_dry_run_checks_every_row_and_writes_nothing(tmp_path, county):
    path = write_csv(tmp_path / "old.csv", [row("D-1", status="fed_back"), row("D-2", region_code="x"), row("D-1")])

    out, err = run(path, office="110101", dry_run=True, verbosity=2)

    assert "line 2: checked" in out
    assert "would import: 1, already imported: 0, errors: 2 (of 3 rows" in out
    assert err.splitlines() == [
        "line 3: region_code: Give the region code where the problem happened (2, 4, 6 or 9 digits).",
        "line 4: external_id: “D-1” already appears at line 2.",
    ]
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


# --- mapping files ---------------------------------------------------------------------------


def test_a_mapping_renames_columns_joins_columns_and_sets_defaults_constants_and_state(tmp_path, county, categories):
    path = tmp_path / "old.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "日期", "时间", "主题", "内容", "补充", "答复"])
        w.writerow(["1", "2019年4月25日", "9:32", "主题一", "内容", "补充内容", "已答复"])
        w.writerow(["2", "2019.4.26", "", "主题二", "内容二", "", ""])
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "comment": "a test",
                "columns": {
                    "external_id": "编号",
                    "received_at": ["日期", "时间"],
                    "title": "主题",
                    "description": ["内容", "补充"],
                    "outcome": "答复",
                },
                "defaults": {"channel": "来信", "anonymous": True},
                "constants": {"category": "违反群众纪律", "region_code": "11"},
                "status_if_present": [{"column": "答复", "value": "fed_back"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )

    run(path, office="110101", mapping=mapping)

    one = Case.objects.get(external_id="1")
    assert one.received_at == datetime(2019, 4, 25, 9, 32, tzinfo=SHANGHAI)
    assert one.description == "内容\n\n补充内容"
    assert (one.status, one.conclusion, one.channel, one.region_code) == ("fed_back", "已答复", "letter", "11")
    assert list(one.categories.values_list("code", flat=True)) == ["mass"]
    two = Case.objects.get(external_id="2")
    assert (two.status, two.received_at) == ("received", datetime(2019, 4, 26, tzinfo=SHANGHAI))


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"columns": {"titel": "主题"}}, "“columns” names unknown fields titel"),
        ({"colums": {}}, "unknown keys colums"),
        ({"defaults": {"channel": "fax"}}, "defaults.channel: “fax” is not a known channel"),
        ({"status_if_present": {"column": "答复"}}, "status_if_present takes"),
        ({"status_if_present": {"column": "答复", "value": "done"}}, "“done” is not a known state"),
        ({"columns": {"title": ["主题", 3]}}, "must be a column name or a list of them"),
        ([], "must hold one JSON object"),
    ],
)
def test_a_bad_mapping_is_a_clear_error(tmp_path, county, mapping, expected):
    path = tmp_path / "map.json"
    path.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    message, _err = fail(write_csv(tmp_path / "old.csv", [row("M-1")]), office="110101", mapping=path)
    assert expected in message


def test_a_mapping_that_names_an_absent_column_is_a_clear_error(tmp_path, county):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"columns": {"outcome": "答复意见"}}, ensure_ascii=False), encoding="utf-8")
    message, _err = fail(write_csv(tmp_path / "old.csv", [row("M-1")]), office="110101", mapping=path)
    assert "Columns missing from the file: outcome (mapped to “答复意见”)." in message


def test_the_mapping_file_must_be_json(tmp_path):
    path = tmp_path / "map.json"
    path.write_text('{"columns": ', encoding="utf-8")
    with pytest.raises(ImportFileError, match="is not valid JSON"):
        Mapping.load(path)


# --- value parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019/4/25 9:32:09", datetime(2019, 4, 25, 9, 32, 9)),
        ("2019/04/25 09:32:09", datetime(2019, 4, 25, 9, 32, 9)),
        ("2019-04-25 09:32:09", datetime(2019, 4, 25, 9, 32, 9)),
        ("2019-04-25 09:32", datetime(2019, 4, 25, 9, 32)),
        ("  2019/4/25  ", datetime(2019, 4, 25)),
        ("2019年4月25日", datetime(2019, 4, 25)),
        ("2019年4月25日 9时32分", datetime(2019, 4, 25, 9, 32)),
        ("2019年4月25日9时32分5秒", datetime(2019, 4, 25, 9, 32, 5)),
        ("２０１９／４／２５", datetime(2019, 4, 25)),
        ("2019.4.25", datetime(2019, 4, 25)),
        ("20190425", datetime(2019, 4, 25)),
        ("20190425093209", datetime(2019, 4, 25, 9, 32, 9)),
        ("2019-04-25T09:32:09.5", datetime(2019, 4, 25, 9, 32, 9, 500000)),
        ("43580.5", datetime(2019, 4, 25, 12, 0)),
        (43580, datetime(2019, 4, 25)),
        (datetime(2019, 4, 25, 9, 32), datetime(2019, 4, 25, 9, 32)),
        (date(2019, 4, 25), datetime(2019, 4, 25)),
    ],
)
def test_dates_in_mixed_formats_are_read_as_local_time(value, expected):
    assert parse_datetime(value) == expected.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-04-25T01:32:09Z", datetime(2019, 4, 25, 1, 32, 9, tzinfo=ZoneInfo("UTC"))),
        ("2019-04-25 09:32:09+08:00", datetime(2019, 4, 25, 1, 32, 9, tzinfo=ZoneInfo("UTC"))),
        ("2019-04-25T03:32:09-0600", datetime(2019, 4, 25, 9, 32, 9, tzinfo=ZoneInfo("UTC"))),
    ],
)
def test_dates_with_a_zone_keep_it(value, expected):
    assert parse_datetime(value) == expected


@pytest.mark.parametrize(
    "value", ["", "yesterday", "2019/2/30", "2019-04-25 25:00", "25/04/2019", "123", "1899-01-01", True]
)
def test_what_is_not_a_date_is_refused(value):
    with pytest.raises(ValueError):
        parse_datetime(value)


def test_states_are_read_by_their_label_whatever_the_active_language():
    with translation.override("zh-hans"):
        assert parse_status("Being handled") == parse_status("disposed") == "disposed"
        assert parse_channel("Phone call") == "phone"


def test_channels_states_and_booleans_are_read_in_chinese_or_english():
    assert [parse_channel(v) for v in ["来信", "Visit", " 来电 ", "网上", "网络", "其他", "Phone call"]] == [
        "letter",
        "visit",
        "phone",
        "online",
        "online",
        "other",
        "phone",
    ]
    assert [parse_status(v) for v in ["已受理", "Fed back", "fed_back", "NOT_ACCEPTED", "暂存待查"]] == [
        "accepted",
        "fed_back",
        "fed_back",
        "not_accepted",
        "shelved",
    ]
    assert [parse_bool(v) for v in ["是", "否", "TRUE", "0", 1, "匿名", "实名", "yes", False]] == [
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
    ]


def test_long_texts_keep_their_paragraphs_but_lose_messy_whitespace():
    raw = "\n\t\t\t\t\t\n\t\t\t\t\t各位领导好\r\n\u3000\u3000我是  小区的。\n\t\n\t\n\n\u3000\u3000谢谢！\n\t\t\t\t"
    assert clean_paragraphs(raw) == "各位领导好\n我是 小区的。\n\n谢谢！"


# --- the shared message-board file -----------------------------------------------------------


def test_the_shipped_message_board_mapping_reads_a_sample_in_that_format(tree):
    office = make_office("43", "湖南省纪委监委", tree["national"])

    out, err = run(DATA / "message_board_sample.csv", office="43", mapping=MAPPINGS / "zh_messages_with_replies.json")

    assert err == ""
    assert "imported: 3, already imported: 0, errors: 0 (of 3 rows" in out
    answered = Case.objects.get(received_office=office, external_id="101")
    assert answered.title == "请求修复某某路 路灯"
    assert answered.description == "某某路路灯已坏了一个月，\n晚上出行很不安全。"
    assert answered.conclusion == "网友您好：经核实，路灯已于5月2日修复。\n感谢您的监督。"
    assert (answered.status, answered.channel, answered.is_real_name, answered.region_code) == (
        "fed_back",
        "online",
        False,
        "43",
    )
    assert answered.received_at == datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)
    assert answered.fed_back_at == answered.concluded_at == datetime(2019, 5, 9, 10, 2, 8, tzinfo=SHANGHAI)
    assert answered.next_due is None
    assert CaseEvent.objects.get(case=answered, action="import").reason == (
        "imported from message_board_sample.csv line 2"
    )
    noise = Case.objects.get(received_office=office, external_id="102")
    assert noise.title == "小区 噪音扰民"
    assert (noise.received_at, noise.fed_back_at) == (
        datetime(2019, 4, 8, 8, 37, 20, tzinfo=SHANGHAI),
        datetime(2019, 4, 24, tzinfo=SHANGHAI),
    )
    unanswered = Case.objects.get(received_office=office, external_id="103")
    assert (unanswered.status, unanswered.conclusion) == ("received", "")
    assert unanswered.next_due_kind == "screening"  # an open case keeps the deadline that ran from 2018
    assert not CaseEvent.objects.filter(case=unanswered, action="import").exists()


def shared_data() -> Path:
    return Path(os.environ.get("QINGFENG_SHARED_DATA") or Path(settings.BASE_DIR).parent / "shared" / "data")


def test_the_shared_message_board_file_imports_with_the_shipped_mapping(tree):
    path = shared_data() / "complaints" / "zh_messages_with_replies.csv"
    if not path.is_file():
        pytest.skip(f"{path} is absent: set QINGFENG_SHARED_DATA to the shared data folder")
    office = make_office("43", "湖南省纪委监委", tree["national"])
    out, err = run(path, office="43", mapping=MAPPINGS / "zh_messages_with_replies.json")

    assert err == ""
    assert "imported: 2816, already imported: 0, errors: 0 (of 2816 rows" in out
    assert "columns not imported: 留言用户" in out
    cases = Case.objects.filter(received_office=office)
    assert cases.count() == 2816 and set(cases.values_list("status", flat=True)) == {"fed_back"}
    assert not cases.filter(next_due__isnull=False).exists()
    assert CaseEvent.objects.filter(case__received_office=office, action="import").count() == 2816
    for title in cases.values_list("title", flat=True):
        assert title == " ".join(title.split()) and "\xa0" not in title
    first = cases.get(external_id="2549")
    assert first.title == "A2区景蓉华苑物业管理有问题"
    assert first.received_at == datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)
    assert first.description.startswith("2019年4月以来，位于A市A2区")
    assert first.conclusion.startswith("现将网友在平台《问政西地省》栏目")
    assert (first.channel, first.is_real_name, first.region_code) == ("online", False, "43")
    assert cases.get(external_id="2759").received_at == datetime(2019, 4, 8, 8, 37, 20, tzinfo=SHANGHAI)
    assert cases.get(external_id="27610").fed_back_at == datetime(2018, 4, 24, tzinfo=SHANGHAI)
    assert not cases.filter(description__contains="_x000D_").exists()
    assert not cases.filter(description__contains="\t").exists()
    assert timezone.localtime(cases.order_by("received_at").first().received_at).year == 2011

    again, _err = run(path, office="43", mapping=MAPPINGS / "zh_messages_with_replies.json")
    assert "imported: 0, already imported: 2816, errors: 0" in again
