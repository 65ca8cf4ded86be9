from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "qingfeng.deadlines"
    label = "deadlines"

    def ready(self) -> None:
        from qingfeng.deadlines import signals  # noqa: F401
