from django.urls import include, path

from qingfeng.supervision import api

urlpatterns = [
    path("supervision/sent-down/", api.SentDownApi.as_view(), name="api-supervision-sent-down"),
    path("supervision/overdue-board/", api.OverdueBoardApi.as_view(), name="api-supervision-overdue-board"),
    path("supervision/cases/<str:number>/", api.CaseSupervisionApi.as_view(), name="api-supervision-case"),
    path("supervision/cases/<str:number>/supervise/", api.SuperviseApi.as_view(), name="api-supervision-supervise"),
    path("supervision/cases/<str:number>/chase/", api.ChaseApi.as_view(), name="api-supervision-chase"),
    path("supervision/marks/<int:mark_id>/close/", api.CloseMarkApi.as_view(), name="api-supervision-close"),
    path(
        "supervision/chases/<int:chase_id>/seen/", api.AcknowledgeChaseApi.as_view(), name="api-supervision-chase-seen"
    ),
    path("", include("qingfeng.notifications.api_urls")),
]
