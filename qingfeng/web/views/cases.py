"""The case list (with exports), the case page, its workflow actions and attachment downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qingfeng.accounts.models import User
from qingfeng.cases.models import Attachment, Case
from qingfeng.cases.selectors import case_can_view, case_detail_prefetch, case_timeline
from qingfeng.cases.services import allowed_actions, case_transition
from qingfeng.cases.workflow import Action
from qingfeng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qingfeng.protection.selectors import can_request_identity, can_see_identity, pending_request
from qingfeng.protection.services import audit_identity_view, audit_record
from qingfeng.repeats.check import LINKABLE_STATES, earlier_reports
from qingfeng.web import exports
from qingfeng.web.action_forms import ACTION_FORMS, WEIGHTY_ACTIONS, ActionForm
from qingfeng.web.filters import SORTABLE, CaseFilterForm
from qingfeng.web.selectors import deadline_rows, region_label
from qingfeng.web.views.common import is_htmx, office_required, staff_user, template_exists, visible_case
from qingfeng.web.views.register import repeat_rows

PAGE_SIZE = 25
SUPERVISION_CASE_PANEL = "supervision/_case_panel.html"


# --- list and exports ----------------------------------------------------------------------------


def _filter_form(request: HttpRequest, user: User) -> CaseFilterForm:
    """Always bound: no parameters is a valid request for every visible case."""
    assert user.office is not None
    return CaseFilterForm(request.GET, office=user.office)


def _sort_links(form: CaseFilterForm) -> dict[str, dict[str, str]]:
    """For each sortable column: the ordering its header link sets and the arrow to show."""
    current = form.current_ordering()
    links = {}
    for column, (asc, desc) in SORTABLE.items():
        if current == asc and asc != desc:
            links[column] = {"ordering": desc, "arrow": "▲"}
        elif current == desc:
            links[column] = {"ordering": asc, "arrow": "▼" if asc != desc else "▲"}
        else:
            links[column] = {"ordering": desc if column in ("received_at", "next_due") else asc, "arrow": ""}
    return links


@office_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = _filter_form(request, user)
    page = None
    status = 400
    if form.is_valid():
        page = Paginator(form.queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
        status = 200
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "sort": _sort_links(form),
        "today": timezone.localdate(),
        "query": request.GET.urlencode(),
    }
    template = "web/cases/_results.html" if is_htmx(request) else "web/cases/list.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export_rows(request: HttpRequest, fmt: str) -> Any:
    user = staff_user(request)
    form = _filter_form(request, user)
    if not form.is_valid():
        return None
    audit_record(
        actor=user,
        action="export",
        object_type="case_list",
        object_id=fmt,
        office=user.office_id,
        detail={"format": fmt, "filters": request.GET.urlencode()[:500]},
    )
    return exports.export_rows(form.queryset())


def _export_name(ext: str) -> str:
    return f"cases-{timezone.localdate():%Y%m%d}.{ext}"


@office_required
def case_export_csv(request: HttpRequest) -> HttpResponseBase:
    rows = _export_rows(request, "csv")
    if rows is None:
        return HttpResponse(_("The filters are not valid."), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(exports.csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@office_required
def case_export_xlsx(request: HttpRequest) -> HttpResponse:
    rows = _export_rows(request, "xlsx")
    if rows is None:
        return HttpResponse(_("The filters are not valid."), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        exports.xlsx_bytes(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name("xlsx")}"'
    return response


# --- the case page ---------------------------------------------------------------------------------


def _action_forms(case: Case, user: User, failed: ActionForm | None) -> list[dict[str, Any]]:
    out = []
    for action in allowed_actions(case=case, user=user):
        reuse = failed is not None and failed.action == action
        form = failed if reuse and failed is not None else ACTION_FORMS[action](case=case, user=user)
        out.append(
            {
                "action": action,
                "label": Action(action).label,
                "form": form,
                "open": form is failed,
                "weighty": action in WEIGHTY_ACTIONS,
            }
        )
    return out


def render_case(
    request: HttpRequest,
    number: str,
    *,
    failed: ActionForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    base = visible_case(user, number)
    case = case_detail_prefetch(Case.objects.filter(pk=base.pk)).select_related("reporter").get()
    today = timezone.localdate()
    reporter = getattr(case, "reporter", None)
    # Need-to-know (qingfeng.protection.selectors): the holding office's handling roles, or an approved grant.
    show_identity = reporter is not None and can_see_identity(user, case)
    if show_identity and reporter is not None and (not reporter.is_anonymous or reporter.phone):
        audit_identity_view(actor=user, case=case, channel="web")
    actions = _action_forms(case, user, failed)
    repeats: dict[str, Any] = {"checked": False, "rows": []}
    if case.status in LINKABLE_STATES:
        # Not yet decided: offer the earlier reports of the same matter, one click to link.
        repeats = {"checked": True, "rows": repeat_rows(earlier_reports(case=case, viewer_office=user.office))}
    context = {
        "case": case,
        "reporter": reporter,
        "show_identity": show_identity,
        "can_request_identity": not show_identity and can_request_identity(user, case),
        "identity_request_pending": None if show_identity else pending_request(user, case),
        "parties": list(case.reported_parties.all()),
        "attachments": list(case.attachments.all()),
        "categories": list(case.categories.all()),
        "tags": list(case.tags.all()),
        "region_name": region_label(case.region_code),
        "timeline": list(case_timeline(case)),
        "deadlines": deadline_rows(case, today),
        "actions": actions,
        "repeats": repeats,
        "can_link_repeat": any(a["action"] == Action.MARK_REPEAT for a in actions),
        "held_here": case.holding_office_id == user.office_id,
        "action_error": error,
        "supervision_panel": template_exists(SUPERVISION_CASE_PANEL),
        "supervision_panel_template": SUPERVISION_CASE_PANEL,
        # After a failed action (a POST) the language switcher returns to the case page.
        "lang_next": reverse("web:case-detail", args=[case.number]),
    }
    return render(request, "web/cases/detail.html", context, status=status)


@office_required
def case_detail_view(request: HttpRequest, number: str) -> HttpResponse:
    return render_case(request, number)


@office_required
@require_POST
def case_act(request: HttpRequest, number: str, action: str) -> HttpResponse:
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404(_("There is no action called “%(action)s”.") % {"action": action})
    user = staff_user(request)
    case = visible_case(user, number)
    form = form_class(request.POST, case=case, user=user)
    allowed = action in allowed_actions(case=case, user=user)
    valid = form.is_valid()
    if allowed and not valid:
        return render_case(request, number, failed=form, error=_("Correct the fields marked below."), status=422)
    try:
        # A forbidden action still goes to the service, which says why (409 state, 403 office or role).
        case_transition(
            case_number=number,
            action=action,
            actor=user,
            reason=form.reason_text() if valid else "",
            params=form.params() if valid else {},
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationFailed as exc:
        for field, msgs in exc.fields.items():
            for msg in msgs:
                form.add_error(field if field in form.fields else None, msg)
        return render_case(request, number, failed=form, error=_("Correct the fields marked below."), status=422)
    except (Conflict, PermissionDenied) as exc:
        return render_case(request, number, error=exc.message, status=exc.status_code)
    messages.success(
        request, _("“%(action)s” done for case %(number)s.") % {"action": Action(action).label, "number": number}
    )
    if not case_can_view(office=user.office, case=case):
        # Sent up because it concerns this commission's own leaders: the office no longer sees it.
        return redirect(reverse("web:case-list"))
    return redirect(reverse("web:case-detail", args=[number]))


@office_required
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    user = staff_user(request)
    case = visible_case(user, number)
    att = Attachment.objects.filter(case=case, pk=attachment_id).first()
    if att is None:
        raise Http404(_("No such attachment on this case."))
    audit_record(
        actor=user,
        action="attachment_download",
        object_type="attachment",
        object_id=att.pk,
        office=user.office_id,
        detail={"channel": "web", "sha256": att.sha256},
        case_number=case.number,
    )
    response = FileResponse(
        att.file.open("rb"), as_attachment=True, filename=att.original_name, content_type=att.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response
