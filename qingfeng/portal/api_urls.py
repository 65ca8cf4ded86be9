from django.urls import path

from qingfeng.portal import api

urlpatterns = [
    path("reports/", api.ReportCreateView.as_view(), name="portal-api-report"),
    path("follow-up/", api.FollowUpView.as_view(), name="portal-api-follow-up"),
]
