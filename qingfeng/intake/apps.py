from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "qingfeng.intake"
    label = "intake"
