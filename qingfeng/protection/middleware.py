"""Security middleware: Content-Security-Policy, idle session timeout, two-factor enforcement."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

# The supervision overdue board draws bars with inline `style="width: …%"` attributes
# (qingfeng/supervision/templates/supervision/_overdue_board.html), so style *attributes*
# are allowed (style-src-attr); <style> elements and every inline script stay forbidden.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

# The API docs page serves Swagger UI from drf-spectacular-sidecar (local static files), so it
# needs no exception from the policy; the name stays for settings that override it.
DOCS_CSP = CSP
DOCS_PREFIX = "/api/docs/"

Handler = Callable[[HttpRequest], HttpResponseBase]


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = DOCS_CSP if request.path.startswith(DOCS_PREFIX) else getattr(settings, "QINGFENG_CSP", CSP)
            response["Content-Security-Policy"] = policy
        return response


LAST_ACTIVITY = "_qf_last_activity"


class IdleTimeoutMiddleware:
    """Signs a session out after QINGFENG_IDLE_TIMEOUT_SECONDS without a request."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        timeout = int(getattr(settings, "QINGFENG_IDLE_TIMEOUT_SECONDS", 0) or 0)
        if timeout and session is not None and user is not None and user.is_authenticated:
            now = time.time()
            last = session.get(LAST_ACTIVITY)
            if last is not None and now - float(last) > timeout:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse({"message": _("Your session expired; sign in again.")}, status=401)
                return redirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
            if last is None or now - float(last) > 30:  # one session write per 30 s at most
                session[LAST_ACTIVITY] = now
        return self.get_response(request)


def requires_two_factor(user: object) -> bool:
    from qingfeng.protection.selectors import IDENTITY_ROLES

    if not getattr(settings, "QINGFENG_REQUIRE_2FA", False):
        return False
    has_role = getattr(user, "has_role", None)
    return bool(getattr(user, "is_authenticated", False) and has_role is not None and has_role(*IDENTITY_ROLES))


_EXEMPT_PREFIXES = ("/protection/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/i18n/")


class TwoFactorRequiredMiddleware:
    """Identity-seeing roles must pass a TOTP check after the password (when QINGFENG_REQUIRE_2FA).

    A user without a confirmed device goes to the setup page, one with a device to the
    verification page. Session calls to the API get a 403 JSON instead of a redirect; token
    calls are checked by protection.auth.TwoFactorTokenAuthentication.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is None or not requires_two_factor(user) or request.path.startswith(_EXEMPT_PREFIXES):
            return self.get_response(request)
        if getattr(user, "is_verified", lambda: False)():
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"message": _("Two-factor verification is required for your role."), "extra": {}}, status=403
            )
        from django_otp.plugins.otp_totp.models import TOTPDevice

        confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        target = reverse("protection:2fa-verify" if confirmed else "protection:2fa-setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
