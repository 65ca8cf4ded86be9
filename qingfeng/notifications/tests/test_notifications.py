"""Notifications: what a user sees, unread first, the unread count, mark one and all read."""

from __future__ import annotations

import pytest
from django.test import Client

from qingfeng.notifications.models import Notification
from qingfeng.notifications.selectors import notification_list, unread_count
from qingfeng.notifications.services import notification_create, notification_mark_read, notifications_mark_all_read

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(tree, staff):
    county, street = tree["county"], tree["street"]
    notes = [notification_create(office_id=county.pk, kind="new_case", message=f"新案件 {i}") for i in range(3)]
    notification_create(office_id=street.pk, kind="chase", message="别的机关的通知")
    notification_create(office_id=county.pk, kind="event", message="只给另一个人", user_id=staff("city").pk)
    return notes


def test_a_user_sees_the_office_notifications_and_their_own_only(inbox, staff):
    user = staff("county")
    assert unread_count(user=user) == 3
    assert [n.message for n in notification_list(user=user)] == ["新案件 2", "新案件 1", "新案件 0"]
    personal = notification_create(office_id=user.office_id, kind="event", message="给我的", user_id=user.pk)
    assert personal in list(notification_list(user=user))


def test_marking_one_read_puts_it_last_and_records_who(inbox, staff):
    user = staff("county")
    n = notification_mark_read(notification_id=inbox[2].pk, user=user)
    assert n.read_at is not None and n.read_by == user
    listed = list(notification_list(user=user))
    assert [x.pk for x in listed][-1] == inbox[2].pk and listed[-1].is_read and not listed[0].is_read
    assert unread_count(user=user) == 2
    first_read = n.read_at
    assert notification_mark_read(notification_id=inbox[2].pk, user=staff("county")).read_at == first_read


def test_another_office_cannot_mark_it_read(inbox, staff):
    from qingfeng.core.errors import NotFound

    with pytest.raises(NotFound):
        notification_mark_read(notification_id=inbox[0].pk, user=staff("sibling"))


def test_mark_all_read_is_one_update(inbox, staff, django_assert_num_queries):
    user = staff("county")
    with django_assert_num_queries(1):
        assert notifications_mark_all_read(user=user) == 3
    assert unread_count(user=user) == 0
    assert Notification.objects.filter(read_at__isnull=True).count() == 2  # the street's and the city user's


def test_the_api(api, inbox, staff):
    client = api(staff("county"))
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 3 and body["results"][0]["kind_label"] == "New case"
    assert body["results"][0]["is_read"] is False and body["results"][0]["case"] is None
    r = client.post(f"/api/v1/notifications/{inbox[0].pk}/read/")
    assert r.status_code == 200 and r.json()["is_read"] is True
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 2
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 2, "unread": 0}
    r = api(staff("sibling")).post(f"/api/v1/notifications/{inbox[0].pk}/read/")
    assert r.status_code == 404 and r.json()["message"] == "No such notification."


def test_the_page_the_unread_json_and_the_buttons(inbox, staff, register):
    sent_case = register("county", actor=staff("county"))
    c = Client()
    c.force_login(staff("county"))
    notification_create(office_id=staff("county").office_id, kind="chase", message="请尽快办理", case_id=sent_case.pk)
    assert c.get("/supervision/notifications/unread.json").json() == {"unread": 4}
    html = c.get("/supervision/notifications/").content.decode()
    assert html.index("请尽快办理") < html.index("新案件 0") and "Mark all as read" in html
    r = c.post(f"/supervision/notifications/{inbox[0].pk}/read/", {"next": "/supervision/notifications/"})
    assert r.status_code == 302 and c.get("/supervision/notifications/unread.json").json() == {"unread": 3}
    note = Notification.objects.get(message="请尽快办理")
    r = c.post(f"/supervision/notifications/{note.pk}/read/", {"open": "1"})
    assert r["Location"].endswith(f"/cases/{sent_case.number}/")
    r = c.post("/supervision/notifications/read-all/")
    assert r.status_code == 302 and c.get("/supervision/notifications/unread.json").json() == {"unread": 0}
    assert c.post("/supervision/notifications/999999/read/").status_code == 404
    html = c.get("/supervision/notifications/", {"unread": "1"}).content.decode()
    assert "Show all" in html and "No notifications." in html
