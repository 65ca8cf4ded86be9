from django.urls import path

from qingfeng.protection import views

app_name = "protection"

urlpatterns = [
    path("cases/<str:number>/identity-request/", views.identity_request, name="identity-request"),
    path("requests/", views.request_queue, name="queue"),
    path("requests/<int:request_id>/decide/", views.request_decide, name="decide"),
    path("audit/", views.audit_log, name="audit"),
    path("2fa/setup/", views.two_factor_setup, name="2fa-setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa-verify"),
]
