"""The home page: the office's waiting work, deadline counts and a chart of its cases by state."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qingfeng.cases.choices import Status
from qingfeng.web.selectors import home_summary
from qingfeng.web.views.common import office_required, staff_user, template_exists

WORK_LABELS = {
    "to_screen": _("To screen"),
    "to_accept": _("To accept"),
    "to_dispose": _("To dispose of"),
    "to_feed_back": _("To feed back"),
    "return_visits": _("Return visits due"),
}
SUPERVISION_HOME_PANEL = "supervision/_home_panel.html"


@office_required
def home(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    office = user.office
    assert office is not None
    summary = home_summary(user=user, office=office, today=timezone.localdate())
    chart_rows = [(str(Status(s).label), n) for s, n in summary.by_status]
    chart = {
        "labels": [label for label, _n in chart_rows],
        "values": [n for _label, n in chart_rows],
        "title": str(_("Cases held by my office, by state")),
    }
    return render(
        request,
        "web/home.html",
        {
            "office": office,
            "summary": summary,
            "work": [(item, WORK_LABELS[item.key]) for item in summary.work],
            "chart": chart,
            "chart_rows": chart_rows,
            "supervision_panel": template_exists(SUPERVISION_HOME_PANEL),
            "supervision_panel_template": SUPERVISION_HOME_PANEL,
        },
    )
