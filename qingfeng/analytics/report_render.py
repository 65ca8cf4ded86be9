"""Render an analysis report as PDF (reportlab, built-in CID font STSong-Light) or XLSX (openpyxl)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from qingfeng.analytics.reports import Chart, Report

FONT = "STSong-Light"
COLOURS = ["#9e1b1b", "#1d4f91", "#1f7a3f", "#8a5a00", "#6b4f9e", "#3c8d93"]


@lru_cache(maxsize=1)
def _register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _chart_drawing(chart: Chart, width: float, height: float) -> object:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.linecharts import HorizontalLineChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    d = Drawing(width, height)
    d.add(String(0, height - 12, chart.title, fontName=FONT, fontSize=10))
    data = [list(v) or [0] for v in chart.series.values()] or [[0]]
    labels = [str(label)[:10] for label in chart.labels] or [""]
    if chart.kind == "line":
        c = HorizontalLineChart()
    elif chart.kind == "hbar":
        c = HorizontalBarChart()
    else:
        c = VerticalBarChart()
    left = 110 if chart.kind == "hbar" else 40
    c.x, c.y = left, 40
    c.width, c.height = width - left - 20, height - 80
    c.data = data
    c.categoryAxis.categoryNames = labels
    c.categoryAxis.labels.fontName = FONT
    c.categoryAxis.labels.fontSize = 7
    if chart.kind != "hbar":
        c.categoryAxis.labels.angle = 45 if len(labels) > 6 else 0
        c.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    c.valueAxis.labels.fontSize = 7
    c.valueAxis.valueMin = 0
    top = max((max(s) for s in data if s), default=0)
    c.valueAxis.valueMax = max(1, top * 1.1)
    for i in range(len(data)):
        colour = colors.HexColor(COLOURS[i % len(COLOURS)])
        if chart.kind == "line":
            c.lines[i].strokeColor = colour
            c.lines[i].strokeWidth = 1.5
        else:
            c.bars[i].fillColor = colour
    d.add(c)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = width - 150, height - 14
        legend.fontName = FONT
        legend.fontSize = 7
        legend.alignment = "right"
        legend.colorNamePairs = [
            (colors.HexColor(COLOURS[i % len(COLOURS)]), name) for i, name in enumerate(chart.series)
        ]
        d.add(legend)
    return d


def render_pdf(report: Report, *, compress: bool = True) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _register_font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=report.title,
        pageCompression=1 if compress else 0,
    )
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=11, wordWrap="CJK")
    story: list[object] = [Paragraph(report.title, h1), Paragraph(report.subtitle, small), Spacer(1, 4 * mm)]
    story.append(Paragraph(_("Summary"), h2))
    for line in report.summary:
        story.append(Paragraph(line, body))
    width = A4[0] - 36 * mm
    for chart in report.charts:
        story.append(Spacer(1, 3 * mm))
        story.append(_chart_drawing(chart, width, 190))

    def table(columns: list[str], rows: list[list[Any]], widths: list[float] | None = None) -> Table:
        data = [[Paragraph(str(c), small) for c in columns]]
        data += [[Paragraph(str(v), small) for v in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c3c9d1")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#fbeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    for t in report.tables:
        if not t.rows:
            continue
        story.append(Paragraph(t.title, h2))
        story.append(table(t.columns, t.rows))
    if report.keywords:
        story.append(Paragraph(_("Top keywords"), h2))
        story.append(Paragraph("、".join(f"{w}（{n}）" for w, n in report.keywords), body))
    if report.examples:
        story.append(Paragraph(_("Example cases"), h2))
        cols = [_("Number"), _("Received"), _("Office"), _("Category"), _("State"), _("Title")]
        rows = [
            [e["number"], e["received"], e["office"], e["category"], e["status"], e["title"]] for e in report.examples
        ]
        story.append(table(cols, rows, [32 * mm, 20 * mm, 28 * mm, 26 * mm, 16 * mm, width - 122 * mm]))
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(_("Reporters' identities are confidential and are not part of this report."), small))
    doc.build(story)
    return buf.getvalue()


def render_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="FBEEEE")
    ws.append([report.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([report.subtitle])
    ws.append([])
    for line in report.summary:
        ws.append([line])
    ws.column_dimensions["A"].width = 60
    for i, chart in enumerate(report.charts):
        sheet = wb.create_sheet(f"{_('Chart')} {i + 1}")
        sheet.append([chart.title])
        sheet.append(["", *chart.series.keys()])
        for j, label in enumerate(chart.labels):
            sheet.append([label, *[vals[j] if j < len(vals) else 0 for vals in chart.series.values()]])
        n = len(chart.labels)
        if n:
            c = LineChart() if chart.kind == "line" else BarChart()
            if chart.kind == "hbar":
                c.type = "bar"
            c.title = chart.title
            data = Reference(sheet, min_col=2, max_col=1 + len(chart.series), min_row=2, max_row=2 + n)
            cats = Reference(sheet, min_col=1, min_row=3, max_row=2 + n)
            c.add_data(data, titles_from_data=True)
            c.set_categories(cats)
            c.height, c.width = 8, 18
            sheet.add_chart(c, "E2")
        sheet.column_dimensions["A"].width = 24
    for t in report.tables:
        sheet = wb.create_sheet(t.title[:31])
        sheet.append(t.columns)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, head_fill
        for row in t.rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 30
    if report.keywords:
        sheet = wb.create_sheet(_("Top keywords")[:31])
        sheet.append([_("Keyword"), _("Cases")])
        for w, n in report.keywords:
            sheet.append([w, n])
    if report.examples:
        sheet = wb.create_sheet(_("Example cases")[:31])
        sheet.append([_("Number"), _("Received"), _("Office"), _("Category"), _("State"), _("Title")])
        for e in report.examples:
            sheet.append([e["number"], e["received"], e["office"], e["category"], e["status"], e["title"]])
        sheet.column_dimensions["F"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
