from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "qingfeng.portal"
    label = "portal"
    verbose_name = _("Public reporting portal")

    def ready(self) -> None:
        from qingfeng.cases.workflow import EVENT_LABELS
        from qingfeng.portal.services import PortalEvent

        EVENT_LABELS.update({a.value: a.label for a in PortalEvent})
