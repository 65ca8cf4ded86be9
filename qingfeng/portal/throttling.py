"""Rate limits and wrong-code throttles, counted in the database so every worker shares them.

Each rule is (limit, period in seconds). Counters are fixed windows of one period; a check
weighs the previous window by how much of it still overlaps the sliding period, which smooths
the burst a plain fixed window allows at its boundary. Keys are keyed hashes (HMAC) of the
client address or case number, so the table holds no address of a reporter.

The limits can be changed with the setting QINGFENG_PORTAL_THROTTLES, a dict of
{rule name: (limit, seconds)} merged over DEFAULT_RULES.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _

from qingfeng.core import crypto
from qingfeng.core.errors import DomainError
from qingfeng.portal.models import ThrottleCounter

# Wrong receipt codes per case number; wrong codes per client; accepted reports per client;
# reporter messages and additions per case (keeps one code holder from flooding an office).
DEFAULT_RULES: dict[str, tuple[int, int]] = {
    "code_failures_case": (5, 15 * 60),
    "code_failures_ip": (20, 60 * 60),
    "submissions_ip": (10, 60 * 60),
    "reporter_posts_case": (30, 60 * 60),
}


class TooManyAttempts(DomainError):
    status_code = 429
    default_message = "Too many attempts. Please wait and try again later."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, extra={"retry_after": retry_after})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period: int


def rule(name: str) -> Rule:
    overrides = getattr(settings, "QINGFENG_PORTAL_THROTTLES", None) or {}
    limit, period = overrides.get(name, DEFAULT_RULES[name])
    return Rule(name, int(limit), int(period))


def client_ip(request: HttpRequest) -> str:
    """The client's address, as the key for per-client limits.

    REMOTE_ADDR unless QINGFENG_TRUSTED_PROXY_HEADER names the header our own reverse proxy
    sets (e.g. "X-Forwarded-For" or "X-Real-IP"). Of a list, the last entry is taken: it is the
    one our proxy appended, while earlier entries come from the client and can be forged.
    IPv6 clients are keyed by their /64, which one subscriber usually holds whole.
    """
    value = request.META.get("REMOTE_ADDR", "") or ""
    header = getattr(settings, "QINGFENG_TRUSTED_PROXY_HEADER", None)
    if header:
        meta_key = header if header.startswith("HTTP_") else "HTTP_" + header.upper().replace("-", "_")
        forwarded = (request.META.get(meta_key) or "").split(",")[-1].strip()
        if forwarded:
            value = forwarded
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return value.strip() or "unknown"
    if address.version == 6:
        mapped = address.ipv4_mapped  # type: ignore[union-attr]
        if mapped is not None:
            return str(mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def key_for(kind: str, value: str) -> str:
    return crypto.keyed_hash(f"portal-throttle-{kind}", value)


def _now() -> float:
    return time.time()


def _wait(r: Rule, key: str, now: float) -> int:
    """Seconds until the weighted count over the sliding period drops below the limit (0: not blocked)."""
    window = int(now // r.period)
    rows = dict(
        ThrottleCounter.objects.filter(scope=r.name, key=key, window__in=(window, window - 1)).values_list(
            "window", "count"
        )
    )
    current, previous = rows.get(window, 0), rows.get(window - 1, 0)
    elapsed = (now - window * r.period) / r.period
    if previous * (1 - elapsed) + current < r.limit:
        return 0
    if current >= r.limit:
        # This window must end, then its weight must fall below the limit in the next one.
        fraction = (1 - elapsed) + (1 - r.limit / current)
    else:
        fraction = (1 - (r.limit - current) / previous) - elapsed
    return max(1, math.ceil(fraction * r.period) + 1)


def is_blocked(r: Rule, key: str, *, now: float | None = None) -> int:
    """0 when under the limit, else the seconds to wait."""
    return _wait(r, key, now if now is not None else _now())


def hit(r: Rule, key: str, *, now: float | None = None) -> int:
    """Count one event (one statement, atomic in both databases); returns the window's count.

    Run it outside long transactions: the counter row stays locked until the surrounding
    transaction ends, and every request from the same client would queue on it.
    """
    window = int((now if now is not None else _now()) // r.period)
    q = connection.ops.quote_name
    table, scope, key_col, window_col, count = (
        q(name) for name in (ThrottleCounter._meta.db_table, "scope", "key", "window", "count")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({scope}, {key_col}, {window_col}, {count}) VALUES (%s, %s, %s, 1) "
            f"ON CONFLICT ({scope}, {key_col}, {window_col}) DO UPDATE SET {count} = {table}.{count} + 1 "
            f"RETURNING {count}",
            [r.name, key, window],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 1


def check(*rules_and_keys: tuple[Rule, str], message: str | None = None) -> None:
    """Raise TooManyAttempts if any (rule, key) is at its limit."""
    waits = [is_blocked(r, k) for r, k in rules_and_keys]
    wait = max(waits) if waits else 0
    if wait:
        minutes = max(1, math.ceil(wait / 60))
        text = message or _("Too many attempts. Please try again in %(minutes)d minutes.")
        if "%(minutes)" in text:
            text = text % {"minutes": minutes}
        raise TooManyAttempts(text, retry_after=wait)


def purge(*, older_than_seconds: int = 2 * 24 * 3600, now: float | None = None) -> int:
    """Delete windows that no rule can still read (the longest period is well under two days)."""
    cutoff = (now if now is not None else _now()) - older_than_seconds
    deleted = 0
    for name in set(DEFAULT_RULES) | set(getattr(settings, "QINGFENG_PORTAL_THROTTLES", None) or {}):
        r = rule(name)
        deleted += ThrottleCounter.objects.filter(scope=name, window__lt=int(cutoff // r.period)).delete()[0]
    return deleted
