from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "qingfeng.notifications"
    label = "notifications"
