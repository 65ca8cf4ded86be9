from django.apps import AppConfig


class RepeatsConfig(AppConfig):
    name = "qingfeng.repeats"
    label = "repeats"
    verbose_name = "Repeat and duplicate report detection"
