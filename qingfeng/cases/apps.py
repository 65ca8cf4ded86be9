from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "qingfeng.cases"
    label = "cases"
