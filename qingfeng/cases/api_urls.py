from django.urls import path

from qingfeng.cases import api
from qingfeng.cases.workflow import TRANSITIONS

urlpatterns = [
    path("cases/", api.CaseListCreateApi.as_view(), name="api-cases"),
    path("cases/batch/", api.CaseBatchCreateApi.as_view(), name="api-cases-batch"),
    path("repeat-check/", api.RepeatCheckApi.as_view(), name="api-repeat-check"),
    path("cases/<str:number>/", api.CaseDetailApi.as_view(), name="api-case-detail"),
    path(
        "cases/<str:number>/attachments/<int:attachment_id>/",
        api.AttachmentDownloadApi.as_view(),
        name="api-case-attachment",
    ),
] + [
    path(
        f"cases/<str:number>/{action.replace('_', '-')}/", api.action_view(action).as_view(), name=f"api-case-{action}"
    )
    for action in TRANSITIONS
]
