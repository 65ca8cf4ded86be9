from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "qingfeng.supervision"
    label = "supervision"

    def ready(self) -> None:
        from qingfeng.cases.workflow import EVENT_LABELS
        from qingfeng.supervision.models import EventAction

        EVENT_LABELS.update({a.value: a.label for a in EventAction})
