from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "qingfeng.supervision"
    label = "supervision"
