"""Links from supervision pages to a case, and the polling interval.

The case page belongs to the web workspace. Its URL name is taken from the setting
QINGFENG_CASE_URL_NAME when set; otherwise the usual names are tried; if none resolves
(the workspace is not installed) the link goes to this app's own case supervision page.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.urls import NoReverseMatch, reverse

_CANDIDATES = ("web:case-detail", "web:case_detail", "web:case", "case-detail", "case_detail")
_FALLBACK = "supervision:case"


@cache
def _case_url_name() -> str:
    configured = getattr(settings, "QINGFENG_CASE_URL_NAME", None)
    for name in ([configured] if configured else []) + list(_CANDIDATES):
        try:
            reverse(name, args=["X-0000-000001"])
        except NoReverseMatch:
            continue
        return name
    return _FALLBACK


def case_url(number: str) -> str:
    try:
        return reverse(_case_url_name(), args=[number])
    except NoReverseMatch:
        return reverse(_FALLBACK, args=[number])


def poll_seconds() -> int:
    """How often open pages ask for fresh fragments (setting SUPERVISION_POLL_SECONDS, default 10)."""
    return max(int(getattr(settings, "SUPERVISION_POLL_SECONDS", 10)), 1)
