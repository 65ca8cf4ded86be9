"""CSV and XLSX exports of the case list. They never contain the reporter's identity or contacts."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qingfeng.cases.choices import Channel, ItemType, Source, Status, Urgency
from qingfeng.cases.models import Case
from qingfeng.deadlines.services import level_on
from qingfeng.web.selectors import localized_name

# Big enough for any office's year; a bigger pull belongs in the statistics exports.
EXPORT_MAX_ROWS = 100_000
CHUNK = 2000

LEVEL_LABELS = {
    "ok": gettext_lazy("On time"),
    "warn": gettext_lazy("Due soon"),
    "overdue": gettext_lazy("Overdue"),
    "serious": gettext_lazy("Seriously overdue"),
}


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _deadline(case: Case, today: date) -> str:
    if case.next_due is None:
        return ""
    return str(LEVEL_LABELS[level_on(case, today).name])


# (header, value); reporter fields are deliberately absent: exports leave the system.
COLUMNS: list[tuple[Any, Callable[[Case, date], Any]]] = [
    (gettext_lazy("case number"), lambda c, t: c.number),
    (gettext_lazy("received at"), lambda c, t: timezone.localtime(c.received_at).strftime("%Y-%m-%d %H:%M")),
    (gettext_lazy("channel"), lambda c, t: _label(Channel, c.channel)),
    (gettext_lazy("source"), lambda c, t: _label(Source, c.source)),
    (gettext_lazy("item type"), lambda c, t: _label(ItemType, c.item_type)),
    (gettext_lazy("urgency"), lambda c, t: _label(Urgency, c.urgency)),
    (gettext_lazy("state"), lambda c, t: _label(Status, c.status)),
    (gettext_lazy("title"), lambda c, t: c.title),
    (gettext_lazy("problem region"), lambda c, t: c.region_code),
    (gettext_lazy("categories"), lambda c, t: "; ".join(localized_name(x) for x in c.categories.all())),
    (gettext_lazy("holding office"), lambda c, t: c.holding_office.name),
    (gettext_lazy("real-name"), lambda c, t: _yes_no(c.is_real_name)),
    (gettext_lazy("repeat"), lambda c, t: _yes_no(c.is_repeat)),
    (gettext_lazy("next deadline"), lambda c, t: c.next_due.isoformat() if c.next_due else ""),
    (gettext_lazy("deadline"), _deadline),
]


def export_rows(qs: QuerySet[Case], *, today: date | None = None) -> Iterator[list[Any]]:
    """The header row, then one row per case (at most EXPORT_MAX_ROWS), in the list's order."""
    today = today or timezone.localdate()
    yield [str(header) for header, _get in COLUMNS]
    cases = qs.prefetch_related("categories")[:EXPORT_MAX_ROWS]
    for case in cases.iterator(chunk_size=CHUNK):
        yield [get(case, today) for _header, get in COLUMNS]


def _safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text cells (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV lines with a BOM first, so spreadsheet programs read the Chinese as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([_safe_cell(v) for v in row])


def xlsx_bytes(rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("Cases")[:31])
    bold = Font(bold=True)
    for i, row in enumerate(rows):
        if i == 0:
            header = []
            for value in row:
                cell = WriteOnlyCell(ws, value=value)
                cell.font = bold
                header.append(cell)
            ws.append(header)
        else:
            ws.append([_safe_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
