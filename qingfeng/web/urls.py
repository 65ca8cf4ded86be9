from django.contrib.auth import views as auth_views
from django.urls import path

from qingfeng.web.views import cases, home, register

app_name = "web"

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="web:login"), name="logout"),
    path("", home.home, name="home"),
    path("cases/", cases.case_list_view, name="case-list"),
    path("cases/new/", register.case_new, name="case-new"),
    path("cases/export.csv", cases.case_export_csv, name="case-export-csv"),
    path("cases/export.xlsx", cases.case_export_xlsx, name="case-export-xlsx"),
    path("cases/<str:number>/", cases.case_detail_view, name="case-detail"),
    path("cases/<str:number>/act/<str:action>/", cases.case_act, name="case-act"),
    path(
        "cases/<str:number>/attachments/<int:attachment_id>/",
        cases.attachment_download,
        name="case-attachment",
    ),
]
