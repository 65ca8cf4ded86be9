from __future__ import annotations

import pytest
from django.test import RequestFactory

from qingfeng.portal import throttling
from qingfeng.portal.models import ThrottleCounter

pytestmark = pytest.mark.django_db

RULE = throttling.Rule("code_failures_case", limit=5, period=900)
T0 = 1_800_000_000.0  # the start of a window (divisible by 900)


def test_hits_are_counted_in_one_row_per_window():
    for _ in range(3):
        throttling.hit(RULE, "k", now=T0 + 10)
    assert throttling.hit(RULE, "k", now=T0 + 20) == 4
    assert ThrottleCounter.objects.get().count == 4


def test_the_limit_blocks_and_says_how_long_to_wait():
    for _ in range(4):
        throttling.hit(RULE, "k", now=T0 + 1)
    assert throttling.is_blocked(RULE, "k", now=T0 + 2) == 0
    throttling.hit(RULE, "k", now=T0 + 2)
    wait = throttling.is_blocked(RULE, "k", now=T0 + 3)
    assert 890 <= wait <= 905
    assert throttling.is_blocked(RULE, "other", now=T0 + 3) == 0


def test_the_previous_window_still_counts_while_it_overlaps_the_period():
    for _ in range(5):
        throttling.hit(RULE, "k", now=T0 + 800)
    # Early in the next window the previous one still weighs almost fully: one more try blocks.
    throttling.hit(RULE, "k", now=T0 + 900 + 60)
    assert throttling.is_blocked(RULE, "k", now=T0 + 900 + 61) > 0
    # Once most of it has slid out, tries are allowed again.
    assert throttling.is_blocked(RULE, "k", now=T0 + 900 + 400) == 0
    # Two windows later nothing is left.
    assert throttling.is_blocked(RULE, "k", now=T0 + 1800 + 1) == 0


def test_check_raises_429_with_a_message_in_minutes():
    for _ in range(5):
        throttling.hit(RULE, "k")
    with pytest.raises(throttling.TooManyAttempts) as info:
        throttling.check((RULE, "k"), message="wait %(minutes)d minutes")
    assert info.value.status_code == 429
    assert info.value.retry_after > 0
    assert info.value.message.startswith("wait ") and "minutes" in info.value.message


def test_limits_can_be_set_in_settings(settings):
    settings.QINGFENG_PORTAL_THROTTLES = {"submissions_ip": (3, 60)}
    assert throttling.rule("submissions_ip") == throttling.Rule("submissions_ip", 3, 60)
    assert throttling.rule("code_failures_case").limit == 5


def test_old_windows_are_purged():
    throttling.hit(RULE, "k", now=T0)
    throttling.hit(RULE, "k", now=T0 + 3 * 86400)
    assert throttling.purge(now=T0 + 3 * 86400) == 1
    assert ThrottleCounter.objects.count() == 1


def test_the_client_address_is_remote_addr_unless_a_proxy_header_is_trusted(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    settings.QINGFENG_TRUSTED_PROXY_HEADER = None
    assert throttling.client_ip(request) == "10.0.0.1"
    settings.QINGFENG_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    assert throttling.client_ip(request) == "5.6.7.8"  # the entry our proxy appended
    settings.QINGFENG_TRUSTED_PROXY_HEADER = "HTTP_X_REAL_IP"
    assert throttling.client_ip(request) == "10.0.0.1"  # header missing: the socket's address


def test_ipv6_clients_are_keyed_by_their_64_bit_prefix():
    one = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    two = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert throttling.client_ip(one) == throttling.client_ip(two) == "2001:db8:1:2::/64"


def test_keys_do_not_contain_the_address():
    key = throttling.key_for("ip", "203.0.113.9")
    assert len(key) == 64 and "203" not in key
