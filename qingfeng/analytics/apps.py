from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "qingfeng.analytics"
    label = "analytics"
    verbose_name = _("Analysis and early warning")

    def ready(self) -> None:
        from django.db.models.signals import post_init

        from qingfeng.analytics import counting, topics
        from qingfeng.cases import services as case_services
        from qingfeng.cases.models import Case
        from qingfeng.intake import services as intake_services

        # Remember the counted fields of every case as loaded, so an event can take the case out
        # of the buckets it was in.
        post_init.connect(counting.remember_signal, sender=Case, dispatch_uid="analytics-remember-case-state")
        if counting.on_event not in case_services.EVENT_HOOKS:
            case_services.EVENT_HOOKS.append(counting.on_event)
        if topics.on_registered not in intake_services.REGISTRATION_HOOKS:
            intake_services.REGISTRATION_HOOKS.append(topics.on_registered)
