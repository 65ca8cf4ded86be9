from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProtectionConfig(AppConfig):
    name = "qingfeng.protection"
    label = "protection"
    verbose_name = _("Protection of reporters")

    def ready(self) -> None:
        from qingfeng.cases.workflow import EVENT_LABELS
        from qingfeng.intake import services as intake_services
        from qingfeng.protection.models import EventAction
        from qingfeng.protection.services import audit_registration

        EVENT_LABELS.update({a.value: a.label for a in EventAction})
        if audit_registration not in intake_services.REGISTRATION_HOOKS:
            intake_services.REGISTRATION_HOOKS.append(audit_registration)
