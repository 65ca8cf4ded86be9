from django.apps import AppConfig


class OfficesConfig(AppConfig):
    name = "qingfeng.offices"
    label = "offices"
