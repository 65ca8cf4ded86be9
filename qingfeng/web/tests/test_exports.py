from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from qingfeng.intake.services import ReporterInput

pytestmark = pytest.mark.django_db

SECRETS = ("张三", "13800138000", "110101199003077777", "zhangsan@example.com", "某某街道8号")


def _reporter() -> ReporterInput:
    return ReporterInput(
        anonymous=False,
        name="张三",
        phone="13800138000",
        email="zhangsan@example.com",
        address="某某街道8号",
    )


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def _xlsx(response) -> list[list[object]]:
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in wb.active.iter_rows(values_only=True)]


def test_csv_export_has_a_header_and_one_row_per_case(browser_client, staff, register):
    case = register("county", reporter=_reporter(), categories=["integrity.gifts"])
    r = browser_client(staff("county"), language="en").get("/cases/export.csv")
    assert r["Content-Type"].startswith("text/csv")
    assert 'filename="cases-' in r["Content-Disposition"]
    rows = _csv(r)
    assert rows[0][:3] == ["case number", "received at", "channel"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["case number"] == case.number
    assert row["channel"] == "Phone call" and row["state"] == "Received"
    assert row["categories"] == "Accepting or giving gifts and money"
    assert row["real-name"] == "Yes"


def test_xlsx_export_has_the_same_rows(browser_client, staff, register):
    case = register("county", reporter=_reporter())
    r = browser_client(staff("county")).get("/cases/export.xlsx")
    assert r["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _xlsx(r)
    assert len(rows) == 2 and rows[1][0] == case.number and rows[1][7] == case.title


def test_exports_apply_the_same_filters_as_the_list(browser_client, staff, register):
    letter = register("county", channel="letter", title="来信反映礼金问题", description="收受礼金。")
    register("county", channel="phone", title="来电反映扶贫资金", description="挪用扶贫资金。")
    client = browser_client(staff("county"))
    assert [r[0] for r in _csv(client.get("/cases/export.csv?channel=letter"))[1:]] == [letter.number]
    assert [r[0] for r in _xlsx(client.get("/cases/export.xlsx?q=礼金"))[1:]] == [letter.number]


def test_exports_contain_no_reporter_identity(browser_client, staff, register):
    register("county", reporter=_reporter())
    client = browser_client(staff("county"))
    csv_text = "\n".join(",".join(r) for r in _csv(client.get("/cases/export.csv")))
    xlsx_text = "\n".join(",".join(str(c) for c in r) for r in _xlsx(client.get("/cases/export.xlsx")))
    for secret in SECRETS:
        assert secret not in csv_text and secret not in xlsx_text


def test_exports_are_scoped_to_the_office(browser_client, staff, register):
    register("sibling", actor=staff("sibling"))
    client = browser_client(staff("county"))
    assert len(_csv(client.get("/cases/export.csv"))) == 1
    assert len(_xlsx(client.get("/cases/export.xlsx"))) == 1


def test_exports_refuse_invalid_filters(browser_client, staff, tree):
    client = browser_client(staff("county"))
    assert client.get(f"/cases/export.csv?office_code={tree['sibling'].code}").status_code == 400
    assert client.get("/cases/export.xlsx?received_from=nope").status_code == 400


def test_spreadsheet_formulas_in_titles_are_neutralised(browser_client, staff, register):
    register("county", title='=HYPERLINK("http://x")')
    rows = _csv(browser_client(staff("county")).get("/cases/export.csv"))
    assert rows[1][7].startswith("'=")


def test_exports_need_sign_in(client):
    assert client.get("/cases/export.csv").status_code == 302
