from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepeatsConfig(AppConfig):
    name = "qingfeng.repeats"
    label = "repeats"
    verbose_name = _("Repeat and duplicate report detection")

    def ready(self) -> None:
        from qingfeng.intake import services as intake_services
        from qingfeng.repeats.services import repeat_index_registered

        # Inside the registration transaction: a report registered a second ago is found.
        if repeat_index_registered not in intake_services.REGISTRATION_HOOKS:
            intake_services.REGISTRATION_HOOKS.append(repeat_index_registered)
