from django.urls import path

from qingfeng.notifications import api

urlpatterns = [
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/unread-count/", api.UnreadCountApi.as_view(), name="api-notifications-unread-count"),
    path("notifications/read-all/", api.MarkAllReadApi.as_view(), name="api-notifications-read-all"),
    path("notifications/<int:notification_id>/read/", api.NotificationReadApi.as_view(), name="api-notification-read"),
]
