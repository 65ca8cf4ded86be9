"""Helpers shared by the staff views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case
from qingfeng.cases.selectors import case_get_for_user
from qingfeng.core.errors import NotFound

View = Callable[..., HttpResponseBase]


def error_page(request: HttpRequest, message: str, *, status: int, title: str | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"message": message, "title": title or _("Not possible")}, status=status)


def office_required(view: View) -> View:
    """Signed in and belonging to an office: every staff page needs both."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if getattr(request.user, "office_id", None) is None:
            return error_page(request, _("Your account belongs to no office; ask an administrator."), status=403)
        return view(request, *args, **kwargs)

    return wrapped


def staff_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def visible_case(user: User, number: str) -> Case:
    """The case if the user's office may read it; a plain 404 otherwise (nothing is revealed)."""
    try:
        return case_get_for_user(user=user, number=number)
    except NotFound as exc:
        raise Http404(_("No case %(number)s is visible to your office.") % {"number": number}) from exc


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


_template_exists: dict[str, bool] = {}


def template_exists(name: str) -> bool:
    """Whether another app ships an optional template (e.g. the supervision panels)."""
    if name not in _template_exists:
        try:
            get_template(name)
            _template_exists[name] = True
        except TemplateDoesNotExist:
            return False  # not cached: the template may be added while the server runs (dev)
    return _template_exists[name]
