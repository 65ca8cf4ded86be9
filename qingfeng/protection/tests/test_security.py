"""Staff account security: two-factor sign-in, lock-out, CSP, idle timeout, cookie settings."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from qingfeng.accounts.models import Role
from qingfeng.protection.middleware import LAST_ACTIVITY


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _login(username: str, password: str = "pw") -> Client:
    c = Client()
    r = c.post("/accounts/login/", {"username": username, "password": password})
    assert r.status_code == 302, r.content[:300]
    return c


@override_settings(QINGFENG_REQUIRE_2FA=True)
def test_a_role_that_sees_identities_is_sent_to_totp_setup_then_verification(make_user: Any, tree: Any) -> None:
    user = make_user(tree["county"], Role.HANDLER, username="h2fa")
    c = _login("h2fa")
    r = c.get("/cases/")
    assert r.status_code == 302 and r["Location"].startswith("/protection/2fa/setup/")
    page = c.get(r["Location"])
    assert page.status_code == 200 and "otpauth://totp/" in page.content.decode()
    assert c.get("/api/v1/cases/").status_code == 403  # session calls to the API are refused too

    device = TOTPDevice.objects.get(user=user)
    wrong = "000000" if _code(device) != "000000" else "111111"
    assert c.post("/protection/2fa/setup/?next=/cases/", {"token": wrong}).status_code == 422
    device.refresh_from_db()
    device.throttle_reset()  # a failure throttles the device for a moment
    r = c.post("/protection/2fa/setup/?next=/cases/", {"token": _code(device), "next": "/cases/"})
    assert r.status_code == 302 and r["Location"] == "/cases/"
    assert c.get("/cases/").status_code == 200

    # Next sign-in: the device exists, so the verification page comes instead of setup.
    c2 = _login("h2fa")
    r = c2.get("/cases/")
    assert r.status_code == 302 and r["Location"].startswith("/protection/2fa/verify/")
    device.refresh_from_db()
    device.last_t = -1
    device.save()
    assert c2.post("/protection/2fa/verify/", {"token": _code(device), "next": "/cases/"}).status_code == 302
    assert c2.get("/cases/").status_code == 200


@override_settings(QINGFENG_REQUIRE_2FA=True)
def test_roles_without_identity_access_need_no_second_factor(make_user: Any, tree: Any) -> None:
    make_user(tree["county"], Role.ANALYST, username="an2fa")
    assert _login("an2fa").get("/cases/").status_code == 200


@override_settings(QINGFENG_REQUIRE_2FA=False)
def test_two_factor_is_not_asked_when_switched_off(make_user: Any, tree: Any) -> None:
    make_user(tree["county"], Role.HANDLER, username="h_off")
    assert _login("h_off").get("/cases/").status_code == 200


@override_settings(QINGFENG_REQUIRE_2FA=True)
def test_api_tokens_need_a_confirmed_device_for_identity_roles(make_user: Any, tree: Any) -> None:
    handler = make_user(tree["county"], Role.HANDLER)
    analyst = make_user(tree["county"], Role.ANALYST)
    for user, expected in ((handler, 401), (analyst, 200)):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        assert c.get("/api/v1/cases/").status_code == expected
    TOTPDevice.objects.create(user=handler, name="default", confirmed=True)
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {handler.auth_token.key}")
    assert c.get("/api/v1/cases/").status_code == 200


def test_five_failed_sign_ins_lock_the_account_with_a_clear_message(make_user: Any, tree: Any) -> None:
    make_user(tree["county"], Role.HANDLER, username="locky")
    c = Client()
    statuses = [c.post("/accounts/login/", {"username": "locky", "password": "wrong"}).status_code for _ in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]
    r = c.post("/accounts/login/", {"username": "locky", "password": "pw"})  # right password, still locked
    assert r.status_code == 429
    assert 'data-testid="locked-out"' in r.content.decode()
    assert "_auth_user_id" not in c.session
    # Another user from the same address is not locked (username + IP).
    make_user(tree["county"], Role.HANDLER, username="other")
    assert c.post("/accounts/login/", {"username": "other", "password": "pw"}).status_code == 302


def test_lockout_settings_follow_the_policy() -> None:
    from datetime import timedelta

    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_every_page_carries_a_content_security_policy(db: Any) -> None:
    r = Client().get("/accounts/login/")
    csp = r["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_an_idle_session_is_signed_out(make_user: Any, tree: Any) -> None:
    user = make_user(tree["county"], Role.HANDLER)
    c = Client()
    c.force_login(user)
    assert c.get("/cases/").status_code == 200
    session = c.session
    session[LAST_ACTIVITY] = time.time() - settings.QINGFENG_IDLE_TIMEOUT_SECONDS - 5
    session.save()
    r = c.get("/cases/")
    assert r.status_code == 302 and r["Location"].startswith(settings.LOGIN_URL)
    assert c.get("/cases/").status_code == 302


def test_session_and_cookie_settings() -> None:
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE and settings.SESSION_COOKIE_AGE == 8 * 3600


@pytest.mark.parametrize("path", ["/protection/requests/", "/protection/audit/", "/protection/2fa/setup/"])
def test_protection_pages_need_a_signed_in_user(db: Any, path: str) -> None:
    assert Client().get(path).status_code == 302


def test_the_api_docs_page_runs_without_inline_script(make_user: Any, tree: Any) -> None:
    c = Client()
    c.force_login(make_user(tree["county"], Role.ANALYST))
    page = c.get("/api/docs/")
    assert page.status_code == 200
    # Swagger UI comes from drf-spectacular-sidecar's local static files: no CDN, no exception.
    assert "cdn.jsdelivr.net" not in page["Content-Security-Policy"]
    assert "cdn.jsdelivr.net" not in page.content.decode()
    assert "<script>" not in page.content.decode().replace(" ", "")
    assert c.get("/api/docs/?script=").status_code == 200
    assert "cdn.jsdelivr.net" not in c.get("/cases/")["Content-Security-Policy"]
