from django.urls import path

from qingfeng.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:code>/", views.topic_detail, name="topic"),
    path("warnings/", views.warning_list, name="warnings"),
    path("warnings/<int:pk>/decide/", views.warning_decide, name="warning-decide"),
    path("reports/", views.report_page, name="reports"),
]
