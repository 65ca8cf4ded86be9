"""Analysis reports (PDF and XLSX) and the dashboard pages."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest

from qingfeng.accounts.models import Role
from qingfeng.analytics.alerts import run_early_warning
from qingfeng.analytics.periods import parse_period
from qingfeng.analytics.report_render import render_pdf, render_xlsx
from qingfeng.analytics.reports import build_report
from qingfeng.analytics.tests.conftest import at
from qingfeng.analytics.topics import topic_save
from qingfeng.intake.services import ReporterInput

pytestmark = pytest.mark.django_db

NAME, PHONE = "欧阳明", "13912345678"


def pdf_text(data: bytes) -> str:
    """The text drawn in an uncompressed PDF made with the CID font (UCS-2 strings)."""
    out = []
    for raw in re.findall(rb"\((.*?)\) Tj", data, flags=re.S):
        raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
        raw = re.sub(rb"\\(.)", lambda m: m.group(1), raw)
        out.append(raw.decode("utf-16-be", errors="replace"))
    return "".join(out)


def xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))


@pytest.fixture
def data(tree, register, step):
    reporter = ReporterInput(anonymous=False, name=NAME, phone=PHONE)
    # The reporter's name and phone even appear in a title: the report must blank them out.
    c = register(
        "county",
        received_at=at("2026-03-02 09:00"),
        reporter=reporter,
        title=f"{NAME}反映镇长收受礼金，联系电话{PHONE}",
        categories=["integrity.gifts"],
        tags=["rural"],
    )
    step(c, "accept")
    step(c, "dispose", way="verification")
    register("sibling", received_at=at("2026-03-05 09:00"), categories=["duty.bribery"])
    register("county", received_at=at("2026-02-05 09:00"), categories=["work"])
    return c


@pytest.mark.parametrize("kind", ["regular", "regional", "topic"])
def test_reports_have_charts_tables_keywords_and_examples_but_no_reporter(tree, data, make_user, kind):
    analyst = make_user(tree["city"], Role.ANALYST)
    topic = topic_save(actor=analyst, code="gifts", name="收受礼金", keywords=["礼金"]) if kind == "topic" else None
    if topic is not None:
        from qingfeng.analytics.topics import tag_existing

        tag_existing(topic.pk)
    period = parse_period("2026-01", "2026-03", today=date(2026, 11, 27))
    report = build_report(kind=kind, office=tree["city"], period=period, topic=topic)
    assert report.charts and report.tables and report.examples
    assert report.keywords
    assert any(data.number == e["number"] for e in report.examples)
    pdf = render_pdf(report, compress=False)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert data.number in text
    xlsx = render_xlsx(report)
    sheet = xlsx_text(xlsx)
    assert data.number in sheet
    for secret in (NAME, PHONE):
        assert secret not in text and secret not in sheet
        assert secret not in str(report)


def test_reports_download_through_the_api_as_pdf_and_xlsx(api, tree, data, make_user):
    analyst = make_user(tree["city"], Role.ANALYST)
    client = api(analyst)
    r = client.get("/api/v1/analytics/reports/", {"from": "2026-03", "to": "2026-03", "output": "pdf"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    r = client.get("/api/v1/analytics/reports/", {"kind": "regional", "output": "xlsx", "from": "2026-03"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = client.get("/api/v1/analytics/reports/", {"kind": "topic", "output": "pdf"})
    assert r.status_code == 422 and "topic" in r.json()["extra"]["fields"]


def test_every_report_download_is_audited_and_a_refused_one_is_not(api, tree, data, make_user):
    from qingfeng.protection.audit import verify
    from qingfeng.protection.models import AuditEntry

    analyst = make_user(tree["city"], Role.ANALYST)
    client = api(analyst)
    before = AuditEntry.objects.filter(action="report_download").count()
    assert (
        client.get("/api/v1/analytics/reports/", {"kind": "regional", "output": "xlsx", "from": "2026-03"}).status_code
        == 200
    )
    assert client.get("/api/v1/analytics/reports/", {"kind": "topic", "output": "pdf"}).status_code == 422
    entries = list(AuditEntry.objects.filter(action="report_download").order_by("pk"))
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.actor_id == analyst.pk and entry.office_id == tree["city"].pk
    assert entry.detail["kind"] == "regional" and entry.detail["output"] == "xlsx"
    assert entry.detail["subtree"] == tree["city"].code and entry.detail["from"] == "2026-03-01"
    assert verify()[1] is None


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def browser(client, tree, make_user):
    user = make_user(tree["city"], Role.ANALYST, username="analyst_page")
    client.force_login(user)
    return client


def test_the_dashboard_renders_tables_with_the_figures(browser, tree, data):
    r = browser.get("/analytics/", {"from": "2026-03", "to": "2026-03"})
    assert r.status_code == 200
    html = r.content.decode()
    for testid in ("key-figures", "regional-view", "trend", "category-table", "key-area-table", "channel-table"):
        assert f'data-testid="{testid}"' in html
    assert f'data-testid="region-{tree["county"].code}"' in html
    assert "vendor/echarts/echarts.min.js" in html and 'id="an-charts"' in html
    assert NAME not in html and PHONE not in html


def test_the_dashboard_drills_down_and_refuses_other_subtrees(browser, tree, data):
    r = browser.get("/analytics/", {"office": tree["county"].code, "from": "2026-03", "to": "2026-03"})
    assert r.status_code == 200
    assert tree["city"].name in r.content.decode()  # breadcrumb back up
    assert browser.get("/analytics/", {"office": tree["province2"].code}).status_code == 403
    assert browser.get("/analytics/", {"from": "nonsense"}).status_code == 400


def test_the_topic_warning_and_report_pages_render(browser, tree, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = browser.post("/analytics/topics/", {"code": "gifts", "name": "收受礼金", "keywords": "礼金, 红包"})
    assert r.status_code == 302
    r = browser.get("/analytics/topics/gifts/", {"from": "2026-03", "to": "2026-03"})
    assert r.status_code == 200 and 'data-testid="topic-total">2<' in r.content.decode()
    run_early_warning(as_of=date(2026, 3, 31))
    assert browser.get("/analytics/warnings/").status_code == 200
    r = browser.get("/analytics/reports/")
    assert r.status_code == 200 and 'data-testid="report-form"' in r.content.decode()
    r = browser.get("/analytics/reports/", {"from": "2026-03", "to": "2026-03", "output": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
