"""API token authentication that respects the two-factor rule.

When QINGFENG_REQUIRE_2FA is on, a token is accepted only for a user whose roles cannot see
identities, or who has a confirmed TOTP device (set up through the web pages). A token cannot
carry a one-time code, so the confirmed device is the bar; keep tokens for service accounts.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from qingfeng.protection.middleware import requires_two_factor


class TwoFactorTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        # As DRF's, but the user's office comes in the same query: every API call scopes by it.
        model: Any = self.get_model()
        try:
            token = model.objects.select_related("user", "user__office").get(key=key)
        except model.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token.")) from None
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        if requires_two_factor(user):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                raise AuthenticationFailed(_("Set up two-factor sign-in in the web workspace before using a token."))
        return user, token
