from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "qingfeng.core"
    label = "core"
