"""Registration of a letter, visit, phone call or other report (intake.services.case_register)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from qingfeng.core.errors import TooLarge, ValidationFailed
from qingfeng.intake.services import case_register
from qingfeng.repeats.check import audit_identity_probe, candidate_reasons, repeat_check
from qingfeng.repeats.selectors import Candidate
from qingfeng.web.context_processors import REGISTER_ROLES
from qingfeng.web.forms import Registration
from qingfeng.web.selectors import category_tree, region_suggestions, tag_groups
from qingfeng.web.views.common import error_page, is_htmx, office_required, staff_user

ADD_PARTY = "_add_party"
CHECK_REPEATS = "_check_repeats"
REPEAT_PANEL = "web/cases/_repeat_candidates.html"


def repeat_rows(candidates: list[Candidate]) -> list[dict[str, Any]]:
    """Candidates with their reasons in the user's language, for web/cases/_repeat_candidates.html."""
    return [{"c": c, "reasons": candidate_reasons(c)} for c in candidates]


@office_required
def case_new(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not user.has_role(*REGISTER_ROLES):
        return error_page(request, _("Only intake clerks and petition office heads register reports."), status=403)
    office = user.office
    assert office is not None
    status = 200
    repeats: dict[str, Any] = {"checked": False, "rows": []}
    if request.method != "POST":
        reg = Registration()
    elif CHECK_REPEATS in request.POST:
        reg = Registration(request.POST, request.FILES)
        data = reg.check_input()
        reg.quiet()
        repeats["checked"] = data is not None
        if data is not None:
            # Computes the embedding, which stays cached: registering next stores it at once.
            found = repeat_check(data=data, viewer_office=office)
            audit_identity_probe(actor=user, data=data, found=found, channel="web")
            repeats["rows"] = repeat_rows(found)
        if is_htmx(request):
            return render(request, REPEAT_PANEL, {"repeats": repeats, "link_case": None})
        if reg.has_files():
            messages.warning(request, _("Attached files are not kept when the page reloads: select them again."))
    elif ADD_PARTY in request.POST:
        reg = Registration(request.POST, request.FILES, extra_parties=1)
        if reg.has_files():
            messages.warning(request, _("Attached files are not kept when the page reloads: select them again."))
    else:
        reg = Registration(request.POST, request.FILES)
        status = 422
        if reg.is_valid():
            try:
                case = case_register(data=reg.to_input(), office=office, actor=user)
            except TooLarge as exc:
                reg.main.add_error("attachments", exc.message)
                status = 413
            except ValidationFailed as exc:
                reg.apply_domain_errors(exc.fields)
            else:
                messages.success(
                    request, _("Case %(number)s registered: %(title)s") % {"number": case.number, "title": case.title}
                )
                return redirect(reverse("web:case-detail", args=[case.number]))
        if reg.has_files():
            messages.warning(request, _("Nothing you typed is lost, but attached files must be selected again."))
        messages.error(request, _("The report was not registered: correct the fields marked below."))
    return render(
        request,
        "web/cases/new.html",
        {
            "reg": reg,
            "form": reg.main,
            "category_tree": category_tree(),
            "selected_categories": set(reg.main["categories"].value() or []),
            "tag_groups": tag_groups(),
            "selected_tags": set(reg.main["tags"].value() or []),
            "regions": region_suggestions(office),
            "add_party": ADD_PARTY,
            "check_repeats": CHECK_REPEATS,
            "repeats": repeats,
            "lang_next": reverse("web:case-new"),
        },
        status=status,
    )
