from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "qingfeng.deadlines"
    label = "deadlines"
